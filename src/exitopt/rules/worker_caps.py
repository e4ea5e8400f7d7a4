"""Rule 12b — worker caps: displaced workers per region per year (docs/model.md#workers).

    Σ_{u ∈ region r} D[u, y, m] · x[u, y, m] ≤ per_year    for each capped region r and year y

A region's units may be of several products. Each block of :mod:`exitopt.blocks` keeps the cap
on its own units, which the cap implies (displaced workers are never negative): the blocks
together are a relaxation, and their plans are checked against the whole. The caps are the
``[[caps.workers]]`` list of the ``[caps]`` section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from ..errors import InputError
from ..schema import MAX_PERSONS, NAME_ZH, _Strict
from .family import Editable, Family, Tie, item_selector

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class WorkerCap(_Strict):
    """Rule 12b: displaced workers per region per year."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    regions: list[str] | None = Field(None, description="Regions it applies to; all when omitted.")
    per_year: float = Field(ge=0, le=MAX_PERSONS, description="Persons per region per year; 0–100,000,000.")


class WorkerCaps(_Strict):
    """The worker caps' key of the ``[caps]`` section."""

    workers: list[WorkerCap] = Field(default_factory=list)


def add_to(m: ExitModel, inst: Instance) -> None:
    from ..model.base import add_row

    caps = inst.scenario.caps
    regions = sorted(set(inst.units["region"]))
    for cap in caps.workers:
        for r in cap.regions or regions:
            for y in inst.years:
                expr = m.displaced.get((r, y))
                if expr is None:
                    continue
                add_row(m, rule="workers", name=f"{cap.name}: {r}", year=y, product=None, lhs=expr,
                        sense="<=", rhs=cap.per_year, unit="persons")


def _bind(inst: Instance, f) -> None:
    """Every region a cap names has some unit."""
    regions = set(inst.units["region"])
    for w in inst.scenario.caps.workers:
        unknown = [r for r in (w.regions or []) if r not in regions]
        if unknown:
            raise InputError(f"caps.workers '{w.name}' names region(s) {', '.join(unknown)} that no unit is in.", file=f)


def _ties(inst: Instance, cap: WorkerCap) -> list[Tie]:
    """A cap ties, region by region, the products of the region's units; kept per block as a relaxation."""
    units = inst.units
    named = set(cap.regions) if cap.regions else set(units["region"])
    out = []
    for r in sorted(named):
        products = frozenset(units.loc[units["region"] == r, "product"])
        if products:
            out.append(Tie(products, "relaxation"))
    return out


def _editable(scen) -> list[Editable]:
    items = [w.model_dump() for w in scen.caps.workers]
    out = []
    for i, w in enumerate(scen.caps.workers):
        sel, name = item_selector(items, i)
        out.append(Editable(f"caps.workers{sel}.per_year", f"{name} · per_year", w.per_year, w, "per_year"))
    return out


def name_zh(rule: WorkerCap, regions: dict[str, str], nth: int) -> str:
    from ..report import chinese as zh

    return f"职工安置上限（每地区每年{zh.number(rule.per_year)}人）"


FAMILY = Family(
    key="worker_caps", noun="worker cap", number="12b", anchor="workers", scenario_key="[[caps.workers]]",
    schema=WorkerCap, labels={"workers": ("职工安置上限", "labour-market cap")}, keeping="relaxation", ties=_ties,
    name_zh=name_zh, rules=lambda scen: list(scen.caps.workers), list_field=False, bind=_bind, add=add_to,
    per_item="region", editable=_editable, group="caps",
)
