"""Alternatives by blocks (docs/model.md#alternatives) on tiny instances of two independent
blocks, against brute force priced by the independent checker; and mergers counted as decisions
of their own in the distance, worked out by hand."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from exitopt.alternatives import alternatives
from exitopt.blocks import product_blocks
from exitopt.check import check_plan, plan_from_frame

#: unit -> (product, workers, subsidised loss 万元/yr); a target of 200 万吨 of each product by 2016
UNITS = {"C1": ("coal", 100, 30.0), "C2": ("coal", 80, 0.0), "C3": ("coal", 60, 10.0), "C4": ("coal", 50, 0.0),
         "K1": ("clinker", 90, 20.0), "K2": ("clinker", 70, 0.0), "K3": ("clinker", 40, 5.0),
         "K4": ("clinker", 30, 0.0)}
PRODUCT = {u: p for u, (p, _, _) in UNITS.items()}


def two_blocks(make_instance, tmp_path, **more):
    units = [dict(unit_id=u, product=p, workers=w, loss_making=loss > 0, subsidised_loss=loss)
             for u, (p, w, loss) in UNITS.items()]
    return make_instance(tmp_path, units=units, scenario={
        "last_year": 2016,
        "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
        "sectors": {"coal": {"exit_cost_per_capacity": {"close": 1.5}},
                    "cement": {"exit_cost_per_capacity": {"close": 0.8}}},
        "targets": [{"name": "coal 200", "product": "coal", "by": 2016, "at_least": 200.0},
                    {"name": "clinker 200", "product": "clinker", "by": 2016, "at_least": 200.0}], **more})


def every_plan(inst) -> list[tuple[frozenset, float]]:
    """(exit set, objective) of every plan the independent checker accepts, all 2^8 tried."""
    out = []
    for exits in itertools.product((False, True), repeat=len(UNITS)):
        gone = [u for u, e in zip(UNITS, exits, strict=True) if e]
        frame = pd.DataFrame({"unit_id": list(UNITS), "exit_year": [2016 if u in gone else None for u in UNITS],
                              "mode": ["close" if u in gone else "" for u in UNITS]})
        checked = check_plan(inst, plan_from_frame(frame, inst))
        if checked.ok:
            out.append((frozenset(gone), checked.objective))
    return out


def exit_set(schedule: pd.DataFrame) -> frozenset:
    return frozenset(schedule.loc[schedule["exit_year"].notna(), "unit_id"])


def blocks_changed(a: frozenset, b: frozenset) -> set[str]:
    return {PRODUCT[u] for u in a ^ b}


@pytest.mark.parametrize("within", [0.05, 0.15])
def test_block_alternatives_are_the_farthest_one_block_plans(make_instance, tmp_path, within):
    inst = two_blocks(make_instance, tmp_path)
    assert len(product_blocks(inst)) == 2
    plans = every_plan(inst)
    best = min(obj for _, obj in plans)
    alts = alternatives(inst, within=within, count=4)
    assert alts.optimum.objective == pytest.approx(best)
    opt = exit_set(alts.optimum.schedule)
    assert [obj for s, obj in plans if s == opt] == [pytest.approx(best)]
    # the plans an alternative by blocks may be: within the bound, the optimum's in all blocks but one
    one_block = [s for s, obj in plans if obj <= alts.bound + 1e-6 and len(blocks_changed(s, opt)) == 1]
    found = [opt]
    for p, (_, row) in zip(alts.plans, alts.table.iloc[1:].iterrows(), strict=True):
        checked = check_plan(inst, plan_from_frame(p.schedule, inst))
        assert checked.ok, checked.violations
        assert checked.objective == pytest.approx(p.objective) and checked.objective <= alts.bound + 1e-6
        s = exit_set(p.schedule)
        assert blocks_changed(s, opt) == {row["changes"]}
        # as far from the nearest earlier plan as any one-block plan not found yet, by brute force
        farthest = max(min(len(c ^ q) for q in found) for c in one_block if c not in found)
        assert min(len(s ^ q) for q in found) == farthest == row["differences_to_nearest"]
        assert row["status"] == "optimal"
        found.append(s)
    # the search stops only when every one-block plan within the bound has been found
    assert len(alts.plans) == min(4, len(one_block))
    assert len(alts.plans) >= 2


def test_whole_search_may_change_both_blocks(make_instance, tmp_path):
    inst = two_blocks(make_instance, tmp_path)
    plans = every_plan(inst)
    best = min(obj for _, obj in plans)
    alts = alternatives(inst, within=0.15, count=1, whole=True)
    opt = exit_set(alts.optimum.schedule)
    s = exit_set(alts.plans[0].schedule)
    farthest = max(len(c ^ opt) for c, obj in plans if obj <= best * 1.15 + 1e-6)
    assert len(s ^ opt) == farthest and alts.table.iloc[1]["changes"] == "all"
    by_blocks = alternatives(inst, within=0.15, count=1)
    one = max(len(c ^ opt) for c, obj in plans if obj <= best * 1.15 + 1e-6 and len(blocks_changed(c, opt)) == 1)
    assert by_blocks.table.iloc[1]["differences_to_nearest"] == one


# --------------------------------------------------------------------------------------------
# Mergers in the distance (the clinker lines of tests/test_mergers.py)

#: A (group G1) 100 万吨, 10 workers; I1 and I2 independents of 50 万吨, 40 and 60 workers
LINES = [dict(unit_id="A", product="clinker", capacity=100, workers=10, group="G1", firm="F1"),
         dict(unit_id="I1", product="clinker", capacity=50, workers=40, group="", firm="I1"),
         dict(unit_id="I2", product="clinker", capacity=50, workers=60, group="", firm="I2")]
TOP = dict(name="top 1", product="clinker", by="group", top=1, share=0.6, years=[2017])
MERGE = dict(name="consolidation", where={"all": [["group", "!=", "G1"]]}, acquirers=["G1"], years=[2017])
COSTS = {"cement": {"merge_cost_per_capacity": 0.02, "merge_displaced_share": 0.1}}


def merged(p) -> set[str]:
    s = p.schedule
    return set(s.loc[s["mode"] == "merge", "unit_id"])


def test_a_merger_of_another_unit_is_a_different_plan(make_instance, tmp_path):
    # Top group ≥ 60 % in 2017 (G1 holds 100 / 200). Merging I1: 4 persons + 1 万元 = 5 (the
    # optimum); merging I2: 6 + 1 = 7; merging both 12; closing I1 40. Within 50 % (≤ 7.5) the
    # one other plan merges I2 and nothing exits, as in the optimum: it differs in two
    # decisions (I1 no longer merges, I2 does), so it is an alternative.
    inst = make_instance(tmp_path, LINES, {"sectors": COSTS, "concentration": [TOP], "mergers": [MERGE]})
    alts = alternatives(inst, within=0.5, count=3)
    assert alts.optimum.objective == pytest.approx(5) and merged(alts.optimum) == {"I1"}
    assert len(alts.plans) == 1
    p = alts.plans[0]
    assert merged(p) == {"I2"} and not p.exits() and p.objective == pytest.approx(7)
    assert alts.table.iloc[1]["differences_to_nearest"] == 2
    assert check_plan(inst, plan_from_frame(p.schedule, inst)).ok


def test_closing_a_unit_differs_from_merging_it(make_instance, tmp_path):
    # Only I1 may merge; the plan ends in 2017, the year of the share (so A cannot close after
    # it). Within 800 % (≤ 45): merging I1 (5) or closing it (40, 100 / 150 = 66.7 %). The
    # closure leaves the merger decision and takes an exit: two differences.
    merge = dict(MERGE, where={"units": ["I1"]})
    inst = make_instance(tmp_path, LINES, {"last_year": 2017, "sectors": COSTS, "concentration": [TOP],
                                           "mergers": [merge]})
    alts = alternatives(inst, within=8.0, count=2)
    assert merged(alts.optimum) == {"I1"}
    assert len(alts.plans) == 1
    p = alts.plans[0]
    assert set(p.exits()) == {"I1"} and not merged(p) and p.objective == pytest.approx(40)
    assert alts.table.iloc[1]["differences_to_nearest"] == 2
    # with the exit year as a decision too, the same two plans
    by_year = alternatives(inst, within=8.0, count=2, by_year=True)
    assert {frozenset(q.exits()) for q in by_year.plans} <= {frozenset({"I1"})}
    assert all(d == 2 for d in by_year.table["differences_to_nearest"].dropna())
