"""The coupled solve (exitopt.decompose) against the whole model and brute force.

Small instances with two blocks (coal and clinker) that only a yearly budget, and sometimes a
worker cap, tie together. The decomposition's plan must be optimal (equal to the whole MIP's
optimum and to the brute-force minimum of tests/test_bruteforce.py, which is written from
model.md alone), pass the independent checker, and report a bound no higher than the optimum.
"""

from __future__ import annotations

import random

import pytest

from exitopt import decompose, highs
from exitopt.check import check_plan, plan_from_frame
from exitopt.engine import Engine
from exitopt.model import build
from test_bruteforce import brute_force, load_spec, price, random_spec


def coupled_spec(seed: int) -> dict:
    """A tiny random instance with coal and clinker units and a yearly budget that may bind."""
    rnd = random.Random(seed)
    spec = random_spec(seed)
    units = spec["units"]
    units[0]["product"], units[1]["product"] = "coal", "clinker"
    scen = spec["scenario"]
    for key in ("concentration", "utilisation", "packages"):
        scen.pop(key, None)  # rules that could name one product only: keep the blocks apart
    years = list(range(scen["first_year"], scen["last_year"] + 1))
    caps = scen.setdefault("caps", {})
    caps["budget"] = {y: float(rnd.randint(0, 600)) for y in years}  # a budget is never below 0
    spec["projects"] = []
    return spec


def solve_three_ways(tmp_path, spec, make_instance):
    inst = load_spec(spec, tmp_path, make_instance)
    assert decompose.coupled(inst), "the instance should split once the budget is set aside"
    m = build(inst)
    with highs.limit(60):
        out = decompose.solve(m, inst)
    whole, _ = Engine(inst, blocks=False).solve(inst)
    return inst, m, out, whole


@pytest.mark.parametrize("seed", range(12))
def test_decomposition_matches_whole_model_and_brute_force(tmp_path, seed, make_instance):
    spec = coupled_spec(seed)
    best = brute_force(spec)
    inst, m, out, whole = solve_three_ways(tmp_path, spec, make_instance)
    if best is None:
        assert out.status == "infeasible" and whole is None
        return
    assert out.status == "optimal" and out.has_solution
    assert whole is not None
    assert out.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert whole.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert out.bound is not None and out.bound <= best + 1e-6 * max(1.0, abs(best))
    # the plan held in the model is the one reported, and the brute force prices it the same
    from exitopt.engine import read

    sol = read(m, inst, out)
    plan = {u["unit_id"]: None for u in spec["units"]}
    plan.update(sol.exits())
    assert price(spec, plan)[0] == pytest.approx(best, rel=1e-6, abs=1e-6)
    report = check_plan(inst, plan_from_frame(sol.schedule, inst))
    assert report.ok, report.violations


def test_lagrangian_bound_is_below_the_optimum_when_the_budget_binds(tmp_path, make_instance):
    """Budget rows that bind: the LP and Lagrangian bounds stay below the optimum, and the
    budget's LP price makes the Lagrangian bound at least the LP bound."""
    units = [dict(unit_id=f"C{i}", product="coal", capacity=10.0 + 7 * i, workers=20 + 9 * i, region="R1")
             for i in range(4)]
    units += [dict(unit_id=f"K{i}", product="clinker", capacity=15.0 + 5 * i, workers=12 + 4 * i, region="R1")
              for i in range(3)]
    spec = {"units": units, "projects": [], "scenario": {
        "first_year": 2016, "last_year": 2017, "attrition": 0.0, "ladder": {2016: 1.0, 2017: 0.5},
        "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0, "discount_rate": 0.0},
        "sectors": {s: {"resettlement_per_worker": 2.0, "exit_cost_per_capacity": {"close": 3.0, "relocate": 3.0},
                        "redeployed_share": {"close": 0.0, "relocate": 0.0}, "award_per_capacity": 4.0}
                    for s in ("coal", "cement")},
        "targets": [{"name": "coal", "product": "coal", "by": 2017, "at_least": 40.0},
                    {"name": "clinker", "product": "clinker", "by": 2017, "at_least": 30.0}],
        "caps": {"budget": {2016: 60.0, 2017: 400.0}},
    }}
    for u in units:
        u.update(relocatable=False, loss_making=False, subsidised_loss=0, exit_years="", group="G1")
    best = brute_force(spec)
    inst = load_spec(spec, tmp_path, make_instance)
    m = build(inst)
    run = decompose.Coupled(m, inst, 60)
    duals = run.relaxation()
    assert duals is not None
    run.lagrangian(duals, run.priced_out(duals))
    assert run.bounds["LP relaxation"] <= best + 1e-6
    assert run.bounds["Lagrangian"] <= best + 1e-6
    assert run.bounds["Lagrangian"] >= run.bounds["LP relaxation"] - 1e-6
    # the budget binds: without it the optimum is lower
    free = dict(spec, scenario={k: v for k, v in spec["scenario"].items() if k != "caps"})
    assert brute_force(free) < best - 1e-6


def test_a_generated_table_not_yet_written_names_its_builder(tmp_path):
    from exitopt.errors import InputError
    from exitopt.files import read_input

    (tmp_path / "build.py").write_text("# writes units.csv\n", encoding="utf-8")
    with pytest.raises(InputError, match="generated.*build.py"):
        read_input(tmp_path / "units.csv", "CSV file", "Check the path.")
    with pytest.raises(InputError, match="Check the path"):  # no builder beside it: the usual hint
        read_input(tmp_path / "other" / "units.csv", "CSV file", "Check the path.")
