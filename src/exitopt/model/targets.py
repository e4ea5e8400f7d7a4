"""Rule 1 — exit targets (docs/model.md#targets).

For a target on product p by year Y over the selected units S (all units of p when no
selection is given)::

    Σ_{u ∈ S ∩ p} Σ_{y ≤ Y} ( capacity_u · Σ_m x[u, y, m] − ind[u, y] )  ≥ at_least   (万吨/yr)
                                                                       ≤ at_most

``ind[u, y]`` is the part of a retired unit's capacity used as a replacement indicator
(rule 2): it does not count toward any target. Targets are cumulative. A target may also
bound the number of selected units that have exited (each once, whatever part of it serves
as an indicator)::

    Σ_{u ∈ S ∩ p} Σ_{y ≤ Y} Σ_m x[u, y, m]  ≥ count_at_least   (units)
                                           ≤ count_at_most (The model holds the
indicator parts summed over classes of units that every target selects alike; see
:mod:`exitopt.model.replacement`.)
"""

from __future__ import annotations

import pyomo.core as pyo

from ..inputs import Instance
from .base import add_row
from .exit_model import ExitModel


def counted_expr(m, units: list[str], by: int):
    """Capacity counted toward the task from ``units`` exiting in or before ``by``."""
    cap = m.capacity
    terms = [cap[u] * m.x[k] for u in units for k in m.by_unit.get(u, ()) if k[1] <= by]
    # indicator classes are cut along target selections, so a class lies wholly inside or outside
    classes = sorted({m.ind_class_of[u] for u in units if u in m.ind_class_of})
    terms += [-m.ind[c, y] for c in classes for y in m.ind_years.get(c, ()) if y <= by]
    return pyo.quicksum(terms)


def exited_expr(m, units: list[str], by: int):
    """Number of ``units`` exiting in or before ``by``."""
    return pyo.quicksum(m.x[k] for u in units for k in m.by_unit.get(u, ()) if k[1] <= by)


def add_to(m: ExitModel, inst: Instance) -> None:
    product = inst.units["product"]
    for t in inst.scenario.targets:
        units = [u for u in inst.select(t.where) if product[u] == t.product]
        if t.at_least is not None or t.at_most is not None:
            counted = counted_expr(m, units, t.by)
            for sense, bound in ((">=", t.at_least), ("<=", t.at_most)):
                if bound is not None:
                    add_row(m, rule="target", name=t.name, year=t.by, product=t.product, lhs=counted,
                            sense=sense, rhs=bound, unit="万吨/yr")
        if t.count_at_least is not None or t.count_at_most is not None:
            exited = exited_expr(m, units, t.by)
            for sense, bound in ((">=", t.count_at_least), ("<=", t.count_at_most)):
                if bound is not None:
                    add_row(m, rule="target", name=t.name, year=t.by, product=t.product, lhs=exited,
                            sense=sense, rhs=float(bound), unit="units")
