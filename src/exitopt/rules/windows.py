"""Rule 8 — exit windows: a selected unit may exit only in the window's years
(docs/model.md#windows).

Like protected units, a window adds no row: :mod:`exitopt.model.domain` keeps, for each selected
unit, only the decisions of the window's years (and of the unit table's ``exit_years``).
constraints.csv lists it with its units and years.
"""

from __future__ import annotations

from pydantic import Field

from ..schema import NAME_ZH, Year, _Strict
from ..selection import Selection
from .family import Family, unit_ties, where


class Window(_Strict):
    """Rule 8: selected units may exit only in these years (on top of the unit table's exit_years)."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    where: Selection
    years: list[Year]


def _years(scen, need) -> None:
    for w in scen.windows:
        for y in w.years:
            need(y, f"window '{w.name}'")


def notes(inst, rule: Window) -> dict:
    """Its line in constraints.csv: how many units, and the years they may exit in."""
    n = len(inst.select(rule.where))
    return dict(rule="window", name=rule.name, year=None, product=None, sense="only in", required=None,
                achieved=None, slack=None, binding=None, marginal_cost=None,
                unit=f"{n} unit(s) may exit only in {', '.join(map(str, rule.years))}")


def name_zh(rule: Window, regions: dict[str, str], nth: int) -> str:
    return f"第{nth}项（" + "、".join(str(y) for y in rule.years) + "年）"


FAMILY = Family(
    key="windows", noun="window", number="8", anchor="windows", scenario_key="[[windows]]", schema=Window,
    labels={"window": ("退出时间窗", "window")}, keeping="exact", ties=unit_ties, name_zh=name_zh,
    selections=where, check_years=_years, notes=notes,
)
