"""Rule 12c — the award fund (docs/model.md#award-fund).

    Σ_y award[y] ≤ award_fund,   award[y] ≤ award_fund_per_year[y]     (万元 the fund pays)

The awards of every product draw on one fund: like the budget, it ties every block, and the
model is solved whole. Its keys are part of the ``[caps]`` section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ..schema import MAX_BUDGET, YearTable, _Strict
from .family import Editable, Family, every_product

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel

#: the name the fund's rows carry
ROW_NAME = "award fund"


class AwardFund(_Strict):
    """The award fund's keys of the ``[caps]`` section."""

    award_fund: float | None = Field(
        None, ge=0, le=MAX_BUDGET,
        description="万元 of awards the fund pays over the whole plan, at most; none: no limit; 0–10,000,000,000.",
    )
    award_fund_per_year: YearTable(0, MAX_BUDGET) = Field(  # type: ignore[valid-type]  # a validated dict[int, float]
        default_factory=dict, description="万元 of awards the fund pays per year, at most; 0–10,000,000,000.",
    )

    @property
    def has_fund(self) -> bool:
        return self.award_fund is not None or bool(self.award_fund_per_year)


def add_to(m: ExitModel, inst: Instance) -> None:
    from ..model.base import add_row

    caps = inst.scenario.caps
    award = m.award
    if award and caps.award_fund is not None:
        add_row(m, rule="award_fund", name=ROW_NAME, year=None, product=None,
                lhs=sum(award.values()), sense="<=", rhs=caps.award_fund, unit="万元")
    for y, fund in sorted(caps.award_fund_per_year.items()):
        if y in award:
            add_row(m, rule="award_fund", name=ROW_NAME, year=y, product=None, lhs=award[y], sense="<=",
                    rhs=fund, unit="万元")


def _rules(scen) -> list:
    return [scen.caps] if scen.caps.has_fund else []


def _years(scen, need) -> None:
    for y in scen.caps.award_fund_per_year:
        need(y, "caps.award_fund_per_year")


def _editable(scen) -> list[Editable]:
    """The fund over the plan, and its limit in every planning year."""
    caps = scen.caps
    return ([Editable("caps.award_fund", "award fund", caps.award_fund, caps, "award_fund")]
            + [Editable(f"caps.award_fund_per_year.{y}", f"award fund {y}", caps.award_fund_per_year.get(y), caps,
                        "award_fund_per_year") for y in scen.years])


def name_zh(caps, regions: dict[str, str], nth: int) -> str:
    return FAMILY.labels["award_fund"][0]


FAMILY = Family(
    key="award_fund", noun="award fund", number="12c", anchor="award-fund", scenario_key="[caps]",
    schema=AwardFund, labels={"award_fund": ("奖补资金总额上限", "award fund")}, keeping="coupling",
    ties=every_product, name_zh=name_zh, rules=_rules, list_field=False, title=lambda caps: ROW_NAME, check_years=_years,
    add=add_to, row_name=lambda caps: ROW_NAME, editable=_editable, group="caps",
)
