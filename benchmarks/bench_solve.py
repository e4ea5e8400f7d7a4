"""Speed of ``exitopt solve``: the Gansu baseline end to end, and a synthetic national instance.

    python benchmarks/bench_solve.py [--runs 3] [--skip-national] [--national-limit 120] [--budget]

Prints, in one run:

* start-up: seconds for ``exitopt --help`` and for importing what ``exitopt solve`` loads;
* Gansu: ``exitopt solve models/gansu_2016.toml --out TMP --force`` as a subprocess, best and
  median of ``--runs`` wall-clock times (command start to files written), and the split by
  stage that the best run's run.json records;
* national: the instance of ``benchmarks/national.py`` (fixed seed), solved in a child process
  with a time limit: seconds to load, build, hand to HiGHS, in HiGHS, duals, report, write;
  the gap reached and whether it is within 0.1 %; the ratio of everything else to HiGHS time.
  The child is stopped if it runs 240 s past the limit (HiGHS does not always honour it).

The machine may be shared: wall-clock figures are noisy, so read best-of-N for Gansu.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GANSU = ROOT / "models" / "gansu_2016.toml"
EXITOPT = Path(sys.executable).with_name("exitopt")
STAGES = ("load", "solve", "highs", "duals", "report")  # "highs" is the part of "solve" inside HiGHS


def wall(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Seconds a command takes from start to exit, and its result."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, done


def startup(runs: int, tmp: Path) -> dict[str, float]:
    """Best seconds for ``exitopt --help`` and for importing the modules ``exitopt solve`` uses."""
    imports = "import exitopt.cli, exitopt.inputs, exitopt.output, exitopt.pins, exitopt.solve"
    help_s = min(wall([str(EXITOPT), "--help"], tmp)[0] for _ in range(runs))
    import_s = min(wall([sys.executable, "-c", imports], tmp)[0] for _ in range(runs))
    return {"exitopt --help": help_s, "python + imports of solve": import_s}


def gansu(runs: int, tmp: Path) -> dict:
    """Wall-clock seconds of ``exitopt solve`` on the Gansu baseline, and the best run's stages."""
    times, records = [], []
    for i in range(runs):
        out = tmp / f"gansu_{i}"
        seconds, done = wall([str(EXITOPT), "solve", str(GANSU), "--out", str(out), "--force"], tmp)
        if done.returncode != 0:
            raise SystemExit(f"exitopt solve failed ({done.returncode}):\n{done.stderr}")
        times.append(seconds)
        records.append(json.loads((out / "run.json").read_text(encoding="utf-8")))
    best = min(range(runs), key=times.__getitem__)
    return {"times": times, "best": times[best], "median": statistics.median(times), "record": records[best]}


def national_worker(folder: Path, limit: float, budget: bool) -> None:
    """Child process: write the national instance, solve it, write its run folder; print a JSON line."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import national as gen  # benchmarks/national.py

    from exitopt.errors import LimitReached
    from exitopt.inputs import load
    from exitopt.output import write_folder
    from exitopt.solve import solve_instance

    scenario = gen.write(folder / "national", budget=budget)
    start = time.perf_counter()
    inst = load(scenario)
    loaded = time.perf_counter() - start
    try:
        res = solve_instance(inst, time_limit=limit)
    except LimitReached:
        print(json.dumps({"status": "no plan", "total": time.perf_counter() - start, "units": len(inst.units)}))
        return
    solved = time.perf_counter()
    write_folder(folder / "national_run", res.files(), force=True)
    written = time.perf_counter() - solved
    t = dict(res.timings, load=loaded, write=written)
    x = res.outcome
    print(json.dumps({"timings": t, "total": time.perf_counter() - start, "status": x.status, "gap": x.gap,
                      "objective": x.objective, "bound": x.bound, "units": len(inst.units),
                      "exits": int(res.schedule["exit_year"].notna().sum())}))


def national(limit: float, tmp: Path, budget: bool) -> dict:
    """Run :func:`national_worker` in a child process, stopped if it runs far past the time limit."""
    cmd = [sys.executable, __file__, "--national-worker", str(tmp), "--national-limit", str(limit)]
    cmd += ["--budget"] if budget else []
    hard = limit + 240.0  # loading, building and handing over take well under this
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=hard)
    except subprocess.TimeoutExpired:
        return {"status": "no return", "total": time.perf_counter() - start, "hard": hard}
    if done.returncode != 0:
        raise SystemExit(f"national run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report_gansu(g: dict) -> None:
    rec = g["record"]
    print(f"Gansu baseline, {len(g['times'])} runs of `exitopt solve` (command start to files written):")
    print(f"  best {g['best']:.2f} s, median {g['median']:.2f} s   (all: {', '.join(f'{t:.2f}' for t in g['times'])})")
    secs = rec.get("seconds", {})
    parts = {k: secs[k] for k in STAGES if k in secs}
    inside = secs.get("total", sum(parts.values()))
    print("  best run by stage (run.json seconds): "
          + ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
          + f"; start-up, imports and writing {g['best'] - inside:.2f}")
    print(f"  status {rec['status']}, objective {rec['objective']:,.1f}, gap {rec['gap']:.4%}, "
          f"{rec['units_exiting']} units exit; goal < 3 s: {'met' if g['best'] < 3 else 'missed'}")


def report_national(n: dict, limit: float) -> None:
    if n["status"] == "no return":
        print(f"National synthetic instance: HiGHS had not returned after {n['total']:.0f} s "
              f"(time limit {limit:g} s); the run was stopped.")
        return
    if n["status"] == "no plan":
        print(f"National synthetic instance ({n['units']:,} units): no plan found within the {limit:g} s "
              f"time limit ({n['total']:.0f} s in all).")
        return
    t = n["timings"]
    highs = t["highs"]
    other = n["total"] - highs
    build_write = t["solve"] - t.get("highs", 0.0) + t["write"]  # building, handing over, writing
    gap = n["gap"]
    print(f"National synthetic instance ({n['units']:,} units), time limit {limit:g} s:")
    print("  seconds: " + ", ".join(f"{k} {t[k]:.1f}" for k in ("load", "solve", "highs", "duals", "report",
                                                               "write") if k in t)
          + f"; total {n['total']:.1f}")
    print(f"  status {n['status']}, objective {n['objective']:,.0f}, bound {n['bound']:,.0f}, "
          f"gap {gap:.3%}" if gap is not None else f"  status {n['status']}, gap unknown")
    print(f"  0.1 % gap reached: {'yes' if gap is not None and gap <= 1e-3 else 'no'}; "
          f"total under 120 s: {'yes' if n['total'] < 120 else 'no'}; {n['exits']:,} units exit")
    print(f"  everything else / HiGHS: {other / highs:.2f}; building (with handoff) and writing: "
          f"{build_write / n['total']:.1%} of the total (goal < 25 %)")


def main() -> None:
    p = argparse.ArgumentParser(description="Time exitopt solve on Gansu and on a national-size instance.")
    p.add_argument("--runs", type=int, default=3, help="Gansu runs (best and median are reported)")
    p.add_argument("--skip-national", action="store_true")
    p.add_argument("--national-limit", type=float, default=120.0, help="HiGHS time limit, seconds")
    p.add_argument("--budget", action="store_true", help="give the national instance a fiscal budget per year")
    p.add_argument("--national-worker", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.national_worker is not None:
        national_worker(args.national_worker, args.national_limit, args.budget)
        return
    with tempfile.TemporaryDirectory(prefix="exitopt-bench-") as d:
        tmp = Path(d)
        s = startup(args.runs, tmp)
        print("Start-up: " + ", ".join(f"{k} {v:.2f} s" for k, v in s.items()))
        report_gansu(gansu(args.runs, tmp))
        if not args.skip_national:
            report_national(national(args.national_limit, tmp, args.budget), args.national_limit)


if __name__ == "__main__":
    main()
