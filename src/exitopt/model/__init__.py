"""The exit-allocation MIP, one module per rule family of ``model.md``.

``build(inst)`` runs the families in the order of :data:`FAMILIES`; each reads the scenario and
returns early when it has nothing to add. The objective is built last, by :mod:`.cost`.
"""

from __future__ import annotations

import pyomo.core as pyo

from ..inputs import Instance
from . import base, caps, concentration, cost, mandatory, packages, replacement, targets, utilisation
from .domain import build_domain

#: the model, in order: decisions first, then each rule family, then the cost and objective
FAMILIES = (
    base.add_to,                # decisions x, one exit per unit, capacity expressions (rules 7, 8 via domain)
    replacement.add_variables,  # indicator split of retired capacity (rule 2)
    targets.add_to,             # rule 1
    replacement.add_to,         # rule 2
    concentration.add_to,       # rule 3
    utilisation.add_to,         # rule 4
    packages.add_to,            # rule 5
    mandatory.add_to,           # rule 6
    cost.add_to,                # outlay, jobs, objective
    caps.add_to,                # rule 9 (reads the yearly outlay)
)


def build(inst: Instance, *, grace: bool = False) -> pyo.ConcreteModel:
    """The Pyomo model of ``inst``: every rule family, the exact cost, minimised.

    The deadline in force is checked between families; with ``grace``, not at all (the model
    is built to check a plan already found, whose loss to the clock would help no one).
    """
    from ..highs import Deadline, deadline

    d = Deadline(None) if grace else deadline()
    m = pyo.ConcreteModel(name=inst.scenario.name)
    m.domain = build_domain(inst)
    for add in FAMILIES:
        d.check("building the model")
        add(m, inst)
    return m
