"""Alternatives, explanations and pins against one plain solve, at the scenario's own clock.

    python benchmarks/bench_analyses.py [--scenario models/gansu_2016.toml] [--only explain]
                                        [--time-limit SECONDS] [--whole]

Runs, each as a subprocess exactly as an analyst types it (no --time-limit unless given, so
each command has the scenario's own ``[solver] time_limit``):

* ``exitopt solve SCENARIO`` — the reference, before and after the others (the mean is taken);
* ``exitopt alternatives SCENARIO --count 3`` (with ``--whole``: also the search of the whole);
* ``exitopt solve SCENARIO --explain``;
* ``exitopt solve SCENARIO --keep COAL-S016 --exit COAL-S101=2017`` (the README's pins example).

Prints per command its wall-clock seconds, exit code, ratio to the plain solve measured in the
same run next to the goal, and whether every plan or re-solve it wrote is proven (status
``optimal``, or a rule margin that needed no solve): from alternatives.csv, margins.csv,
pins.csv.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXITOPT = Path(sys.executable).with_name("exitopt")

#: name: (arguments after the scenario, goal as a multiple of one plain solve, the file of statuses)
TOOLS = {
    "alternatives --count 3": (["alternatives", "--count", "3"], 5.0, "alternatives.csv"),
    "alternatives --count 3 --whole": (["alternatives", "--count", "3", "--whole"], 5.0, "alternatives.csv"),
    "solve --explain": (["solve", "--explain"], 10.0, "margins.csv"),
    "solve with the README's pins": (["solve", "--keep", "COAL-S016", "--exit", "COAL-S101=2017"], 3.0,
                                     "pins.csv"),
}


def timed(args: list[str], scenario: Path, out: Path, limit: float | None) -> tuple[float, int]:
    cmd = [str(EXITOPT), args[0], str(scenario), *args[1:], "--out", str(out), "--force"]
    if limit is not None:
        cmd += ["--time-limit", str(limit)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 4):
        print(f"  {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[:400]}")
    return seconds, done.returncode


def proven(path: Path) -> str:
    """'all n proven', or how many of n are not."""
    if not path.exists():
        return "nothing written"
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if "status" not in (rows[0] if rows else {}):
        return f"{len(rows)} rows"
    ok = [r["status"] == "optimal" or r["status"].startswith("not binding") for r in rows]
    return f"all {len(rows)} proven" if all(ok) else f"{len(rows) - sum(ok)} of {len(rows)} not proven"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "models" / "gansu_2016.toml")
    ap.add_argument("--only", default="", help="comma-separated words; run the tools whose name holds one")
    ap.add_argument("--time-limit", type=float, default=None, help="default: the scenario's own")
    ap.add_argument("--whole", action="store_true", help="also the alternatives of the whole model")
    a = ap.parse_args()
    tools = {k: v for k, v in TOOLS.items() if (a.whole or "--whole" not in k)
             and (not a.only or any(w in k for w in a.only.split(",")))}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before, _ = timed(["solve"], a.scenario, tmp / "plain", a.time_limit)
        results = {name: (*timed(args, a.scenario, tmp / f"t{i}", a.time_limit), proven(tmp / f"t{i}" / file))
                   for i, (name, (args, _, file)) in enumerate(tools.items())}
        after, _ = timed(["solve"], a.scenario, tmp / "plain", a.time_limit)
    plain = (before + after) / 2
    print(f"plain solve: {before:.1f} s before, {after:.1f} s after (mean {plain:.1f} s)")
    print(f"{'command':34} {'seconds':>8} {'exit':>4} {'× plain':>8} {'goal':>5}  proof")
    for name, (seconds, code, proof) in results.items():
        print(f"{name:34} {seconds:8.1f} {code:4d} {seconds / plain:8.1f} {tools[name][1]:5.0f}  {proof}")


if __name__ == "__main__":
    main()
