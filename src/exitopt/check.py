"""Check any exit plan against every rule of a scenario, and price it, without the optimiser.

A plan says, for each unit, the year it exits (or that it stays), the mode, and optionally how
much of its capacity is used as a replacement indicator. It may come from ``exitopt solve``
(its ``schedule.csv`` is a valid plan) or be typed by hand in Excel. This module reads it,
tests rules 1–9 of ``model.md`` and adds up the cost exactly as ``model.md`` defines it, using
pandas on the unit table only: it shares no code with the optimisation model, so that it is an
independent check of what the model reports.

Units: capacity in 万吨/yr, money in 万元, people in persons, calendar years.

Comparisons allow a tolerance of ``REL_TOL × max(1, |required|)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .inputs import NO_WORDS, YES_WORDS, Instance, read_text_table
from .scenario import MODES, Scenario

REL_TOL = 1e-6

#: words accepted in the ``mode`` column for a unit that stays (with an empty ``exit_year``)
_STAY_WORDS = ("", "stay", "stays")
#: thousands separators as Excel writes them (1,200 or 12,345.5); any other comma is not a number
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


# --------------------------------------------------------------------------------------------
# Plans


@dataclass
class Plan:
    """An exit plan for every unit of an instance.

    ``units`` is indexed by unit_id (every unit of the unit table, in its order) with columns
    ``exit_year`` (nullable Int64; missing = the unit stays), ``mode`` ('close' or 'relocate';
    '' for a unit that stays) and ``indicator`` (万吨; NaN = not given, the checker decides).
    """

    units: pd.DataFrame
    file: Path | None = None


def read_plan(path: Path | str, inst: Instance) -> Plan:
    """Read a plan CSV (UTF-8 with or without BOM, or GB18030/GBK as Chinese Excel saves it).

    Columns: ``unit_id`` and ``exit_year`` (required; an empty year means the unit stays),
    ``mode`` (close or relocate; empty means close when a year is given) and ``indicator``
    (万吨 of the unit's capacity used as a replacement indicator; optional). Other columns are
    ignored, so the ``schedule.csv`` written by ``exitopt solve`` is a valid plan. Units of the
    unit table that the plan does not list stay. Wrong cells raise ``InputError`` naming the
    file, the row as Excel numbers it (the header is row 1) and the column.
    """
    path = Path(path)
    df = read_text_table(path, "unit_id and exit_year (mode and indicator optional)")
    return plan_from_frame(df, inst, file=path)


def plan_from_frame(df: pd.DataFrame, inst: Instance, *, file: Path | str | None = None) -> Plan:
    """Build and validate a plan from a table shaped like the plan CSV (row i is Excel row i + 2)."""
    file = Path(file) if file is not None else None
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("unit_id", "exit_year") if c not in df.columns]
    if missing:
        raise InputError(
            f"the plan lacks column(s) {', '.join(missing)}. Its first row must name the columns: "
            f"unit_id, exit_year (empty for a unit that stays), and optionally mode and indicator.",
            file=file,
        )
    cells = pd.DataFrame({c: _as_text(df[c]) for c in df.columns if c in ("unit_id", "exit_year", "mode", "indicator")})
    cells["row"] = np.arange(len(cells)) + 2
    cells = cells[cells.drop(columns="row").ne("").any(axis=1)]  # blank lines Excel leaves behind

    ids = cells["unit_id"]
    _reject(cells, ids.eq(""), "unit_id", "is empty; give the unit's id or delete the row.", file,
            with_unit=False)
    units = inst.units
    _reject(cells, ~ids.isin(units.index), "unit_id",
            "unit '{unit_id}' is not in the unit table. Check the spelling against the unit table's unit_id column.",
            file, with_unit=False)
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        rows = cells.loc[ids.eq(first), "row"].astype(str)
        raise InputError(
            f"unit '{first}' appears more than once (rows {', '.join(rows)}, column 'unit_id'). "
            f"A unit exits at most once: keep one row for it.",
            file=file,
        )

    scen = inst.scenario
    year_text = cells["exit_year"]
    year_num = _numbers(year_text)
    given = year_text.ne("")
    _reject(cells, given & (year_num.isna() | (year_num != year_num.round())), "exit_year",
            "'{exit_year}' is not a year. Write the exit year as a number such as 2017, "
            "or leave the cell empty for a unit that stays.", file)
    _reject(cells, given & ~year_num.isin(scen.years), "exit_year",
            f"'{{exit_year}}' is outside the plan {scen.first_year}–{scen.last_year}. "
            f"A unit that stays beyond the plan has an empty exit_year.", file)

    mode = cells["mode"].str.lower() if "mode" in cells else pd.Series("", index=cells.index)
    _reject(cells, ~mode.isin([*MODES, *_STAY_WORDS]), "mode",
            f"'{{mode}}' is not an exit mode. Write one of {', '.join(MODES)} (empty means close).", file)
    _reject(cells, ~given & mode.isin(MODES), "mode",
            "says '{mode}' but exit_year is empty. Give the exit year, or clear the mode for a unit that stays.", file)
    _reject(cells, given & mode.isin(_STAY_WORDS[1:]), "mode",
            "says '{mode}' but exit_year gives a year. Clear one of the two.", file)
    mode = mode.where(mode.isin(MODES), "close").where(given, "")

    if "indicator" in cells:
        ind_text = cells["indicator"]
        ind = _numbers(ind_text)
        has = ind_text.ne("")
        _reject(cells, has & ind.isna(), "indicator",
                "'{indicator}' is not a number (万吨); write decimals with a point (1.5). "
                "Leave it empty to let the checker decide.", file)
        _reject(cells, has & (ind < 0), "indicator",
                "'{indicator}' is negative; an indicator is 0 or more 万吨.", file)
        cap = ids.map(units["capacity"])
        _reject(cells, has & (ind > cap * (1 + REL_TOL)), "indicator",
                "{indicator} 万吨 is more than the unit's capacity of {capacity:g} 万吨.", file,
                extra={"capacity": cap})
    else:
        ind = pd.Series(np.nan, index=cells.index)

    out = pd.DataFrame(index=units.index)
    out.index.name = "unit_id"
    out["exit_year"] = pd.Series(year_num.where(given).values, index=ids.values).reindex(units.index).astype("Int64")
    out["mode"] = pd.Series(mode.values, index=ids.values).reindex(units.index).fillna("")
    out["indicator"] = pd.Series(ind.values, index=ids.values, dtype=float).reindex(units.index)
    return Plan(out, file)


def _numbers(text: pd.Series) -> pd.Series:
    """Text cells as numbers (NaN where empty or not a number); '1,200' is 1200 but '1,5' is not a number."""
    plain = text.map(lambda v: v.replace(",", "") if _THOUSANDS.fullmatch(v) else v)
    num = pd.to_numeric(plain, errors="coerce")
    return num.where(np.isfinite(num))


def _as_text(col: pd.Series) -> pd.Series:
    """Cells as stripped text; missing values become ''."""
    return col.astype(object).where(col.notna(), "").astype(str).str.strip().replace({"nan": "", "<NA>": ""})


def _reject(cells: pd.DataFrame, bad: pd.Series, column: str, message: str, file: Path | None, *,
            with_unit: bool = True, extra: dict[str, pd.Series] | None = None) -> None:
    """Raise InputError for the first row where ``bad`` holds; ``message`` may use {column} fields."""
    bad = bad.fillna(False).astype(bool)
    if not bad.any():
        return
    i = bad.idxmax()
    fields = {c: cells.at[i, c] for c in cells.columns}
    fields.update({k: v.at[i] for k, v in (extra or {}).items()})
    where = f"row {cells.at[i, 'row']}"
    if with_unit:
        where += f" (unit {cells.at[i, 'unit_id']})"
    more = int(bad.sum()) - 1
    tail = f" {more} more row(s) have the same problem." if more else ""
    raise InputError(f"{where}, column '{column}': {message.format(**fields)}{tail}", file=file)


def read_project_approvals(path: Path | str, inst: Instance) -> set[str]:
    """Read which new-capacity projects the plan approves; return the set of approved ids.

    Columns ``project_id`` and ``approved`` (true/false, 1/0, yes/no, 是/否), or ``built`` instead
    of ``approved`` as in a run's ``new_capacity.csv``; other columns are ignored. A project the
    file does not list keeps the scenario's status (approved projects stay approved, candidates
    are not approved). Whether the approvals are allowed at all (approving a
    rejected project, dropping an approved one) is a rule that :func:`check_plan` reports.
    """
    path = Path(path)
    df = read_text_table(path, "project_id and approved")
    df.columns = [str(c).strip() for c in df.columns]
    flag = next((c for c in ("approved", "built") if c in df.columns), None)
    if "project_id" not in df.columns or flag is None:
        raise InputError("the project approvals need columns project_id and approved (a run's new_capacity.csv, "
                         "with its built column, also works). The first row must name the columns.", file=path)
    cells = pd.DataFrame({"project_id": _as_text(df["project_id"]), flag: _as_text(df[flag]).str.lower()})
    cells["row"] = np.arange(len(cells)) + 2
    cells = cells[cells[["project_id", flag]].ne("").any(axis=1)]
    ids = cells["project_id"]

    def reject(bad: pd.Series, column: str, message: str) -> None:
        if bad.any():
            i = bad.idxmax()
            raise InputError(f"row {cells.at[i, 'row']}, column '{column}': "
                             + message.format(**cells.loc[i].to_dict()), file=path)

    reject(ids.eq(""), "project_id", "is empty; give the project's id or delete the row.")
    reject(~ids.isin(inst.projects.index), "project_id",
           "project '{project_id}' is not in the projects table of the scenario.")
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        rows = ", ".join(cells.loc[ids.eq(first), "row"].astype(str))
        raise InputError(f"project '{first}' appears more than once (rows {rows}, column 'project_id').", file=path)
    reject(~cells[flag].isin(YES_WORDS | NO_WORDS), flag,
           f"'{{{flag}}}' is not true/false. Write true or false (1/0 also work).")

    approved = set(inst.projects.index[inst.projects["approval"] == "approved"])
    listed = dict(zip(ids, cells[flag].isin(YES_WORDS)))
    return {p for p in approved if p not in listed} | {p for p, yes in listed.items() if yes}


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Violation:
    """One rule the plan breaks, as the analyst reads it."""

    rule: str
    name: str
    year: int | None
    product: str | None
    required: float | None
    achieved: float | None
    message: str


@dataclass
class CheckResult:
    """What :func:`check_plan` found: broken rules, and the plan's cost.

    ``units``: one row per unit (unit_id, product, capacity, exit_year, mode, counted, indicator,
    workers_displaced, outlay, award, losses_paid); ``outlay`` is undiscounted, in the exit
    year, net of the award; ``losses_paid`` is the unit's subsidised losses over the plan years.
    ``years``: per year, exits, capacity exited, displaced workers, exit outlay, subsidised
    losses paid (losses_paid), total outlay (万元, undiscounted), discount factor and present value.
    """

    scenario: str
    violations: list[Violation]
    units: pd.DataFrame
    years: pd.DataFrame
    jobs: float
    fiscal: float
    objective: float
    indicators_allocated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def violation_table(self) -> pd.DataFrame:
        cols = ["rule", "name", "year", "product", "required", "achieved", "message"]
        return pd.DataFrame([v.__dict__ for v in self.violations], columns=cols)


def format_report(result: CheckResult, limit: int | None = None) -> str:
    """A short text: OK or one line per broken rule (at most ``limit``), then jobs, fiscal, objective."""
    lines = []
    if result.ok:
        lines.append(f"OK: the plan meets every rule of scenario '{result.scenario}'.")
    else:
        n = len(result.violations)
        lines.append(f"The plan breaks the rules of scenario '{result.scenario}' {n} time(s):")
        shown = result.violations if limit is None else result.violations[:limit]
        lines += [f"  - {v.rule}: {v.message}" for v in shown]
        if len(shown) < n:
            lines.append(f"  … and {n - len(shown)} more.")
    if result.indicators_allocated:
        lines.append("Replacement indicators allocated by the checker for: "
                     + ", ".join(result.indicators_allocated) + ".")
    lines.append(f"Jobs: {result.jobs:,.1f} displaced workers")
    lines.append(f"Fiscal: {result.fiscal:,.1f} 万元 (present value)")
    lines.append(f"Objective: {result.objective:,.1f}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Checking


def check_plan(inst: Instance, plan: Plan, approved_projects: Iterable[str] | None = None) -> CheckResult:
    """Test ``plan`` against every rule of ``inst.scenario`` and price it as ``model.md`` defines.

    ``approved_projects``: ids of the new-capacity projects the plan builds; by default the
    projects whose approval is ``approved`` (candidates are not built).

    Replacement indicators: for a product with a replacement rule where the plan gives no
    indicator on any unit, the checker allocates them itself, deterministically: eligible exited
    units of that product are taken in order of exit year, then lowest award per 万吨
    (award_per_capacity × ladder[exit year]), then unit_id; going through the planning years in
    order, each unit gives as much of its capacity as that year's cumulative requirement
    (ratio × approved new capacity up to the year) still lacks, and no more. Where the plan gives
    an indicator on some unit of a product, empty cells of that product mean 0.
    """
    facts = _facts(inst, plan, approved_projects)
    violations = [v for family in RULE_FAMILIES for v in family(facts)]
    scen = inst.scenario
    jobs = float(facts.units["workers_displaced"].sum())
    fiscal = float(facts.years["outlay_pv"].sum())
    objective = scen.objective.jobs_weight * jobs + scen.objective.fiscal_weight * fiscal
    cols = ["unit_id", "product", "capacity", "exit_year", "mode", "counted", "indicator",
            "workers_displaced", "outlay", "award", "losses_paid"]
    return CheckResult(scen.name, violations, facts.units[cols].reset_index(drop=True), facts.years,
                       jobs, fiscal, objective, facts.allocated)


@dataclass
class _Facts:
    """The plan joined to the unit table, with indicators, costs and remaining capacity worked out."""

    inst: Instance
    scen: Scenario
    units: pd.DataFrame  # unit table + exit_year, mode, indicator, counted, cost columns
    approved: set[str]
    projects: pd.DataFrame  # approved projects only
    remaining: pd.DataFrame  # product × year, 万吨 still there
    years: pd.DataFrame
    allocated: list[str]


def _facts(inst: Instance, plan: Plan, approved_projects: Iterable[str] | None) -> _Facts:
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
    return _Facts(inst, scen, u, approved, built, _remaining(scen, u, built), _yearly(scen, u), allocated)


def _award_rate(scen: Scenario, u: pd.DataFrame) -> pd.Series:
    """Award per 万吨 counted: award_per_capacity[sector] × ladder[exit year] (0 for units that stay)."""
    per_cap = u["sector"].map({s: scen.costs(s).award_per_capacity for s in u["sector"].unique()})
    ladder = u["gone_year"].map({y: scen.ladder_at(y) for y in scen.years}).fillna(0.0)
    return (per_cap * ladder).where(u["exits"], 0.0).astype(float)


def _required_indicators(scen: Scenario, built: pd.DataFrame) -> dict[str, pd.Series]:
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
    for product, need in _required_indicators(scen, built).items():
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
        while used < total - REL_TOL * _tol(total) and i < len(ids) and years[i] <= year:
            take = min(room[i], total - used)
            out[ids[i]] += take
            used += take
            room[i] -= take
            if room[i] <= 0:
                i += 1
    return out


def _price(scen: Scenario, u: pd.DataFrame) -> None:
    """Add the cost columns of ``model.md``, for unit u exiting in year y by mode m, t = y − first year.

    D = workers × (1 − attrition)^t × (1 − redeployed_share[sector][m]);
    outlay in y = resettlement_per_worker[sector] × D + exit_cost_per_capacity[sector][m] × capacity
    − award_per_capacity[sector] × ladder[y] × counted, with counted = capacity − indicator;
    losses_paid = subsidised_loss × (years of the plan before the exit year) for loss-making units.
    Missing sectors, modes and years take the scenario's defaults (0, ladder 1).
    """
    costs = {s: scen.costs(s) for s in u["sector"].unique()}
    t = (u["gone_year"] - scen.first_year).astype(float)
    keep = [costs[s].redeployed_share.get(m, 0.0) if m else 0.0 for s, m in zip(u["sector"], u["mode"])]
    exit_cost = [costs[s].exit_cost_per_capacity.get(m, 0.0) if m else 0.0 for s, m in zip(u["sector"], u["mode"])]
    resettle = u["sector"].map({s: c.resettlement_per_worker for s, c in costs.items()}).astype(float)
    exits = u["exits"]
    u["counted"] = (u["capacity"] - u["indicator"]).where(exits, 0.0)
    u["workers_displaced"] = (u["workers"] * (1 - scen.attrition) ** t * (1 - np.array(keep))).where(exits, 0.0)
    u["award"] = u["award_rate"] * u["counted"]
    spent = resettle * u["workers_displaced"] + np.array(exit_cost) * u["capacity"]
    u["outlay"] = (spent - u["award"]).where(exits, 0.0)
    loss = u["subsidised_loss"].astype(float).where(u["loss_making"], 0.0)
    u["loss_rate"] = loss
    u["losses_paid"] = loss * t.clip(upper=len(scen.years))


def _yearly(scen: Scenario, u: pd.DataFrame) -> pd.DataFrame:
    """Per year: exits, capacity exited, displaced workers, outlay (万元, undiscounted) and its present value."""
    ex = u[u["exits"]]
    g = ex.groupby("gone_year")
    years = pd.DataFrame(index=pd.Index(scen.years, name="year"))
    years["exits"] = g.size().reindex(scen.years, fill_value=0).astype(int)
    years["capacity_exited"] = g["capacity"].sum().reindex(scen.years, fill_value=0.0)
    years["workers_displaced"] = g["workers_displaced"].sum().reindex(scen.years, fill_value=0.0)
    years["exit_outlay"] = g["outlay"].sum().reindex(scen.years, fill_value=0.0)
    losers = u[u["loss_rate"] > 0]
    years["losses_paid"] = [float(losers.loc[losers["gone_year"] > y, "loss_rate"].sum()) for y in scen.years]
    years["outlay"] = years["exit_outlay"] + years["losses_paid"]
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


# --------------------------------------------------------------------------------------------
# Rule families: each takes the facts and returns the violations of its rule.


def _tol(ref: float) -> float:
    return REL_TOL * max(1.0, abs(ref))


def _below(achieved: float, required: float) -> bool:
    return achieved < required - _tol(required)


def _above(achieved: float, limit: float) -> bool:
    return achieved > limit + _tol(limit)


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


def _year(v: object) -> int | None:
    return None if pd.isna(v) else int(v)


def check_modes(f: _Facts) -> list[Violation]:
    """Exit mode: a unit exits by relocation only when the unit table says it is relocatable."""
    u = f.units
    bad = u[(u["mode"] == "relocate") & ~u["relocatable"]]
    return [Violation("mode", r.Index, _year(r.exit_year), r.product, None, None,
                      f"unit {r.Index} is relocated in {r.exit_year}, but the unit table does not mark it relocatable")
            for r in bad.itertuples()]


def check_windows(f: _Facts) -> list[Violation]:
    """Windows (rule 8): a unit exits only in years that its exit_years column (when given) and
    every window selecting it allow."""
    u = f.units
    out = []
    ex = u[u["exits"]]
    outside = np.array([ay is not None and y not in ay for ay, y in zip(ex["allowed_years"], ex["gone_year"])],
                       dtype=bool)
    for r in ex[outside].itertuples():
        out.append(Violation("window", r.Index, int(r.exit_year), r.product, None, float(r.exit_year),
                             f"unit {r.Index} exits in {r.exit_year}, but its exit_years allow only "
                             f"{_years(r.allowed_years)}"))
    for w in f.scen.windows:
        bad = ex[w.where.mask(ex) & ~ex["gone_year"].isin(w.years)]
        out += [Violation("window", w.name, int(r.exit_year), r.product, None, float(r.exit_year),
                          f"unit {r.Index} exits in {r.exit_year}, but window '{w.name}' allows only {_years(w.years)}")
                for r in bad.itertuples()]
    return out


def check_protected(f: _Facts) -> list[Violation]:
    """Protected units (rule 7): a selected unit does not exit."""
    u = f.units
    out = []
    for p in f.scen.protected:
        bad = u[p.where.mask(u) & u["exits"]]
        out += [Violation("protected", p.name, int(r.exit_year), r.product, None, float(r.exit_year),
                          f"unit {r.Index} is protected by '{p.name}' but exits in {r.exit_year}")
                for r in bad.itertuples()]
    return out


def check_mandatory(f: _Facts) -> list[Violation]:
    """Mandatory exits (rule 6): a selected unit exits in or before the rule's year."""
    u = f.units
    out = []
    for m in f.scen.mandatory:
        bad = u[m.where.mask(u) & (u["gone_year"] > m.by)]
        for r in bad.itertuples():
            when = f"exits only in {r.exit_year}" if r.exits else "does not exit"
            out.append(Violation("mandatory", m.name, m.by, r.product, float(m.by), _year(r.exit_year),
                                 f"unit {r.Index} must exit by {m.by} under '{m.name}' but {when}"))
    return out


def check_packages(f: _Facts) -> list[Violation]:
    """Packages (rule 5): all members exit in one year, each by its listed mode, or none exits;
    a required package exits, by its ``by`` year when given."""
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
            out.append(Violation("package", p.name, year, None, required, achieved, f"package '{p.name}' {message}"))

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


def check_new_capacity(f: _Facts) -> list[Violation]:
    """New capacity: projects the scenario approves are built; projects it rejects are not."""
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


def check_targets(f: _Facts) -> list[Violation]:
    """Exit targets (rule 1): counted capacity (capacity − indicator) of selected units of the
    product exited in or before ``by`` is at least ``at_least`` and at most ``at_most``; the
    number of those units is at least ``count_at_least`` and at most ``count_at_most``."""
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


def check_replacement(f: _Facts) -> list[Violation]:
    """Reduced-quantity replacement (rule 2): for a product with a ratio and each year y, the
    indicators of eligible units of the product exited in or before y are at least ratio × the
    approved new capacity of the product up to y, and in all no more than ratio × all approved new
    capacity (only the part used is an indicator). An indicator on an ineligible unit, on a unit
    that does not exit, or on a product without a replacement rule is itself a violation."""
    u = f.units
    out = []
    has = u["indicator"] > _tol(0.0)
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
    for product, need in _required_indicators(f.scen, f.projects).items():
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


def check_concentration(f: _Facts) -> list[Violation]:
    """Concentration (rule 3): in each listed year, the ``top`` largest firms/groups of the product
    (by remaining capacity: units not yet exited plus approved projects on line) hold at least
    ``share`` of the product's remaining capacity."""
    u = f.units
    out = []
    for c in f.scen.concentration:
        units = u[u["product"] == c.product]
        projects = f.projects[f.projects["product"] == c.product]
        for y in c.years:
            held = units.loc[units["gone_year"] > y].groupby(c.by)["capacity"].sum()
            held = held.add(projects.loc[projects["year"] <= y].groupby(c.by)["capacity"].sum(), fill_value=0.0)
            total = float(held.sum())
            top = float(held.nlargest(c.top).sum())
            if _below(top, c.share * total):
                achieved = top / total
                out.append(Violation("concentration", c.name, y, c.product, c.share, achieved,
                                     f"concentration '{c.name}' ({c.product}, top {c.top} {c.by}s) in {y}: "
                                     f"{achieved:.1%} of {total:,.1f} 万吨 held, {c.share:.1%} required"))
    return out


def check_utilisation(f: _Facts) -> list[Violation]:
    """Utilisation and supply (rule 4): remaining capacity of the product in a demand year is at
    most demand / min_utilisation (when given) and at least demand × (1 + reserve) (when given)."""
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


def check_budget(f: _Facts) -> list[Violation]:
    """Budget (rule 9a): outlay in a year (undiscounted, subsidised losses included, awards
    subtracted) is at most ``caps.budget[year]``."""
    outlay = f.years.set_index("year")["outlay"]
    out = []
    for y, budget in sorted(f.scen.caps.budget.items()):
        spent = float(outlay[y])
        if _above(spent, budget):
            a, r = _pair(spent, budget)
            out.append(Violation("budget", "caps.budget", y, None, budget, spent,
                                 f"budget in {y}: {a} 万元 spent, at most {r} allowed"))
    return out


def check_workers(f: _Facts) -> list[Violation]:
    """Labour market (rule 9b): displaced workers per region per year are at most ``per_year``
    in each region the cap names (every region when it names none)."""
    u = f.units
    by_region = u[u["exits"]].groupby(["region", "gone_year"])["workers_displaced"].sum()
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


#: every rule family, in the order the report lists them
RULE_FAMILIES: tuple[Callable[[_Facts], list[Violation]], ...] = (
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
    check_budget,
    check_workers,
)
