"""The same answer every time: a scenario's plan and objective do not depend on what was solved
before it, in which order, in how many processes, after a resume, or on Python's hash seed.

The scenario here has two blocks (coal, clinker) and a concentration rule over named firms, and
ties everywhere (mines in pairs of equal capacity and workers), so that anything steering HiGHS
— a MIP start from another variant's plan, rows built in a different order — would show as
another plan of the same cost. Commands run as the user runs them, as processes of their own,
each with its own hash seed; plans are compared byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import end_group, write_scenario

# coal mines in pairs that cost the same; clinker lines held by five firms
UNITS = [dict(unit_id=f"M{i}", capacity=c, workers=w) for i, (c, w) in
         enumerate([(100, 10), (100, 10), (150, 12), (150, 12), (200, 30), (200, 30), (80, 6), (80, 6)], 1)]
UNITS += [dict(unit_id=f"K{i}", product="clinker", capacity=c, workers=w, firm=f"Cement firm F{1 + i % 5} (synthetic)")
          for i, (c, w) in enumerate([(120, 8), (120, 8), (90, 5), (90, 5), (60, 4), (60, 4), (150, 9), (40, 2)], 1)]
SCENARIO = {
    "attrition": 0.05,
    "targets": [{"name": "coal task", "product": "coal", "by": 2018, "at_least": 400.0},
                {"name": "clinker task", "product": "clinker", "by": 2018, "at_least": 200.0}],
    "concentration": [{"name": "clinker concentration", "product": "clinker", "by": "firm", "top": 2,
                       "share": 0.5, "years": [2018]}],
    "sectors": {"coal": {"resettlement_per_worker": 2.0, "exit_cost_per_capacity": {"close": 0.5}},
                "cement": {"resettlement_per_worker": 2.0, "exit_cost_per_capacity": {"close": 0.5}}},
    "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
}
SWEEP = """
base = "scenario.toml"
[[axes]]
path = 'targets[name="coal task"].at_least'
label = "coal target"
values = [250, 300, 400, 500, 600, 700]
[[axes]]
path = "attrition"
values = [0.0, 0.05]
[[variants]]
name = "stricter concentration"
set = { 'concentration[name="clinker concentration"].share' = 0.6 }
"""


def write_files(folder: Path) -> tuple[Path, Path]:
    """The scenario (the sweep's base: coal target 400, attrition 0.05) and the sweep (24 cases)."""
    scenario = write_scenario(folder, UNITS, SCENARIO)
    sweep = folder / "sweep.toml"
    sweep.write_text(SWEEP, encoding="utf-8")
    return scenario, sweep


def exitopt(*args: str, seed: int, check: bool = True, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``exitopt ARGS`` as a process of its own with PYTHONHASHSEED=seed."""
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    r = subprocess.run([sys.executable, "-c", "from exitopt.cli import main; main()", *args], env=env,
                       capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    return r


def figures(folder: Path) -> tuple[str, bytes]:
    """cases.csv without its timings (as text) and units_long.csv (bytes) of a sweep folder."""
    cases = pd.read_csv(folder / "cases.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return cases.drop(columns=["seconds"]).to_csv(index=False), (folder / "units_long.csv").read_bytes()


def _recorded(ledger: Path) -> int:
    try:
        with sqlite3.connect(ledger, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    except sqlite3.OperationalError:  # no ledger or no table yet
        return 0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_files(tmp_path_factory.mktemp("determinism"))


@pytest.fixture(scope="module")
def whole(files):
    """The sweep run whole, in the file's order, on one process."""
    _, sweep = files
    out = sweep.parent / "whole"
    exitopt("sweep", str(sweep), "--out", str(out), "--workers", "1", "--long", seed=11)
    return out


def test_a_sweep_in_another_order_on_two_processes_gives_every_case_the_same_plan(files, whole):
    _, sweep = files
    out = sweep.parent / "reversed"
    exitopt("sweep", str(sweep), "--out", str(out), "--workers", "2", "--long", "--order", "reverse", seed=12)
    cases, long = figures(whole)
    table = pd.read_csv(whole / "cases.csv", encoding="utf-8-sig")
    assert (table["status"] == "optimal").sum() >= 12 and (table["exits_coal"] > 0).all()  # plans to compare
    assert figures(out) == (cases, long)


def test_a_killed_and_resumed_sweep_gives_every_case_the_same_plan(files, whole):
    _, sweep = files
    out = sweep.parent / "killed"
    cmd = [sys.executable, "-c", "from exitopt.cli import main; main()", "sweep", str(sweep), "--out", str(out),
           "--workers", "1", "--long", "--order", "shuffle"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, PYTHONHASHSEED="13"))
    try:
        deadline = time.monotonic() + 120
        while _recorded(out / "ledger.sqlite") < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no case was recorded in 120 s"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        end_group(proc)  # and its worker processes
    kept = _recorded(out / "ledger.sqlite")
    assert 2 <= kept < 24
    r = exitopt("sweep", str(sweep), "--out", str(out), "--workers", "2", "--long", "--resume", "--order",
                "shuffle", seed=14)
    assert f"({kept} already in the ledger)" in r.stdout
    assert figures(out) == figures(whole)


def _ledger_case(folder: Path, case_id: str) -> tuple[float, list[tuple[str, int, str]]]:
    with sqlite3.connect(folder / "ledger.sqlite") as conn:
        objective = conn.execute("SELECT objective FROM cases WHERE case_id = ?", (case_id,)).fetchone()[0]
        exits = conn.execute("SELECT unit_id, exit_year, mode FROM unit_exits WHERE case_id = ? ORDER BY unit_id",
                             (case_id,)).fetchall()
    return objective, [tuple(e) for e in exits]


def _solved(run: Path) -> tuple[float, list[tuple[str, int, str]]]:
    schedule = pd.read_csv(run / "schedule.csv", encoding="utf-8-sig")
    s = schedule[schedule["exit_year"].notna()].sort_values("unit_id")
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    return record["objective"], [(u, int(y), m) for u, y, m in zip(s["unit_id"], s["exit_year"], s["mode"], strict=True)]


@pytest.fixture(scope="module")
def solved(files):
    """``exitopt solve`` of the base scenario (the sweep's case of coal target 400, attrition 0.05)."""
    scenario, _ = files
    run = scenario.parent / "solved"
    exitopt("solve", str(scenario), "--out", str(run), seed=15)
    return run


def test_a_sweep_case_is_the_plan_solve_finds_for_its_scenario(files, whole, solved):
    from exitopt.sweep import read_sweep

    _, sweep = files
    case = next(c for c in read_sweep(sweep).cases
                if c.variant == "baseline" and c.values == {"coal target": 400.0, "attrition": 0.05})
    objective, exits = _ledger_case(whole, case.id)
    assert exits  # a plan that makes units exit
    assert _solved(solved) == (objective, exits)  # the same float, to the last bit
    cases = pd.read_csv(whole / "cases.csv", dtype=str, encoding="utf-8-sig").set_index("case")
    written = pd.read_csv(solved / "summary.csv", encoding="utf-8-sig")
    assert float(cases.loc[case.id, "exits_coal"]) == pytest.approx(written.loc[written["product"] == "coal",
                                                                                "exits"].sum(), abs=1e-6)


def test_the_meeting_room_solves_a_scenario_as_solve_does_after_other_solves(files, solved, tmp_path):
    from exitopt.serve.solving import STANDBY, Base, Job

    scenario, _ = files
    base = Base.load(scenario)
    try:
        # first another variant, in the same solve process (its engine then remembers that solve)
        other = Job(base, [], {'targets[name="coal task"].at_least': 600.0}, tmp_path / "other", standby=False)
        assert other.wait(120) and other.state == "done", other.error
        job = Job(base, [], {}, tmp_path / "same", standby=False)
        assert job.wait(120) and job.state == "done", job.error
    finally:
        STANDBY.close()
    assert _solved(tmp_path / "same") == _solved(solved)
    assert (tmp_path / "same" / "schedule.csv").read_bytes() == (solved / "schedule.csv").read_bytes()
    assert _solved(tmp_path / "other") != _solved(solved)


def test_an_engine_s_earlier_solves_do_not_steer_a_later_one(tmp_path):
    """A pin makes the plan take a tie's other unit; the engine's next, free solve finds the plan a
    fresh engine finds, not the pinned one it has in hand (equally cheap)."""
    from exitopt.engine import Engine, Pin, apply
    from exitopt.inputs import load

    inst = load(write_scenario(tmp_path, UNITS, SCENARIO))
    fresh, _ = Engine(inst).solve()
    pairs = {"M1": "M2", "M2": "M1", "M3": "M4", "M4": "M3", "M5": "M6", "M6": "M5", "M7": "M8", "M8": "M7"}
    coal = fresh.exits()
    unit = next(u for u in sorted(coal) if u in pairs and pairs[u] not in coal)  # one of a tie exits
    engine = Engine(inst)
    pinned, _ = engine.solve(apply(inst, [Pin(unit, "keep")]))
    assert pinned.objective == fresh.objective and unit not in pinned.exits()  # the tie's other unit instead
    again, _ = engine.solve(inst)
    assert again.exits() == coal and again.objective == fresh.objective
    assert again.schedule.equals(fresh.schedule)


MODEL_DIGEST = """
import hashlib, sys
import numpy as np
from exitopt.inputs import load
from exitopt.model import build
from exitopt.highs import compiled
a = compiled(build(load(sys.argv[1]))).arrays()
h = hashlib.sha256()
for k in sorted(a):
    h.update(k.encode() + np.ascontiguousarray(a[k]).tobytes())
print(h.hexdigest())
"""


@pytest.mark.parametrize("which", ["tiny", "gansu"])
def test_the_model_handed_to_highs_does_not_depend_on_the_hash_seed(files, which):
    """Rows and columns in the same order, with the same coefficients, whatever Python's hash seed
    (which orders sets of names): HiGHS given another order may find another plan."""
    from conftest import GANSU

    path = str(files[0] if which == "tiny" else GANSU)
    digests = set()
    for seed in (1, 2, 3):
        r = subprocess.run([sys.executable, "-c", MODEL_DIGEST, path], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, PYTHONHASHSEED=str(seed)))
        assert r.returncode == 0, r.stderr
        digests.add(r.stdout.strip())
    assert len(digests) == 1
