"""Rule 6 — mandatory exits: every selected unit exits in or before the rule's year
(docs/model.md#mandatory).

For each selected unit u::

    Σ_{y ≤ by} Σ_m x[u, y, m] ≥ 1

A unit that is also protected, or whose window opens too late, has no such decision: the row
is then unmeetable and the diagnosis names it.
"""

from __future__ import annotations

import pyomo.core as pyo

from ..inputs import Instance
from .base import add_row
from .exit_model import ExitModel


def add_to(m: ExitModel, inst: Instance) -> None:
    m.mandatory_of = {}
    for rule in inst.scenario.mandatory:
        for u in inst.select(rule.where):
            m.mandatory_of.setdefault(u, rule.name)
            done = pyo.quicksum((m.x[k] for k in m.by_unit.get(u, ()) if k[1] <= rule.by))
            add_row(m, rule="mandatory", name=f"{rule.name}: {u}", year=rule.by,
                    product=inst.units.at[u, "product"], lhs=done, sense=">=", rhs=1.0, unit="unit")
