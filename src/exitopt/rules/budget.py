"""Rule 12a — the yearly budget (docs/model.md#budget).

    outlay[y] ≤ budget[y]               (万元, undiscounted, award netted, losses included; "net")
    outlay[y] + award[y] ≤ budget[y]    (the outlay before the award; budget_basis = "gross")

The outlay of a year sums over every unit of every product: a budget ties every block, and the
model is solved whole (:mod:`exitopt.decompose`). Its keys are part of the ``[caps]`` section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..schema import MAX_BUDGET, YearTable, _Strict
from .family import Editable, Family, every_product

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel

#: the name the budget's rows carry
ROW_NAME = "fiscal outlay"


class Budget(_Strict):
    """The budget's keys of the ``[caps]`` section."""

    budget: YearTable(-MAX_BUDGET, MAX_BUDGET) = Field(  # type: ignore[valid-type]  # a validated dict[int, float]
        default_factory=dict,
        description="万元 of outlay per year, at most; −10,000,000,000 to 10,000,000,000. A negative budget "
                    "asks the year to bring in money net (awards above costs).",
    )
    budget_basis: Literal["net", "gross"] = Field(
        "net", description="What the budget caps: 'net' = outlay net of the awards received (the default), "
                           "'gross' = outlay before the award.",
    )


def add_to(m: ExitModel, inst: Instance) -> None:
    from ..model.base import add_row

    caps = inst.scenario.caps
    award = m.award
    gross = caps.budget_basis == "gross"
    for y, budget in sorted(caps.budget.items()):
        lhs = m.outlay[y] + award[y] if gross and y in award else m.outlay[y]
        add_row(m, rule="budget", name=ROW_NAME, year=y, product=None, lhs=lhs, sense="<=",
                rhs=budget, unit="万元")


def _rules(scen) -> list:
    return [scen.caps] if scen.caps.budget else []


def _years(scen, need) -> None:
    for y in scen.caps.budget:
        need(y, "caps.budget")


def _editable(scen) -> list[Editable]:
    """The budget of every planning year (a year without one is listed with no value)."""
    return [Editable(f"caps.budget.{y}", f"budget {y}", scen.caps.budget.get(y), scen.caps, "budget")
            for y in scen.years]


def name_zh(caps, regions: dict[str, str], nth: int) -> str:
    return FAMILY.labels["budget"][0]


FAMILY: Family = Family(
    key="budget", noun="budget", number="12a", anchor="budget", scenario_key="[caps]", schema=Budget,
    labels={"budget": ("财政预算上限", "budget cap")}, keeping="coupling", ties=every_product, name_zh=name_zh,
    rules=_rules, list_field=False, title=lambda caps: ROW_NAME, check_years=_years, add=add_to,
    row_name=lambda caps: ROW_NAME, fallback_zh=lambda row, name: FAMILY.labels["budget"][0],
    editable=_editable, group="caps",
)
