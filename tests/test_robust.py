"""`exitopt robust`: one plan for every case of a sweep (docs/model.md#robust).

* On random tiny instances (2–4 units; 2–3 cases that differ in a target and in the weight of a
  displaced worker) the shared plan's value equals brute force over every plan, for each
  objective: expected cost (with the sweep's case weights), worst cost, worst regret. The brute
  force is the one of tests/test_bruteforce.py, written from model.md alone.
* With one case, the robust plan costs what `exitopt solve` finds.
* The checker (independent of the model) accepts the shared plan in every case and prices it at
  the cost regret.csv reports.
* A combination of cases that no plan serves is named, with the rules that must give; the
  command's exit codes and messages, as a real process; the time limit.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_with, write_scenario
from exitopt.check import check_plan, plan_from_frame
from exitopt.errors import InfeasibleError
from exitopt.robust import read_problem, solve_problem
from exitopt.solve import solve_instance
from test_bruteforce import feasible, price, random_spec, unit_options

FILES = {"schedule.csv", "summary.csv", "new_capacity.csv", "regret.csv", "insurance.csv", "regret.png", "constraints.csv",
         "run.json", "cases"}


# --- random instances: a base scenario and its cases ------------------------------------------


def robust_spec(seed: int) -> dict:
    """A tiny random base (tests/test_bruteforce.py's generator, without projects, each of five
    rule families kept half the time), a target whose ``at_least`` moves, and 2–3 cases each with
    its own target, jobs weight and weight in the expected cost."""
    spec = random_spec(seed)
    rnd = random.Random(seed + 7_000_003)
    spec["projects"] = []
    scen = spec["scenario"]
    scen.pop("objective", None)
    scen["objective"] = {"jobs_weight": 1.0, "fiscal_weight": 1.0, "discount_rate": rnd.choice([0.0, 0.05])}
    p = rnd.choice(sorted({u["product"] for u in spec["units"]}))
    total = sum(u["capacity"] for u in spec["units"] if u["product"] == p)
    years = list(range(scen["first_year"], scen["last_year"] + 1))
    old = scen.get("targets", [])
    target = old[0] if old else {"name": "target", "product": p, "by": rnd.choice(years)}
    target.setdefault("at_least", 0.0)
    target.pop("at_most", None)  # an upper bound below a moved lower one would make most cases infeasible
    scen["targets"] = [target]
    for key in ("caps", "packages", "utilisation", "concentration", "mandatory"):
        if rnd.random() < 0.5:  # fewer rules at once: more instances where some shared plan exists
            scen.pop(key, None)
    total = sum(u["capacity"] for u in spec["units"] if u["product"] == target["product"])
    n = rnd.randint(2, 3)
    spec["cases"] = [{"at_least": float(round(total * rnd.uniform(0.0, 0.6))),
                      "jobs_weight": rnd.choice([0.0, 1.0, 5.0, 20.0]),
                      "weight": rnd.choice([1.0, 1.0, 2.0, 3.0])} for _ in range(n)]
    return spec


def case_spec(spec: dict, case: dict) -> dict:
    """The plain-data scenario of one case, for the brute force."""
    scen = copy.deepcopy(spec["scenario"])
    scen["targets"][0]["at_least"] = case["at_least"]
    scen["objective"]["jobs_weight"] = case["jobs_weight"]
    return {"units": spec["units"], "scenario": scen, "projects": []}


def write_sweep(spec: dict, folder: Path, objective: str | None = None) -> Path:
    """The base scenario and a sweep file of its cases (two axes moving together)."""
    write_scenario(folder, spec["units"], {"name": "random", **spec["scenario"]})
    name = spec["scenario"]["targets"][0]["name"]
    cases = spec["cases"]
    lines = ['name = "random_sweep"', 'base = "scenario.toml"', 'combine = "zip"',
             "[[axes]]", f"path = 'targets[name=\"{name}\"].at_least'", 'label = "target"',
             f"values = {json.dumps([c['at_least'] for c in cases])}",
             "[[axes]]", 'path = "objective.jobs_weight"', 'label = "jobs weight"',
             f"values = {json.dumps([c['jobs_weight'] for c in cases])}",
             "[robust]"]
    if objective:
        lines.append(f'objective = "{objective}"')
    weights = ", ".join(f"c{i + 1:04d} = {c['weight']}" for i, c in enumerate(cases))
    lines.append(f"weights = {{ {weights} }}")
    path = folder / "sweep.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def brute_force(spec: dict, objective: str) -> float | None:
    """The least value of ``objective`` over every plan that meets every case's rules (None when
    no plan does); a case's own optimum is the least over the plans that meet its own rules."""
    cases = [case_spec(spec, c) for c in spec["cases"]]
    total = sum(c["weight"] for c in spec["cases"])
    weights = [c["weight"] / total for c in spec["cases"]]
    options = unit_options(cases[0])  # the cases differ in a target and a weight: same decisions
    ids = list(options)
    plans = [dict(zip(ids, combo, strict=False)) for combo in itertools.product(*(options[u] for u in ids))]
    own = []
    for cs in cases:
        costs = [price(cs, plan)[0] for plan in plans if feasible(cs, plan, False)]
        own.append(min(costs) if costs else None)
    if any(o is None for o in own):
        return None
    best = None
    for plan in plans:
        if not all(feasible(cs, plan, False) for cs in cases):
            continue
        costs = [price(cs, plan)[0] for cs in cases]
        if objective == "expected":
            value = sum(w * c for w, c in zip(weights, costs, strict=False))
        elif objective == "worst":
            value = max(costs)
        else:
            value = max(c - o for c, o in zip(costs, own, strict=False))
        best = value if best is None or value < best else best
    return best


def robust_specs():
    return st.integers(0, 2**32 - 1).map(robust_spec)


def checked_in_every_case(result) -> None:
    """The checker accepts the shared plan in every case, at the cost the robust run reports."""
    nc = result.new_capacity
    built = list(nc.loc[nc["built"], "project_id"]) if not nc.empty else None
    for p in result.plans:
        plan = plan_from_frame(p.schedule[["unit_id", "exit_year", "mode", "indicator"]], p.rc.inst)
        checked = check_plan(p.rc.inst, plan, built)
        assert checked.ok, (p.rc.id, checked.violations)
        assert checked.objective == pytest.approx(p.cost, rel=1e-6, abs=1e-6)
    exits = [tuple(p.schedule["exit_year"].astype("Float64").fillna(-1)) for p in result.plans]
    assert len(set(exits)) == 1  # one plan: every case sees the same exits


@pytest.mark.parametrize("objective", ["expected", "worst", "regret"])
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=robust_specs())
def test_shared_plan_equals_brute_force(spec, objective):
    best = brute_force(spec, objective)
    with tempfile.TemporaryDirectory() as folder:
        problem = read_problem(write_sweep(spec, Path(folder), objective))
        assert problem.objective == objective
        if best is None:
            with pytest.raises(InfeasibleError):
                solve_problem(problem)
            return
        result = solve_problem(problem)
        assert result.value == pytest.approx(best, rel=1e-6, abs=1e-6)
        assert result.outcome.status == "optimal"
        checked_in_every_case(result)


def test_generator_gives_shared_plans_and_conflicts():
    """The random instances cover both outcomes, and cases whose plans differ."""
    values = [brute_force(robust_spec(s), "regret") for s in range(40)]
    assert any(v is None for v in values)
    assert any(v is not None and v > 1e-6 for v in values)  # some shared plan costs a case more


# --- one case is a plain solve ----------------------------------------------------------------

MINES = [dict(unit_id="A", capacity=100, workers=10), dict(unit_id="B", capacity=60, workers=30),
         dict(unit_id="C", capacity=50, workers=5), dict(unit_id="D", capacity=80, workers=12)]
TASK = {"name": "task", "product": "coal", "by": 2017, "at_least": 110.0}
BASE = {"targets": [TASK], "sectors": {"coal": {"resettlement_per_worker": 2.0,
                                                "exit_cost_per_capacity": {"close": 1.0}}}}


def sweep_file(folder: Path, body: str, scenario: dict | None = None) -> Path:
    write_scenario(folder, MINES, scenario or BASE)
    path = folder / "sweep.toml"
    path.write_text('name = "tiny_sweep"\nbase = "scenario.toml"\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize("objective, value", [("expected", "cost"), ("worst", "cost"), ("regret", 0.0)])
def test_one_case_equals_solve(tmp_path, objective, value):
    path = sweep_file(tmp_path, "")  # the baseline only
    problem = read_problem(path, objective)
    result = solve_problem(problem)
    alone = solve_instance(problem.cases[0].inst, with_duals=False)
    assert len(result.plans) == 1
    assert result.plans[0].cost == pytest.approx(alone.objective, rel=1e-9)
    assert result.value == pytest.approx(alone.objective if value == "cost" else 0.0, abs=1e-6)
    assert set(result.plans[0].schedule.dropna(subset=["exit_year"])["unit_id"]) == \
        set(alone.schedule.dropna(subset=["exit_year"])["unit_id"])


def test_indicators_are_shared_and_checked_in_every_case(tmp_path):
    """New capacity that needs replacement indicators: the split of the retired capacity is one
    for every case (schedule.csv's indicator column), and each case's checker accepts it."""
    scen = {**BASE, "replacement": [{"product": "coal", "ratio": 1.2}]}
    write_scenario(tmp_path, MINES, scen, [dict(project_id="P", capacity=60, year=2018, status="approved")])
    path = tmp_path / "sweep.toml"
    path.write_text('name = "tiny_sweep"\nbase = "scenario.toml"\n[[axes]]\n'
                    "path = 'targets[name=\"task\"].at_least'\nvalues = [60, 110, 150]\n", encoding="utf-8")
    for objective in ("expected", "regret"):
        result = solve_problem(read_problem(path, objective))
        assert bool(result.new_capacity["built"].all())
        assert result.plans[0].schedule["indicator"].sum() == pytest.approx(1.2 * 60)
        checked_in_every_case(result)


def test_expected_cost_by_blocks_equals_the_whole_model(tmp_path, monkeypatch):
    """Coal and clinker fall into blocks no rule ties together: the expected cost is solved block
    by block (cases alike in a block counted once) and equals the one joint solve."""
    import exitopt.robust.solving as robust

    units = MINES + [dict(unit_id="K1", product="clinker", capacity=100, workers=20),
                     dict(unit_id="K2", product="clinker", capacity=120, workers=8),
                     dict(unit_id="K3", product="clinker", capacity=90, workers=15)]
    scen = {**BASE, "sectors": {**BASE["sectors"], "cement": {"resettlement_per_worker": 3.0}},
            "utilisation": [{"name": "clinker use", "product": "clinker", "demand": {2018: 200.0},
                             "min_utilisation": 0.8}]}
    write_scenario(tmp_path, units, scen)
    path = tmp_path / "sweep.toml"
    path.write_text('name = "two_blocks"\nbase = "scenario.toml"\n[[axes]]\n'
                    "path = 'targets[name=\"task\"].at_least'\nvalues = [60, 110]\n[[axes]]\n"
                    "path = 'utilisation[name=\"clinker use\"].demand.2018'\nvalues = [150, 200]\n"
                    "[robust]\nweights = { c0001 = 3, c0004 = 2 }\n", encoding="utf-8")
    result = solve_problem(read_problem(path))
    assert "independent blocks" in result.outcome.message
    checked_in_every_case(result)
    monkeypatch.setattr(robust, "block_groups", lambda problem: [])
    whole = solve_problem(read_problem(path))
    assert "independent blocks" not in whole.outcome.message
    assert result.value == pytest.approx(whole.value, rel=1e-9)


def test_own_optima_come_from_the_sweep_ledger(tmp_path):
    """A sweep run first leaves its optima in its ledger; robust takes them from there."""
    from exitopt.sweep import run_sweep

    path = sweep_file(tmp_path, "[[axes]]\npath = 'targets[name=\"task\"].at_least'\nvalues = [60, 110]\n")
    run_sweep(path, out=tmp_path / "tiny_sweep", workers=1, progress=False)
    problem = read_problem(path, "regret")
    result = solve_problem(problem, ledger_folder=tmp_path / "tiny_sweep")
    assert [p.rc.own_source for p in result.plans] == ["ledger", "ledger"]
    fresh = read_problem(path, "regret")
    again = solve_problem(fresh)  # no ledger: solved
    assert [p.rc.own_source for p in again.plans] == ["solved", "solved"]
    assert [p.rc.own for p in result.plans] == pytest.approx([p.rc.own for p in again.plans])
    assert result.value == pytest.approx(again.value)


# --- the command, as a real process -------------------------------------------------------------


def exitopt(*args, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from exitopt.cli import main; main()", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=300, cwd=cwd)


def test_the_command_writes_a_folder_the_checker_accepts_in_every_case(tmp_path):
    body = ("[[axes]]\npath = 'targets[name=\"task\"].at_least'\nlabel = \"task\"\nvalues = [60, 110, 150]\n"
            "[robust]\nobjective = \"regret\"\n")
    path = sweep_file(tmp_path, body)
    done = exitopt("robust", path, "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == FILES
    table = pd.read_csv(run / "regret.csv", encoding="utf-8-sig")
    assert list(table["case"]) == ["c0001", "c0002", "c0003"]
    assert (table["regret"] == table["cost"] - table["own_optimum"]).all()
    record = json.loads((run / "run.json").read_text("utf-8"))
    assert record["robust_objective"] == "regret"
    assert record["value"] == pytest.approx(table["regret"].max())
    for case in table["case"]:
        checked = exitopt("check", f"cases/{case}.toml", "schedule.csv", cwd=run)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "OK: the plan meets every rule" in checked.stdout
        cost = float(table.loc[table["case"] == case, "cost"].iloc[0])
        assert f"Objective: {cost:,.1f}" in checked.stdout
    # the same folder again: refused without --force, replaced with it
    again = exitopt("robust", path, "--out", run, cwd=tmp_path)
    assert again.returncode == 5 and "--force" in again.stderr
    forced = exitopt("robust", path, "--out", run, "--force", "--objective", "worst", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert json.loads((run / "run.json").read_text("utf-8"))["robust_objective"] == "worst"


def test_cases_that_no_plan_serves_are_named(tmp_path):
    # the baseline needs 110 counted by 2017; the variant allows at most 50: each has a plan, not both
    scen = {**BASE, "targets": [TASK, {"name": "ceiling", "product": "coal", "by": 2017, "at_most": 300.0}]}
    body = ('[[variants]]\nname = "small task"\nset = { \'targets[name="task"].at_least\' = 0, '
            '\'targets[name="ceiling"].at_most\' = 50 }\n')
    path = sweep_file(tmp_path, body, scen)
    done = exitopt("robust", path, "--out", tmp_path / "run", cwd=tmp_path)
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 3, text
    assert "Traceback" not in text
    assert "No single plan meets the rules of every case" in text
    assert ("case c0001" in text and "target 'task'" in text) or ("case c0002" in text and "'ceiling'" in text)
    assert not (tmp_path / "run").exists()


def test_a_case_with_no_plan_of_its_own_is_named(tmp_path):
    body = "[[axes]]\npath = 'targets[name=\"task\"].at_least'\nvalues = [100, 900]\n"
    done = exitopt("robust", sweep_file(tmp_path, body), "--out", tmp_path / "run", cwd=tmp_path)
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 3, text
    assert "case c0002" in text and "has no plan even on its own" in text and "target 'task'" in text
    assert "Traceback" not in text
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("body, what", [
    ("[robust]\nobjective = \"median\"\n", "objective"),
    ("[robust]\nweights = { c0009 = 1 }\n", "c0009"),
    ("[robust]\nweights = { c0001 = -1 }\n", "weight"),
])
def test_bad_robust_settings_are_named(tmp_path, body, what):
    done = exitopt("robust", sweep_file(tmp_path, body), "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert what in done.stderr and "sweep.toml" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "run").exists()


def test_an_unknown_objective_flag_is_refused(tmp_path):
    done = exitopt("robust", sweep_file(tmp_path, ""), "--objective", "median", cwd=tmp_path)
    assert done.returncode == 2
    assert "expected, worst or regret" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stdout + done.stderr


# --- the time limit ---------------------------------------------------------------------------


def test_a_solver_that_never_returns_ends_at_the_limit_with_nothing_written(monkeypatch, tmp_path):
    path = sweep_file(tmp_path, "[[axes]]\npath = 'targets[name=\"task\"].at_least'\nvalues = [60, 110]\n")
    r = run_with(monkeypatch, "never_returns", ["robust", str(path), "--out", str(tmp_path / "run"),
                                                "--time-limit", "3"])
    assert r.exit_code == 4, r.output
    assert "time limit" in r.output
    assert not (tmp_path / "run").exists()


def test_plans_stopped_at_the_limit_are_written_and_flagged(monkeypatch, tmp_path):
    """Every search reports the time limit with its plan in hand: the shared plan is written,
    marked as the best found, and the command exits 4."""
    path = sweep_file(tmp_path, "[[axes]]\npath = 'targets[name=\"task\"].at_least'\nvalues = [60, 110]\n"
                                "[robust]\nobjective = \"regret\"\n")
    out = tmp_path / "run"
    r = run_with(monkeypatch, "every_search_at_the_limit", ["robust", str(path), "--out", str(out),
                                                            "--time-limit", "30"])
    assert r.exit_code == 4, r.output
    assert "stopped at the time limit" in r.output
    record = json.loads((out / "run.json").read_text("utf-8"))
    assert record["status"] == "limit" and record["gap"] > 0
    table = pd.read_csv(out / "regret.csv", encoding="utf-8-sig")
    assert set(table["own_status"]) == {"limit"}


def test_mergers_are_shared_like_exits(tmp_path):
    """Mergers are decisions of the one plan. Clinker: A (group G1) 100 万吨, independents I1 and I2
    of 50 (40 and 60 workers); the top group must hold 60 % in 2017 in one case, 50 % in the other.
    Merging I1 into G1 costs 0.1 × 40 persons + 0.02 × 50 万元 = 5 (I2: 7; closing I1: 40). Alone, the
    50 % case needs nothing (0); one plan for both merges I1 in both: 5 in each case, 5 expected."""
    units = [dict(unit_id="A", product="clinker", capacity=100, workers=10, group="G1", firm="F1"),
             dict(unit_id="I1", product="clinker", capacity=50, workers=40, group="", firm="I1"),
             dict(unit_id="I2", product="clinker", capacity=50, workers=60, group="", firm="I2")]
    scen = {"sectors": {"cement": {"merge_cost_per_capacity": 0.02, "merge_displaced_share": 0.1}},
            "concentration": [dict(name="top 1", product="clinker", by="group", top=1, share=0.6, years=[2017])],
            "mergers": [dict(name="consolidation", where={"all": [["group", "!=", "G1"]]}, acquirers=["G1"],
                             years=[2017])]}
    write_scenario(tmp_path, units, scen)
    path = tmp_path / "sweep.toml"
    path.write_text('name = "tiny_sweep"\nbase = "scenario.toml"\n[[axes]]\n'
                    "path = 'concentration[name=\"top 1\"].share'\nvalues = [0.5, 0.6]\n", encoding="utf-8")
    result = solve_problem(read_problem(path, "expected"))
    assert result.value == pytest.approx(5.0, abs=1e-6)
    for p in result.plans:
        assert p.cost == pytest.approx(5.0, abs=1e-6)
        i1 = p.schedule.set_index("unit_id").loc["I1"]
        assert (i1["mode"], i1["merge_year"], i1["acquirer"]) == ("merge", 2017, "G1")
        assert p.schedule["exit_year"].isna().all()
        cols = ["unit_id", "exit_year", "mode", "merge_year", "acquirer", "indicator"]
        checked = check_plan(p.rc.inst, plan_from_frame(p.schedule[cols], p.rc.inst), None)
        assert checked.ok and checked.objective == pytest.approx(5.0, abs=1e-6), checked.violations
