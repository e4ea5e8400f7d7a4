"""The CI script installs Chromium and the Chinese fonts, LibreOffice and pdftotext where it can,
and never fails for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BROWSER = ROOT / ".ci" / "browser"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the CI scripts are bash scripts")


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def _run(tmp_path: Path, stubs: dict[str, str]) -> tuple[subprocess.CompletedProcess, str]:
    """.ci/browser with a PATH that holds only the stubs (and bash): what it ran, from a log."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "calls.log"
    for name, body in stubs.items():
        _stub(bin_, name, f'echo "{name} $*" >> {log}\n{body}')
    done = subprocess.run(["/bin/bash", str(BROWSER)], capture_output=True, text=True, timeout=30,
                          env={"PATH": str(bin_)})
    return done, log.read_text(encoding="utf-8") if log.exists() else ""


BROWSER_AND_FONTS = {"chromium": "", "fc-list": 'echo "Noto Sans CJK SC"'}
OFFICE = {"soffice": "", "pdftotext": ""}
APT = "apt-get -o DPkg::Lock::Timeout=120"


def test_nothing_is_installed_when_everything_is_there(tmp_path):
    done, calls = _run(tmp_path, {**BROWSER_AND_FONTS, **OFFICE, "id": "echo 0", "apt-get": "exit 0"})
    assert done.returncode == 0 and "chromium and a Chinese font are installed" in done.stdout
    assert "libreoffice and pdftotext are installed" in done.stdout
    assert "apt-get" not in calls


def test_root_with_apt_installs_chromium_the_fonts_and_libreoffice(tmp_path):
    done, calls = _run(tmp_path, {"fc-list": "", "id": "echo 0", "apt-get": "exit 0"})
    assert done.returncode == 0, done.stderr
    assert calls.count(f"{APT} update -qq") == 1
    assert f"{APT} install -y -qq chromium fonts-noto-cjk fontconfig" in calls
    assert f"{APT} install -y -qq libreoffice-calc libreoffice-writer poppler-utils" in calls


@pytest.mark.parametrize("present, wanted, unwanted", [
    (BROWSER_AND_FONTS, "libreoffice-calc", "chromium fonts-noto-cjk"),
    (OFFICE, "chromium fonts-noto-cjk", "libreoffice-calc"),
])
def test_only_what_is_missing_is_installed(tmp_path, present, wanted, unwanted):
    done, calls = _run(tmp_path, {**present, "id": "echo 0", "apt-get": "exit 0"})
    assert done.returncode == 0, done.stderr
    assert wanted in calls and unwanted not in calls


def test_pdftotext_missing_counts_as_missing(tmp_path):
    done, calls = _run(tmp_path, {**BROWSER_AND_FONTS, "soffice": "", "id": "echo 0", "apt-get": "exit 0"})
    assert done.returncode == 0 and "poppler-utils" in calls


def test_a_failed_install_does_not_fail_ci(tmp_path):
    done, calls = _run(tmp_path, {"id": "echo 0", "apt-get": "exit 100"})
    assert done.returncode == 0
    assert done.stderr.count("could not install") == 2 and f"{APT} update" in calls
    assert "libreoffice-calc" in calls  # a failed first install does not stop the second


def test_without_root_it_says_why_and_goes_on(tmp_path):
    done, calls = _run(tmp_path, {"id": "echo 1000", "apt-get": "exit 0"})
    assert done.returncode == 0 and done.stderr.count("needs root") == 2 and "apt-get" not in calls


def test_ci_run_calls_it_before_the_suite_and_pytest_prints_skip_reasons():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert run.index(".ci/browser") < run.index("pytest")
    import tomllib

    opts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "-rs" in opts["addopts"].split()
