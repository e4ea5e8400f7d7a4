"""Rule 6 — mandatory exits: every selected unit exits in or before the rule's year
(docs/model.md#mandatory).

For each selected unit u::

    Σ_{y ≤ by} Σ_m x[u, y, m] ≥ 1

A unit that is also protected, or whose window opens too late, has no such decision: the row
is then unmeetable and the diagnosis names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ..schema import NAME_ZH, Year, _Strict
from ..selection import Selection
from .family import Family, unit_ties, where

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class Mandatory(_Strict):
    """Rule 6: selected units must exit by a year."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    by: Year
    where: Selection


def add_to(m: ExitModel, inst: Instance) -> None:
    import pyomo.core as pyo

    from ..model.base import add_row

    m.mandatory_of = {}
    for rule in inst.scenario.mandatory:
        for u in inst.select(rule.where):
            m.mandatory_of.setdefault(u, rule.name)
            done = pyo.quicksum(m.x[k] for k in m.by_unit.get(u, ()) if k[1] <= rule.by)
            add_row(m, rule="mandatory", name=f"{rule.name}: {u}", year=rule.by,
                    product=inst.units.at[u, "product"], lhs=done, sense=">=", rhs=1.0, unit="unit")


def _years(scen, need) -> None:
    for rule in scen.mandatory:
        need(rule.by, f"mandatory '{rule.name}'")


def name_zh(rule: Mandatory, regions: dict[str, str], nth: int) -> str:
    return f"第{nth}项（{rule.by}年前）"


FAMILY = Family(
    key="mandatory", noun="mandatory", number="6", anchor="mandatory", scenario_key="[[mandatory]]",
    schema=Mandatory, labels={"mandatory": ("强制退出", "mandatory exit")}, keeping="exact", ties=unit_ties,
    name_zh=name_zh, selections=where, check_years=_years, add=add_to, per_item="unit",
)
