"""The exit-allocation MIP: the decisions and the cost here, every rule family's rows from its
module of :mod:`exitopt.rules` (docs/model.md#contract).

``build(inst)`` adds, in this visible order: the decisions (:mod:`.base`); every rule family's
own variables (``add_variables``, e.g. the indicator split of rule 2), in the order of
:data:`exitopt.rules.FAMILIES`; the cost and objective (:mod:`.cost`); and every family's rows
(``add``), in the same order — the yearly caps last, as they read the yearly outlay. A family
reads the scenario and returns early when it has nothing to add.

The model is an :class:`~.exit_model.ExitModel`: every index a step keeps on it for later
steps and for the readers is declared there, with its type and the step that sets it.
"""

from __future__ import annotations

from ..inputs import Instance
from . import base, cost
from .domain import build_domain
from .exit_model import ExitModel


def steps() -> list:
    """The functions that build the model, in order (each takes the model and the instance)."""
    from ..rules import FAMILIES  # the registry lists this package's modules

    return ([base.add_to]
            + [f.add_variables for f in FAMILIES if f.add_variables is not None]
            + [cost.add_to]
            + [f.add for f in FAMILIES if f.add is not None])


def build(inst: Instance, *, grace: bool = False) -> ExitModel:
    """The Pyomo model of ``inst``: every rule family, the exact cost, minimised.

    The deadline in force is checked between families; with ``grace``, not at all (the model
    is built to check a plan already found, whose loss to the clock would help no one).
    """
    from ..highs import Deadline, deadline

    d = Deadline(None) if grace else deadline()
    m = ExitModel(name=inst.scenario.name)
    m.domain = build_domain(inst)
    for add in steps():
        d.check("building the model")
        add(m, inst)
    return m
