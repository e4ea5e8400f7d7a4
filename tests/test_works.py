"""Rule 9 — works that run together (docs/model.md#works): hand-computed cases, the checker on
its own, a bad scenario refused, and the MIP against brute force over every plan of tiny works,
with the block split kept exact when a link ties two products."""

from __future__ import annotations

import itertools
import random
import subprocess
import tempfile
from pathlib import Path

import pytest

from exitopt.blocks import product_blocks
from exitopt.check import check_plan, read_plan
from exitopt.errors import InfeasibleError
from exitopt.solve import solve_instance
from test_bruteforce import TOL, build_choices, feasible, load_spec, plan_of, price, random_spec, unit_options
from test_no_traceback import EXITOPT

NEEDS = {"name": "furnaces feed converters", "where": {"all": [["firm", "startswith", "W"]]},
         "feeders": {"all": [["role", "==", "feeder"]]}, "dependents": {"all": [["role", "==", "dependent"]]}}


def _works_units() -> list[dict]:
    # F: a feeder that a target forces out in 2016; D: its works's dependent, dear to close
    return [dict(unit_id="F", product="coal", capacity=100, firm="W1", role="feeder"),
            dict(unit_id="D", product="clinker", capacity=50, workers=40, firm="W1", role="dependent"),
            dict(unit_id="E", product="clinker", capacity=50, workers=40, firm="W2", role="dependent")]


def _scenario(**rules) -> dict:
    return {"sectors": {"cement": {"resettlement_per_worker": 1.0}},
            "targets": [{"name": "coal out", "product": "coal", "by": 2016, "at_least": 100.0}], **rules}


def test_a_dependent_exits_no_later_than_the_last_feeder_of_its_works(tmp_path, make_instance):
    free = solve_instance(make_instance(tmp_path / "free", _works_units(), _scenario()), with_duals=False)
    assert plan_of(free)["D"] is None  # without the link, the dear dependent stays
    res = solve_instance(make_instance(tmp_path / "linked", _works_units(), _scenario(works=[NEEDS])),
                         with_duals=False)
    plan = plan_of(res)
    assert plan["F"] == (2016, "close") and plan["D"] == (2016, "close")
    assert plan["E"] is None  # W2 has no feeder: no link
    rows = res.constraints[res.constraints["rule"] == "works"]
    assert set(rows["name"]) == {"furnaces feed converters: D"}
    assert sorted(rows["year"]) == [2016, 2017, 2018]
    assert (rows["achieved"] >= rows["required"] - 1e-9).all()


def test_a_link_across_products_keeps_them_in_one_block(tmp_path, make_instance):
    units = _works_units() + [dict(unit_id="C", product="cement", capacity=10, firm="X", role="other")]
    free = make_instance(tmp_path / "free", units, _scenario())
    assert sorted(sorted(b) for b in product_blocks(free)) == [["cement"], ["clinker"], ["coal"]]
    linked = make_instance(tmp_path / "linked", units, _scenario(works=[NEEDS]))
    assert sorted(sorted(b) for b in product_blocks(linked)) == [["cement"], ["clinker", "coal"]]
    # solved by blocks, the linked instance keeps its link: the dependent goes with its feeder
    res = solve_instance(linked, with_duals=False)
    assert "independent blocks" in res.outcome.message and plan_of(res)["D"] == (2016, "close")


def test_together_makes_a_works_exit_in_one_year(tmp_path, make_instance):
    together = {"name": "one works", "where": {"units": ["F", "D"]}, "relation": "together"}
    res = solve_instance(make_instance(tmp_path, _works_units(), _scenario(works=[together])), with_duals=False)
    plan = plan_of(res)
    assert plan["F"][0] == plan["D"][0] == 2016


def test_the_checker_names_a_dependent_left_running(tmp_path, make_instance):
    inst = make_instance(tmp_path, _works_units(), _scenario(works=[NEEDS]))
    (tmp_path / "plan.csv").write_text("unit_id,exit_year,mode\nF,2016,close\nD,2018,close\n", encoding="utf-8")
    checked = check_plan(inst, read_plan(tmp_path / "plan.csv", inst))
    bad = [v for v in checked.violations if v.rule == "works"]
    assert len(bad) == 1 and "D" in bad[0].message and "2016" in bad[0].message
    (tmp_path / "plan.csv").write_text("unit_id,exit_year,mode\nF,2016,close\nD,2016,close\n", encoding="utf-8")
    assert not [v for v in check_plan(inst, read_plan(tmp_path / "plan.csv", inst)).violations if v.rule == "works"]


def test_an_unknown_works_column_is_refused_plainly(tmp_path, scenario_file):
    rule = {**NEEDS, "works_column": "plant"}
    path = scenario_file(tmp_path, _works_units(), _scenario(works=[rule]))
    run = subprocess.run([*EXITOPT, "validate", str(path)], capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert "works_column 'plant'" in out and "furnaces feed converters" in out and "Traceback" not in out


# --- brute force over every plan ------------------------------------------------------------------


def works_spec(seed: int) -> dict:
    """A tiny random instance of test_bruteforce, its units put into two works with a link."""
    spec = random_spec(seed)
    rnd = random.Random(seed + 5_000_011)
    for u in spec["units"]:
        u["firm"] = rnd.choice(["W1", "W2"])
        u["role"] = rnd.choice(["feeder", "dependent", "other"])
    spec["units"][0]["role"] = "feeder"  # a rule selects some unit
    rule = dict(NEEDS) if rnd.random() < 0.7 else {"name": "one works", "relation": "together",
                                                   "where": {"all": [["role", "!=", "other"]]}}
    if rnd.random() < 0.3:
        rule["works_column"] = ""
    spec["scenario"]["works"] = [rule]
    return spec


def works_ok(spec: dict, plan: dict) -> bool:
    """Rule 9 as model.md states it, on one plan."""
    scen = spec["scenario"]
    years = range(scen["first_year"], scen["last_year"] + 1)

    def runs(uid: str, y: int) -> bool:
        return plan[uid] is None or plan[uid][0] > y

    for rule in scen["works"]:
        units = spec["units"]
        if rule.get("relation") == "together":
            units = [u for u in units if u["role"] != "other"]
        else:
            units = [u for u in units if u["firm"].startswith("W")]
        works: dict = {}
        for u in units:
            works.setdefault(u["firm"] if rule.get("works_column", "firm") else "", []).append(u)
        for members in works.values():
            if rule.get("relation") == "together":
                if len({plan[u["unit_id"]][0] if plan[u["unit_id"]] else None for u in members}) > 1:
                    return False
                continue
            feeders = [u["unit_id"] for u in members if u["role"] == "feeder"]
            for d in (u["unit_id"] for u in members if u["role"] == "dependent"):
                if feeders and any(runs(d, y) and not any(runs(a, y) for a in feeders) for y in years):
                    return False
    return True


def brute(spec: dict) -> float | None:
    options = unit_options(spec)
    best = None
    for combo in itertools.product(*options.values()):
        plan = dict(zip(options, combo, strict=False))
        if works_ok(spec, plan) and any(feasible(spec, plan, b) for b in build_choices(spec)):
            cost = price(spec, plan)[0]
            best = cost if best is None or cost < best else best
    return best


def tied_across_products(spec: dict) -> bool:
    rule = spec["scenario"]["works"][0]
    units = [u for u in spec["units"] if (u["role"] != "other" if rule.get("relation") == "together" else True)]
    works: dict = {}
    for u in units:
        works.setdefault(u["firm"] if rule.get("works_column", "firm") else "", set()).add(u["product"])
    return any(len(p) > 1 for p in works.values())


@pytest.mark.parametrize("seed", range(40))
def test_mip_with_works_links_equals_brute_force(seed, make_instance):
    spec = works_spec(seed)
    best = brute(spec)
    with tempfile.TemporaryDirectory() as folder:
        inst = load_spec(spec, Path(folder), make_instance)
        if tied_across_products(spec):
            assert not product_blocks(inst)  # one works across two products: one block
        if best is None:
            with pytest.raises(InfeasibleError):
                solve_instance(inst, with_duals=False)
            return
        for blocks in (True, False):
            res = solve_instance(inst, with_duals=False, blocks=blocks)
            assert res.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
            plan = plan_of(res)
            assert works_ok(spec, plan) and price(spec, plan)[0] <= best + TOL * max(1, abs(best)) + 1e-6
        res.schedule.to_csv(Path(folder) / "plan.csv", index=False)
        checked = check_plan(inst, read_plan(Path(folder) / "plan.csv", inst))
        assert checked.ok, checked.violations


# --- no new capacity of a product (new_capacity.ban, docs/model.md#new-capacity) -----------------


def _projects() -> list[dict]:
    return [dict(project_id="P1", product="coal", capacity=50, year=2017, group="G1", status="candidate"),
            dict(project_id="P2", product="coal", capacity=50, year=2017, group="G1", status="approved"),
            dict(project_id="P3", product="clinker", capacity=50, year=2017, group="G1", status="candidate")]


def test_a_banned_product_takes_no_project_whatever_the_table_says(tmp_path, make_instance):
    units = [dict(unit_id="A", capacity=100), dict(unit_id="K", product="clinker", capacity=100)]
    free = make_instance(tmp_path / "free", units, {}, _projects())
    assert dict(free.projects["approval"]) == {"P1": "candidate", "P2": "approved", "P3": "candidate"}
    banned = make_instance(tmp_path / "banned", units, {"new_capacity": {"ban": ["coal"]}}, _projects())
    assert dict(banned.projects["approval"]) == {"P1": "rejected", "P2": "rejected", "P3": "candidate"}


def test_approving_a_banned_project_is_refused_plainly(tmp_path, scenario_file):
    units = [dict(unit_id="A", capacity=100)]
    path = scenario_file(tmp_path, units, {"new_capacity": {"ban": ["coal"], "approve": ["P1"]}}, _projects())
    run = subprocess.run([*EXITOPT, "validate", str(path)], capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert "P1" in out and "new_capacity.ban" in out and "Traceback" not in out
