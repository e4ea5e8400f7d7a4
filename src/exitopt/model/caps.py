"""Rule 10 — caps per year (docs/model.md#budget, docs/model.md#workers).

    outlay[y] ≤ budget[y]                         (万元, undiscounted, award netted, losses included)
    Σ_{u ∈ region r} D[u, y, m] · x[u, y, m] ≤ per_year    for each capped region r and year y
"""

from __future__ import annotations


from ..inputs import Instance
from .base import add_row
from .exit_model import ExitModel


def add_to(m: ExitModel, inst: Instance) -> None:
    caps = inst.scenario.caps
    for y, budget in sorted(caps.budget.items()):
        add_row(m, rule="budget", name="fiscal outlay", year=y, product=None, lhs=m.outlay[y], sense="<=",
                rhs=budget, unit="万元")
    regions = sorted(set(inst.units["region"]))
    for cap in caps.workers:
        for r in cap.regions or regions:
            for y in inst.years:
                expr = m.displaced.get((r, y))
                if expr is None:
                    continue
                add_row(m, rule="workers", name=f"{cap.name}: {r}", year=y, product=None, lhs=expr,
                        sense="<=", rhs=cap.per_year, unit="persons")
