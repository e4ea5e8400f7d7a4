"""The block split follows what the rules declare (exitopt.rules.Tie), not which family they are.

A family registered for the test only — a joint exit target over units of two products, a shape
no family of the scenario file has — declares that no block can keep it ("coupling"). The
instance then no longer splits, the coupled solve (exitopt.decompose) takes it, and its plan and
bound are held against a brute force over every schedule, priced here from docs/model.md#cost.
Declared "exact" instead, the rule joins its two products into one block.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd
import pytest

import exitopt.blocks
import exitopt.rules
from exitopt import decompose
from exitopt.blocks import product_blocks, ties
from exitopt.rules import Family, Tie
from exitopt.solve import solve_instance

YEARS = (2016, 2017)
# unit: (product, capacity 万吨/yr, workers, 万元 of loss a year while it runs)
UNITS = {"A": ("coal", 100.0, 100, 0.0), "B": ("coal", 60.0, 30, 10.0), "C": ("clinker", 90.0, 50, 0.0),
         "D": ("cement", 40.0, 20, 0.0), "E": ("cement", 40.0, 35, 5.0)}
JOINT_BY, JOINT_AT_LEAST = 2017, 150.0  # coal and clinker retired by 2017, 万吨/yr
CEMENT_BY, CEMENT_AT_LEAST = 2017, 40.0  # an ordinary target on cement


@dataclass(frozen=True)
class Joint:
    """A test rule: at least ``at_least`` 万吨/yr of the ``units`` retired by ``by``, whatever their product."""

    name: str
    units: tuple[str, ...]
    by: int
    at_least: float


def add_joint(m, inst) -> None:
    import pyomo.core as pyo

    from exitopt.model.base import add_row

    for rule in RULES_NOW:
        units = [u for u in rule.units if u in inst.units.index]  # kept whole in a block: its units only
        if not units:
            continue
        lhs = pyo.quicksum(m.capacity[u] * m.x[k] for u in units for k in m.by_unit.get(u, ()) if k[1] <= rule.by)
        add_row(m, rule="joint", name=rule.name, year=rule.by, product=None, lhs=lhs, sense=">=",
                rhs=rule.at_least, unit="万吨/yr")


RULES_NOW: list[Joint] = []


def joint_family(keeping) -> Family:
    def tie(inst, rule: Joint) -> list[Tie]:
        return [Tie(frozenset(inst.units.loc[list(rule.units), "product"]), keeping)]

    return Family(key="joint", noun="joint target", number="0", anchor="targets", scenario_key="[[joint]]",
                  schema=object, labels={"joint": ("合计退出", "joint exit")}, keeping=keeping, ties=tie,
                  name_zh=lambda rule, regions, nth: rule.name, rules=lambda scen: list(RULES_NOW),
                  list_field=False, add=add_joint)


@pytest.fixture
def registered(monkeypatch):
    """Register the joint family (at the end of the registry), with its one rule, for one test."""
    def register(keeping):
        fams = (*exitopt.rules.FAMILIES, joint_family(keeping))
        monkeypatch.setattr(exitopt.rules, "FAMILIES", fams)
        monkeypatch.setattr(exitopt.blocks, "FAMILIES", fams)
        monkeypatch.setattr(exitopt.rules, "BY_ROW", {r: f for f in fams for r in f.rows})
        RULES_NOW[:] = [Joint("coal and clinker", ("A", "B", "C"), JOINT_BY, JOINT_AT_LEAST)]
    yield register
    RULES_NOW.clear()


def instance(tmp_path, make_instance):
    units = [dict(unit_id=u, product=p, capacity=c, workers=w, loss_making=loss > 0, subsidised_loss=loss)
             for u, (p, c, w, loss) in UNITS.items()]
    scen = {"last_year": YEARS[-1], "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
            "targets": [dict(name="cement 40", product="cement", by=CEMENT_BY, at_least=CEMENT_AT_LEAST)]}
    return make_instance(tmp_path, units, scen)


def price(plan: dict[str, int | None]) -> float:
    """docs/model.md#cost for these units (no attrition, nothing redeployed, no discount, no other
    term): a unit's workers are displaced in its exit year, and a loss-making unit's loss is paid
    in every year it still runs."""
    total = 0.0
    for u, y in plan.items():
        _, _, workers, loss = UNITS[u]
        ran = len(YEARS) if y is None else YEARS.index(y)
        total += (workers if y is not None else 0) + loss * ran
    return total


def feasible(plan: dict[str, int | None], joint: bool = True) -> bool:
    def retired(units, by):
        return sum(UNITS[u][1] for u in units if plan[u] is not None and plan[u] <= by)

    return ((not joint or retired(("A", "B", "C"), JOINT_BY) >= JOINT_AT_LEAST - 1e-9)
            and retired([u for u in UNITS if UNITS[u][0] == "cement"], CEMENT_BY) >= CEMENT_AT_LEAST - 1e-9)


def brute_force(joint: bool = True) -> tuple[float, list[dict]]:
    """The least cost over every schedule (each unit: stay, or close in a year), and the plans that reach it."""
    plans = [dict(zip(UNITS, ys, strict=False)) for ys in itertools.product((None, *YEARS), repeat=len(UNITS))]
    costs = {i: price(p) for i, p in enumerate(plans) if feasible(p, joint)}
    best = min(costs.values())
    return best, [plans[i] for i, c in costs.items() if abs(c - best) < 1e-9]


def plan_of(res) -> dict[str, int | None]:
    s = res.schedule
    got = {u: None if pd.isna(y) else int(y) for u, y in zip(s["unit_id"], s["exit_year"], strict=True)}
    return {u: got.get(u) for u in UNITS}


def test_the_brute_force_by_hand():
    # without the joint rule: B keeps running (its loss 2 × 10 = 20 < 30 workers), D closes for
    # the cement target (20 workers < E's 35 or E's loss saved): 50. With it, B and C together
    # (60 + 90 = 150) are the cheapest way to 150: B in 2016 (30), C in either year (50): 110
    assert brute_force(joint=False)[0] == 20 + 20 + 2 * 5
    best, plans = brute_force()
    assert best == 30 + 50 + 20 + 2 * 5
    assert all(p["A"] is None and p["B"] == 2016 and p["C"] is not None and p["E"] is None for p in plans)


def test_a_coupling_rule_across_two_products_forces_a_coupled_solve(tmp_path, make_instance, registered):
    registered("coupling")
    inst = instance(tmp_path, make_instance)
    assert any(t.keeping == "coupling" for t in ties(inst))
    assert product_blocks(inst) == []  # no block can keep the joint rule
    assert {tuple(sorted(g)) for g in product_blocks(inst, coupling=False)} == {("coal",), ("clinker",), ("cement",)}
    assert decompose.coupled(inst)
    res = solve_instance(inst)
    best, plans = brute_force()
    assert res.status == "optimal"
    assert "coupled solve" in res.outcome.message, res.outcome.message
    assert res.objective == pytest.approx(best, abs=1e-6)
    assert res.outcome.bound is not None and res.outcome.bound <= best + 1e-6  # a valid bound
    assert plan_of(res) in plans and feasible(plan_of(res))
    rows = res.constraints[res.constraints["rule"] == "joint"]
    assert len(rows) == 1 and float(rows["achieved"].iloc[0]) >= JOINT_AT_LEAST - 1e-6


def test_an_exact_rule_across_two_products_joins_their_blocks(tmp_path, make_instance, registered):
    registered("exact")
    inst = instance(tmp_path, make_instance)
    assert {tuple(sorted(g)) for g in product_blocks(inst)} == {("clinker", "coal"), ("cement",)}
    assert not decompose.coupled(inst)
    res = solve_instance(inst)
    best, plans = brute_force()
    assert "independent blocks" in res.outcome.message, res.outcome.message
    assert res.objective == pytest.approx(best, abs=1e-6) and plan_of(res) in plans
    assert res.outcome.bound is not None and res.outcome.bound <= best + 1e-6


def test_without_the_rule_each_product_is_a_block(tmp_path, make_instance):
    inst = instance(tmp_path, make_instance)
    assert {tuple(sorted(g)) for g in product_blocks(inst)} == {("coal",), ("clinker",), ("cement",)}
    res = solve_instance(inst)
    best, plans = brute_force(joint=False)
    assert res.objective == pytest.approx(best, abs=1e-6) and plan_of(res) in plans
