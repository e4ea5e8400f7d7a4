"""Rule 9 — works that run together (docs/model.md#works).

The units a rule selects fall into works by its ``works_column``. With ``e[u, y]`` the
exited-by-y sum of a unit's decisions:

* ``needs``: for every dependent b of a works W with feeders A_W, and every year y::

      1 − e[b, y] ≤ Σ_{a ∈ A_W} (1 − e[a, y])

* ``together``: with u_W the works's first unit (by unit_id), for every other unit b and year y::

      e[b, y] = e[u_W, y]

Rows no plan can break are left out (a feeder with no decision by y surely runs; two units
with no decision by y have both stayed). Rows are named ``<rule>: <unit>``, one per year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from ..errors import InputError
from ..schema import NAME_ZH, _Strict
from ..selection import Selection
from .family import Family, Tie

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class Works(_Strict):
    """Rule 9: units of one works that cannot run without each other."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    where: Selection = Field(description="The units the rule links.")
    works_column: str = Field(
        "firm", max_length=100,
        description="Column of the unit table whose value names a unit's works; \"\" puts every selected unit "
                    "in one works.",
    )
    relation: Literal["needs", "together"] = Field(
        "needs", description="needs: a dependent runs only while a feeder of its works runs; together: the "
                             "units of a works exit in one year or not at all.",
    )
    feeders: Selection | None = Field(None, description="Units that feed (needs): blast furnaces, clinker lines.")
    dependents: Selection | None = Field(None, description="Units that need them (needs): converters, grinding "
                                                           "stations.")

    @model_validator(mode="after")
    def _sides(self) -> Works:
        if self.relation == "needs" and (self.feeders is None or self.dependents is None):
            raise ValueError("relation 'needs' takes both feeders and dependents")
        if self.relation == "together" and (self.feeders is not None or self.dependents is not None):
            raise ValueError("relation 'together' links every unit of a works; leave out feeders and dependents")
        return self


def works_of(inst: Instance, rule: Works) -> dict[str, list[str]]:
    """{works: its units that ``rule`` selects, by unit_id} (docs/model.md#works)."""
    chosen = sorted(inst.select(rule.where))
    if not rule.works_column:
        return {"": chosen} if chosen else {}
    column = inst.units[rule.works_column]
    out: dict[str, list[str]] = {}
    for u in chosen:
        out.setdefault(str(column[u]), []).append(u)
    return out


def add_to(m: ExitModel, inst: Instance) -> None:
    import pyomo.core as pyo

    from ..model.base import add_row

    product = inst.units["product"]

    def gone(u: str, y: int):
        return pyo.quicksum(m.x[k] for k in m.by_unit.get(u, ()) if k[1] <= y)

    def can_go(u: str, y: int) -> bool:
        return any(k[1] <= y for k in m.by_unit.get(u, ()))

    for rule in inst.scenario.works:
        for units in works_of(inst, rule).values():
            if rule.relation == "needs":
                assert rule.feeders is not None and rule.dependents is not None  # the rule's validator
                feeders = sorted(set(units) & set(inst.select(rule.feeders)))
                dependents = sorted(set(units) & set(inst.select(rule.dependents)))
                if not feeders or not dependents:
                    continue
                for b in dependents:
                    for y in m.years_list:
                        if not all(can_go(a, y) for a in feeders):
                            continue  # a feeder that cannot have gone by y runs: the row always holds
                        running = pyo.quicksum(1 - gone(a, y) for a in feeders)
                        add_row(m, rule="works", name=f"{rule.name}: {b}", year=y, product=product[b],
                                lhs=running - (1 - gone(b, y)), sense=">=", rhs=0.0, unit="units",
                                achieved=running, required=1 - gone(b, y))
            else:
                first, *rest = units
                for b in rest:
                    for y in m.years_list:
                        if not (can_go(first, y) or can_go(b, y)):
                            continue
                        add_row(m, rule="works", name=f"{rule.name}: {b}", year=y, product=product[b],
                                lhs=gone(b, y) - gone(first, y), sense="==", rhs=0.0, unit="units",
                                achieved=gone(b, y), required=gone(first, y))


def _selections(rule: Works) -> list:
    sides = [("", rule.where)]
    return sides + [(f" ({side})", sel) for side, sel in (("feeders", rule.feeders), ("dependents", rule.dependents))
                    if sel is not None]


def _ties(inst: Instance, rule: Works) -> list[Tie]:
    """Each works ties the products of its units (a converter that needs the blast furnaces of its works)."""
    product = inst.units["product"]
    return [Tie(frozenset(product[u] for u in units)) for units in works_of(inst, rule).values()]


def _bind(inst: Instance, f) -> None:
    """Each works link's column is a column of the unit table, and it selects some unit."""
    from ..inputs import INTERNAL_COLUMNS

    units = inst.units
    for w in inst.scenario.works:
        if w.works_column and (w.works_column not in units.columns or w.works_column in INTERNAL_COLUMNS):
            raise InputError(f"works link '{w.name}': works_column '{w.works_column}' is not a column of the unit "
                             f"table. Name the column that says which works a unit belongs to (firm, group, …), "
                             f"or \"\" for one works.", file=f)
        if not inst.select(w.where):
            raise InputError(f"works link '{w.name}' selects no unit. Check its where selection.", file=f)


def name_zh(rule: Works, regions: dict[str, str], nth: int) -> str:
    return f"第{nth}项" + ("（同时退出）" if rule.relation == "together" else "（依存设施先于或同时退出）")


FAMILY = Family(
    key="works", noun="works link", number="9", anchor="works", scenario_key="[[works]]", schema=Works,
    labels={"works": ("配套设施联动", "works link")}, keeping="exact", ties=_ties, name_zh=name_zh,
    selections=_selections, bind=_bind, add=add_to, per_item="unit",
)
