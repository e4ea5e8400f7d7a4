"""Rule 3 — concentration: the top k firms (or groups) hold at least a share α of what remains.

"Top k" is whoever ends up largest, so the model picks the k holders itself. With
``r[g, y]`` the remaining capacity of holder g (its units not yet retired plus its built
projects), binary ``s[g, y]`` (g counted among the k) and ``w[g, y] ≥ 0``::

    Σ_g s[g, y] ≤ k
    w[g, y] ≤ r[g, y]
    w[g, y] ≤ R_g · s[g, y]               (R_g: the most g can ever hold)
    Σ_g w[g, y] ≥ α · remaining[p, y]

Any k holders that meet the share prove the top k do too, since the top k hold the most; so
this is exact. When there are no more than k holders the rule always holds and is skipped.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.core as pyo

from ..inputs import Instance
from .base import add_row, remaining
from .exit_model import ExitModel


def holder_remaining(m, inst: Instance, product: str, by: str, year: int) -> dict[str, object]:
    """{holder: expression of its remaining capacity in ``year``}."""
    units = inst.units[inst.units["product"] == product]
    out: dict[str, list] = defaultdict(list)
    const: dict[str, float] = defaultdict(float)
    for u, g, c in zip(units.index, units[by], units["capacity"]):
        const[g] += c
        out[g] += [-c * m.x[k] for k in m.by_unit.get(u, ()) if k[1] <= year]
    projects = inst.projects
    for j in m.projects_of.get(product, []):
        g = projects.at[j, by]
        const[g] += 0.0
        if m.project_year[j] <= year:
            out[g].append(m.project_cap[j] * m.a[j])
    return {g: const[g] + pyo.quicksum(out[g]) for g in const}


def max_holding(m, inst: Instance, product: str, by: str) -> dict[str, float]:
    units = inst.units[inst.units["product"] == product]
    most = units.groupby(by)["capacity"].sum().to_dict()
    for j in m.projects_of.get(product, []):
        g = inst.projects.at[j, by]
        most[g] = most.get(g, 0.0) + m.project_cap[j]
    return most


def add_to(m: ExitModel, inst: Instance) -> None:
    for i, rule in enumerate(inst.scenario.concentration):
        most = max_holding(m, inst, rule.product, rule.by)
        holders = sorted(most)
        if len(holders) <= rule.top:
            continue
        b = pyo.Block()
        m.add_component(f"concentration_{i}", b)
        b.S = pyo.Set(initialize=[(g, y) for g in holders for y in rule.years], dimen=2)
        b.s = pyo.Var(b.S, domain=pyo.Binary)
        b.w = pyo.Var(b.S, domain=pyo.NonNegativeReals)
        b.k = pyo.Constraint(rule.years, rule=lambda b, y: sum(b.s[g, y] for g in holders) <= rule.top)
        b.w_le_r = pyo.ConstraintList()
        b.w_le_s = pyo.ConstraintList()
        for y in rule.years:
            r = holder_remaining(m, inst, rule.product, rule.by, y)
            for g in holders:
                b.w_le_r.add(b.w[g, y] <= r[g])
                b.w_le_s.add(b.w[g, y] <= most[g] * b.s[g, y])
            top = pyo.quicksum((b.w[g, y] for g in holders))
            total = remaining(m, rule.product, y)
            add_row(m, rule="concentration", name=rule.name, year=y, product=rule.product,
                    lhs=top - rule.share * total, sense=">=", rhs=0.0, unit="share",
                    scale=rule.share * sum(most.values()), achieved=top / total, required=rule.share)
