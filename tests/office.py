"""LibreOffice and poppler for tests: convert a workbook or a Word document to PDF headless, count
its pages and read the text of a page. Tests that need them skip, saying why, where they are not
installed (.ci/browser installs them where it runs as root with apt-get)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: the `exitopt` command of this Python's install (the console script), as a user runs it
_SCRIPT = Path(sys.executable).with_name("exitopt.exe" if sys.platform == "win32" else "exitopt")
EXITOPT = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-c", "from exitopt.cli import main; main()"]

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFINFO, PDFTOTEXT = shutil.which("pdfinfo"), shutil.which("pdftotext")

needs_office = pytest.mark.skipif(
    not (SOFFICE and PDFINFO and PDFTOTEXT),
    reason="needs LibreOffice and poppler-utils (Debian packages libreoffice-calc libreoffice-writer "
           "poppler-utils; .ci/run installs them where it runs as root)")


def exitopt(*args: object, cwd: Path, code: int = 0) -> subprocess.CompletedProcess:
    """Run ``exitopt ARGS`` as a process; check its exit code and that nothing printed a traceback."""
    done = subprocess.run([*EXITOPT, *map(str, args)], capture_output=True, text=True, timeout=600, cwd=cwd)
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done


def to_pdf(document: Path, work: Path) -> Path:
    """``document`` converted to PDF by LibreOffice, headless, with a profile of its own under ``work``."""
    out = work / "pdf"
    out.mkdir(parents=True, exist_ok=True)
    profile = (work / "lo_profile").resolve()
    done = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(out), str(document)],
                          capture_output=True, text=True, timeout=300)
    pdf = out / (Path(document).stem + ".pdf")
    assert done.returncode == 0 and pdf.is_file(), done.stdout + done.stderr
    return pdf


def pages(pdf: Path) -> int:
    """The number of pages of a PDF (pdfinfo)."""
    info = subprocess.run([PDFINFO, str(pdf)], capture_output=True, text=True, timeout=60, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def page_text(pdf: Path, page: int) -> str:
    """The text of one page (1-based) of a PDF (pdftotext)."""
    return subprocess.run([PDFTOTEXT, "-f", str(page), "-l", str(page), "-enc", "UTF-8", str(pdf), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
