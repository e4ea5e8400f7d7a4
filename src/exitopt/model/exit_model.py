"""The exit MIP as one typed object: a Pyomo model whose every attribute is declared here
(docs/model.md#decisions).

:func:`exitopt.model.build` returns an :class:`ExitModel`. Its fields are the Pyomo components
(decisions, rows, objectives) and the plain indexes the rule families share and the readers
(schedule, constraints.csv, blocks, the tools) use. Fields are grouped by the module that sets
them, in the order :func:`exitopt.model.steps` runs them: a step may read the fields of the
groups above its own.

Setting an undeclared plain attribute raises ``AttributeError``: a new index is declared here
first, with its type and meaning. Pyomo components may still be added freely (the tools add
their own objectives and bounds, declared below so that a reader finds them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, get_type_hints

import pyomo.core as pyo
from pyomo.core.base.component import Component

if TYPE_CHECKING:
    from .base import Row

#: a decision's index: (unit, year, mode)
Key = tuple[str, int, str]
#: a linear Pyomo expression
Expr = Any


class ToolParts:
    """Components the tools that change the objective add to a built model (declared, not set)."""

    #: exitopt.pareto: the two ends, the tie-break weight η, the ε and φ bounds
    min_jobs: pyo.Objective
    min_fiscal: pyo.Objective
    eta: pyo.Param
    min_fiscal_tie: pyo.Objective
    eps: pyo.Param
    phi: pyo.Param
    jobs_cap: pyo.Constraint
    fiscal_cap: pyo.Constraint
    #: exitopt.alternatives: the cost bound, the distance t, its rows and objective
    cost_cap: pyo.Constraint
    t: pyo.Var
    near: pyo.ConstraintList
    far: pyo.Objective
    #: exitopt.diagnose: the weighted sum of the rows' slacks
    violation: pyo.Objective


class ExitModel(ToolParts, pyo.ConcreteModel):
    """The exit-allocation MIP of one instance (see docs/model.md#decisions)."""

    # --- the decisions' domain and the decisions (model.domain, model.base) -------------------
    #: {(unit, year): [modes]} for every decision that exists (rules 7 and 8 leave some out)
    domain: dict[tuple[str, int], list[str]]
    #: the planning years, in order
    years_list: list[int]
    X: pyo.Set
    #: x[u, y, m] = 1 when unit u exits in year y by mode m
    x: pyo.Var
    #: the decisions of each unit, and of each (unit, year)
    by_unit: dict[str, list[Key]]
    by_unit_year: dict[tuple[str, int], list[Key]]
    one_exit: pyo.Constraint
    #: 万吨/yr of each unit
    capacity: dict[str, float]
    #: exit_cap[p, y]: 万吨/yr of product p retired in year y
    exit_cap: dict[tuple[str, int], Expr]
    #: 万吨/yr of each product before any exit
    base_capacity: dict[str, float]

    # --- new capacity (model.base) ---------------------------------------------------------------
    #: the live projects (not rejected), and a[j] = 1 when project j is built
    J: list[str]
    a: pyo.Var
    project_cap: dict[str, float]
    project_year: dict[str, int]
    projects_of: dict[str, list[str]]

    # --- policy rows (model.base.add_row) --------------------------------------------------------
    #: every row of constraints.csv, in the order the families add them
    rows: list[Row]
    policy: pyo.ConstraintList
    slack_up: pyo.Var
    slack_down: pyo.Var

    # --- rule 2: replacement indicators (rules.replacement) --------------------------------------
    #: {unit: indicator class}, the members, product and exit years of each class
    ind_class_of: dict[str, int]
    ind_members: dict[int, list[str]]
    ind_product: dict[int, str]
    ind_years: dict[int, list[int]]
    IND: pyo.Set
    #: ind[c, y]: 万吨/yr of class c retired in y and used as replacement indicators
    ind: pyo.Var
    ind_le_exit: pyo.Constraint
    ind_no_surplus: pyo.ConstraintList

    # --- rule 5: packages (rules.packages) -------------------------------------------------------
    #: {member unit: package name}
    package_of: dict[str, str]
    PZ: pyo.Set
    z: pyo.Var
    package_link: pyo.Constraint
    package_once: pyo.Constraint

    # --- rule 6: mandatory exits (rules.mandatory) -----------------------------------------------
    #: {unit: name of the first mandatory rule that selects it}
    mandatory_of: dict[str, str]

    # --- rule 11: mergers (rules.mergers) --------------------------------------------------------
    #: {merge class: its member units}, {unit: its merge class}, {merge class: its keys (c, y, g)}
    merge_members: dict[str, list[str]]
    merge_of: dict[str, str]
    #: {merge class: the name of its [[mergers]] rule}
    merge_rule: dict[str, str]
    merges_of: dict[str, list[tuple[str, int, str]]]
    MG: pyo.Set
    #: mg[c, y, g] = 1 when merge class c merges into group g in year y
    mg: pyo.Var

    # --- rule 10b: upgrades (rules.upgrades) ------------------------------------------------------
    #: {offered unit: the name of its [[upgrades]] rule}, {offered unit: its keys (u, y)}
    upgrade_rule: dict[str, str]
    upgrades_of: dict[str, list[tuple[str, int]]]
    UP: pyo.Set
    #: up[u, y] = 1 when unit u is upgraded in year y
    up: pyo.Var

    # --- the cost (model.cost) -------------------------------------------------------------------
    #: persons displaced by each decision
    coef_displaced: dict[Key, float]
    #: 万元 spent in each year; persons displaced in each (region, year)
    outlay: dict[int, Expr]
    displaced: dict[tuple[str, int], Expr]
    #: 万元 of award paid in each year that has some (what the award fund pays; rule 12c)
    award: dict[int, Expr]
    #: persons displaced over the plan; 万元 of outlay in present value
    jobs: Expr
    fiscal: Expr
    #: the objective: jobs_weight · jobs + fiscal_weight · fiscal
    cost: pyo.Objective

    #: the attributes Pyomo sets on every model
    _PYOMO_OWN: ClassVar[frozenset[str]] = frozenset({"config", "doc", "solutions", "statistics", "name"})

    @classmethod
    def fields(cls) -> dict[str, object]:
        """{field: type} of every field the model's build sets (the tools' parts not included)."""
        hints = get_type_hints(cls, localns=_hint_names())
        return {k: hints[k] for k in cls.__annotations__ if not k.startswith("_")}

    def __setattr__(self, name: str, value: object) -> None:
        if (not name.startswith("_") and name not in _DECLARED and name not in self._PYOMO_OWN
                and not isinstance(value, Component)):
            raise AttributeError(f"ExitModel has no field {name!r}: declare it, with its type and meaning, "
                                 "in exitopt.model.exit_model")
        super().__setattr__(name, value)


def _hint_names() -> dict[str, object]:
    from .base import Row

    return {"Row": Row}


_DECLARED = frozenset(ExitModel.__annotations__) | frozenset(ToolParts.__annotations__)
