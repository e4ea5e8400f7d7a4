"""Building and compiling the model against units, and the Gansu solve against HiGHS alone.

    python benchmarks/bench_build.py [--runs 3] [--skip-national] [--skip-gansu]

Prints, in one run:

* national (``models/national_2016.toml``; its table is written first when missing): for every
  1/8, 1/4, 1/2 and the whole of the unit table (every k-th unit, in table order), the seconds
  to build the Pyomo model (:func:`exitopt.model.build`) and to compile it to HiGHS (the
  persistent interface and the arrays the worker gets), best of ``--runs``, each in a process of
  its own; the columns, rows and the resident memory at the end; and the exponent b of a fit
  seconds ≈ a · units^b over the four sizes (b = 1: linear);
* Gansu (``models/gansu_2016.toml``): ``exitopt solve`` as a subprocess, command start to exit,
  best and median of ``--runs``; and HiGHS alone on the same problems — every block's model and
  the joint check of the blocks' plans, written as arrays beforehand and solved one after the
  other in a fresh process that imports only highspy and numpy (best and median, with the
  process start); and the ratio of the two.

The machine may be shared: read best-of-N, and expect ±30 % between runs.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "models" / "national_2016.toml"
GANSU = ROOT / "models" / "gansu_2016.toml"
EXITOPT = Path(sys.executable).with_name("exitopt")
FRACTIONS = (8, 4, 2, 1)


def child_build(every: int) -> dict:
    """Load the national scenario, keep every ``every``-th unit, build and compile (this process)."""
    import dataclasses
    import resource

    from exitopt import highs
    from exitopt.inputs import load
    from exitopt.model import build

    inst = load(NATIONAL)
    if every > 1:
        inst = dataclasses.replace(inst, units=inst.units.iloc[::every])
    t0 = time.perf_counter()
    m = build(inst)
    t1 = time.perf_counter()
    arrays = highs.compiled(m).arrays()
    t2 = time.perf_counter()
    return {"units": len(inst.units), "build": t1 - t0, "compile": t2 - t1, "columns": int(arrays["col_cost"].size),
            "rows": int(arrays["row_lower"].size),
            "mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fit(xs: list[float], ys: list[float]) -> float:
    """Slope of log y against log x (least squares)."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def national(runs: int) -> None:
    if not (ROOT / "data" / "national" / "units.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "data" / "national" / "build.py")], check=True,
                       stdout=subprocess.DEVNULL)
    print(f"national_2016, build and compile (best of {runs}, each in a fresh process)")
    print(f"{'share':>6} {'units':>7} {'columns':>8} {'rows':>7} {'build s':>8} {'compile s':>9} {'sum s':>6} {'MiB':>5}")
    best = []
    for every in FRACTIONS:
        results = [run_child("--child-build", str(every)) for _ in range(runs)]
        b = min(r["build"] for r in results)
        c = min(r["compile"] for r in results)
        r = results[0]
        best.append((r["units"], b, c))
        print(f"{'1/' + str(every) if every > 1 else 'all':>6} {r['units']:>7,} {r['columns']:>8,} {r['rows']:>7,} "
              f"{b:>8.2f} {c:>9.2f} {b + c:>6.2f} {max(x['mib'] for x in results):>5.0f}")
    units = [u for u, _, _ in best]
    print(f"exponent (seconds ≈ a · units^b): build {fit(units, [b for _, b, _ in best]):.2f}, "
          f"compile {fit(units, [c for _, _, c in best]):.2f}, "
          f"build + compile {fit(units, [b + c for _, b, c in best]):.2f}")


def write_jobs(folder: Path) -> Path:
    """Every HiGHS problem of a plain Gansu solve, as the worker gets them, in one file."""
    import pickle

    from exitopt import highs
    from exitopt.blocks import product_blocks, sub_instance
    from exitopt.engine import Engine
    from exitopt.inputs import load
    from exitopt.model import build

    inst = load(GANSU)
    jobs = []
    for products in product_blocks(inst):  # the blocks, as exitopt.blocks solves them (no start)
        sub = sub_instance(inst, products)
        arrays = highs.compiled(build(sub)).arrays()
        jobs.append({"arrays": arrays, "options": highs._options(sub.scenario.solver, bool(arrays["integer"].any())),
                     "end": None, "start": None})
    _, m = Engine(inst).solve(inst)  # the joint check: the whole model, the blocks' plan fixed
    for v in list(m.x.values()) + [m.a[j] for j in m.J] + list(m.mg.values()):
        v.fix()
    arrays = highs.compiled(m).arrays()
    jobs.append({"arrays": arrays, "options": highs._options(inst.scenario.solver, False), "end": None, "start": None})
    path = folder / "jobs.pickle"
    path.write_bytes(pickle.dumps(jobs))
    return path


ALONE = """
import pickle, sys
from exitopt.highs_worker import run
for job in pickle.load(open(sys.argv[1], "rb")):
    run(job, None)
"""


def gansu(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        solve = []
        for i in range(runs):
            start = time.perf_counter()
            done = subprocess.run([str(EXITOPT), "solve", str(GANSU), "--out", str(folder / "run"), "--force"],
                                  capture_output=True, text=True, cwd=ROOT)
            solve.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"exitopt solve failed ({done.returncode}):\n{done.stderr}")
        jobs = write_jobs(folder)
        alone = []
        for i in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", ALONE, str(jobs)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            alone.append(time.perf_counter() - start)
        seconds = json.loads((folder / "run" / "run.json").read_text(encoding="utf-8")).get("seconds", {})
    print(f"\nGansu plain solve, best / median of {runs}")
    print(f"  exitopt solve, start to exit:             {min(solve):.2f} / {statistics.median(solve):.2f} s")
    print(f"  HiGHS alone, same blocks and joint check:  {min(alone):.2f} / {statistics.median(alone):.2f} s "
          "(a fresh process importing highspy)")
    print(f"  ratio (best): {min(solve) / min(alone):.2f}; last run.json seconds: "
          + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-national", action="store_true")
    ap.add_argument("--skip-gansu", action="store_true")
    ap.add_argument("--child-build", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_build is not None:
        print(json.dumps(child_build(a.child_build)))
        return
    if not a.skip_national:
        national(a.runs)
    if not a.skip_gansu:
        gansu(a.runs)


if __name__ == "__main__":
    main()
