"""Rule 9 — works that run together (docs/model.md#works).

The units a rule selects fall into works by its ``works_column``. With ``e[u, y]`` the
exited-by-y sum of a unit's decisions:

* ``needs``: for every dependent b of a works W with feeders A_W, and every year y::

      1 − e[b, y] ≤ Σ_{a ∈ A_W} (1 − e[a, y])

* ``together``: with u_W the works's first unit (by unit_id), for every other unit b and year y::

      e[b, y] = e[u_W, y]

Rows no plan can break are left out (a feeder with no decision by y surely runs; two units
with no decision by y have both stayed). Rows are named ``<rule>: <unit>``, one per year.
"""

from __future__ import annotations

import pyomo.core as pyo

from ..inputs import Instance
from ..rules import works_of
from .base import add_row
from .exit_model import ExitModel


def add_to(m: ExitModel, inst: Instance) -> None:
    product = inst.units["product"]

    def gone(u: str, y: int):
        return pyo.quicksum(m.x[k] for k in m.by_unit.get(u, ()) if k[1] <= y)

    def can_go(u: str, y: int) -> bool:
        return any(k[1] <= y for k in m.by_unit.get(u, ()))

    for rule in inst.scenario.works:
        for units in works_of(inst, rule).values():
            if rule.relation == "needs":
                feeders = sorted(set(units) & set(inst.select(rule.feeders)))
                dependents = sorted(set(units) & set(inst.select(rule.dependents)))
                if not feeders or not dependents:
                    continue
                for b in dependents:
                    for y in m.years_list:
                        if not all(can_go(a, y) for a in feeders):
                            continue  # a feeder that cannot have gone by y runs: the row always holds
                        running = pyo.quicksum(1 - gone(a, y) for a in feeders)
                        add_row(m, rule="works", name=f"{rule.name}: {b}", year=y, product=product[b],
                                lhs=running - (1 - gone(b, y)), sense=">=", rhs=0.0, unit="units",
                                achieved=running, required=1 - gone(b, y))
            else:
                first, *rest = units
                for b in rest:
                    for y in m.years_list:
                        if not (can_go(first, y) or can_go(b, y)):
                            continue
                        add_row(m, rule="works", name=f"{rule.name}: {b}", year=y, product=product[b],
                                lhs=gone(b, y) - gone(first, y), sense="==", rhs=0.0, unit="units",
                                achieved=gone(b, y), required=gone(first, y))
