"""Speed of ``exitopt check`` on a national-size plan.

    python benchmarks/bench_check.py [--runs 3]

Writes the synthetic national instance of ``benchmarks/national.py`` (fixed seed) to a temporary
folder, draws a plan in which 40 % of the units exit in a random planning year (seed 0; most
such plans break rules, which is what the checker must report quickly), and prints the best and
median seconds of reading the plan and checking it against every rule.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    from exitopt.check import check_plan, read_plan
    from exitopt.inputs import load

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([sys.executable, str(HERE / "national.py"), str(tmp)], check=True, capture_output=True)
        inst = load(tmp / "national.toml")
        rng = random.Random(0)
        units = list(inst.units.index)
        chosen = rng.sample(units, int(0.4 * len(units)))
        lines = ["unit_id,exit_year"] + [f"{u},{rng.choice(inst.years)}" for u in chosen]
        (tmp / "plan.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        times = []
        for _ in range(a.runs):
            start = time.perf_counter()
            res = check_plan(inst, read_plan(tmp / "plan.csv", inst))
            times.append(time.perf_counter() - start)
    print(f"check of a national-size plan ({len(inst.units):,} units, {len(chosen):,} exits, "
          f"{len(res.violations):,} violations): best {min(times):.2f} s, median {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
