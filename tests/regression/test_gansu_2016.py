"""The Gansu 2016 baseline against its recorded optimum and plan (``tests/regression/gansu_2016/``).

``exitopt solve models/gansu_2016.toml`` is run as an analyst runs it; the objective, status,
jobs and fiscal lines must print the recorded figures to the last digit shown, and the run's
``schedule.csv`` and ``new_capacity.csv`` must equal the recorded files byte for byte. A change
meant to move them regenerates the record with ``python tests/regression/regenerate.py``.
"""

from __future__ import annotations

import difflib
import json

import pytest
from regenerate import PLAN_FILES, RECORD, solve

pytestmark = pytest.mark.slow


def _first_difference(expected: str, got: str, name: str) -> str:
    diff = difflib.unified_diff(expected.splitlines(), got.splitlines(), f"recorded {name}", f"solved {name}",
                                lineterm="", n=0)
    return "\n".join(list(diff)[:12])


def test_gansu_baseline_matches_the_recorded_optimum_and_plan(tmp_path):
    expected = json.loads((RECORD / "expected.json").read_text(encoding="utf-8"))
    figures, console = solve(tmp_path / "run")
    assert "Traceback" not in console
    for key in ("status", "objective", "jobs", "fiscal"):
        assert figures[key] == expected[key], (
            f"{key}: printed {figures[key]}, recorded {expected[key]} "
            "(if the change is meant to move it: python tests/regression/regenerate.py)")
    for name in PLAN_FILES:
        want = (RECORD / name).read_bytes()
        got = (tmp_path / "run" / name).read_bytes()
        assert got == want, _first_difference(want.decode("utf-8-sig"), got.decode("utf-8-sig"), name)
