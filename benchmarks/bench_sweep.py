"""Cases per minute: `exitopt sweep` on N workers against the same cases as separate `exitopt solve` runs.

The cases move the Gansu coal target (``targets[name="coal exit 1,000"].at_least``) over
``--cases`` values from 800 to 1,400 万吨/yr. The sweep runs as one ``exitopt sweep ...
--workers W`` process; the comparison runs one ``exitopt solve`` process per case, W at a
time, each on a copy of gansu_2016.toml with that target. Both are timed on the wall clock
from the first process start to the last process end. Then the objectives are compared case
by case: they must agree within the scenario's relative gap (and statuses must match).

    /work/venv/bin/python benchmarks/bench_sweep.py --cases 12 --workers 2 --repeat 2

The sweep's fixed costs (starting its worker processes, drawing the pictures: some 5 s) weigh
on a small --cases; a real sweep has tens of cases.

Timings on a shared machine are noisy: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GANSU = ROOT / "models" / "gansu_2016.toml"
TARGET_PATH = 'targets[name="coal exit 1,000"].at_least'


def exitopt_cmd() -> list[str]:
    """The exitopt command of this Python environment."""
    script = Path(sys.executable).with_name("exitopt")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from exitopt.cli import main; main()"]


def targets(n: int) -> list[float]:
    """n coal targets evenly spread over 800–1,400 万吨/yr."""
    if n == 1:
        return [1000.0]
    return [round(800 + 600 * i / (n - 1), 1) for i in range(n)]


def scenario_text(target: float) -> str:
    """gansu_2016.toml with absolute table paths and the coal target set to ``target``."""
    text = GANSU.read_text(encoding="utf-8")
    text = text.replace('units = "../data/', f'units = "{(ROOT / "data").as_posix()}/')
    text = text.replace('projects = "../data/', f'projects = "{(ROOT / "data").as_posix()}/')
    text, n = re.subn(r'(name = "coal exit 1,000".*?at_least = )[0-9.]+', rf"\g<1>{target}", text, count=1,
                      flags=re.S)
    if n != 1:
        raise SystemExit("cannot find the coal target in gansu_2016.toml; update this benchmark")
    return text


def run_sweep(work: Path, values: list[float], workers: int) -> tuple[float, dict[float, tuple[str, float | None]]]:
    """Wall seconds of one `exitopt sweep` process, and {target: (status, objective)}."""
    import pandas as pd

    sweep = work / "bench.toml"
    sweep.write_text(f'name = "bench"\nbase = "{GANSU.as_posix()}"\n[[axes]]\npath = \'{TARGET_PATH}\'\n'
                     f'label = "target"\nvalues = [{", ".join(map(str, values))}]\n', encoding="utf-8")
    start = time.perf_counter()
    p = subprocess.run(exitopt_cmd() + ["sweep", str(sweep), "--out", str(work / "sweep"), "--workers", str(workers)],
                       capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"exitopt sweep failed ({p.returncode}):\n{p.stderr}")
    cases = pd.read_csv(work / "sweep" / "cases.csv", encoding="utf-8-sig")
    return seconds, {float(r.target): (r.status, None if pd.isna(r.objective) else float(r.objective))
                     for r in cases.itertuples()}


HIGHS_SECONDS: list[float] = []


def solve_one(work: Path, target: float) -> tuple[str, float | None]:
    """One `exitopt solve` process on the case's scenario file: (status, objective)."""
    case = work / f"case_{target:g}"
    case.mkdir()
    (case / "scenario.toml").write_text(scenario_text(target), encoding="utf-8")
    p = subprocess.run(exitopt_cmd() + ["solve", str(case / "scenario.toml"), "--out", str(case / "run")],
                       capture_output=True, text=True)
    if p.returncode == 3:
        return "infeasible", None
    if p.returncode not in (0, 4):
        raise SystemExit(f"exitopt solve failed ({p.returncode}) for target {target}:\n{p.stderr}")
    record = json.loads((case / "run" / "run.json").read_text(encoding="utf-8"))
    HIGHS_SECONDS.append(float(record["seconds"].get("highs", float("nan"))))
    return record["status"], record["objective"]


def run_separate(work: Path, values: list[float], workers: int) -> tuple[float, dict[float, tuple[str, float | None]]]:
    """Wall seconds of one `exitopt solve` per case, ``workers`` at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = dict(zip(values, pool.map(lambda t: solve_one(work, t), values)))
    return time.perf_counter() - start, results


def compare(values: list[float], r_sweep: dict, r_sep: dict, rel_gap: float) -> float:
    """Largest relative objective difference; exit when a status or an objective disagrees."""
    worst = 0.0
    for t in values:
        (s1, o1), (s2, o2) = r_sweep[t], r_sep[t]
        if s1 != s2 and {s1, s2} != {"optimal", "limit"}:
            raise SystemExit(f"target {t}: sweep says {s1}, exitopt solve says {s2}")
        if o1 is not None and o2 is not None:
            diff = abs(o1 - o2) / max(abs(o1), abs(o2), 1e-9)
            worst = max(worst, diff)
            if diff > rel_gap + 1e-12:
                raise SystemExit(f"target {t}: objectives {o1:,.2f} and {o2:,.2f} differ by {diff:.2e} > gap {rel_gap:g}")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=12, help="number of cases (coal targets)")
    ap.add_argument("--workers", type=int, default=2, help="sweep workers, and solves at a time")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the order of the two runs alternates")
    ap.add_argument("--keep", action="store_true", help="keep the work folders")
    args = ap.parse_args()

    import statistics
    import tomllib

    rel_gap = tomllib.loads(GANSU.read_text(encoding="utf-8")).get("solver", {}).get("rel_gap", 1e-4)
    values = targets(args.cases)
    n = len(values)
    print(f"{n} cases, {args.workers} workers, {args.repeat} round(s)")
    ratios = []
    for k in range(args.repeat):
        work = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
        try:
            print(f"round {k + 1}: load average before {os.getloadavg()[0]:.2f}")
            HIGHS_SECONDS.clear()
            if k % 2 == 0:
                t_sweep, r_sweep = run_sweep(work, values, args.workers)
                t_sep, r_sep = run_separate(work, values, args.workers)
            else:
                t_sep, r_sep = run_separate(work, values, args.workers)
                t_sweep, r_sweep = run_sweep(work, values, args.workers)
            print(f"  exitopt sweep:            {t_sweep:7.1f} s  {60 * n / t_sweep:6.2f} cases/min")
            print(f"  exitopt solve per case:   {t_sep:7.1f} s  {60 * n / t_sep:6.2f} cases/min")
            per_process = t_sep * args.workers / n
            highs = sum(HIGHS_SECONDS) / max(len(HIGHS_SECONDS), 1)
            print(f"  speed-up {t_sep / t_sweep:.2f}x; per exitopt solve process {per_process:.1f} s wall, "
                  f"HiGHS {highs:.1f} s of it on average; load average after {os.getloadavg()[0]:.2f}")
            worst = compare(values, r_sweep, r_sep, rel_gap)
            statuses = sorted({s for s, _ in r_sweep.values()})
            print(f"  results identical within the gap {rel_gap:g}: largest relative difference {worst:.2e} "
                  f"(statuses: {', '.join(statuses)})")
            ratios.append(t_sep / t_sweep)
        finally:
            if args.keep:
                print(f"  work folder kept: {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    if len(ratios) > 1:
        print(f"speed-up over {len(ratios)} rounds: median {statistics.median(ratios):.2f}x "
              f"(range {min(ratios):.2f}–{max(ratios):.2f}x)")


if __name__ == "__main__":
    main()
