"""Re-solve tools against one plain solve, measured side by side in one run.

    python benchmarks/bench_tools.py [--scenario models/gansu_2016.toml] [--only pins,explain]
                                     [--time-limit 600]

Runs, each as a subprocess exactly as an analyst types it, with the same scenario:

* ``exitopt solve SCENARIO`` — the reference;
* ``exitopt pareto SCENARIO --points 5``;
* ``exitopt alternatives SCENARIO --count 3``;
* ``exitopt solve SCENARIO --explain``;
* ``exitopt solve SCENARIO --keep COAL-S016 --exit COAL-S101=2017`` (the README's pins example).

Prints each command's wall-clock seconds (command start to exit), its exit code, and its ratio
to the plain solve measured in the same run, next to the goal. The plain solve is run before
and after the tools and the mean taken, so a machine that gets busier in between shows up as
a difference between the two. ``--time-limit`` is passed to every command (default 600 s, so
that a slow tool is measured rather than cut).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXITOPT = Path(sys.executable).with_name("exitopt")

#: name: (arguments after the scenario, goal as a multiple of one plain solve)
TOOLS = {
    "pareto --points 5": (["pareto", "--points", "5"], 6.0),
    "alternatives --count 3": (["alternatives", "--count", "3"], 5.0),
    "solve --explain": (["solve", "--explain"], 10.0),
    "solve with the README's pins": (["solve", "--keep", "COAL-S016", "--exit", "COAL-S101=2017"], 3.0),
}


def timed(args: list[str], scenario: Path, out: Path, limit: float) -> tuple[float, int]:
    cmd = [str(EXITOPT), args[0], str(scenario), *args[1:], "--out", str(out), "--time-limit", str(limit)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 4):
        print(f"  {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[:400]}")
    return seconds, done.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "models" / "gansu_2016.toml")
    ap.add_argument("--only", default="", help="comma-separated words; run the tools whose name holds one")
    ap.add_argument("--time-limit", type=float, default=600.0)
    a = ap.parse_args()
    tools = {k: v for k, v in TOOLS.items() if not a.only or any(w in k for w in a.only.split(","))}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before, _ = timed(["solve"], a.scenario, tmp / "plain_before", a.time_limit)
        rows = []
        for i, (name, (args, goal)) in enumerate(tools.items()):
            seconds, code = timed(args, a.scenario, tmp / f"tool_{i}", a.time_limit)
            rows.append((name, seconds, code, goal))
        after, _ = timed(["solve"], a.scenario, tmp / "plain_after", a.time_limit)
    plain = (before + after) / 2
    print(f"scenario {a.scenario.name}; one plain `exitopt solve`: {plain:.1f} s "
          f"(before the tools {before:.1f} s, after {after:.1f} s)")
    print(f"{'command':32s} {'seconds':>8s} {'exit':>5s} {'× solve':>8s} {'goal':>6s}")
    for name, seconds, code, goal in rows:
        ratio = seconds / plain
        print(f"{name:32s} {seconds:8.1f} {code:5d} {ratio:8.1f} {goal:5.0f}× {'met' if ratio <= goal else 'missed'}")


if __name__ == "__main__":
    main()
