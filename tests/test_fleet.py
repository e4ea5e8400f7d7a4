"""Rule 10 — fleet averages (docs/model.md#fleet): hand-computed cases, the checker on its own,
bad input refused plainly, and the MIP against brute force over every plan of tiny instances."""

from __future__ import annotations

import itertools
import random
import subprocess
import tempfile
from pathlib import Path

import pytest

from exitopt.check import check_plan, read_plan
from exitopt.errors import InfeasibleError
from exitopt.solve import solve_instance
from test_bruteforce import TOL, build_choices, feasible, load_spec, plan_of, price, random_spec, unit_options
from test_no_traceback import EXITOPT


def _lines() -> list[dict]:
    # three clinker lines and a coal mine whose cells stay empty (only clinker is averaged)
    return [dict(unit_id="A", product="clinker", capacity=100, workers=10, v=110, heat=1),
            dict(unit_id="B", product="clinker", capacity=50, workers=30, v=100, heat=0),
            dict(unit_id="C", product="clinker", capacity=50, workers=20, v=120, heat=0),
            dict(unit_id="M", product="coal", capacity=100, workers=5)]


def _rule(**bound) -> dict:
    return {"name": "coal use", "product": "clinker", "column": "v", "unit": "kgce/t", "years": [2018], **bound}


def _solve(folder: Path, make_instance, rules: list[dict], projects: list[dict] | None = None):
    inst = make_instance(folder, _lines(), {"fleet": rules}, projects)
    return solve_instance(inst, with_duals=False)


def _exits(res) -> set[str]:
    return {u for u, p in plan_of(res).items() if p is not None}


def test_an_upper_bound_on_the_capacity_weighted_average(tmp_path, make_instance):
    # no exit: (100·110 + 50·100 + 50·120) / 200 = 110 > 108. C out: 16,000 / 150 = 106.7 (20 jobs);
    # A out (10 jobs, cheaper): 11,000 / 100 = 110, not enough. So C exits, objective 20.
    res = _solve(tmp_path, make_instance, [_rule(at_most=108.0)])
    assert _exits(res) == {"C"} and res.objective == pytest.approx(20.0)
    row = res.constraints[res.constraints["rule"] == "fleet"].iloc[0]
    assert row["unit"] == "kgce/t" and row["required"] == pytest.approx(108.0)
    assert row["achieved"] == pytest.approx(16_000 / 150)


def test_a_change_from_the_base_average(tmp_path, make_instance):
    # base 110, at most −5 %: 104.5. C out gives 106.7, too much; A and C out give 100 (30 jobs);
    # everything out (nothing left, the rule holds) costs 65.
    res = _solve(tmp_path, make_instance, [_rule(at_most_change=-0.05)])
    assert _exits(res) == {"A", "C"} and res.objective == pytest.approx(30.0)
    row = res.constraints[res.constraints["rule"] == "fleet"].iloc[0]
    assert row["required"] == pytest.approx(104.5)


def test_a_share_of_lines_counts_each_line_once(tmp_path, make_instance):
    heat = {"name": "waste heat", "product": "clinker", "column": "heat", "years": [2018], "at_least": 0.5}
    by_capacity = _solve(tmp_path / "cap", make_instance, [heat])
    assert _exits(by_capacity) == set()  # 100 of 200 万吨 have it: 0.5 already
    by_lines = _solve(tmp_path / "units", make_instance, [{**heat, "weight": "units"}])
    assert _exits(by_lines) == {"C"}  # 1 line of 3 has it: one of B (30 jobs) and C (20) must go


def test_new_capacity_counts_with_its_own_value(tmp_path, make_instance):
    project = [dict(project_id="P", product="clinker", capacity=100, year=2017, status="approved", v=100)]
    res = _solve(tmp_path / "with", make_instance, [_rule(at_most=108.0)], project)
    assert _exits(res) == set()  # (22,000 + 10,000) / 300 = 106.7
    left_out = _solve(tmp_path / "without", make_instance, [_rule(at_most=108.0, projects=False)], project)
    assert _exits(left_out) == {"C"}


def test_with_nothing_left_the_rule_holds(tmp_path, make_instance):
    # every line is under 121, so only a plan that leaves no clinker meets "at least 121": all go
    res = _solve(tmp_path, make_instance, [_rule(at_least=121.0)])
    assert _exits(res) == {"A", "B", "C"} and res.objective == pytest.approx(60.0)


def test_the_checker_names_the_average_reached(tmp_path, make_instance):
    inst = make_instance(tmp_path, _lines(), {"fleet": [_rule(at_most=108.0)]})
    (tmp_path / "plan.csv").write_text("unit_id,exit_year,mode\nA,2016,close\n", encoding="utf-8")
    bad = [v for v in check_plan(inst, read_plan(tmp_path / "plan.csv", inst)).violations if v.rule == "fleet"]
    assert len(bad) == 1 and "110.0" in bad[0].message and "108.0" in bad[0].message and bad[0].year == 2018
    (tmp_path / "plan.csv").write_text("unit_id,exit_year,mode\nC,2018,close\n", encoding="utf-8")
    assert not [v for v in check_plan(inst, read_plan(tmp_path / "plan.csv", inst)).violations
                if v.rule == "fleet"]


# --- bad input: one clear paragraph, exit code 2, no traceback --------------------------------------


@pytest.mark.parametrize("cell, rule, words", [
    ("", {}, ["row 4 (C)", "column 'v'", "empty"]),
    ("nan", {}, ["row 4 (C)", "'nan'"]),
    ("1e300", {}, ["row 4 (C)", "'1e300'"]),
    ("inf", {}, ["row 4 (C)", "'inf'"]),
    ("fast", {}, ["row 4 (C)", "'fast'"]),
    ("120", {"column": "coal_use"}, ["coal_use", "does not have"]),
    ("120", {"at_least": 100.0}, ["exactly one of"]),
    ("120", {"weight": "lines"}, ["weight"]),
    ("120", {"years": []}, ["years"]),
])
def test_bad_input_is_refused_plainly(tmp_path, scenario_file, cell, rule, words):
    units = _lines()
    units[2]["v"] = cell
    path = scenario_file(tmp_path, units, {"fleet": [{**_rule(at_most=108.0), **rule}]})
    run = subprocess.run([*EXITOPT, "validate", str(path)], capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert "Traceback" not in out and all(w in out for w in words), out


def test_a_project_without_the_column_is_refused(tmp_path, scenario_file):
    project = [dict(project_id="P", product="clinker", capacity=100, year=2017, status="approved")]
    path = scenario_file(tmp_path, _lines(), {"fleet": [_rule(at_most=108.0)]}, project)
    run = subprocess.run([*EXITOPT, "validate", str(path)], capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 2 and "projects table" in out and "projects = false" in out, out
    assert "Traceback" not in out


# --- brute force over every plan ------------------------------------------------------------------


def fleet_spec(seed: int) -> dict:
    """A tiny random instance of test_bruteforce with a value per unit and project and a fleet rule."""
    spec = random_spec(seed)
    rnd = random.Random(seed + 7_000_003)
    for u in spec["units"]:
        u["v"] = rnd.randint(0, 10)
    for p in spec["projects"]:
        p["v"] = rnd.randint(0, 10)
    product = rnd.choice([u["product"] for u in spec["units"]])
    rule = {"name": "average", "product": product, "column": "v",
            "years": sorted(rnd.sample(range(spec["scenario"]["first_year"], spec["scenario"]["last_year"] + 1), 1)),
            "weight": rnd.choice(["capacity", "units"]), "projects": rnd.random() < 0.7}
    bound = rnd.choice(["at_most", "at_least", "at_most_change", "at_least_change"])
    rule[bound] = float(rnd.randint(2, 8)) if not bound.endswith("change") else rnd.choice([-0.3, -0.1, 0.1, 0.3])
    if rnd.random() < 0.3:
        rule["where"] = {"all": [["region", "==", "R1"]]}
        if not any(u["region"] == "R1" and u["product"] == product for u in spec["units"]):
            rule.pop("where")
    spec["scenario"]["fleet"] = [rule]
    return spec


def fleet_ok(spec: dict, plan: dict, built: bool) -> bool:
    """Rule 10 as model.md states it, on one plan: Σ w (1 − e)(v − L) + Σ_projects w a (v − L) against 0."""
    for rule in spec["scenario"].get("fleet", []):
        mine = [u for u in spec["units"] if u["product"] == rule["product"]
                and ("where" not in rule or u["region"] == "R1")]
        w = {u["unit_id"]: (u["capacity"] if rule["weight"] == "capacity" else 1.0) for u in mine}
        base = sum(w[u["unit_id"]] * u["v"] for u in mine) / sum(w.values())
        if "at_most" in rule or "at_least" in rule:
            limit = rule.get("at_most", rule.get("at_least"))
        else:
            limit = (1 + rule.get("at_most_change", rule.get("at_least_change"))) * base
        most = "at_most" in rule or "at_most_change" in rule
        for y in rule["years"]:
            total = sum(w[u["unit_id"]] * (u["v"] - limit) for u in mine
                        if plan[u["unit_id"]] is None or plan[u["unit_id"]][0] > y)
            if rule["projects"] and built:
                total += sum((p["capacity"] if rule["weight"] == "capacity" else 1.0) * (p["v"] - limit)
                             for p in spec["projects"] if p["product"] == rule["product"] and p["year"] <= y)
            if (total > 1e-9) if most else (total < -1e-9):
                return False
    return True


def brute(spec: dict) -> float | None:
    options = unit_options(spec)
    best = None
    for combo in itertools.product(*options.values()):
        plan = dict(zip(options, combo, strict=False))
        if any(fleet_ok(spec, plan, b) and feasible(spec, plan, b) for b in build_choices(spec)):
            cost = price(spec, plan)[0]
            best = cost if best is None or cost < best else best
    return best


@pytest.mark.parametrize("seed", range(40))
def test_mip_with_a_fleet_rule_equals_brute_force(seed, make_instance):
    spec = fleet_spec(seed)
    best = brute(spec)
    with tempfile.TemporaryDirectory() as folder:
        inst = load_spec(spec, Path(folder), make_instance)
        if best is None:
            with pytest.raises(InfeasibleError):
                solve_instance(inst, with_duals=False)
            return
        for blocks in (True, False):
            res = solve_instance(inst, with_duals=False, blocks=blocks)
            assert res.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
            assert price(spec, plan_of(res))[0] <= best + TOL * max(1, abs(best)) + 1e-6
        res.schedule.to_csv(Path(folder) / "plan.csv", index=False)
        approved = set(res.new_capacity.loc[res.new_capacity["built"].astype(bool), "project_id"])
        checked = check_plan(inst, read_plan(Path(folder) / "plan.csv", inst), approved)
        assert checked.ok, checked.violations


def test_the_brute_force_cases_bind_and_break():
    """Over the seeds, the rule cuts some optimum off and leaves others infeasible: the cases test it."""
    moved = infeasible = 0
    for seed in range(40):
        spec = fleet_spec(seed)
        best = brute(spec)
        free = dict(spec, scenario={k: v for k, v in spec["scenario"].items() if k != "fleet"})
        base = brute(free)
        infeasible += best is None and base is not None
        moved += best is not None and base is not None and best > base + 1e-6
    assert moved >= 3 and infeasible >= 1, (moved, infeasible)
