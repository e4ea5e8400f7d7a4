"""Solve a scenario: build the MIP, run HiGHS, read the plan back, price and explain it.

``solve_instance(inst)`` returns a :class:`Result` holding every table the run folder gets;
it raises :class:`InfeasibleError` (with a diagnosis) when no plan meets every rule. A run
that stops at a limit with a plan in hand returns normally with ``status == "limit"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from . import highs
from .binding import binds
from .engine import Engine, Progress, Solution, quiet, raise_infeasible
from .inputs import Instance
from .model.base import value_of
from .model.cost import contribution
from .model.exit_model import ExitModel
from .output import versions
from .report.chinese import names_of
from .rules import FAMILIES


@dataclass
class Result(Solution):
    """A solved plan with every table of its run folder."""

    inst: Instance = None  # type: ignore[assignment]  # always given; a default as Solution's fields have
    summary: pd.DataFrame = None
    constraints: pd.DataFrame = None
    timings: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict:
        """The machine-readable record of the run (run.json)."""
        o = self.outcome
        return {
            "scenario": self.inst.scenario.name,
            "status": o.status,
            "solver_message": o.message,
            "objective": o.objective,
            "bound": o.bound,
            "gap": o.gap,
            "jobs": self.jobs,
            "fiscal": self.fiscal,
            "seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "units_exiting": int(self.schedule["exit_year"].notna().sum()),
            "projects_built": [str(j) for j in self.new_capacity.loc[self.new_capacity["built"], "project_id"]]
            if not self.new_capacity.empty else [],
            "versions": versions(),
            "sha256": self.inst.hashes(),
            "names_zh": names_of(self.inst),
        }

    def files(self) -> dict:
        """{file name: content} of the run folder."""
        return {
            "schedule.csv": self.schedule,
            "summary.csv": self.summary,
            "constraints.csv": self.constraints,
            "new_capacity.csv": self.new_capacity,
            "run.json": self.record(),
        }


def top_share(left: pd.Series, k: int) -> float:
    total = left.sum()
    return float(left.nlargest(k).sum() / total) if total > 0 else float("nan")


def summarise(schedule: pd.DataFrame, new: pd.DataFrame, inst: Instance) -> pd.DataFrame:
    """Per year and product: capacity path, exits, utilisation, concentration, jobs, outlay.

    ``outlay`` is the year's whole fiscal cost (万元, undiscounted): the exits' outlay (the
    stranded value written off included), the losses of the units still running and the
    revenue foregone of the units gone; ``revenue_foregone`` and ``stranded_value`` show those
    two parts of it; ``award_base`` and ``award_ladder`` the award's two parts, when a sector
    gives a base share.
    """
    scen = inst.scenario
    units = inst.units
    pays = {u: contribution(scen, r) for u, r in units.iterrows()}
    demand = {(u.product, y): d for u in scen.utilisation for y, d in u.demand.items()}
    conc = {c.product: c for c in scen.concentration}
    built = new[new["built"]] if not new.empty else new
    rows = []
    products = sorted(set(schedule["product"]) | set(built["product"] if not built.empty else []))
    for p in products:
        s = schedule[schedule["product"] == p]
        b = built[built["product"] == p] if not built.empty else built
        for y in inst.years:
            gone_before = s["exit_year"].notna() & (s["exit_year"] < y)
            gone_now = s["exit_year"].notna() & (s["exit_year"] <= y)
            new_before = float(b.loc[b["year"] < y, "capacity"].sum()) if not b.empty else 0.0
            new_now = float(b.loc[b["year"] == y, "capacity"].sum()) if not b.empty else 0.0
            start = float(s.loc[~gone_before, "capacity"].sum()) + new_before
            exiting = s[s["exit_year"] == y]
            left = float(s.loc[~gone_now, "capacity"].sum()) + new_before + new_now
            losses = float((units.loc[s.loc[~gone_now, "unit_id"], "subsidised_loss"]
                            * units.loc[s.loc[~gone_now, "unit_id"], "loss_making"]).sum())
            foregone = float(sum(pays[u] for u in s.loc[gone_now, "unit_id"]))
            stranded = float(exiting["stranded_value"].sum()) / scen.discount(y)  # the schedule's is discounted
            outlay = float(exiting["outlay"].sum()) + losses
            merging = s[s["merge_year"] == y] if "merge_year" in s else s.iloc[:0]  # mergers of the year
            if not merging.empty:
                outlay += float(merging["outlay"].sum())
            if "upgrade_year" in s:  # upgrades of the year (docs/model.md#upgrades)
                outlay += float(s.loc[s["upgrade_year"] == y, "upgrade_outlay"].sum())
            if foregone:
                outlay += foregone
            row = dict(year=y, product=p, capacity_start=start, new_capacity=new_now,
                       exits=float(exiting["capacity"].sum()), counted=float(exiting["counted"].sum()),
                       indicator=float(exiting["indicator"].sum()), capacity_left=left,
                       demand=demand.get((p, y)), utilisation=None, concentration=None, concentration_k=None,
                       workers_displaced=float(exiting["workers_displaced"].sum())
                       + float(merging["workers_displaced"].sum()),
                       outlay=outlay, revenue_foregone=foregone, stranded_value=stranded)
            if "award_base" in exiting:  # the award's base and ladder parts, when a sector splits it
                row["award_base"] = float(exiting["award_base"].sum())
                row["award_ladder"] = float(exiting["award_ladder"].sum())
            if row["demand"] is not None and left > 0:
                row["utilisation"] = row["demand"] / left
            if p in conc:
                c = conc[p]
                holder = s[c.by]
                if c.by == "group" and "merge_year" in s:  # a merged unit is its acquirer's (mergers)
                    holder = holder.where(~(s["merge_year"] <= y).fillna(False), s["acquirer"])
                holders = s.loc[~gone_now].groupby(holder[~gone_now])["capacity"].sum()
                if not b.empty:
                    nb = b[b["year"] <= y].merge(inst.projects[[c.by]], left_on="project_id", right_index=True)
                    holders = holders.add(nb.groupby(c.by)["capacity"].sum(), fill_value=0)
                row["concentration"] = top_share(holders, c.top)
                row["concentration_k"] = c.top
            rows.append(row)
    return pd.DataFrame(rows)


#: how a row's sense reads in constraints.csv (words, so that Excel never takes "=…" for a formula)
SENSE_WORDS = {">=": "at least", "<=": "at most", "==": "exactly"}


def read_constraints(m: ExitModel, inst: Instance, duals: dict) -> pd.DataFrame:
    """One row per policy constraint: required, achieved, slack, binding, marginal cost.

    ``marginal_cost`` is the dual of the row in the LP left when every integer decision is fixed
    at the optimum: what one more unit of the requirement costs through the choices that are
    still continuous (the indicator split, the concentration weights). Where the rule is met by
    whole units alone it is 0; ``exitopt solve --explain`` re-solves for the cost of moving a
    target instead.
    """
    rows = []
    for r in m.rows:
        achieved = value_of(r.lhs)
        required = value_of(r.required)
        if r.sense == ">=":
            slack = achieved - required
        elif r.sense == "<=":
            slack = required - achieved
        else:
            slack = -abs(achieved - required)
        binding = bool(binds(required, achieved))
        d = duals.get(r.con)
        rows.append(dict(rule=r.rule, name=r.name, year=r.year, product=r.product, sense=SENSE_WORDS[r.sense],
                         required=required, achieved=achieved, slack=slack, binding=bool(binding),
                         marginal_cost=(abs(float(d)) if d is not None and binding else 0.0),
                         unit=r.unit))
    for family in FAMILIES:  # rules with no row in the model (protected units, windows)
        if family.notes is not None:
            rows += [family.notes(inst, rule) for rule in family.rules_of(inst.scenario)]
    df = pd.DataFrame(rows)
    if not df.empty:
        df["year"] = df["year"].astype("Int64")
    return df


def solve_instance(inst: Instance, *, time_limit: float | None = None, with_duals: bool = True,
                   blocks: bool = True, block_cache: dict | None = None, engine: Engine | None = None) -> Result:
    """Build and solve; raise InfeasibleError with a diagnosis when no plan meets every rule.

    With ``blocks`` (the default), parts of the model that no rule ties together are solved one
    at a time and checked together (:mod:`exitopt.blocks`); ``block_cache`` (a dict kept by the
    caller, e.g. a sweep worker) lets a block that did not change skip its solve. An ``engine``
    that solved a variant of ``inst`` before lets this solve reuse that work.
    """
    t0 = time.perf_counter()
    engine = engine if engine is not None else Engine(inst, blocks=blocks, cache=block_cache)
    sol, m = engine.solve(inst, time_limit=time_limit)
    if sol is None:
        raise_infeasible(inst, m)
    return result_of(inst, sol, m, with_duals=with_duals, solve_seconds=time.perf_counter() - t0)


def result_of(inst: Instance, sol: Solution, m: ExitModel, *, with_duals: bool = True,
              solve_seconds: float = 0.0) -> Result:
    """The run's tables for a plan ``sol`` held in the whole model ``m``: duals, summary, constraints."""
    t0 = time.perf_counter()
    duals = {}
    if with_duals and m.rows:
        duals = highs.lp_duals(m, inst.scenario.solver, [r.con for r in m.rows])
    t_duals = time.perf_counter() - t0
    summary = summarise(sol.schedule, sol.new_capacity, inst)
    constraints = read_constraints(m, inst, duals)
    t_report = time.perf_counter() - t0 - t_duals
    return Result(sol.outcome, sol.schedule, sol.new_capacity, sol.jobs, sol.fiscal, sol.objective, inst=inst,
                  summary=summary, constraints=constraints,
                  timings=_timings(solve_seconds, sol.outcome, t_duals, t_report))


def _timings(solve_s: float, outcome: highs.Outcome, duals_s: float, report_s: float) -> dict[str, float]:
    """Seconds by stage: solve (building the models, handing them to HiGHS and solving), of which
    highs (HiGHS's own run time) when known; duals (fixed-plan LP for marginal costs), report
    (tables of the run folder)."""
    out = {"solve": solve_s}
    if outcome.solver_seconds is not None:
        out["highs"] = outcome.solver_seconds
    out.update(duals=duals_s, report=report_s)
    return out



# --------------------------------------------------------------------------------------------
# What `exitopt solve` runs


@dataclass
class SolveRun:
    """A solved run with its folder's files and the console lines about pins and explanations."""

    result: Result
    files: dict
    lines: list[str]
    cut_short: bool = False  # a pin's price or an explanation's re-solve ran out of time


def solve_run(inst: Instance, pins: list, *, explain: bool = False, time_limit: float | None = None,
              progress: Progress = quiet, clock: highs.Deadline | None = None) -> SolveRun:
    """Solve ``inst`` with ``pins`` (pins.csv priced when any) and, with ``explain``, margins.csv.

    One :class:`exitopt.engine.Engine` serves every solve of the run: the plan, the pins' prices
    and the explanation's re-solves; ``clock`` (the command's) is handed down to the latter.
    """
    engine = Engine(inst)
    lines: list[str] = []
    cut = False
    if pins:
        from .pins import OUT_OF_TIME, solve_pinned

        t0 = time.perf_counter()
        run = solve_pinned(engine, pins, time_limit=time_limit, progress=progress)
        res = result_of(run.inst, run.solution, run.model, solve_seconds=time.perf_counter() - t0)
        files = dict(res.files())
        files["pins.csv"] = run.costs
        files["run.json"] = {**files["run.json"], "pins": [p.label for p in pins]}
        lines += ["cost of the pins, objective units (re-solved):", *[f"  {x}" for x in run.lines()]]
        cut |= bool((run.costs["status"] == OUT_OF_TIME).any())
    else:
        res = solve_instance(inst, time_limit=time_limit, engine=engine)
        files = dict(res.files())
    if explain:
        from .explain import OUT_OF_TIME as EXPLAIN_OUT_OF_TIME, explain as explain_run

        ex = explain_run(res, time_limit=time_limit, clock=clock, progress=progress, engine=engine)
        files["schedule.csv"] = ex.schedule
        files["margins.csv"] = ex.margins
        lines.append(f"margins.csv: {len(ex.margins)} re-solved margin(s) and swap(s)")
        cut |= bool((ex.margins["status"] == EXPLAIN_OUT_OF_TIME).any())
    return SolveRun(res, files, lines, cut)
