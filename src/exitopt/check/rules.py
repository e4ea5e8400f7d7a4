"""The rule checks: each family takes the facts of a plan and returns the rules it breaks.

Rules 1–11 of ``docs/model.md``, one function per family (``check_*``), listed in
:data:`RULE_FAMILIES` in the order the report gives them, and :func:`check_plan`, which works
out the facts of a plan, runs every family and prices the plan. Comparisons allow a tolerance of
``REL_TOL × max(1, |required|)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..inputs import Instance
from .facts import Facts, gather, required_indicators, tol
from .reading import Plan
from .report import CheckResult, Violation
from .upgrades import after_upgrades, check_upgrades

if TYPE_CHECKING:
    from ..rules.mergers import Merger


def check_plan(inst: Instance, plan: Plan, approved_projects: Iterable[str] | None = None) -> CheckResult:
    """Test ``plan`` against every rule of ``inst.scenario`` and price it as docs/model.md#cost defines.

    ``approved_projects``: ids of the new-capacity projects the plan builds; by default the
    projects whose approval is ``approved`` (candidates are not built).

    Replacement indicators: for a product with a replacement rule where the plan gives no
    indicator on any unit, the checker allocates them itself, deterministically: eligible exited
    units of that product are taken in order of exit year, then lowest award per 万吨
    (the unit's award rate at its exit year), then unit_id; going through the planning years in
    order, each unit gives as much of its capacity as that year's cumulative requirement
    (ratio × approved new capacity up to the year) still lacks, and no more. Where the plan gives
    an indicator on some unit of a product, empty cells of that product mean 0.
    """
    facts = gather(inst, plan, approved_projects)
    violations = [v for family in RULE_FAMILIES for v in family(facts)]
    scen = inst.scenario
    jobs = float(facts.units["workers_displaced"].sum())
    fiscal = float(facts.years["outlay_pv"].sum())
    objective = scen.objective.jobs_weight * jobs + scen.objective.fiscal_weight * fiscal
    cols = ["unit_id", "product", "capacity", "exit_year", "mode", "counted", "indicator",
            "workers_displaced", "outlay", "award", "losses_paid", "revenue_foregone", "stranded_value"]
    if any(c.award_base_share > 0 for c in scen.sectors.values()):
        cols[cols.index("award") + 1:cols.index("award") + 1] = ["award_base", "award_ladder"]
    if scen.mergers:
        cols[cols.index("mode") + 1:cols.index("mode") + 1] = ["merge_year", "acquirer"]
    if scen.upgrades:
        cols[cols.index("mode") + 1:cols.index("mode") + 1] = ["upgrade", "upgrade_year", "upgrade_outlay"]
    return CheckResult(scen.name, violations, facts.units[cols].reset_index(drop=True), facts.years,
                       jobs, fiscal, objective, facts.allocated)

# --------------------------------------------------------------------------------------------
# Rule families: each takes the facts and returns the violations of its rule.


def _below(achieved: float, required: float) -> bool:
    return achieved < required - tol(required)


def _above(achieved: float, limit: float) -> bool:
    return achieved > limit + tol(limit)


def _pair(a: float, b: float) -> tuple[str, str]:
    """Two numbers with one decimal, or more when one decimal would make them look equal."""
    for d in range(1, 7):
        sa, sb = f"{a:,.{d}f}", f"{b:,.{d}f}"
        if sa != sb:
            break
    return sa, sb


def _ids(ids: Iterable[str], most: int = 5) -> str:
    ids = list(ids)
    more = f" and {len(ids) - most} more" if len(ids) > most else ""
    return ", ".join(ids[:most]) + more


def _years(ys: Iterable[int]) -> str:
    return ", ".join(str(y) for y in sorted(ys))


def _year(v: Any) -> int | None:
    return None if pd.isna(v) else int(v)



def check_modes(f: Facts) -> list[Violation]:
    """Exit mode (docs/model.md#modes): a unit exits by relocation only when the unit table says it
    is relocatable."""
    u = f.units
    bad = u[(u["mode"] == "relocate") & ~u["relocatable"]]
    return [Violation("mode", r.Index, _year(r.exit_year), r.product, None, None,
                      f"unit {r.Index} is relocated in {r.exit_year}, but the unit table does not mark it relocatable")
            for r in bad.itertuples()]


def check_windows(f: Facts) -> list[Violation]:
    """Windows (rule 8, docs/model.md#windows): a unit exits only in years that its exit_years
    column (when given) and every window selecting it allow."""
    u = f.units
    out = []
    ex = u[u["exits"]]
    outside = np.array([ay is not None and y not in ay for ay, y in zip(ex["allowed_years"], ex["gone_year"], strict=True)],
                       dtype=bool)
    for r in ex[outside].itertuples():
        out.append(Violation("window", r.Index, int(r.exit_year), r.product, None, float(r.exit_year),
                             f"unit {r.Index} exits in {r.exit_year}, but its exit_years allow only "
                             f"{_years(r.allowed_years)}"))
    for w in f.scen.windows:
        bad = ex[w.where.mask(ex) & ~ex["gone_year"].isin(w.years)]
        out += _exits("window", w.name, bad, lambda r: f"unit {r.Index} exits in {r.exit_year}, but window "
                                                       f"'{w.name}' allows only {_years(w.years)}")  # noqa: B023 (called in this iteration)
    return out


def _exits(rule: str, name: str, bad: pd.DataFrame, say) -> list[Violation]:
    """One violation per exiting unit of ``bad`` (in its exit year), worded by ``say(row)``."""
    return [Violation(rule, name, int(r.exit_year), r.product, None, float(r.exit_year), say(r))
            for r in bad.itertuples()]


def check_protected(f: Facts) -> list[Violation]:
    """Protected units (rule 7, docs/model.md#protected): a selected unit does not exit."""
    u = f.units
    out = []
    for p in f.scen.protected:
        bad = u[p.where.mask(u) & u["exits"]]
        out += _exits("protected", p.name, bad, lambda r: f"unit {r.Index} is protected by '{p.name}' but "  # noqa: B023 (called in this iteration)
                                                          f"exits in {r.exit_year}")
    return out


def check_mandatory(f: Facts) -> list[Violation]:
    """Mandatory exits (rule 6, docs/model.md#mandatory): a selected unit exits in or before the
    rule's year."""
    u = f.units
    out = []
    for m in f.scen.mandatory:
        bad = u[m.where.mask(u) & (u["gone_year"] > m.by)]
        for r in bad.itertuples():
            when = f"exits only in {r.exit_year}" if r.exits else "does not exit"
            out.append(Violation("mandatory", m.name, m.by, r.product, float(m.by), _year(r.exit_year),
                                 f"unit {r.Index} must exit by {m.by} under '{m.name}' but {when}"))
    return out


def check_packages(f: Facts) -> list[Violation]:
    """Packages (rule 5, docs/model.md#packages): all members exit in one year, each by its listed
    mode, or none exits; a required package exits, by its ``by`` year when given."""
    u = f.units
    out = []
    for p in f.scen.packages:
        listed = pd.Series("", index=u.index)
        if p.close is not None:
            listed[p.close.mask(u)] = "close"
        if p.relocate is not None:
            listed[p.relocate.mask(u)] = "relocate"
        members = u[listed != ""]
        gone = members[members["exits"]]
        stay = members[~members["exits"]]

        def add(year: int | None, message: str, required: float | None = None, achieved: float | None = None) -> None:
            out.append(Violation("package", p.name, year, None, required, achieved, f"package '{p.name}' {message}"))  # noqa: B023 (called in this iteration)

        if len(gone) and len(stay):
            add(None, f"must exit whole or not at all: {_ids(gone.index)} exit but {_ids(stay.index)} stay",
                float(len(members)), float(len(gone)))
        if gone["gone_year"].nunique() > 1:
            parts = "; ".join(f"{y}: {_ids(g.index)}" for y, g in gone.groupby("gone_year"))
            add(None, f"must exit in one year, but its units exit in different years ({parts})")
        wrong = gone[gone["mode"] != listed[gone.index]]
        for r in wrong.itertuples():
            add(int(r.exit_year), f"lists unit {r.Index} for {listed[r.Index]}, but the plan has it exit by {r.mode}")
        if p.required:
            deadline = p.by if p.by is not None else f.scen.last_year
            late = members[members["gone_year"] > deadline]
            by = f" by {p.by}" if p.by is not None else ""
            if gone.empty:
                add(p.by, f"is required{by} but none of its {len(members)} units exits", float(deadline), None)
            elif len(late):
                add(p.by, f"is required{by}, but {_ids(late.index)} exit after {deadline} or not at all",
                    float(deadline), float(gone["gone_year"].max()) if stay.empty else None)
    return out


def check_new_capacity(f: Facts) -> list[Violation]:
    """New capacity (docs/model.md#new-capacity): projects the scenario approves are built; projects
    it rejects are not."""
    prj = f.inst.projects
    out = []
    for r in prj.itertuples():
        built = r.Index in f.approved
        if r.approval == "approved" and not built:
            out.append(Violation("new_capacity", r.Index, int(r.year), r.product, None, None,
                                 f"project {r.Index} ({r.capacity:g} 万吨 of {r.product}, {r.year}) is approved "
                                 f"by the scenario, but the plan does not build it"))
        elif r.approval == "rejected" and built:
            out.append(Violation("new_capacity", r.Index, int(r.year), r.product, None, None,
                                 f"project {r.Index} ({r.capacity:g} 万吨 of {r.product}, {r.year}) is rejected "
                                 f"by the scenario (or falls outside the plan years), but the plan builds it"))
    return out


def check_targets(f: Facts) -> list[Violation]:
    """Exit targets (rule 1, docs/model.md#targets): counted capacity (capacity − indicator) of
    selected units of the product exited in or before ``by`` is at least ``at_least`` and at most
    ``at_most``; the number of those units is at least ``count_at_least`` and at most
    ``count_at_most``."""
    u = f.units
    out = []
    for t in f.scen.targets:
        chosen = t.where.mask(u) & (u["product"] == t.product) & (u["gone_year"] <= t.by)
        counted = float(u.loc[chosen, "counted"].sum())
        label = f"{t.product} exit target '{t.name}' by {t.by}"
        n = int(chosen.sum())
        if t.count_at_least is not None and n < t.count_at_least:
            out.append(Violation("target", t.name, t.by, t.product, float(t.count_at_least), float(n),
                                 f"{label}: {n} units exited, {t.count_at_least} required"))
        if t.count_at_most is not None and n > t.count_at_most:
            out.append(Violation("target", t.name, t.by, t.product, float(t.count_at_most), float(n),
                                 f"{label}: {n} units exited, at most {t.count_at_most} allowed"))
        if t.at_least is not None and _below(counted, t.at_least):
            a, r = _pair(counted, t.at_least)
            out.append(Violation("target", t.name, t.by, t.product, t.at_least, counted,
                                 f"{label}: {a} 万吨 counted, {r} required"))
        if t.at_most is not None and _above(counted, t.at_most):
            a, r = _pair(counted, t.at_most)
            out.append(Violation("target", t.name, t.by, t.product, t.at_most, counted,
                                 f"{label}: {a} 万吨 counted, at most {r} allowed"))
    return out


def check_replacement(f: Facts) -> list[Violation]:
    """Reduced-quantity replacement (rule 2, docs/model.md#replacement): for a product with a ratio
    and each year y, the indicators of eligible units of the product exited in or before y are at
    least ratio × the approved new capacity of the product up to y, and in all no more than ratio ×
    all approved new capacity (only the part used is an indicator). An indicator on an ineligible
    unit, on a unit that does not exit, or on a product without a replacement rule is itself a
    violation."""
    u = f.units
    out = []
    has = u["indicator"] > tol(0.0)
    ratios = {r.product: r.ratio for r in f.scen.replacement}
    for r in u[has & ~u["exits"]].itertuples():
        out.append(Violation("replacement", r.Index, None, r.product, 0.0, r.indicator,
                             f"unit {r.Index} gives {r.indicator:,.1f} 万吨 of indicators but does not exit"))
    for r in u[has & u["exits"] & ~u["indicator_eligible"]].itertuples():
        out.append(Violation("replacement", r.Index, int(r.exit_year), r.product, 0.0, r.indicator,
                             f"unit {r.Index} gives {r.indicator:,.1f} 万吨 of indicators but is not eligible "
                             f"to yield indicators"))
    for r in u[has & ~u["product"].isin(list(ratios))].itertuples():
        out.append(Violation("replacement", r.Index, _year(r.exit_year), r.product, 0.0, r.indicator,
                             f"unit {r.Index} gives {r.indicator:,.1f} 万吨 of indicators, but {r.product} has "
                             f"no replacement rule"))
    valid = u[u["exits"] & u["indicator_eligible"]]
    for product, need in required_indicators(f.scen, f.projects).items():
        mine = valid[valid["product"] == product]
        have = mine.groupby("gone_year")["indicator"].sum().reindex(f.scen.years, fill_value=0.0).cumsum()
        total, allowed = float(mine["indicator"].sum()), float(need.iloc[-1])
        if _above(total, allowed):
            a, r = _pair(total, allowed)
            out.append(Violation("replacement", f"{product} replacement {ratios[product]:g}:1", None, product,
                                 allowed, total,
                                 f"{product}: {a} 万吨 declared as indicators, but the new capacity approved "
                                 f"needs only {r}; the surplus must count toward the task"))
        for y in f.scen.years:
            if _below(float(have[y]), float(need[y])):
                a, r = _pair(float(have[y]), float(need[y]))
                out.append(Violation("replacement", f"{product} replacement {ratios[product]:g}:1", y, product,
                                     float(need[y]), float(have[y]),
                                     f"{product} replacement {ratios[product]:g}:1 in {y}: {a} 万吨 of indicators "
                                     f"from exited units, {r} required for the new capacity approved up to {y}"))
    return out


def check_concentration(f: Facts) -> list[Violation]:
    """Concentration (rule 3, docs/model.md#concentration): in each listed year, the ``top`` largest
    firms/groups of the product (by remaining capacity: units not yet exited plus approved projects
    on line) hold at least ``share`` of the product's remaining capacity."""
    u = f.units
    out = []
    for c in f.scen.concentration:
        units = u[u["product"] == c.product]
        projects = f.projects[f.projects["product"] == c.product]
        for y in c.years:
            holder = units[c.by]
            if c.by == "group":  # a merged unit is held by its acquirer from its merger year on
                holder = holder.where(~(units["merges"] & (units["event_year"] <= y)), units["acquirer"])
            left = units["gone_year"] > y
            held = units.loc[left].groupby(holder[left])["capacity"].sum()
            held = held.add(projects.loc[projects["year"] <= y].groupby(c.by)["capacity"].sum(), fill_value=0.0)
            total = float(held.sum())
            top = float(held.nlargest(c.top).sum())
            if _below(top, c.share * total):
                achieved = top / total
                out.append(Violation("concentration", c.name, y, c.product, c.share, achieved,
                                     f"concentration '{c.name}' ({c.product}, top {c.top} {c.by}s) in {y}: "
                                     f"{achieved:.1%} of {total:,.1f} 万吨 held, {c.share:.1%} required"))
    return out


def check_utilisation(f: Facts) -> list[Violation]:
    """Utilisation and supply (rule 4, docs/model.md#utilisation): remaining capacity of the product
    in a demand year is at most demand / min_utilisation (when given) and at least demand × (1 +
    reserve) (when given)."""
    out = []
    for c in f.scen.utilisation:
        for y, demand in sorted(c.demand.items()):
            left = float(f.remaining.at[c.product, y]) if c.product in f.remaining.index else 0.0
            if c.min_utilisation is not None:
                most = demand / c.min_utilisation
                if _above(left, most):
                    a, r = _pair(left, most)
                    out.append(Violation("utilisation", c.name, y, c.product, most, left,
                                         f"utilisation '{c.name}' ({c.product}) in {y}: {a} 万吨 remain, at most "
                                         f"{r} allowed (demand {demand:,.1f} at {c.min_utilisation:.0%} utilisation)"))
            if c.reserve is not None:
                least = demand * (1 + c.reserve)
                if _below(left, least):
                    a, r = _pair(left, least)
                    out.append(Violation("supply", c.name, y, c.product, least, left,
                                         f"supply '{c.name}' ({c.product}) in {y}: {a} 万吨 remain, at least "
                                         f"{r} required (demand {demand:,.1f} plus {c.reserve:.0%} reserve)"))
    return out


def check_works(f: Facts) -> list[Violation]:
    """Works that run together (rule 9, docs/model.md#works): the selected units, grouped into works
    by the ``works_column`` cell; with ``needs``, in every planning year each dependent of a works
    that has feeders runs only while at least one of those feeders runs; with ``together``, the
    units of a works exit in one year or none does."""
    u = f.units
    out = []
    for w in f.scen.works:
        chosen = u[w.where.mask(u)]
        if w.works_column:
            works = chosen.groupby(chosen[w.works_column].astype(str), sort=True)
        else:
            works = [("", chosen)] if len(chosen) else []
        for name, members in works:
            label = f"works '{name}'" if name else "the works"
            if w.relation == "together":
                years = sorted(set(members["gone_year"]))
                if len(years) > 1:
                    parts = "; ".join(f"{'stays' if y > f.scen.last_year else y}: {_ids(g.index)}"
                                      for y, g in members.groupby("gone_year"))
                    out.append(Violation("works", w.name, None, None, None, None,
                                         f"'{w.name}': the units of {label} must exit in one year or not at "
                                         f"all ({parts})"))
                continue
            assert w.feeders is not None and w.dependents is not None  # a "needs" rule has both
            feeders = members[w.feeders.mask(members)]
            dependents = members[w.dependents.mask(members)]
            if feeders.empty or dependents.empty:
                continue
            last_feeder = int(feeders["gone_year"].max())  # the year the last feeder is gone
            for r in dependents[dependents["gone_year"] > last_feeder].itertuples():
                when = f"exits only in {r.exit_year}" if r.exits else "does not exit"
                out.append(Violation("works", w.name, last_feeder, r.product, float(last_feeder),
                                     float(r.gone_year) if r.exits else None,
                                     f"'{w.name}': unit {r.Index} of {label} needs {_ids(feeders.index)}, "
                                     f"gone by {last_feeder}, but {when}"))
    return out


def check_fleet(f: Facts) -> list[Violation]:
    """Fleet averages (rule 10, docs/model.md#fleet): in each listed year, the average of the rule's
    column over the selected units of the product not yet exited, and (unless ``projects = false``)
    the product's projects built by then, each weighted by its capacity (or 1 with ``weight =
    "units"``), is at most / at least the limit: the figure given, or (1 + change) × the average
    over every selected unit of the table before any exit. A unit upgraded by the year counts with
    its value after the upgrade (rule 10b, upgrades). Nothing left: the rule holds."""
    u = f.units
    out = []
    for r in f.scen.fleet:
        mine = u[r.where.mask(u) & (u["product"] == r.product)]
        value = pd.to_numeric(mine[r.column].astype(str).str.replace(",", ""), errors="coerce").astype(float)
        weight = mine["capacity"].astype(float) if r.weight == "capacity" else pd.Series(1.0, index=mine.index)
        base = float((weight * value).sum() / weight.sum())
        change = r.at_most_change if r.at_most_change is not None else r.at_least_change
        given = r.at_most if r.at_most is not None else r.at_least
        limit = given if given is not None else (1.0 + (change or 0.0)) * base  # one of them is given
        most = r.at_most is not None or r.at_most_change is not None
        built = f.projects[f.projects["product"] == r.product] if r.projects else f.projects.iloc[0:0]
        for y in sorted(set(r.years)):
            left = mine["gone_year"] > y
            now = after_upgrades(f, r.column, value, y) if f.scen.upgrades else value
            w, v = list(weight[left]), list(now[left])
            new = built[built["year"] <= y]
            if len(new):
                w += list(new["capacity"].astype(float) if r.weight == "capacity" else [1.0] * len(new))
                v += list(pd.to_numeric(new[r.column].astype(str).str.replace(",", ""), errors="coerce"))
            total = float(np.sum(w))
            if total <= 0:
                continue
            average = float(np.dot(w, v)) / total
            # the rule as model.md writes it: Σ w (v − L) against 0, tolerance on the scale of Σ w·|L|
            slack = float(np.dot(w, np.array(v) - limit))
            bad = slack > tol(total * abs(limit)) if most else slack < -tol(total * abs(limit))
            if bad:
                a, b = _pair(average, limit)
                unit = r.unit or r.column
                out.append(Violation("fleet", r.name, y, r.product, limit, average,
                                     f"fleet rule '{r.name}' ({r.product}, {r.column}) in {y}: the "
                                     f"{'capacity-weighted' if r.weight == 'capacity' else 'per-unit'} average "
                                     f"over what remains is {a} {unit}, {'at most' if most else 'at least'} {b} "
                                     f"required"))
    return out


def check_budget(f: Facts) -> list[Violation]:
    """Budget (rule 12a, docs/model.md#budget): outlay in a year (undiscounted, subsidised losses,
    stranded value and revenue foregone included, awards subtracted — or, with ``budget_basis =
    "gross"``, not subtracted) is at most ``caps.budget[year]``."""
    years = f.years.set_index("year")
    outlay = years["outlay"] + years["award"] if f.scen.caps.budget_basis == "gross" else years["outlay"]
    out = []
    for y, budget in sorted(f.scen.caps.budget.items()):
        spent = float(outlay[y])
        if _above(spent, budget):
            a, r = _pair(spent, budget)
            out.append(Violation("budget", "caps.budget", y, None, budget, spent,
                                 f"budget in {y}: {a} 万元 spent, at most {r} allowed"))
    return out


def check_workers(f: Facts) -> list[Violation]:
    """Labour market (rule 12b, docs/model.md#workers): displaced workers per region per year are at
    most ``per_year`` in each region the cap names (every region when it names none)."""
    u = f.units
    by_region = u[u["exits"] | u["merges"]].groupby(["region", "event_year"])["workers_displaced"].sum()
    out = []
    for cap in f.scen.caps.workers:
        for (region, y), displaced in by_region.items():
            if cap.regions is not None and region not in cap.regions:
                continue
            if _above(float(displaced), cap.per_year):
                a, r = _pair(float(displaced), cap.per_year)
                out.append(Violation("workers", cap.name, int(y), None, cap.per_year, float(displaced),
                                     f"worker cap '{cap.name}' in {region}, {y}: {a} workers displaced, "
                                     f"at most {r} allowed"))
    return out


def check_award_fund(f: Facts) -> list[Violation]:
    """Award fund (rule 12c, docs/model.md#award-fund): the awards paid (base and ladder parts,
    undiscounted) are at most ``caps.award_fund`` over the plan and ``caps.award_fund_per_year[year]``
    in each year given."""
    paid = f.years.set_index("year")["award"]
    caps = f.scen.caps
    out = []
    if caps.award_fund is not None:
        total = float(paid.sum())
        if _above(total, caps.award_fund):
            a, r = _pair(total, caps.award_fund)
            out.append(Violation("award_fund", "caps.award_fund", None, None, caps.award_fund, total,
                                 f"award fund: {a} 万元 of awards paid over the plan, at most {r} in the fund"))
    for y, fund in sorted(caps.award_fund_per_year.items()):
        spent = float(paid[y])
        if _above(spent, fund):
            a, r = _pair(spent, fund)
            out.append(Violation("award_fund", "caps.award_fund_per_year", y, None, fund, spent,
                                 f"award fund in {y}: {a} 万元 of awards paid, at most {r} in the fund"))
    return out


def check_mergers(f: Facts) -> list[Violation]:
    """Mergers (docs/model.md#mergers): a merged unit is a candidate of a ``[[mergers]]`` rule, merged
    in one of its years into one of its acquirers that is not the unit's own group; with
    ``whole_firm``, the rule's candidates of one firm merge all in one year into one acquirer, or
    none of them does. (A merged unit has no exit year: the plan cannot both exit and merge it.)"""
    u = f.units
    merged = u[u["merges"]]
    out = []
    rule_of: dict[str, Merger] = {}
    for rule in f.scen.mergers:
        for unit in u.index[rule.where.mask(u)]:
            rule_of.setdefault(unit, rule)
    for r in merged.itertuples():
        mg = rule_of.get(r.Index)
        year = int(r.merge_year)
        if mg is None:
            out.append(Violation("merger", r.Index, year, r.product, None, None,
                                 f"unit {r.Index} is merged in {year}, but no merger rule selects it"))
            continue
        years = mg.years or f.scen.years
        if year not in years:
            out.append(Violation("merger", mg.name, year, r.product, None, float(year),
                                 f"merger '{mg.name}': unit {r.Index} is merged in {year}, but the rule allows only "
                                 f"{_years(years)}"))
        if r.acquirer not in mg.acquirers or r.acquirer == str(r.group):
            why = "its own group" if r.acquirer == str(r.group) else "not an acquirer of the rule"
            out.append(Violation("merger", mg.name, year, r.product, None, None,
                                 f"merger '{mg.name}': unit {r.Index} is merged into '{r.acquirer}', {why} "
                                 f"({', '.join(mg.acquirers)})"))
    for mg in f.scen.mergers:
        if not mg.whole_firm:
            continue
        chosen = u[mg.where.mask(u)]
        for firm, members in chosen.groupby(chosen["firm"].astype(str), sort=True):
            ways = {(int(y), a) if m else None for m, y, a in zip(members["merges"], members["merge_year"],
                                                                  members["acquirer"], strict=True)}
            if len(ways) > 1:
                out.append(Violation("merger", mg.name, None, None, None, None,
                                     f"merger '{mg.name}': the units of firm '{firm}' merge as one, but "
                                     f"{_ids(members.index)} do not all merge in one year into one group"))
    return out


#: every rule family, in the order the report lists them
RULE_FAMILIES: tuple[Callable[[Facts], list[Violation]], ...] = (
    check_modes,
    check_windows,
    check_protected,
    check_mandatory,
    check_packages,
    check_new_capacity,
    check_targets,
    check_replacement,
    check_concentration,
    check_utilisation,
    check_works,
    check_fleet,
    check_upgrades,
    check_mergers,
    check_budget,
    check_workers,
    check_award_fund,
)

#: {rule family key of :data:`exitopt.rules.FAMILIES`: the check of that family}; the checks of
#: what is no family (modes, new capacity) are in :data:`RULE_FAMILIES` only
CHECKS: dict[str, Callable[[Facts], list[Violation]]] = {
    "targets": check_targets,
    "replacement": check_replacement,
    "concentration": check_concentration,
    "utilisation": check_utilisation,
    "packages": check_packages,
    "mandatory": check_mandatory,
    "protected": check_protected,
    "windows": check_windows,
    "works": check_works,
    "fleet": check_fleet,
    "upgrades": check_upgrades,
    "mergers": check_mergers,
    "budget": check_budget,
    "worker_caps": check_workers,
    "award_fund": check_award_fund,
}
