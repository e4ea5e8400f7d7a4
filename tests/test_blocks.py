"""Independent blocks: solving the parts no rule ties together one at a time gives the optimum
of the whole, falls back to the whole when a joint worker cap binds, and reuses unchanged blocks."""

from __future__ import annotations

import pytest

from exitopt.blocks import product_blocks, solve_blocks
from exitopt.inputs import bind
from exitopt.scenario import Caps
from exitopt.solve import solve_instance


def two_sector_instance(tmp_path, make_instance, cap: float | None):
    # A: coal mine, B: clinker line, both in region R1, 80 workers each, no attrition, jobs
    # weight 1; A loses 50 万元 a year while it runs, B 30. A coal target and a clinker ceiling
    # make both exit by 2017. Alone, each block retires its unit in 2016 (no losses):
    # objective 80 + 80 = 160. With at most 100 displaced per region and year they cannot both
    # go in 2016: B waits (its 2016 loss, 30) → 190; A waiting would cost 50 → 210.
    units = [dict(unit_id="A", workers=80, loss_making=True, subsidised_loss=50.0),
             dict(unit_id="B", product="clinker", workers=80, loss_making=True, subsidised_loss=30.0)]
    scen = {"last_year": 2017, "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
            "targets": [dict(name="coal 100", product="coal", by=2017, at_least=100.0)],
            "utilisation": [dict(name="clinker ceiling", product="clinker", demand={2017: 0.0},
                                 min_utilisation=1.0)]}
    if cap is not None:
        scen["caps"] = {"workers": [dict(name="labour market", per_year=cap)]}
    return make_instance(tmp_path, units, scen)


def plan(res) -> dict:
    s = res.schedule
    return {u: int(y) for u, y in zip(s["unit_id"], s["exit_year"], strict=True) if y is not None and y == y}


def test_blocks_of_gansu(gansu_result):
    groups = {tuple(sorted(g)) for g in product_blocks(gansu_result.inst)}
    assert groups == {("coal",), ("crude_steel", "pig_iron", "rolled_steel"), ("clinker",), ("cement",)}


def test_gansu_by_blocks_matches_the_whole(gansu_result):
    assert "independent blocks" in gansu_result.outcome.message, gansu_result.outcome.message
    whole = solve_instance(gansu_result.inst, with_duals=False, blocks=False)
    assert "independent blocks" not in whole.outcome.message and whole.status == "optimal"
    gap = gansu_result.inst.scenario.solver.rel_gap
    assert gansu_result.objective == pytest.approx(whole.objective, rel=2 * gap)
    # each bound is a valid bound on the other's plan: the [bound, objective] intervals overlap
    assert gansu_result.outcome.bound <= whole.objective + 1e-6
    assert whole.outcome.bound <= gansu_result.objective + 1e-6


def test_no_split_with_a_budget(tmp_path, make_instance):
    inst = two_sector_instance(tmp_path, make_instance, cap=None)
    assert len(product_blocks(inst)) == 2
    budgeted = bind(inst.scenario.model_copy(update={"caps": Caps(budget={2016: 1e6})}), inst.units, inst.projects)
    assert product_blocks(budgeted) == []


def test_blocks_alone_give_the_optimum(tmp_path, make_instance):
    inst = two_sector_instance(tmp_path, make_instance, cap=None)
    res = solve_instance(inst)
    assert res.objective == pytest.approx(160)
    assert plan(res) == {"A": 2016, "B": 2016}
    assert "independent blocks" in res.outcome.message


def test_joint_worker_cap_falls_back_to_the_whole(tmp_path, make_instance):
    inst = two_sector_instance(tmp_path, make_instance, cap=100.0)
    # each block alone keeps the cap (80 ≤ 100) and retires in 2016: 160 in all, which breaks
    # the joint cap (160 displaced in R1 in 2016)
    assert sum(p.objective for p in solve_blocks(inst)) == pytest.approx(160)
    res = solve_instance(inst)
    assert res.objective == pytest.approx(190)
    assert plan(res) == {"A": 2016, "B": 2017}
    assert res.objective == pytest.approx(solve_instance(inst, blocks=False).objective)


def test_unchanged_block_is_not_solved_again(tmp_path, make_instance):
    inst = two_sector_instance(tmp_path, make_instance, cap=None)
    cache: dict = {}
    first = solve_instance(inst, block_cache=cache)
    assert len(cache) == 2
    # "at most 0 coal" changes the coal block only: one new entry, clinker reused
    targets = [t.model_copy(update={"at_least": None, "at_most": 0.0}) for t in inst.scenario.targets]
    variant = bind(inst.scenario.model_copy(update={"targets": targets}), inst.units, inst.projects)
    second = solve_instance(variant, block_cache=cache)
    assert len(cache) == 3
    # A may not exit: its loss is paid both years, 100, plus B's 80
    assert second.objective == pytest.approx(180)
    assert first.objective == pytest.approx(160)
    assert second.objective == pytest.approx(solve_instance(variant, blocks=False).objective)
