"""Rule 1 — exit targets (docs/model.md#targets).

For a target on product p by year Y over the selected units S (all units of p when no
selection is given)::

    Σ_{u ∈ S ∩ p} Σ_{y ≤ Y} ( capacity_u · Σ_m x[u, y, m] − ind[u, y] )  ≥ at_least   (万吨/yr)
                                                                       ≤ at_most

``ind[u, y]`` is the part of a retired unit's capacity used as a replacement indicator
(rule 2): it does not count toward any target. Targets are cumulative. A target may also
bound the number of selected units that have exited (each once, whatever part of it serves
as an indicator)::

    Σ_{u ∈ S ∩ p} Σ_{y ≤ Y} Σ_m x[u, y, m]  ≥ count_at_least   (units)
                                           ≤ count_at_most (The model holds the
indicator parts summed over classes of units that every target selects alike; see
:mod:`exitopt.rules.replacement`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from ..schema import MAX_CAPACITY, NAME_ZH, Product, Year, _Strict
from ..selection import Selection
from .family import Family, item_numbers, product_tie, where

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.base import Sense
    from ..model.exit_model import ExitModel


class Target(_Strict):
    """Rule 1: cumulative capacity counted toward the task by a year."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    product: Product
    by: Year = Field(description="Year by which (inclusive) the exits count.")
    at_least: float | None = Field(None, ge=0, le=MAX_CAPACITY, description="万吨/yr counted, at least; 0–10,000,000.")
    at_most: float | None = Field(None, ge=0, le=MAX_CAPACITY, description="万吨/yr counted, at most; 0–10,000,000.")
    count_at_least: int | None = Field(None, ge=0, le=10_000_000, description="Units exited, at least; 0–10,000,000.")
    count_at_most: int | None = Field(None, ge=0, le=10_000_000, description="Units exited, at most; 0–10,000,000.")
    where: Selection = Field(default_factory=Selection, description="Units that count (optional).")

    @model_validator(mode="after")
    def _bounds(self) -> Target:
        if all(v is None for v in (self.at_least, self.at_most, self.count_at_least, self.count_at_most)):
            raise ValueError("give at_least, at_most, count_at_least or count_at_most")
        for lo, hi in (("at_least", "at_most"), ("count_at_least", "count_at_most")):
            low, high = getattr(self, lo), getattr(self, hi)
            if low is not None and high is not None and high < low:
                raise ValueError(f"{hi} is below {lo}")
        return self


def counted_expr(m, units: list[str], by: int):
    """Capacity counted toward the task from ``units`` exiting in or before ``by``."""
    import pyomo.core as pyo

    cap = m.capacity
    terms = [cap[u] * m.x[k] for u in units for k in m.by_unit.get(u, ()) if k[1] <= by]
    # indicator classes are cut along target selections, so a class lies wholly inside or outside
    classes = sorted({m.ind_class_of[u] for u in units if u in m.ind_class_of})
    terms += [-m.ind[c, y] for c in classes for y in m.ind_years.get(c, ()) if y <= by]
    return pyo.quicksum(terms)


def exited_expr(m, units: list[str], by: int):
    """Number of ``units`` exiting in or before ``by``."""
    import pyomo.core as pyo

    return pyo.quicksum(m.x[k] for u in units for k in m.by_unit.get(u, ()) if k[1] <= by)


def add_to(m: ExitModel, inst: Instance) -> None:
    from ..model.base import add_row

    product = inst.units["product"]
    for t in inst.scenario.targets:
        units = [u for u in inst.select(t.where) if product[u] == t.product]
        if t.at_least is not None or t.at_most is not None:
            counted = counted_expr(m, units, t.by)
            bounds: tuple[tuple[Sense, float | None], ...] = ((">=", t.at_least), ("<=", t.at_most))
            for sense, bound in bounds:
                if bound is not None:
                    add_row(m, rule="target", name=t.name, year=t.by, product=t.product, lhs=counted,
                            sense=sense, rhs=bound, unit="万吨/yr")
        if t.count_at_least is not None or t.count_at_most is not None:
            exited = exited_expr(m, units, t.by)
            counts: tuple[tuple[Sense, int | None], ...] = ((">=", t.count_at_least), ("<=", t.count_at_most))
            for sense, bound in counts:
                if bound is not None:
                    add_row(m, rule="target", name=t.name, year=t.by, product=t.product, lhs=exited,
                            sense=sense, rhs=float(bound), unit="units")


def _years(scen, need) -> None:
    for t in scen.targets:
        need(t.by, f"target '{t.name}'")


def name_zh(rule: Target, regions: dict[str, str], nth: int) -> str:
    """煤炭2018年前退出 1,000 万吨（不少于）: the region or selection, product, year and bounds."""
    from ..report import chinese as zh

    where = zh.region_of(rule.where, regions)
    bounds = [(rule.at_least, "万吨", "不少于"), (rule.at_most, "万吨", "不多于"),
              (rule.count_at_least, "个单位", "不少于"), (rule.count_at_most, "个单位", "不多于")]
    parts = [f"{zh.number(v)} {unit}（{sense}）" for v, unit, sense in bounds if v is not None]
    scope = where or ("" if not zh.selected(rule.where) else "选定单位")
    return f"{scope}{zh.product_zh(rule.product)}{rule.by}年前退出 " + "、".join(parts)


FAMILY = Family(
    key="targets", noun="target", number="1", anchor="targets", scenario_key="[[targets]]", schema=Target,
    labels={"target": ("退出目标", "exit target")}, keeping="exact", ties=product_tie, name_zh=name_zh,
    selections=where, check_years=_years, add=add_to,
    editable=lambda scen: item_numbers("targets", scen), group="targets",
)
