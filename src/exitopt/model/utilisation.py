"""Rule 4 — utilisation and supply (docs/model.md#utilisation).

For each year y with a demand figure d_y (万吨)::

    remaining[p, y] ≤ d_y / min_utilisation      (utilisation at least min_utilisation)
    remaining[p, y] ≥ d_y · (1 + reserve)         (supply floor, when a reserve is given)
"""

from __future__ import annotations


from ..inputs import Instance
from .base import add_row, remaining
from .exit_model import ExitModel


def add_to(m: ExitModel, inst: Instance) -> None:
    for rule in inst.scenario.utilisation:
        for y, demand in sorted(rule.demand.items()):
            left = remaining(m, rule.product, y)
            if rule.min_utilisation is not None:
                add_row(m, rule="utilisation", name=rule.name, year=y, product=rule.product, lhs=left,
                        sense="<=", rhs=demand / rule.min_utilisation, unit="万吨/yr")
            if rule.reserve is not None:
                add_row(m, rule="supply", name=rule.name, year=y, product=rule.product, lhs=left,
                        sense=">=", rhs=demand * (1 + rule.reserve), unit="万吨/yr")
