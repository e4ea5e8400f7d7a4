"""The facts of a plan: the plan joined to the unit table, with indicators, costs and the
capacity that remains, worked out as ``docs/model.md`` defines them.

For each unit: whether and when it exits (``gone_year`` is a year past the plan for a unit that
stays, so that "exited by y" is ``gone_year <= y``), its replacement indicator (the plan's, or
the checker's own allocation for a product the plan leaves blank), the capacity counted toward
the task, the workers displaced, the award and the outlay. Per year: exits, outlay and its
present value. Per product and year: the capacity still there.

This is the checker's own pricing, written from ``docs/model.md`` with pandas and sharing no code
with the optimisation model, so that the check is independent of what the model reports.

Units: capacity in 万吨/yr, money in 万元, people in persons, calendar years.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inputs import Instance
from ..scenario import Scenario
from .reading import REL_TOL, Plan


def tol(ref: float) -> float:
    """How far two figures near ``ref`` may differ and still count as equal."""
    return REL_TOL * max(1.0, abs(ref))


@dataclass
class Facts:
    """The plan joined to the unit table, with indicators, costs and remaining capacity worked out."""

    inst: Instance
    scen: Scenario
    units: pd.DataFrame  # unit table + exit_year, mode, indicator, counted, cost columns
    approved: set[str]
    projects: pd.DataFrame  # approved projects only
    remaining: pd.DataFrame  # product × year, 万吨 still there
    years: pd.DataFrame
    allocated: list[str]


def gather(inst: Instance, plan: Plan, approved_projects: Iterable[str] | None) -> Facts:
    """The facts of ``plan``; ``approved_projects`` as :func:`~exitopt.check.check_plan` takes them."""
    scen = inst.scenario
    projects = inst.projects
    if approved_projects is None:
        approved = set(projects.index[projects["approval"] == "approved"])
    else:
        approved = {str(p) for p in approved_projects}
        unknown = sorted(approved - set(projects.index))
        if unknown:
            raise InputError(f"approved project(s) {', '.join(unknown[:5])} are not in the projects table.")
    built = projects.loc[projects.index.isin(approved)]

    u = inst.units.copy()
    decisions = plan.units.reindex(u.index)
    u["exit_year"] = decisions["exit_year"].astype("Int64")
    mode = decisions["mode"].fillna("").replace("", "close") if "mode" in decisions else "close"
    u["mode"] = pd.Series(mode, index=u.index).where(u["exit_year"].notna(), "")
    u["exits"] = u["exit_year"].notna()
    # a year past the plan for units that stay, so that "exited by y" is gone_year <= y
    u["gone_year"] = u["exit_year"].astype(float).fillna(scen.last_year + 1).astype(int)
    u["award_rate"] = _award_rate(scen, u)
    given = decisions["indicator"] if "indicator" in decisions else pd.Series(np.nan, index=u.index)
    u["indicator"], allocated = _indicators(scen, u, given, built)
    _price(scen, u)
    _price_mergers(scen, u, decisions)
    _price_upgrades(scen, u, decisions)
    return Facts(inst, scen, u, approved, built, _remaining(scen, u, built), _yearly(scen, u), allocated)


def _award_rate(scen: Scenario, u: pd.DataFrame) -> pd.Series:
    """Award per 万吨 counted (docs/model.md#cost), 0 for units that stay: the unit's rate — 0 for a
    product the sector's award_products leaves out; for an owner other than state the sector's
    award_nonstate_per_unit ÷ capacity, else its award_nonstate_per_capacity; else
    award_per_capacity — times base_share + (1 − base_share) × ladder[exit year]. Sets the
    columns ``award_per_capacity`` (the rate) and ``award_base_share`` (the sector's share)."""
    costs = {s: scen.costs(s) for s in u["sector"].unique()}
    rate = u["sector"].map({s: c.award_per_capacity for s, c in costs.items()}).astype(float)
    owner = u["owner"].astype(str) if "owner" in u else pd.Series("state", index=u.index)
    for s, c in costs.items():
        private = (u["sector"] == s) & (owner != "state")
        if c.award_nonstate_per_unit is not None:
            cap = u.loc[private, "capacity"].astype(float)
            rate[private] = (c.award_nonstate_per_unit / cap.where(cap > 0)).fillna(0.0)
        elif c.award_nonstate_per_capacity is not None:
            rate[private] = c.award_nonstate_per_capacity
        if c.award_products is not None:
            rate[(u["sector"] == s) & ~u["product"].isin(c.award_products)] = 0.0
    base = u["sector"].map({s: c.award_base_share for s, c in costs.items()}).astype(float)
    ladder = u["gone_year"].map({y: scen.ladder_at(y) for y in scen.years}).fillna(0.0)
    u["award_per_capacity"] = rate
    u["award_base_share"] = base
    return (rate * (base + (1.0 - base) * ladder)).where(u["exits"], 0.0).astype(float)


def required_indicators(scen: Scenario, built: pd.DataFrame) -> dict[str, pd.Series]:
    """Per product with a replacement rule: ratio × approved new capacity up to each year (万吨)."""
    out = {}
    for r in scen.replacement:
        mine = built[built["product"] == r.product]
        per_year = mine.groupby("year")["capacity"].sum().reindex(scen.years, fill_value=0.0)
        out[r.product] = r.ratio * per_year.cumsum()
    return out


def _indicators(scen: Scenario, u: pd.DataFrame, given: pd.Series, built: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Indicators per unit: the plan's, or the checker's allocation for products the plan leaves blank."""
    ind = given.astype(float).fillna(0.0)
    allocated = []
    for product, need in required_indicators(scen, built).items():
        of_product = u["product"] == product
        if given[of_product].notna().any():
            continue
        allocated.append(product)
        ind[of_product] = 0.0
        ind.update(_allocate(u[of_product & u["exits"] & u["indicator_eligible"]], need))
    return ind, allocated


def _allocate(candidates: pd.DataFrame, need: pd.Series) -> pd.Series:
    """Greedy allocation: units by (exit year, award per 万吨, unit_id) cover each year's cumulative need."""
    order = candidates.reset_index(drop=True).sort_values(["gone_year", "award_rate", "unit_id"])
    ids = list(order["unit_id"])
    years = list(order["gone_year"])
    room = list(order["capacity"].astype(float))
    out = pd.Series(0.0, index=candidates.index)
    used = 0.0
    i = 0
    for year, total in need.items():
        while used < total - REL_TOL * tol(total) and i < len(ids) and years[i] <= year:
            take = min(room[i], total - used)
            out[ids[i]] += take
            used += take
            room[i] -= take
            if room[i] <= 0:
                i += 1
    return out


def _price(scen: Scenario, u: pd.DataFrame) -> None:
    """Add the cost columns of ``docs/model.md``, for unit u exiting in year y by mode m, t = y − first year.

    D = workers × (1 − attrition)^t × (1 − redeployed_share[sector][m]);
    outlay in y = resettlement_per_worker[sector] × D + exit_cost_per_capacity[sector][m] × capacity
    − award rate (see :func:`_award_rate`) × counted, with counted = capacity − indicator, split into
    award_base (base_share × rate × counted) and award_ladder (the rest);
    losses_paid = subsidised_loss × (years of the plan before the exit year) for loss-making units.
    The stranded value written off, in the exit year and part of its outlay: the unit's
    stranded_value, or stranded_per_capacity[sector] × capacity × max(0, 1 − max(0, y − opening_year)
    / service_life[sector]) (no age term without both), times 1 − relocate_stranded_share_kept[sector]
    for a relocation. The contribution lost in every plan year from the exit year on: the unit's
    fiscal_contribution, or revenue_per_capacity[sector] × capacity; 0 for loss-making units.
    ``revenue_foregone`` and ``stranded_value`` are their present values.
    Missing sectors, modes and years take the scenario's defaults (0, ladder 1).
    """
    costs = {s: scen.costs(s) for s in u["sector"].unique()}
    t = (u["gone_year"] - scen.first_year).astype(float)
    keep = [costs[s].redeployed_share.get(m, 0.0) if m else 0.0 for s, m in zip(u["sector"], u["mode"], strict=True)]
    exit_cost = [costs[s].exit_cost_per_capacity.get(m, 0.0) if m else 0.0 for s, m in zip(u["sector"], u["mode"], strict=True)]
    resettle = u["sector"].map({s: c.resettlement_per_worker for s, c in costs.items()}).astype(float)
    exits = u["exits"]
    u["counted"] = (u["capacity"] - u["indicator"]).where(exits, 0.0)
    u["workers_displaced"] = (u["workers"] * (1 - scen.attrition) ** t * (1 - np.array(keep))).where(exits, 0.0)
    u["award"] = u["award_rate"] * u["counted"]
    u["award_base"] = (u["award_base_share"] * u["award_per_capacity"] * u["counted"]).where(exits, 0.0)
    u["award_ladder"] = u["award"] - u["award_base"]
    spent = resettle * u["workers_displaced"] + np.array(exit_cost) * u["capacity"]
    u["stranded"] = _stranded(scen, u, costs).where(exits, 0.0)
    u["outlay"] = (spent - u["award"] + u["stranded"]).where(exits, 0.0)
    loss = u["subsidised_loss"].astype(float).where(u["loss_making"], 0.0)
    u["loss_rate"] = loss
    u["losses_paid"] = loss * t.clip(upper=len(scen.years))
    per_cap = u["sector"].map({s: c.revenue_per_capacity for s, c in costs.items()}).astype(float) * u["capacity"]
    given = u["fiscal_contribution"].astype(float) if "fiscal_contribution" in u else pd.Series(np.nan, index=u.index)
    u["contribution"] = given.fillna(per_cap).where(~u["loss_making"].astype(bool), 0.0)
    # present value of 1 万元 a year from year y to the plan's end, and of 1 万元 in year y
    left = {y: sum(scen.discount(yy) for yy in scen.years if yy >= y) for y in scen.years}
    disc = {y: scen.discount(y) for y in scen.years}
    u["revenue_foregone"] = (u["contribution"] * u["gone_year"].map(left).fillna(0.0)).where(exits, 0.0)
    u["stranded_value"] = (u["stranded"] * u["gone_year"].map(disc).fillna(0.0)).where(exits, 0.0)


def _price_mergers(scen: Scenario, u: pd.DataFrame, decisions: pd.DataFrame) -> None:
    """Mergers (docs/model.md#mergers): columns ``merges``, ``merge_year``, ``acquirer`` and
    ``event_year`` (the exit or merger year; past the plan for a unit that does neither). A unit
    merged in year y displaces workers × (1 − attrition)^t × merge_displaced_share[sector] and
    spends, in y, resettlement_per_worker[sector] × those + merge_cost_per_capacity[sector] ×
    capacity; it earns no award, strands nothing and goes on paying (or being paid for) as it runs."""
    year = decisions["merge_year"] if "merge_year" in decisions else pd.Series(pd.NA, index=u.index)
    u["merge_year"] = year.astype("Int64")
    u["merges"] = u["merge_year"].notna() & ~u["exits"]
    u["acquirer"] = (decisions["acquirer"] if "acquirer" in decisions else pd.Series("", index=u.index)).fillna("")
    u["event_year"] = u["gone_year"].where(~u["merges"], u["merge_year"].astype(float).fillna(0).astype(int))
    if not u["merges"].any():
        return
    for r in u[u["merges"]].itertuples():
        c = scen.costs(r.sector)
        displaced = float(r.workers) * (1 - scen.attrition) ** (int(r.merge_year) - scen.first_year) \
            * c.merge_displaced_share
        u.at[r.Index, "workers_displaced"] = displaced
        u.at[r.Index, "outlay"] = c.resettlement_per_worker * displaced + c.merge_cost_per_capacity * float(r.capacity)


def _price_upgrades(scen: Scenario, u: pd.DataFrame, decisions: pd.DataFrame) -> None:
    """Upgrades (docs/model.md#upgrades): columns ``upgrade`` (the rule's name, '' for none),
    ``upgrade_year`` and ``upgrade_outlay``: cost_per_capacity of the named rule × capacity, spent in
    the upgrade year; an upgrade displaces no one and earns no award."""
    name = decisions["upgrade"] if "upgrade" in decisions else pd.Series("", index=u.index)
    u["upgrade"] = name.fillna("").astype(str)
    year = decisions["upgrade_year"] if "upgrade_year" in decisions else pd.Series(pd.NA, index=u.index)
    u["upgrade_year"] = year.astype("Int64").where(u["upgrade"].ne(""), pd.NA)
    rate = {r.name: r.cost_per_capacity for r in scen.upgrades}
    u["upgrade_outlay"] = (u["upgrade"].map(rate).fillna(0.0) * u["capacity"].astype(float)).where(
        u["upgrade"].ne(""), 0.0)


def _stranded(scen: Scenario, u: pd.DataFrame, costs: dict) -> pd.Series:
    """万元 written off at exit (see :func:`_price`), the mode's share applied."""
    per_cap = u["sector"].map({s: c.stranded_per_capacity for s, c in costs.items()}).astype(float)
    life = u["sector"].map({s: c.service_life for s, c in costs.items()}).astype(float)  # NaN: no age term
    opened = u["opening_year"].astype(float) if "opening_year" in u else pd.Series(np.nan, index=u.index)
    age = (u["gone_year"] - opened).clip(lower=0.0)
    factor = (1.0 - age / life).clip(lower=0.0).fillna(1.0)
    default = per_cap * u["capacity"] * factor
    given = u["stranded_value"].astype(float) if "stranded_value" in u else pd.Series(np.nan, index=u.index)
    value = given.fillna(default)
    kept = [costs[s].relocate_stranded_share_kept if m == "relocate" else 0.0 for s, m in zip(u["sector"], u["mode"], strict=True)]
    return value * (1.0 - np.array(kept))


def _yearly(scen: Scenario, u: pd.DataFrame) -> pd.DataFrame:
    """Per year: exits, capacity exited, displaced workers, awards paid, outlay (万元, undiscounted) and its
    present value."""
    ex = u[u["exits"]]
    g = ex.groupby("gone_year")
    years = pd.DataFrame(index=pd.Index(scen.years, name="year"))
    years["exits"] = g.size().reindex(scen.years, fill_value=0).astype(int)
    years["capacity_exited"] = g["capacity"].sum().reindex(scen.years, fill_value=0.0)
    years["workers_displaced"] = g["workers_displaced"].sum().reindex(scen.years, fill_value=0.0)
    years["exit_outlay"] = g["outlay"].sum().reindex(scen.years, fill_value=0.0)
    losers = u[u["loss_rate"] > 0]
    years["losses_paid"] = [float(losers.loc[losers["gone_year"] > y, "loss_rate"].sum()) for y in scen.years]
    payers = u[u["contribution"] > 0]
    years["revenue_foregone"] = [float(payers.loc[payers["gone_year"] <= y, "contribution"].sum()) for y in scen.years]
    years["stranded_value"] = g["stranded"].sum().reindex(scen.years, fill_value=0.0)
    years["award"] = g["award"].sum().reindex(scen.years, fill_value=0.0)
    years["outlay"] = years["exit_outlay"] + years["losses_paid"] + years["revenue_foregone"]
    merged = u[u["merges"]]
    if not merged.empty:  # the mergers' outlay and displaced workers, in their merger years
        m = merged.groupby("event_year")
        years["outlay"] += m["outlay"].sum().reindex(scen.years, fill_value=0.0).values
        years["workers_displaced"] += m["workers_displaced"].sum().reindex(scen.years, fill_value=0.0).values
    lifted = u[u["upgrade"].ne("")]
    if not lifted.empty:  # the upgrades' outlay, in their upgrade years
        spent = lifted.groupby(lifted["upgrade_year"].astype(int))["upgrade_outlay"].sum()
        years["outlay"] += spent.reindex(scen.years, fill_value=0.0).values
    years["discount"] = [scen.discount(y) for y in scen.years]
    years["outlay_pv"] = years["outlay"] * years["discount"]
    return years.reset_index()


def _remaining(scen: Scenario, u: pd.DataFrame, built: pd.DataFrame) -> pd.DataFrame:
    """Capacity still there, product × year: units not yet exited plus approved projects on line."""
    cols = {}
    for y in scen.years:
        left = u.loc[u["gone_year"] > y].groupby("product")["capacity"].sum()
        new = built.loc[built["year"] <= y].groupby("product")["capacity"].sum()
        cols[y] = left.add(new, fill_value=0.0)
    return pd.DataFrame(cols).fillna(0.0).astype(float)
