"""Python values written as TOML text: every table inline, every key quoted, so that a scenario
read with ``tomllib`` and written back reads the same. TOML has no null: a key whose value is
None is left out."""

from __future__ import annotations

import json
from pathlib import Path


def toml_value(v) -> str:
    """A Python value as an inline TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Path):
        return json.dumps(v.as_posix(), ensure_ascii=False)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(x)}"
                                for k, x in v.items() if x is not None) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def toml_text(data: dict) -> str:
    """A table of keys as TOML lines, one key a line, its value inline."""
    return "".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}\n"
                   for k, v in data.items() if v is not None)
