"""The national instance with and without a yearly budget: gap over time, time outside HiGHS.

    python benchmarks/bench_national.py [--limit 120] [--cases free,budget,national_2016]

For each case, in a child process of its own (so that each starts cold, as ``exitopt solve``
does): write or read the instance, load it, solve it under one wall clock of ``--limit``
seconds from the start of loading (as ``exitopt solve --time-limit`` does), check the plan with
the independent checker, and print one JSON line. Then prints, per case:

* the plan's objective, the bound, the gap and the status; whether ``exitopt check`` passes;
* seconds to a 1 % and a 0.5 % gap: for a coupled solve (a yearly budget), the first step of
  :mod:`exitopt.decompose` after which the gap is that small; for independent blocks, the end of
  the blocks' solve (the only point at which their joint gap is known);
* the plan and bound after each step of the coupled solve;
* seconds in all (load to plan read back), in HiGHS, and the share outside HiGHS.

Cases: ``free`` — benchmarks/national.py without budget; ``budget`` — with ``--budget``;
``free_coupled`` — the instance without budget through the coupled solve of
:mod:`exitopt.decompose` (its worker caps priced) instead of the independent blocks;
``national_2016`` — models/national_2016.toml (its table is written first when missing).
The machine may be shared: read the figures as one run's, ±30 %.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIONAL_2016 = ROOT / "models" / "national_2016.toml"


def child(case: str, limit: float, folder: Path) -> dict:
    """Solve one case in this process; the figures as a dict."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if case == "national_2016":
        if not (ROOT / "data" / "national" / "units.csv").exists():
            subprocess.run([sys.executable, str(ROOT / "data" / "national" / "build.py")], check=True,
                           stdout=subprocess.DEVNULL)
        scenario = NATIONAL_2016
    else:
        import national as gen  # benchmarks/national.py

        scenario = gen.write(folder / case, budget=(case == "budget"))
    from exitopt import decompose
    from exitopt import highs
    from exitopt.check import check_plan, plan_from_frame
    from exitopt.engine import Engine
    from exitopt.inputs import load

    start = time.time()
    with highs.limit(limit, started=start):
        inst = load(scenario)
        loaded = time.time() - start
        if case == "free_coupled":  # the coupled solve without a budget: the worker caps priced
            from exitopt.engine import read
            from exitopt.model import build

            m = build(inst)
            sol = read(m, inst, decompose.Coupled(m, inst).run_traced())
        else:
            sol, _ = Engine(inst).solve(inst)
    total = time.time() - start
    o = sol.outcome
    checked = check_plan(inst, plan_from_frame(sol.schedule, inst))
    trace = getattr(o, "trace", None)
    return {"case": case, "units": len(inst.units), "status": o.status, "objective": o.objective,
            "bound": o.bound, "gap": o.gap, "load": loaded, "total": total, "highs": o.solver_seconds,
            "check": "passes" if checked.ok else f"{len(checked.violations)} rule(s) broken",
            "trace": [(round(s - start, 1), step, plan, bound) for s, step, plan, bound in trace] if trace else None,
            "message": o.message}


def gap(plan, bound):
    return None if plan is None or bound is None else abs(plan - bound) / max(abs(plan), 1e-9)


def time_to(r: dict, target: float) -> str:
    if r["trace"]:
        for s, _, plan, bound in r["trace"]:
            g = gap(plan, bound)
            if g is not None and g <= target:
                return f"{s:.1f} s"
        return "not reached"
    return f"≤ {r['total']:.1f} s (at the end)" if r["gap"] is not None and r["gap"] <= target else "not reached"


def show(r: dict) -> None:
    print(f"\n== {r['case']}: {r['units']:,} units ==")
    g = "unknown" if r["gap"] is None else f"{100 * r['gap']:.3f} %"
    print(f"status {r['status']}, plan {r['objective']:,.1f}, bound "
          f"{'none' if r['bound'] is None else format(r['bound'], ',.1f')}, gap {g}; exitopt check: {r['check']}")
    print(f"time to a 1 % gap: {time_to(r, 0.01)}; to a 0.5 % gap: {time_to(r, 0.005)}")
    if r["trace"]:
        print("plan and bound after each step (seconds from the start of loading):")
        for s, step, plan, bound in r["trace"]:
            gg = gap(plan, bound)
            print(f"  {s:7.1f} s  plan {'—' if plan is None else format(plan, ',.1f'):>14}  bound "
                  f"{'—' if bound is None else format(bound, ',.1f'):>14}  gap "
                  f"{'—' if gg is None else format(100 * gg, '.3f') + ' %':>9}  {step}")
    h = r["highs"] or 0.0
    print(f"seconds: load {r['load']:.1f}, load to plan {r['total']:.1f}, in HiGHS {h:.1f}; "
          f"outside HiGHS {100 * (1 - h / r['total']):.0f} % of the total")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=float, default=120.0)
    p.add_argument("--cases", default="free,budget", help="comma-separated: free, budget, national_2016")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(child(args.child, args.limit, Path(tmp))))
        return
    for case in args.cases.split(","):
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", case, "--limit", str(args.limit)],
                              capture_output=True, text=True, timeout=args.limit + 600)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(f"\n== {case}: failed ({done.returncode})\n{done.stderr[-2000:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        show(r)
        print(f"child process, start to exit: {wall:.1f} s")


if __name__ == "__main__":
    main()
