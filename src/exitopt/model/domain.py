"""Rules 7 and 8 (protected units, exit windows) and the modes a unit allows: which (u, y, m) exist
(docs/model.md#modes, docs/model.md#protected, docs/model.md#windows).

A decision ``x[u, y, m]`` exists only when

* y is a planning year, within the unit table's ``exit_years`` (empty = any) and within the
  years of every scenario window whose selection contains u (rule 8);
* u is not selected by any ``protected`` rule (rule 7) — a protected unit has no decision;
* m is ``close``, or ``relocate`` for a unit marked relocatable;
* for a package member: m is the member's listed mode and y is a year in which every member
  of the package may exit (rule 5 then ties the members together).

Leaving decisions out, rather than adding ``x = 0`` constraints, keeps the model small; the
report lists these rules with the units they bind.
"""

from __future__ import annotations

from ..inputs import Instance
from ..rules.packages import package_members

__all__ = ["allowed_years", "build_domain", "package_members", "protected_units"]


def protected_units(inst: Instance) -> dict[str, str]:
    """unit_id -> name of the first protected rule that selects it."""
    out: dict[str, str] = {}
    for rule in inst.scenario.protected:
        for u in inst.select(rule.where):
            out.setdefault(u, rule.name)
    return out


def allowed_years(inst: Instance) -> dict[str, set[int]]:
    """Years in which each unit may exit, before packages: table column ∩ windows, minus protected."""
    years = set(inst.years)
    out = {}
    for u, table_years in inst.units["allowed_years"].items():
        out[u] = set(years) if table_years is None else years & set(table_years)
    for w in inst.scenario.windows:
        for u in inst.select(w.where):
            out[u] &= set(w.years)
    for u in protected_units(inst):
        out[u] = set()
    return out


def build_domain(inst: Instance) -> dict[tuple[str, int], list[str]]:
    """{(unit, year): [modes]} for every decision that exists."""
    years = allowed_years(inst)
    relocatable = inst.units["relocatable"].to_dict()
    modes = {u: ["close", "relocate"] if relocatable[u] else ["close"] for u in inst.units.index}
    for pkg in inst.scenario.packages:
        members = package_members(inst, pkg)
        common = set.intersection(*(years[u] for u in members))
        for u, mode in members.items():
            years[u] = set(common)
            modes[u] = [mode]
    return {(u, y): modes[u] for u in inst.units.index for y in sorted(years[u])}
