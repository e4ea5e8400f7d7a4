"""Time of `exitopt robust` on Gansu with N cases, against one plain `exitopt solve` in the same run.

The cases are a Latin hypercube over the Gansu coal target (800–1,400 万吨/yr counted by 2020)
and the weight of a displaced worker (5–20 万元), written as a sweep file of ``samples = N``.
Each size runs as one ``exitopt robust SWEEP --objective OBJ --time-limit L`` process; the
figures are the wall clock from process start to end, and run.json's seconds by stage
(``own_optima``: every case solved on its own, ``build``: the joint model, ``solve``: HiGHS on
it, with the second stage of worst and regret, ``report``).

    /work/venv/bin/python benchmarks/bench_robust.py --cases 10 40 --objective expected
    /work/venv/bin/python benchmarks/bench_robust.py --cases 10 40 100 --objective regret --time-limit 3600

Timings on a shared machine are noisy: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GANSU = ROOT / "models" / "gansu_2016.toml"


def exitopt_cmd() -> list[str]:
    script = Path(sys.executable).with_name("exitopt")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from exitopt.cli import main; main()"]


def sweep_text(n: int) -> str:
    return (f'name = "bench_robust_{n}"\nbase = "{GANSU.as_posix()}"\nsamples = {n}\nseed = 2016\n'
            "[[axes]]\npath = 'targets[name=\"coal exit 1,000\"].at_least'\nlabel = \"coal target\"\n"
            "sample = { low = 800, high = 1400 }\n"
            "[[axes]]\npath = \"objective.jobs_weight\"\nlabel = \"jobs weight\"\nsample = { low = 5, high = 20 }\n")


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", cwd=cwd)
    return time.perf_counter() - started, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, nargs="+", default=[10, 40])
    ap.add_argument("--objective", choices=["expected", "worst", "regret"], default="expected")
    ap.add_argument("--time-limit", type=float, default=3600.0)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain, done = timed([*exitopt_cmd(), "solve", str(GANSU), "--out", str(folder / "plain")], folder)
        if done.returncode != 0:
            raise SystemExit(f"exitopt solve failed:\n{done.stderr}")
        record = json.loads((folder / "plain" / "run.json").read_text("utf-8"))
        print(f"plain solve of Gansu: {plain:.1f} s wall clock (HiGHS {record['seconds'].get('highs', 0):.1f} s), "
              f"objective {record['objective']:,.1f}")
        for n in args.cases:
            path = folder / f"sweep_{n}.toml"
            path.write_text(sweep_text(n), encoding="utf-8")
            out = folder / f"robust_{n}"
            wall, done = timed([*exitopt_cmd(), "robust", str(path), "--objective", args.objective, "--out",
                                str(out), "--time-limit", str(args.time_limit)], folder)
            if done.returncode not in (0, 4):
                print(f"{n} cases: exit {done.returncode}\n{done.stderr}")
                continue
            r = json.loads((out / "run.json").read_text("utf-8"))
            s = r["seconds"]
            gap = f"{r['gap']:.3%}" if r["gap"] is not None else "unknown"
            print(f"{n:>4} cases, {args.objective}: {wall:7.1f} s wall clock = {wall / plain:5.1f} × the plain solve; "
                  f"own optima {s['own_optima']:.1f} s, build {s['build']:.1f} s, shared solve {s['solve']:.1f} s, "
                  f"report {s['report']:.1f} s; status {r['status']}, gap {gap}, value {r['value']:,.1f}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
