"""Rule 11 — mergers (兼并重组): a unit merged into an acquiring group keeps running
(docs/model.md#mergers).

Each ``[[mergers]]`` rule makes merge classes (:func:`merge_classes`): a unit, or with
``whole_firm`` the selected units of one firm. For a class c, an acquirer g of its rule (not a
group a member already belongs to) and a year y of the rule, binary ``μ[c, y, g]`` is 1 when c
merges into g in y. A unit either exits or merges, at most once::

    Σ_{y,m} x[u, y, m] + Σ_{y,g} μ[c(u), y, g] ≤ 1        for every member u

A merged unit is no exit: its capacity stays in K[p, y] and counts toward no target. From its
merger year on it is held by its acquirer in a concentration rule ``by = "group"`` (:func:`moves`,
read by :mod:`exitopt.rules.concentration`). Its price (D and the outlay of the merger year) is
:func:`exitopt.model.cost.merge_price`, added to the cost by :mod:`exitopt.model.cost`. Rows are
named ``<rule>: <unit>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, model_validator

from ..errors import InputError
from ..schema import NAME_ZH, Year, _Strict
from ..selection import Selection
from .family import Family, Tie, where

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class Merger(_Strict):
    """Rule 11 — mergers (兼并重组): selected units may be merged into one of the named acquiring groups."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    where: Selection = Field(description="The candidate units.")
    acquirers: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, description="Groups (the unit table's group column) a candidate may be merged into.")
    years: list[Year] | None = Field(None, description="Years a merger may take place; none: every planning year.")
    whole_firm: bool = Field(False, description="The selected units of one firm merge together: one year, one "
                                                "acquirer, or none of them.")

    @model_validator(mode="after")
    def _distinct(self) -> Merger:
        twice = sorted({g for g in self.acquirers if self.acquirers.count(g) > 1})
        if twice:
            raise ValueError(f"acquirer '{twice[0]}' is named twice; name each group once")
        return self


@dataclass(frozen=True)
class MergeClass:
    """Units that merge as one (docs/model.md#mergers): a unit, or the selected units of one firm."""

    name: str  # "<rule>: <unit or firm>"
    rule: str
    members: tuple[str, ...]
    acquirers: tuple[str, ...]  # the rule's acquirers, less any group a member is already in
    years: tuple[int, ...]


def merge_classes(inst: Instance, rule: Merger) -> list[MergeClass]:
    """The merge classes of one ``[[mergers]]`` rule, by name; a class with no acquirer left (its
    units are already in every acquiring group) is left out."""
    chosen = sorted(inst.select(rule.where))
    years = tuple(sorted(set(rule.years))) if rule.years else tuple(inst.scenario.years)
    if rule.whole_firm:
        firm = inst.units["firm"]
        parts: dict[str, list[str]] = {}
        for u in chosen:
            parts.setdefault(str(firm[u]), []).append(u)
    else:
        parts = {u: [u] for u in chosen}
    group = inst.units["group"]
    out = []
    for key, members in sorted(parts.items()):
        own = {str(group[u]) for u in members}
        acquirers = tuple(g for g in rule.acquirers if g not in own)
        if acquirers:
            out.append(MergeClass(f"{rule.name}: {key}", rule.name, tuple(members), acquirers, years))
    return out


def add_variables(m: ExitModel, inst: Instance) -> None:
    """μ[c, y, g] for every merge class, year and acquirer; the index of each unit's class (empty
    without mergers: the cost reads them)."""
    import pyomo.core as pyo

    plan = set(inst.years)
    m.merge_members = {}
    m.merge_of = {}
    m.merge_rule = {}
    keys = []
    for rule in inst.scenario.mergers:
        for c in merge_classes(inst, rule):
            m.merge_members[c.name] = list(c.members)
            m.merge_rule[c.name] = c.rule
            for u in c.members:
                m.merge_of[u] = c.name
            keys += [(c.name, y, g) for y in c.years if y in plan for g in c.acquirers]
    m.MG = pyo.Set(initialize=keys, dimen=3, ordered=True)
    m.mg = pyo.Var(m.MG, domain=pyo.Binary)
    by_class: dict[str, list] = {}
    for k in keys:
        by_class.setdefault(k[0], []).append(k)
    m.merges_of = by_class


def add_to(m: ExitModel, inst: Instance) -> None:
    """A unit either exits or merges, at most once: one row per candidate, ``<rule>: <unit>``."""
    import pyomo.core as pyo

    from ..model.base import add_row

    product = inst.units["product"]
    for c, units in m.merge_members.items():
        keys = m.merges_of.get(c)
        if not keys:
            continue
        for u in units:
            done = (pyo.quicksum(m.x[k] for k in m.by_unit.get(u, ())) + pyo.quicksum(m.mg[k] for k in keys))
            add_row(m, rule="merger", name=f"{m.merge_rule[c]}: {u}", year=None, product=product[u],
                    lhs=done, sense="<=", rhs=1.0, unit="units")


def moves(m: ExitModel, unit: str, year: int) -> dict[str, object]:
    """{acquirer: Σ_{y' ≤ year} μ[c(unit), y', acquirer]} — 1 when ``unit`` is held by that
    acquirer in ``year``; empty for a unit that cannot have merged by then."""
    import pyomo.core as pyo

    out: dict[str, list] = {}
    for k in m.merges_of.get(m.merge_of.get(unit, ""), ()):
        if k[1] <= year:
            out.setdefault(k[2], []).append(m.mg[k])
    return {g: pyo.quicksum(vs) for g, vs in out.items()}


def acquirers(m: ExitModel, units) -> set[str]:
    """Every group some unit of ``units`` may be merged into."""
    return {k[2] for u in units for k in m.merges_of.get(m.merge_of.get(u, ""), ())}


def merged(m: ExitModel) -> dict[str, tuple[int, str]]:
    """{unit: (merger year, acquirer)} of the plan the model holds."""
    out = {}
    for k in m.MG:
        if (m.mg[k].value or 0.0) > 0.5:
            for u in m.merge_members[k[0]]:
                out[u] = (k[1], k[2])
    return out


def _ties(inst: Instance, rule: Merger) -> list[Tie]:
    """A merger ties only its own units: a class's products (a ``whole_firm`` class may span several)."""
    product = inst.units["product"]
    return [Tie(frozenset(product[u] for u in c.members)) for c in merge_classes(inst, rule)]


def _years(scen, need) -> None:
    for mg in scen.mergers:
        for y in mg.years or ():
            need(y, f"merger '{mg.name}'")


def _bind(inst: Instance, f) -> None:
    """Each acquirer is a group of the unit table; each rule selects some unit; a unit is a
    candidate of one merger rule only."""
    merged_by: dict[str, str] = {}
    groups = set(inst.units["group"].astype(str))
    for mg in inst.scenario.mergers:
        unknown = [g for g in mg.acquirers if g not in groups]
        if unknown:
            raise InputError(f"merger '{mg.name}': acquirer '{unknown[0]}' is not a group of the unit table. Name "
                             f"acquirers as the unit table's group column spells them.", file=f)
        chosen = inst.select(mg.where)
        if not chosen:
            raise InputError(f"merger '{mg.name}' selects no unit. Check its where selection.", file=f)
        for u in sorted(chosen):
            if u in merged_by:
                raise InputError(f"unit {u} is a merger candidate of two rules: '{merged_by[u]}' and '{mg.name}'. "
                                 f"Select each unit in one merger rule only.", file=f)
            merged_by[u] = mg.name


def name_zh(rule: Merger, regions: dict[str, str], nth: int) -> str:
    return f"第{nth}项（兼并重组）"


FAMILY = Family(
    key="mergers", noun="merger", number="11", anchor="mergers", scenario_key="[[mergers]]", schema=Merger,
    labels={"merger": ("兼并重组", "merger")}, keeping="exact", ties=_ties, name_zh=name_zh,
    selections=where, check_years=_years, bind=_bind, add_variables=add_variables, add=add_to, per_item="unit",
)
