"""Rule 7 — protected units: a selected unit may not exit (docs/model.md#protected).

A protected unit has no decision at all: :mod:`exitopt.model.domain` leaves its (u, y, m) out,
so the rule adds no row. constraints.csv lists it with the number of units it keeps.
"""

from __future__ import annotations

from pydantic import Field

from ..schema import NAME_ZH, _Strict
from ..selection import Selection
from .family import Family, unit_ties, where


class Protected(_Strict):
    """Rule 7: selected units may not exit."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    where: Selection


def notes(inst, rule: Protected) -> dict:
    """Its line in constraints.csv: no exit among the units it selects."""
    n = len(inst.select(rule.where))
    return dict(rule="protected", name=rule.name, year=None, product=None, sense="exactly", required=0.0,
                achieved=0.0, slack=0.0, binding=None, marginal_cost=None, unit=f"exits among {n} unit(s)")


def name_zh(rule: Protected, regions: dict[str, str], nth: int) -> str:
    return f"第{nth}项"


FAMILY = Family(
    key="protected", noun="protected", number="7", anchor="protected", scenario_key="[[protected]]",
    schema=Protected, labels={"protected": ("保留单位", "protected")}, keeping="exact", ties=unit_ties,
    name_zh=name_zh, selections=where, notes=notes,
)
