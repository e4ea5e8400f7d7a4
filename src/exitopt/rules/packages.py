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

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from ..errors import InputError
from ..schema import NAME_ZH, Year, _Strict
from ..selection import Selection
from .family import Family, Tie

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class Package(_Strict):
    """Rule 5: units that exit together, in one year, each by its mode — or not at all."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    close: Selection | None = Field(None, description="Members that exit by closure.")
    relocate: Selection | None = Field(None, description="Members that exit by relocation.")
    required: bool = Field(False, description="The package must exit.")
    by: Year | None = Field(None, description="Deadline year when required.")

    @model_validator(mode="after")
    def _members(self) -> Package:
        if self.close is None and self.relocate is None:
            raise ValueError("a package needs members: give close, relocate or both")
        return self


def package_members(inst: Instance, pkg: Package) -> dict[str, str]:
    """unit_id -> mode for every member of a package."""
    members = {u: "close" for u in (inst.select(pkg.close) if pkg.close else [])}
    members.update({u: "relocate" for u in (inst.select(pkg.relocate) if pkg.relocate else [])})
    return members


def add_to(m: ExitModel, inst: Instance) -> None:
    import pyomo.core as pyo

    from ..model.base import add_row

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
            done = pyo.quicksum(m.z[k] for k in m.PZ if k[0] == i and k[1] <= by)
            add_row(m, rule="package", name=pkg.name, year=by, product=None, lhs=done, sense=">=",
                    rhs=1.0, unit="package")


def _years(scen, need) -> None:
    for p in scen.packages:
        if p.by is not None:
            need(p.by, f"package '{p.name}'")


def _members(rule: Package) -> list:
    return [(f" ({side})", sel) for side, sel in (("close", rule.close), ("relocate", rule.relocate))
            if sel is not None]


def _bind(inst: Instance, f) -> None:
    """Each package selects some unit, none twice, relocates only relocatable units; no unit is in two."""
    units = inst.units
    member_of: dict[str, str] = {}
    for p in inst.scenario.packages:
        close = set(inst.select(p.close)) if p.close else set()
        reloc = set(inst.select(p.relocate)) if p.relocate else set()
        if not close and not reloc:
            raise InputError(f"package '{p.name}' selects no unit. Check its close/relocate selections.", file=f)
        both = close & reloc
        if both:
            raise InputError(f"package '{p.name}' lists {sorted(both)[0]} both to close and to relocate.", file=f)
        not_reloc = [u for u in reloc if not units.at[u, "relocatable"]]
        if not_reloc:
            raise InputError(
                f"package '{p.name}' relocates {sorted(not_reloc)[0]}, but the unit table says it is not "
                f"relocatable. Set relocatable=true for it or move it to 'close'.",
                file=f,
            )
        for u in close | reloc:
            if u in member_of:
                raise InputError(f"unit {u} is in two packages: '{member_of[u]}' and '{p.name}'.", file=f)
            member_of[u] = p.name


def _ties(inst: Instance, rule: Package) -> list[Tie]:
    """A package ties the products of all its members (the JISCO package: pig iron, crude and rolled steel)."""
    product = inst.units["product"]
    return [Tie(frozenset(product[u] for u in package_members(inst, rule)))]


def name_zh(rule: Package, regions: dict[str, str], nth: int) -> str:
    return f"第{nth}项" + (f"（{rule.by}年前必须退出）" if rule.required and rule.by else "")


FAMILY = Family(
    key="packages", noun="package", number="5", anchor="packages", scenario_key="[[packages]]", schema=Package,
    labels={"package": ("整体退出包", "package")}, keeping="exact", ties=_ties, name_zh=name_zh,
    selections=_members, check_years=_years, bind=_bind, add=add_to,
)
