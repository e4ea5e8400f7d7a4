"""The cost of a plan, exactly as docs/model.md#cost states it, and the objective.

For unit u exiting in year y by mode m, t = y − first year, s = u's sector::

    D[u, y, m]      = workers_u · (1 − attrition)^t · (1 − redeployed_share[s, m])      persons
    outlay[y]      += resettlement_per_worker[s] · D + exit_cost_per_capacity[s, m] · capacity_u
                      − award_per_capacity[s] · ladder[y] · counted[u, y]               万元
    counted[u, y]   = capacity_u · x[u, y, m] − ind[u, y]
    outlay[y]      += subsidised_loss_u   for every year y in which loss-making u still runs
                      (i.e. · (1 − Σ_{y' ≤ y, m} x[u, y', m]))

    jobs   = Σ D · x                      (persons, not discounted)
    fiscal = Σ_y outlay[y] · (1 + discount_rate)^−t     (万元, present value)
    objective = jobs_weight · jobs + fiscal_weight · fiscal

Expressions ``m.outlay[y]``, ``m.displaced[region, y]``, ``m.jobs`` and ``m.fiscal`` are kept
for the yearly caps (rule 9) and the reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyomo.core as pyo

from ..inputs import Instance
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


def award_rate(scen: Scenario, sector: str, y: int) -> float:
    """万元 of award per 万吨/yr counted in year y."""
    return scen.costs(sector).award_per_capacity * scen.ladder_at(y)


def exit_price(scen: Scenario, sector: str, workers: float, capacity: float, y: int, mode: str,
               indicator: float = 0.0) -> ExitPrice:
    """The one pricing of an exit, used by the model, the schedule and the explanations.

    ``indicator`` (万吨/yr, clipped to the capacity) is the part used as replacement indicators.
    """
    c = scen.costs(sector)
    indicator = min(max(float(indicator), 0.0), capacity)
    counted = capacity - indicator
    displaced = workers * (1 - scen.attrition) ** scen.t(y) * (1 - c.redeployed_share.get(mode, 0.0))
    award = award_rate(scen, sector, y) * counted
    outlay = c.resettlement_per_worker * displaced + c.exit_cost_per_capacity.get(mode, 0.0) * capacity - award
    return ExitPrice(displaced, outlay, award, counted)


def add_to(m: ExitModel, inst: Instance) -> None:
    scen = inst.scenario
    units = inst.units
    region = units["region"].to_dict()
    sector = units["sector"].to_dict()
    workers = units["workers"].to_dict()
    outlay_terms: dict[int, list] = defaultdict(list)
    displaced_terms: dict[tuple[str, int], list] = defaultdict(list)
    m.coef_displaced = {}
    for k in m.X:
        u, y, mode = k
        p = exit_price(scen, sector[u], workers[u], m.capacity[u], y, mode)  # award on the whole capacity
        m.coef_displaced[k] = p.displaced
        outlay_terms[y].append(p.outlay * m.x[k])
        displaced_terms[region[u], y].append(p.displaced * m.x[k])
    for (c, y) in m.IND:  # the indicator part earns no award: give it back (one sector per class)
        award = award_rate(scen, sector[m.ind_members[c][0]], y)
        if award:
            outlay_terms[y].append(award * m.ind[c, y])
    losers = units.index[units["loss_making"] & (units["subsidised_loss"] > 0)]
    for u in losers:
        loss = float(units.at[u, "subsidised_loss"])
        for y in inst.years:
            outlay_terms[y].append(loss)
            outlay_terms[y] += [-loss * m.x[k] for k in m.by_unit.get(u, ()) if k[1] <= y]
    m.outlay = {y: pyo.quicksum(outlay_terms[y]) for y in inst.years}
    m.displaced = {key: pyo.quicksum(v) for key, v in displaced_terms.items()}
    m.jobs = pyo.quicksum((m.coef_displaced[k] * m.x[k] for k in m.X))
    m.fiscal = pyo.quicksum((scen.discount(y) * m.outlay[y] for y in inst.years))
    w = scen.objective
    m.cost = pyo.Objective(expr=w.jobs_weight * m.jobs + w.fiscal_weight * m.fiscal, sense=pyo.minimize)
