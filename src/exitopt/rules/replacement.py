"""Rule 2 — reduced-quantity replacement (减量置换) and new capacity (docs/model.md#replacement).

New capacity comes from the projects table: ``a[j] = 1`` when project j is built; approved
projects are fixed at 1, candidates are decisions, rejected ones do not exist.

A retired unit's capacity splits into a counted part and an indicator part
``0 ≤ ind[u, y] ≤ capacity_u · Σ_m x[u, y, m]``; only units flagged ``indicator_eligible``, of a
product with a replacement ratio and some live project, get an indicator part. For every
product p with ratio r and every year y::

    Σ_{u ∈ p} Σ_{y' ≤ y} ind[u, y']  ≥  r · Σ_{j ∈ p, year_j ≤ y} capacity_j · a[j]   (万吨/yr)

and, since only the part actually used is an indicator, over the whole plan::

    Σ_{u ∈ p} Σ_y ind[u, y]  ≤  r · Σ_{j ∈ p} capacity_j · a[j]

(without it, surplus "indicators" would let a plan slip under an at-most target).
The indicator part counts toward no target and earns no award (see the cost in
:mod:`exitopt.model.cost`). Products without a ratio take new capacity without offset.

Formulation: the per-unit parts enter every rule only through sums over units that no rule
tells apart — units of one product in the same targets' selections and with the same award
per 万吨 (docs/model.md#cost). So the model holds one variable per such class c and year,
``ind[c, y] ≤ Σ_{u ∈ c} capacity_u · Σ_m x[u, y, m]``, which is exact: any class total splits
back onto the class's units exiting that year (see :func:`unit_indicators`). It keeps the
model small (a national instance has tens of thousands of eligible units, and a few dozen
classes).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from pydantic import Field

from ..schema import NAME_ZH, Product, _Strict
from .family import Family, item_numbers, product_tie

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class Replacement(_Strict):
    """Rule 2: new capacity of a product needs ratio × as much retired capacity as indicators."""

    product: Product
    ratio: float = Field(gt=1, le=100, description="Indicator capacity per unit of new capacity, 1 < ratio ≤ 100.")
    name_zh: str | None = Field(None, description=NAME_ZH)


def indicator_classes(m: ExitModel, inst: Instance) -> dict[str, int]:
    """{unit: class} for the units that can yield indicators; a class is a product, the set
    of targets whose selection holds the unit, and the unit's award per 万吨 (a[u] of the cost)."""
    from ..model.cost import records, unit_award

    units = inst.units
    ratio = {r.product: r.ratio for r in inst.scenario.replacement}
    needs = {p for p in ratio if m.projects_of.get(p)}
    eligible = [u for u in units.index[units["indicator_eligible"] & units["product"].isin(needs)]
                if u in m.by_unit]
    # plain dicts, not pandas lookups: a national table has tens of thousands of eligible units
    product = units["product"].to_dict()
    selected: dict[str, list[set[str]]] = defaultdict(list)
    for t in inst.scenario.targets:
        if t.product in needs:
            selected[t.product].append(set(inst.select(t.where)))
    rows = records(units.loc[eligible])
    signature = {}
    for u in eligible:
        p = product[u]
        signature[u] = (p, *(u in sel for sel in selected.get(p, ())), unit_award(inst.scenario, rows[u]))
    ids = {sig: i for i, sig in enumerate(sorted(set(signature.values())))}
    return {u: ids[signature[u]] for u in eligible}


def add_variables(m: ExitModel, inst: Instance) -> None:
    """Create ``ind[c, y]`` (always, possibly empty) so that targets and cost can read it."""
    import pyomo.core as pyo

    m.ind_class_of = indicator_classes(m, inst)
    members: dict[int, list[str]] = defaultdict(list)
    for u, c in m.ind_class_of.items():
        members[c].append(u)
    m.ind_members = dict(members)
    product = inst.units["product"]
    m.ind_product = {c: product[us[0]] for c, us in members.items()}
    # (c, y) -> 万吨/yr-weighted exits of the class's units in year y
    exits: dict[tuple[int, int], list] = defaultdict(list)
    most: dict[tuple[int, int], float] = defaultdict(float)  # all the class's capacity that can exit in y
    for u, c in m.ind_class_of.items():
        years = set()
        for k in m.by_unit[u]:
            exits[c, k[1]].append(m.capacity[u] * m.x[k])
            years.add(k[1])
        for y in years:
            most[c, y] += float(m.capacity[u])
    keys = sorted(exits)
    m.IND = pyo.Set(initialize=keys, dimen=2, ordered=True)
    # the upper bound is implied by ind_le_exit; stating it keeps HiGHS's bound propagation from
    # creeping on an unbounded continuous variable
    m.ind = pyo.Var(m.IND, domain=pyo.NonNegativeReals, bounds=lambda m, c, y: (0.0, most[c, y]))
    ind_years: dict[int, list[int]] = defaultdict(list)
    for c, y in keys:
        ind_years[c].append(y)
    m.ind_years = dict(ind_years)
    m.ind_le_exit = pyo.Constraint(m.IND, rule=lambda m, c, y: m.ind[c, y] <= pyo.quicksum(exits[c, y]))


def unit_indicators(m: ExitModel, chosen: dict[str, tuple[int, str]]) -> dict[str, float]:
    """Split each class's indicator capacity back onto its units: {unit: 万吨/yr used as indicator}.

    ``chosen`` is {unit: (exit year, mode)}. Each class total of year y goes to the class's units
    exiting in y, in table order, each up to its capacity; every split of the same totals meets
    the same rules at the same cost.
    """
    out: dict[str, float] = {}
    for (c, y) in m.IND:
        left = m.ind[c, y].value or 0.0
        for u in m.ind_members[c]:
            if left <= 1e-9:
                break
            if chosen.get(u, (None,))[0] == y:
                part = min(left, float(m.capacity[u]))
                out[u] = out.get(u, 0.0) + part
                left -= part
    return out


def add_to(m: ExitModel, inst: Instance) -> None:
    import pyomo.core as pyo

    from ..model.base import add_row

    m.ind_no_surplus = pyo.ConstraintList()
    for r in inst.scenario.replacement:
        projects = m.projects_of.get(r.product, [])
        if not projects:
            continue
        used = [m.ind[c, y] for (c, y) in m.IND if m.ind_product[c] == r.product]
        if used:
            m.ind_no_surplus.add(
                pyo.quicksum(used) <= pyo.quicksum(r.ratio * m.project_cap[j] * m.a[j] for j in projects))
        for y in inst.years:
            new = [j for j in projects if m.project_year[j] <= y]
            if not new:
                continue
            supply = pyo.quicksum(
                m.ind[c, yy] for (c, yy) in m.IND if yy <= y and m.ind_product[c] == r.product
            )
            need = pyo.quicksum(r.ratio * m.project_cap[j] * m.a[j] for j in new)
            add_row(m, rule="replacement", name=row_name(r), year=y,
                    product=r.product, lhs=supply - need, sense=">=", rhs=0.0, unit="万吨/yr",
                    scale=r.ratio * sum(m.project_cap[j] for j in new), achieved=supply, required=need)


def row_name(rule: Replacement) -> str:
    """``coal replacement 1.5:1``: the name of the rule's rows."""
    return f"{rule.product} replacement {rule.ratio:g}:1"


def _check(scen) -> None:
    seen: set[str] = set()
    for r in scen.replacement:
        if r.product in seen:
            raise ValueError(f"replacement for {r.product} is given twice")
        seen.add(r.product)


def name_zh(rule: Replacement, regions: dict[str, str], nth: int) -> str:
    from ..report import chinese as zh

    return f"{zh.product_zh(rule.product)}减量置换 {zh.number(rule.ratio)}:1"


def fallback_zh(row: str, name: str) -> str | None:
    """A row of a run that does not name its rule: its product and ratio, read from its name."""
    import re

    from ..report import chinese as zh

    got = re.fullmatch(r"(\w+) replacement ([\d.]+):1", name)
    return f"{zh.product_zh(got.group(1))}减量置换 {got.group(2)}:1" if got else None


FAMILY = Family(
    key="replacement", noun="replacement", number="2", anchor="replacement", scenario_key="[[replacement]]",
    schema=Replacement, labels={"replacement": ("减量置换", "replacement")}, keeping="exact", ties=product_tie,
    name_zh=name_zh, title=lambda rule: f"{rule.product} {rule.ratio:g}:1", check=_check,
    add_variables=add_variables, add=add_to, row_name=row_name, fallback_zh=fallback_zh,
    editable=lambda scen: item_numbers("replacement", scen), group="replacement",
)
