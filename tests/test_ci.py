"""The CI script installs Chromium and the Chinese fonts where it can, and never fails for them."""

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


def test_nothing_is_installed_when_browser_and_fonts_are_there(tmp_path):
    done, calls = _run(tmp_path, {"chromium": "", "fc-list": 'echo "Noto Sans CJK SC"', "id": "echo 0",
                                  "apt-get": "exit 0"})
    assert done.returncode == 0 and "are installed" in done.stdout
    assert "apt-get" not in calls


def test_root_with_apt_installs_chromium_and_the_fonts(tmp_path):
    done, calls = _run(tmp_path, {"fc-list": "", "id": "echo 0", "apt-get": "exit 0"})
    assert done.returncode == 0, done.stderr
    assert "apt-get update" in calls
    assert "apt-get install -y -qq chromium fonts-noto-cjk fontconfig" in calls


def test_a_failed_install_does_not_fail_ci(tmp_path):
    done, calls = _run(tmp_path, {"id": "echo 0", "apt-get": "exit 100"})
    assert done.returncode == 0
    assert "could not install" in done.stderr and "apt-get update" in calls


def test_without_root_it_says_why_and_goes_on(tmp_path):
    done, calls = _run(tmp_path, {"id": "echo 1000", "apt-get": "exit 0"})
    assert done.returncode == 0 and "needs root" in done.stderr and "apt-get" not in calls


def test_ci_run_calls_it_before_the_suite_and_pytest_prints_skip_reasons():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert run.index(".ci/browser") < run.index("pytest")
    import tomllib

    opts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "-rs" in opts["addopts"].split()
