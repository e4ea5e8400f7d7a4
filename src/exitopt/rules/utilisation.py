"""Rule 4 — utilisation and supply (docs/model.md#utilisation).

For each year y with a demand figure d_y (万吨)::

    remaining[p, y] ≤ d_y / min_utilisation      (utilisation at least min_utilisation)
    remaining[p, y] ≥ d_y · (1 + reserve)         (supply floor, when a reserve is given)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from ..schema import MAX_CAPACITY, NAME_ZH, Product, YearTable, _Strict
from .family import Family, item_numbers, product_tie

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class Utilisation(_Strict):
    """Rule 4: remaining capacity ≤ demand / min_utilisation, and ≥ demand × (1 + reserve)."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    product: Product
    demand: YearTable(0, MAX_CAPACITY) = Field(  # type: ignore[valid-type]  # a validated dict[int, float]
        description="万吨 per year, by year, 0–10,000,000; years without demand are free."
    )
    min_utilisation: float | None = Field(None, gt=0, le=1, description="Minimum utilisation, 0 < u ≤ 1.")
    reserve: float | None = Field(
        None, ge=0, le=10, description="Supply floor: capacity ≥ demand × (1 + reserve); 0–10."
    )

    @model_validator(mode="after")
    def _some(self) -> Utilisation:
        if self.min_utilisation is None and self.reserve is None:
            raise ValueError("give min_utilisation, reserve or both")
        return self


def add_to(m: ExitModel, inst: Instance) -> None:
    from ..model.base import add_row, remaining

    for rule in inst.scenario.utilisation:
        for y, demand in sorted(rule.demand.items()):
            left = remaining(m, rule.product, y)
            if rule.min_utilisation is not None:
                add_row(m, rule="utilisation", name=rule.name, year=y, product=rule.product, lhs=left,
                        sense="<=", rhs=demand / rule.min_utilisation, unit="万吨/yr")
            if rule.reserve is not None:
                add_row(m, rule="supply", name=rule.name, year=y, product=rule.product, lhs=left,
                        sense=">=", rhs=demand * (1 + rule.reserve), unit="万吨/yr")


def _years(scen, need) -> None:
    for u in scen.utilisation:
        for y in u.demand:
            need(y, f"utilisation '{u.name}' demand")


def name_zh(rule: Utilisation, regions: dict[str, str], nth: int) -> str:
    from ..report import chinese as zh

    parts = []
    if rule.min_utilisation is not None:
        parts.append(f"产能利用率不低于{zh.percent(rule.min_utilisation)}")
    if rule.reserve is not None:
        parts.append(f"供应保障（产能储备{zh.percent(rule.reserve)}）")
    return zh.product_zh(rule.product) + "、".join(parts)


FAMILY = Family(
    key="utilisation", noun="utilisation", number="4", anchor="utilisation", scenario_key="[[utilisation]]",
    schema=Utilisation, labels={"utilisation": ("产能利用率", "utilisation"), "supply": ("供应保障", "supply")},
    keeping="exact", ties=product_tie, name_zh=name_zh, check_years=_years, add=add_to,
    editable=lambda scen: item_numbers("utilisation", scen), group="utilisation",
)
