"""Decisions, shared expressions and the registry of policy rows (docs/model.md#decisions,
docs/model.md#new-capacity, docs/model.md#rows).

Decisions
    ``x[u, y, m]`` ∈ {0, 1}: unit u exits in year y by mode m, for the (u, y, m) the domain
    allows (see :mod:`exitopt.model.domain`). A unit exits at most once:
    ``Σ_{y,m} x[u, y, m] ≤ 1``.

Shared expressions (built once, read by the families)
    ``exit_cap[p, y] = Σ_{u ∈ p, m} capacity_u · x[u, y, m]`` — 万吨/yr of product p retired in y.
    ``remaining[p, y] = Σ_{u ∈ p} capacity_u − Σ_{y' ≤ y} exit_cap[p, y'] + Σ_{j ∈ p, year_j ≤ y}
    capacity_j · a_j`` — capacity still there in year y (a unit's capacity is gone from its
    exit year on; ``a_j`` is 1 for approved projects and a decision for candidates, see
    :mod:`exitopt.rules.replacement`).

Policy rows
    Every constraint that states a rule of the plan (targets, utilisation, concentration, …) is
    added through :func:`add_row`, which records what the analyst sees in ``constraints.csv``:
    rule, name, year, product, sense, required value and the achieved expression. Each row has
    a slack variable, fixed at 0; :mod:`exitopt.diagnose` frees the slacks to find which rules
    must give when no plan meets them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pyomo.core as pyo

from ..inputs import Instance
from .exit_model import ExitModel

Sense = Literal[">=", "<=", "=="]


@dataclass
class Row:
    """One policy constraint as the analyst reads it."""

    rule: str
    name: str
    year: int | None
    product: str | None
    sense: Sense
    required: object  # float, or an expression (the indicators new capacity needs)
    lhs: object  # Pyomo expression: the achieved value
    con: object  # the Pyomo constraint
    slack_up: Any  # slack that raises lhs (for >= and ==); a Pyomo variable
    slack_down: Any  # slack that lowers lhs (for <= and ==); a Pyomo variable
    scale: float  # size used to weigh a violation (万吨, persons, 万元, …)
    unit: str


class Computed:
    """An achieved value worked out from the plan, for a row whose linear form holds auxiliary
    variables that need not take their natural value (the top-k share of rule 3)."""

    def __init__(self, value: Callable[[], float]) -> None:
        self.value = value


def value_of(e) -> float:
    """Value of an expression; NaN when it has none (a share of nothing left divides by 0)."""
    if isinstance(e, Computed):
        return e.value()
    try:
        v = pyo.value(e, exception=False)
    except ZeroDivisionError:
        return float("nan")
    return float(v) if v is not None else float("nan")


def add_row(m: ExitModel, *, rule: str, name: str, year: int | None, product: str | None,
            lhs, sense: Sense, rhs: float, unit: str, scale: float | None = None,
            achieved=None, required=None) -> Row:
    """Add ``lhs (sense) rhs`` with fixed-at-zero slacks, and record it as a policy row.

    ``achieved`` and ``required`` are what the report shows (default: ``lhs`` and ``rhs``), for
    rows whose natural reading differs from their linear form (a share, say).
    """
    k = len(m.rows)
    up = m.slack_up[k]
    down = m.slack_down[k]
    up.fix(0)
    down.fix(0)
    body = lhs + up - down
    if sense == ">=":
        con = m.policy.add(body >= rhs)
    elif sense == "<=":
        con = m.policy.add(body <= rhs)
    else:
        con = m.policy.add(body == rhs)
    row = Row(rule, name, year, product, sense, float(rhs) if required is None else required,
              lhs if achieved is None else achieved,
              con, up, down, float(scale if scale is not None else max(abs(rhs), 1.0)), unit)
    m.rows.append(row)
    return row


def add_to(m: ExitModel, inst: Instance) -> None:
    """Create x, the one-exit rule, and the shared capacity expressions."""
    units = inst.units
    years = inst.years
    m.years_list = years
    dom = m.domain  # {(u, y): [modes]}
    m.X = pyo.Set(initialize=[(u, y, md) for (u, y), modes in dom.items() for md in modes], dimen=3,
                  ordered=True)
    m.x = pyo.Var(m.X, domain=pyo.Binary)

    # registry of policy rows, and their slacks (fixed at 0 unless diagnosing)
    m.rows = []
    m.policy = pyo.ConstraintList()
    m.slack_up = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals)
    m.slack_down = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals)

    # index of decisions by unit and by (unit, year)
    by_unit: dict[str, list] = defaultdict(list)
    by_unit_year: dict[tuple[str, int], list] = defaultdict(list)
    for (u, y, md) in m.X:
        by_unit[u].append((u, y, md))
        by_unit_year[u, y].append((u, y, md))
    m.by_unit = by_unit
    m.by_unit_year = by_unit_year

    multi = [u for u, ks in by_unit.items() if len(ks) > 1]
    m.one_exit = pyo.Constraint(multi, rule=lambda m, u: sum(m.x[k] for k in m.by_unit[u]) <= 1)

    cap = units["capacity"].to_dict()
    m.capacity = cap
    products = sorted(set(units["product"]) | set(inst.projects["product"]))
    unit_product = units["product"].to_dict()

    # exit_cap[p, y] as linear expressions
    terms: dict[tuple[str, int], list] = defaultdict(list)
    for (u, y, md) in m.X:
        terms[unit_product[u], y].append(cap[u] * m.x[u, y, md])
    m.exit_cap = {(p, y): pyo.quicksum(terms.get((p, y), [])) for p in products for y in years}

    base_cap = units.groupby("product")["capacity"].sum().to_dict()
    m.base_capacity = {p: float(base_cap.get(p, 0.0)) for p in products}

    # new capacity: a[j] = 1 when project j is built (fixed for approved projects)
    live = inst.projects[inst.projects["approval"] != "rejected"]
    m.J = list(live.index)
    m.a = pyo.Var(m.J, domain=pyo.Binary)
    for j, status in live["approval"].items():
        if status == "approved":
            m.a[j].fix(1)
    m.project_cap = live["capacity"].astype(float).to_dict()
    m.project_year = live["year"].astype(int).to_dict()
    projects_of: dict[str, list[str]] = defaultdict(list)
    for j, p in live["product"].items():
        projects_of[p].append(j)
    m.projects_of = dict(projects_of)


def remaining(m: ExitModel, product: str, year: int):
    """Expression: capacity of ``product`` still there in ``year`` (万吨/yr)."""
    # a product with no unit (a rule on it, say) has retired nothing
    gone = sum(m.exit_cap.get((product, y), 0) for y in m.years_list if y <= year)
    new = sum(m.project_cap[j] * m.a[j] for j in m.projects_of.get(product, []) if m.project_year[j] <= year)
    return m.base_capacity.get(product, 0.0) - gone + new
