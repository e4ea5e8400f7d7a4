"""The cost of a plan, exactly as docs/model.md#cost states it, and the objective.

For unit u exiting in year y by mode m, t = y − first year, s = u's sector::

    D[u, y, m]      = workers_u · (1 − attrition)^t · (1 − redeployed_share[s, m])      persons
    outlay[y]      += resettlement_per_worker[s] · D + exit_cost_per_capacity[s, m] · capacity_u
                      − A[u, y] · counted[u, y]
                      + (1 − kept[s, m]) · stranded[u, y]                                万元
    counted[u, y]   = capacity_u · x[u, y, m] − ind[u, y]
    outlay[y]      += subsidised_loss_u   for every year y in which loss-making u still runs
                      (i.e. · (1 − Σ_{y' ≤ y, m} x[u, y', m]))
    outlay[y]      += contribution_u      for every year y in which u is gone
                      (i.e. · Σ_{y' ≤ y, m} x[u, y', m]): the revenue foregone

    contribution_u  = fiscal_contribution_u, else revenue_per_capacity[s] · capacity_u;
                      0 for a loss-making unit                                          万元/yr
    stranded[u, y]  = stranded_value_u, else stranded_per_capacity[s] · capacity_u
                      · max(0, 1 − max(0, y − opening_year_u) / service_life[s])
                      (no age term without a service life or an opening year)          万元
    kept[s, m]      = relocate_stranded_share_kept[s] for relocate, 0 for close
    a[u]            = 0 for a product not in award_products[s]; for a unit whose owner is not
                      state: award_nonstate_per_unit[s] / capacity_u, else
                      award_nonstate_per_capacity[s]; else award_per_capacity[s]      万元 per 万吨/yr
    A[u, y]         = base_share[s] · a[u] + (1 − base_share[s]) · ladder[y] · a[u]   (base + ladder)
    award[y]        = Σ A[u, y] · counted[u, y]: what the fund pays in y (docs/model.md#award-fund)

    merger of u in y into g (docs/model.md#mergers), μ[c(u), y, g]:
    outlay[y]      += resettlement_per_worker[s] · Dm + merge_cost_per_capacity[s] · capacity_u
    Dm[u, y]        = workers_u · (1 − attrition)^t · merge_displaced_share[s]          persons

    upgrade of u in y (docs/model.md#upgrades), u[u, y]:
    outlay[y]      += cost_per_capacity · capacity_u

    jobs   = Σ D · x + Σ Dm · μ           (persons, not discounted)
    fiscal = Σ_y outlay[y] · (1 + discount_rate)^−t     (万元, present value)
    objective = jobs_weight · jobs + fiscal_weight · fiscal

Expressions ``m.outlay[y]``, ``m.award[y]``, ``m.displaced[region, y]``, ``m.jobs`` and
``m.fiscal`` are kept for the yearly caps (rule 12) and the reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyomo.core as pyo

from ..inputs import Instance
from ..rules.upgrades import upgrade_outlay
from ..scenario import Scenario
from .exit_model import ExitModel


@dataclass(frozen=True)
class ExitPrice:
    """What one exit costs: persons displaced, and the outlay in its year with the award earned
    by the counted part only (the part used as replacement indicators earns none)."""

    displaced: float  # persons
    outlay: float  # 万元 in the exit year
    award: float  # 万元, included (negatively) in outlay
    counted: float  # 万吨/yr counted toward the targets
    stranded: float = 0.0  # 万元 written off in the exit year, included in outlay
    award_base: float = 0.0  # 万元, the base part of award (no ladder weight)

    @property
    def award_ladder(self) -> float:
        """万元, the ladder part of award (weighted by the exit year's ladder)."""
        return self.award - self.award_base


def records(units) -> dict[str, dict]:
    """{unit: {column: value}} of a unit table, with plain Python values (as ``to_dict("index")``
    gives them, in a fifth of its time): what the pricing functions below read per decision."""
    names = list(units.columns)
    columns = [units[c].tolist() for c in names]
    return {u: dict(zip(names, values, strict=True))
            for u, values in zip(units.index.tolist(), zip(*columns, strict=True), strict=True)}


def unit_award(scen: Scenario, unit) -> float:
    """a[u]: 万元 of award per 万吨/yr counted, before the base/ladder split, for a unit-table row."""
    c = scen.costs(unit["sector"])
    if c.award_products is not None and unit["product"] not in c.award_products:
        return 0.0
    if str(unit.get("owner", "state") or "state") != "state":
        if c.award_nonstate_per_unit is not None:
            capacity = float(unit["capacity"])
            return c.award_nonstate_per_unit / capacity if capacity > 0 else 0.0
        if c.award_nonstate_per_capacity is not None:
            return c.award_nonstate_per_capacity
    return c.award_per_capacity


def splits_award(scen: Scenario) -> bool:
    """Whether some sector pays a base part: the run folder then shows award_base and award_ladder."""
    return any(c.award_base_share > 0 for c in scen.sectors.values())


def award_parts(scen: Scenario, sector: str, y: int, per_capacity: float) -> tuple[float, float]:
    """(base, ladder) 万元 per 万吨/yr counted in year y, for a unit whose rate a[u] is ``per_capacity``."""
    b = scen.costs(sector).award_base_share
    return b * per_capacity, (1 - b) * scen.ladder_at(y) * per_capacity


def award_rate(scen: Scenario, sector: str, y: int, per_capacity: float | None = None) -> float:
    """A[u, y]: 万元 of award per 万吨/yr counted in year y (``per_capacity`` = a[u]; the sector's
    award_per_capacity when not given)."""
    if per_capacity is None:
        per_capacity = scen.costs(sector).award_per_capacity
    base, ladder = award_parts(scen, sector, y, per_capacity)
    return base + ladder


def _given(v) -> float | None:
    """A unit-table figure, or None for an empty cell (NaN) or an absent column."""
    if v is None:
        return None
    v = float(v)
    return None if v != v else v


def contribution(scen: Scenario, unit) -> float:
    """万元/yr the unit (a unit-table row) pays the province while it runs: its fiscal_contribution,
    else revenue_per_capacity × capacity; 0 for a loss-making unit."""
    if bool(unit["loss_making"]):
        return 0.0
    given = _given(unit.get("fiscal_contribution"))
    if given is not None:
        return given
    return scen.costs(unit["sector"]).revenue_per_capacity * float(unit["capacity"])


def stranded_value(scen: Scenario, unit, y: int) -> float:
    """万元 written off when the unit (a unit-table row) exits in year y, before a relocation's share
    kept: its stranded_value, else stranded_per_capacity × capacity × the age term."""
    given = _given(unit.get("stranded_value"))
    if given is not None:
        return given
    c = scen.costs(unit["sector"])
    value = c.stranded_per_capacity * float(unit["capacity"])
    opened = _given(unit.get("opening_year"))
    if value and c.service_life is not None and opened is not None:
        value *= max(0.0, 1.0 - max(0.0, y - opened) / c.service_life)
    return value


def stranded_share(scen: Scenario, sector: str, mode: str) -> float:
    """Share of the stranded value written off: 1 for a closure, 1 − the share kept for a relocation."""
    return 1.0 - scen.costs(sector).relocate_stranded_share_kept if mode == "relocate" else 1.0


def revenue_foregone(scen: Scenario, contribution_per_year: float, y: int) -> float:
    """Present value (万元) of a contribution lost in every planning year from y on."""
    if not contribution_per_year:
        return 0.0
    return contribution_per_year * sum(scen.discount(yy) for yy in scen.years if yy >= y)


def exit_price(scen: Scenario, sector: str, workers: float, capacity: float, y: int, mode: str,
               indicator: float = 0.0, stranded: float = 0.0, award_per_capacity: float | None = None) -> ExitPrice:
    """The one pricing of an exit, used by the model, the schedule and the explanations.

    ``indicator`` (万吨/yr, clipped to the capacity) is the part used as replacement indicators;
    ``stranded`` (万元) the unit's stranded value at exit (:func:`stranded_value`), of which the
    mode's share is written off; ``award_per_capacity`` the unit's a[u] (:func:`unit_award`; the
    sector's award_per_capacity when not given).
    """
    c = scen.costs(sector)
    indicator = min(max(float(indicator), 0.0), capacity)
    counted = capacity - indicator
    displaced = workers * (1 - scen.attrition) ** scen.t(y) * (1 - c.redeployed_share.get(mode, 0.0))  # type: ignore[call-overload]  # mode: close or relocate
    if award_per_capacity is None:
        award_per_capacity = c.award_per_capacity
    base_rate, ladder_rate = award_parts(scen, sector, y, award_per_capacity)
    award = (base_rate + ladder_rate) * counted
    written_off = stranded * stranded_share(scen, sector, mode) if stranded else 0.0
    outlay = c.resettlement_per_worker * displaced + c.exit_cost_per_capacity.get(mode, 0.0) * capacity - award  # type: ignore[call-overload]  # mode: close or relocate
    if written_off:
        outlay += written_off
    return ExitPrice(displaced, outlay, award, counted, written_off, base_rate * counted)


def unit_exit_price(scen: Scenario, unit, y: int, mode: str, indicator: float = 0.0) -> ExitPrice:
    """:func:`exit_price` of a unit-table row exiting in year y by mode."""
    return exit_price(scen, unit["sector"], unit["workers"], float(unit["capacity"]), y, mode, indicator,
                      stranded_value(scen, unit, y), unit_award(scen, unit))


def merge_price(scen: Scenario, unit, y: int) -> tuple[float, float]:
    """(persons displaced, 万元 of outlay in year y) of merging a unit-table row in year y
    (docs/model.md#mergers): D = workers × (1 − attrition)^t × merge_displaced_share[s], outlay =
    resettlement_per_worker[s] × D + merge_cost_per_capacity[s] × capacity."""
    c = scen.costs(unit["sector"])
    displaced = float(unit["workers"]) * (1 - scen.attrition) ** scen.t(y) * c.merge_displaced_share
    return displaced, c.resettlement_per_worker * displaced + c.merge_cost_per_capacity * float(unit["capacity"])


def add_to(m: ExitModel, inst: Instance) -> None:
    scen = inst.scenario
    units = inst.units
    region = units["region"].to_dict()
    sector = units["sector"].to_dict()
    outlay_terms: dict[int, list] = defaultdict(list)
    award_terms: dict[int, list] = defaultdict(list)
    displaced_terms: dict[tuple[str, int], list] = defaultdict(list)
    m.coef_displaced = {}
    rows = records(units)  # plain dicts: a pandas lookup per decision is the slow part
    x = dict(m.x.items())  # {key: variable}: one lookup per decision, not one per term
    for k in m.X:
        u, y, mode = k
        p = unit_exit_price(scen, rows[u], y, mode)  # award on the whole capacity
        m.coef_displaced[k] = p.displaced
        xk = x[k]
        outlay_terms[y].append(p.outlay * xk)
        if p.award:
            award_terms[y].append(p.award * xk)
        displaced_terms[region[u], y].append(p.displaced * xk)
    for (c, y) in m.IND:  # the indicator part earns no award: give it back (one rate per class)
        first = m.ind_members[c][0]
        award = award_rate(scen, sector[first], y, unit_award(scen, rows[first]))
        if award:
            outlay_terms[y].append(award * m.ind[c, y])
            award_terms[y].append(-award * m.ind[c, y])
    losers = units.index[units["loss_making"] & (units["subsidised_loss"] > 0)]
    for u in losers:
        loss = float(units.at[u, "subsidised_loss"])
        for y in inst.years:
            outlay_terms[y].append(loss)
            outlay_terms[y] += [-loss * x[k] for k in m.by_unit.get(u, ()) if k[1] <= y]
    for u, keys in m.by_unit.items():  # revenue foregone: lost in every year from the exit on
        pays = contribution(scen, rows[u])
        if pays:
            for y in inst.years:
                outlay_terms[y] += [pays * x[k] for k in keys if k[1] <= y]
    merge_jobs = []
    for k in m.MG:  # mergers: displaced workers and the merger outlay, in the merger year
        _, y, _ = k
        for u in m.merge_members[k[0]]:
            displaced, spent = merge_price(scen, rows[u], y)
            if spent:
                outlay_terms[y].append(spent * m.mg[k])
            if displaced:
                displaced_terms[region[u], y].append(displaced * m.mg[k])
                merge_jobs.append(displaced * m.mg[k])
    if len(m.UP):  # upgrades: their outlay, in the upgrade year
        rule = {r.name: r for r in scen.upgrades}
        for k in m.UP:
            u, y = k
            outlay_terms[y].append(upgrade_outlay(rule[m.upgrade_rule[u]], rows[u]["capacity"]) * m.up[k])
    m.outlay = {y: pyo.quicksum(outlay_terms[y]) for y in inst.years}
    m.award = {y: pyo.quicksum(award_terms[y]) for y in inst.years if award_terms[y]}
    m.displaced = {key: pyo.quicksum(v) for key, v in displaced_terms.items()}
    m.jobs = pyo.quicksum(m.coef_displaced[k] * x[k] for k in m.X)
    if merge_jobs:
        m.jobs = m.jobs + pyo.quicksum(merge_jobs)
    m.fiscal = pyo.quicksum(scen.discount(y) * m.outlay[y] for y in inst.years)
    w = scen.objective
    m.cost = pyo.Objective(expr=w.jobs_weight * m.jobs + w.fiscal_weight * m.fiscal, sense=pyo.minimize)
