"""Record the Gansu 2016 baseline's optimum and plan in ``tests/regression/gansu_2016/``.

    python tests/regression/regenerate.py

runs ``exitopt solve models/gansu_2016.toml`` as an analyst would and keeps, in
``tests/regression/gansu_2016/``:

* ``schedule.csv`` and ``new_capacity.csv``: the run's plan (every unit's exit year, mode,
  indicator and cost; every project built or not), byte for byte;
* ``expected.json``: the status, objective, jobs and fiscal lines as the console prints them.

``tests/test_regression.py`` solves again and compares against these files; ``tests/test_check.py``
checks the recorded plan with ``exitopt check``. Run this command only after a change that is
meant to move the optimum or the plan, and say in the commit why it moved.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "models" / "gansu_2016.toml"
RECORD = Path(__file__).resolve().parent / "gansu_2016"
#: the run files that hold the plan, compared byte for byte
PLAN_FILES = ("schedule.csv", "new_capacity.csv")
#: the console's first two lines: "status optimal, gap 0.005%; objective 179,479.8" and
#: "jobs 15,208 persons displaced; fiscal 27,397.0 万元 (present value)"
_STATUS = re.compile(r"^status (?P<status>\w+), .*; objective (?P<objective>[-\d,.]+)\s*$", re.M)
_COST = re.compile(r"^jobs (?P<jobs>[\d,.]+) persons displaced; fiscal (?P<fiscal>[-\d,.]+) 万元", re.M)
ABOUT = ("The Gansu 2016 baseline as `exitopt solve models/gansu_2016.toml` finds it: the figures as the "
         "console prints them, and the run's schedule.csv and new_capacity.csv beside this file. "
         "Regenerate only with `python tests/regression/regenerate.py`, after a change meant to move them.")


def exitopt_command() -> list[str]:
    """The ``exitopt`` command of the running interpreter's environment."""
    script = Path(sys.executable).with_name("exitopt")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from exitopt.cli import main; sys.argv[0] = 'exitopt'; main()"]


def solve(out: Path) -> tuple[dict[str, str], str]:
    """Solve the baseline into the folder ``out``: (the printed figures, the whole console text)."""
    done = subprocess.run([*exitopt_command(), "solve", str(SCENARIO), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=900)
    text = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"exitopt solve exited {done.returncode}:\n{text}")
    status, cost = _STATUS.search(done.stdout), _COST.search(done.stdout)
    if status is None or cost is None:
        raise RuntimeError(f"exitopt solve printed no status or cost line:\n{text}")
    return {**status.groupdict(), **cost.groupdict()}, text


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        figures, _ = solve(run)
        RECORD.mkdir(exist_ok=True)
        for name in PLAN_FILES:
            shutil.copyfile(run / name, RECORD / name)
    expected = {"about": ABOUT, "scenario": SCENARIO.relative_to(ROOT).as_posix(), **figures}
    (RECORD / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    print(f"recorded {figures} and {', '.join(PLAN_FILES)} in {RECORD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
