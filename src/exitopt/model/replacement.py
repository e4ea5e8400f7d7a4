"""Rule 2 — reduced-quantity replacement (减量置换) and new capacity.

New capacity comes from the projects table: ``a[j] = 1`` when project j is built; approved
projects are fixed at 1, candidates are decisions, rejected ones do not exist.

A retired unit's capacity splits into a counted part and an indicator part
``0 ≤ ind[u, y] ≤ capacity_u · Σ_m x[u, y, m]``; only units flagged ``indicator_eligible``, of a
product with a replacement ratio and some live project, get an ``ind``. For every product p
with ratio r and every year y::

    Σ_{u ∈ p} Σ_{y' ≤ y} ind[u, y']  ≥  r · Σ_{j ∈ p, year_j ≤ y} capacity_j · a[j]   (万吨/yr)

The indicator part counts toward no target and earns no award (see the cost in
:mod:`exitopt.model.cost`). Products without a ratio take new capacity without offset.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.core as pyo

from ..inputs import Instance
from .base import add_row


def add_variables(m: pyo.ConcreteModel, inst: Instance) -> None:
    """Create ``ind`` (always, possibly empty) so that targets and cost can read it."""
    units = inst.units
    ratio = {r.product: r.ratio for r in inst.scenario.replacement}
    needs = {p for p in ratio if m.projects_of.get(p)}
    eligible = units.index[units["indicator_eligible"] & units["product"].isin(needs)]
    keys = [(u, y) for u in eligible for y in sorted({k[1] for k in m.by_unit.get(u, ())})]
    m.IND = pyo.Set(initialize=keys, dimen=2, ordered=True)
    m.ind = pyo.Var(m.IND, domain=pyo.NonNegativeReals)
    ind_years: dict[str, list[int]] = defaultdict(list)
    for u, y in keys:
        ind_years[u].append(y)
    m.ind_years = dict(ind_years)
    m.ind_le_exit = pyo.Constraint(
        m.IND, rule=lambda m, u, y: m.ind[u, y] <= m.capacity[u] * sum(m.x[k] for k in m.by_unit_year[u, y])
    )


def add_to(m: pyo.ConcreteModel, inst: Instance) -> None:
    product = inst.units["product"]
    for r in inst.scenario.replacement:
        projects = m.projects_of.get(r.product, [])
        if not projects:
            continue
        for y in inst.years:
            new = [j for j in projects if m.project_year[j] <= y]
            if not new:
                continue
            supply = pyo.quicksum(
                (m.ind[u, yy] for (u, yy) in m.IND if yy <= y and product[u] == r.product)
            )
            need = pyo.quicksum((r.ratio * m.project_cap[j] * m.a[j] for j in new))
            add_row(m, rule="replacement", name=f"{r.product} replacement {r.ratio:g}:1", year=y,
                    product=r.product, lhs=supply - need, sense=">=", rhs=0.0, unit="万吨/yr",
                    scale=r.ratio * sum(m.project_cap[j] for j in new), achieved=supply, required=need)
