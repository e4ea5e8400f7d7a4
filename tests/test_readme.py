"""The README read as a newcomer follows it: the commands it shows can be typed as they are."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _code_lines() -> list[tuple[int, str]]:
    """(offset in the README, line) of every line inside a ``` block."""
    lines, inside = [], False
    for m in re.finditer(r"^.*$", README, flags=re.M):
        line = m.group(0)
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append((m.start(), line))
    return lines


def test_the_venv_is_activated_before_the_first_bare_exitopt_command():
    bare = [at for at, line in _code_lines() if line.startswith("exitopt ")]
    assert bare, "the README shows no exitopt command"
    first = bare[0]
    before = README[:first]
    assert "source .venv/bin/activate" in before and r".venv\Scripts\Activate.ps1" in before


def test_the_quick_start_commands_name_the_venv_path():
    start, end = README.index("## Quick start"), README.index("## Units of measure")
    for line in (line for at, line in _code_lines() if start <= at < end):
        if "exitopt " in line or "pytest" in line:
            assert ".venv" in line, line
