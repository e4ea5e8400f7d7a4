"""The static checks: ruff (on src/ and tests/) and mypy (on src/) find nothing.

Both are configured in pyproject.toml and installed by the ``test`` extra, so the README's test
command runs them too. A finding fails the test with the tool's own report.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec(tool) is None:
        pytest.fail(f"{tool} is not installed in this environment: install the test extra "
                    f'(`pip install -e ".[test]"`), which brings ruff and mypy')
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_ruff_finds_nothing_in_src_and_tests():
    done = _run("ruff", "check", "--no-fix", "--output-format", "concise", "src", "tests")
    assert done.returncode == 0, f"ruff check found problems:\n{done.stdout}{done.stderr}"


def test_mypy_finds_nothing_in_src():
    done = _run("mypy", "--no-error-summary", "--show-error-codes")
    assert done.returncode == 0, f"mypy found problems:\n{done.stdout}{done.stderr}"
