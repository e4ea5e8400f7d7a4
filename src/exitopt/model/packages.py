"""Rule 5 — packages: all members exit in one year, each by its listed mode, or none does
(docs/model.md#packages).

The domain (:mod:`exitopt.model.domain`) already limits each member to its listed mode and to
the years every member allows. With binary ``z[P, y]`` (package P exits in year y)::

    x[u, y, mode_u] = z[P, y]      for every member u and year y
    Σ_y z[P, y] ≤ 1
    Σ_{y ≤ by} z[P, y] ≥ 1         (a required package, by its deadline; by = last year if none)

A member of a package that does not exit stays: it cannot leave on its own.
"""

from __future__ import annotations

import pyomo.core as pyo

from ..inputs import Instance
from .base import add_row
from .domain import package_members
from .exit_model import ExitModel


def add_to(m: ExitModel, inst: Instance) -> None:
    m.package_of = {}
    if not inst.scenario.packages:
        return
    keys, links = [], []
    for i, pkg in enumerate(inst.scenario.packages):
        members = package_members(inst, pkg)
        first = next(iter(members))
        years = sorted({k[1] for k in m.by_unit.get(first, ())})
        keys += [(i, y) for y in years]
        for u, mode in members.items():
            m.package_of[u] = pkg.name
            links += [(i, u, y, mode) for y in years]
    m.PZ = pyo.Set(initialize=keys, dimen=2, ordered=True)
    m.z = pyo.Var(m.PZ, domain=pyo.Binary)
    m.package_link = pyo.Constraint(
        pyo.Set(initialize=links, dimen=4, ordered=True),
        rule=lambda m, i, u, y, mode: m.x[u, y, mode] == m.z[i, y],
    )
    m.package_once = pyo.Constraint(
        range(len(inst.scenario.packages)),
        rule=lambda m, i: sum(m.z[k] for k in m.PZ if k[0] == i) <= 1
        if any(k[0] == i for k in m.PZ) else pyo.Constraint.Skip,
    )
    for i, pkg in enumerate(inst.scenario.packages):
        if pkg.required:
            by = pkg.by if pkg.by is not None else inst.scenario.last_year
            done = pyo.quicksum((m.z[k] for k in m.PZ if k[0] == i and k[1] <= by))
            add_row(m, rule="package", name=pkg.name, year=by, product=None, lhs=done, sense=">=",
                    rhs=1.0, unit="package")
