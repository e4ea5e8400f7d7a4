"""Solve a scenario: build the MIP, run HiGHS, read the plan back, price and explain it.

``solve_instance(inst)`` returns a :class:`Result` holding every table the run folder gets;
it raises :class:`InfeasibleError` (with a diagnosis) when no plan meets every rule. A run
that stops at a limit with a plan in hand returns normally with ``status == "limit"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
import pyomo.core as pyo

from . import highs
from .errors import InfeasibleError
from .inputs import Instance
from .model import build
from .model.cost import price
from .model.domain import protected_units
from .model.replacement import unit_indicators
from .output import versions

TOL = 1e-6


@dataclass
class Result:
    inst: Instance
    outcome: highs.Outcome
    schedule: pd.DataFrame
    summary: pd.DataFrame
    constraints: pd.DataFrame
    new_capacity: pd.DataFrame
    jobs: float
    fiscal: float
    build_seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def objective(self) -> float:
        return float(self.outcome.objective)

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


def _val(e) -> float:
    """Value of an expression; NaN when it has none (a share of nothing left divides by 0)."""
    try:
        v = pyo.value(e, exception=False)
    except ZeroDivisionError:
        return float("nan")
    return float(v) if v is not None else float("nan")


def read_schedule(m: pyo.ConcreteModel, inst: Instance) -> pd.DataFrame:
    """One row per unit, exiting or not, priced exactly as the objective prices it."""
    scen = inst.scenario
    units = inst.units
    chosen = {}
    for k in m.X:
        if m.x[k].value is not None and m.x[k].value > 0.5:
            chosen[k[0]] = (k[1], k[2])
    ind = unit_indicators(m, chosen)
    protected = protected_units(inst)
    rows = []
    for u, r in units.iterrows():
        year, mode = chosen.get(u, (None, None))
        cap = float(r["capacity"])
        c = scen.costs(r["sector"])
        losses = 0.0
        if r["loss_making"]:
            losses = float(r["subsidised_loss"]) * sum(1 for y in inst.years if year is None or y < year)
        if year is None:
            reason = f"protected: {protected[u]}" if u in protected else ""
            rows.append(dict(exit_year=None, mode="", counted=0.0, indicator=0.0, workers_displaced=0.0,
                             outlay=0.0, award=0.0, losses_paid=losses, reason=reason))
            continue
        indicator = min(ind.get(u, 0.0), cap)
        counted = cap - indicator
        displaced, outlay_full = price(scen, r["sector"], r["workers"], cap, year, mode)
        award = c.award_per_capacity * scen.ladder_at(year) * counted
        outlay = outlay_full + c.award_per_capacity * scen.ladder_at(year) * indicator
        if u in m.mandatory_of:
            reason = f"mandatory: {m.mandatory_of[u]}"
        elif u in m.package_of:
            reason = f"package: {m.package_of[u]}"
        else:
            reason = "chosen"
        rows.append(dict(exit_year=year, mode=mode, counted=counted, indicator=indicator,
                         workers_displaced=displaced, outlay=outlay, award=award, losses_paid=losses,
                         reason=reason))
    df = pd.DataFrame(rows, index=units.index)
    cols = ["unit_id", "name", "name_zh", "sector", "kind", "product", "firm", "group", "region", "capacity"]
    out = pd.concat([units[cols], df], axis=1).reset_index(drop=True)
    out["exit_year"] = out["exit_year"].astype("Int64")
    return out


def read_new_capacity(m: pyo.ConcreteModel, inst: Instance) -> pd.DataFrame:
    p = inst.projects
    if p.empty:
        return pd.DataFrame(columns=["project_id", "name", "product", "capacity", "year", "approval", "built"])
    built = [bool(j in m.J and (m.a[j].value or 0) > 0.5) for j in p.index]
    out = p[["project_id", "name", "product", "capacity", "year", "approval"]].copy()
    out["built"] = built
    return out.reset_index(drop=True)


def top_share(left: pd.Series, k: int) -> float:
    total = left.sum()
    return float(left.nlargest(k).sum() / total) if total > 0 else float("nan")


def summarise(schedule: pd.DataFrame, new: pd.DataFrame, inst: Instance) -> pd.DataFrame:
    """Per year and product: capacity path, exits, utilisation, concentration, jobs, outlay."""
    scen = inst.scenario
    units = inst.units
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
            row = dict(year=y, product=p, capacity_start=start, new_capacity=new_now,
                       exits=float(exiting["capacity"].sum()), counted=float(exiting["counted"].sum()),
                       indicator=float(exiting["indicator"].sum()), capacity_left=left,
                       demand=demand.get((p, y)), utilisation=None, concentration=None, concentration_k=None,
                       workers_displaced=float(exiting["workers_displaced"].sum()),
                       outlay=float(exiting["outlay"].sum()) + losses)
            if row["demand"] is not None and left > 0:
                row["utilisation"] = row["demand"] / left
            if p in conc:
                c = conc[p]
                holders = s.loc[~gone_now].groupby(c.by)["capacity"].sum()
                if not b.empty:
                    nb = b[b["year"] <= y].merge(inst.projects[[c.by]], left_on="project_id", right_index=True)
                    holders = holders.add(nb.groupby(c.by)["capacity"].sum(), fill_value=0)
                row["concentration"] = top_share(holders, c.top)
                row["concentration_k"] = c.top
            rows.append(row)
    return pd.DataFrame(rows)


#: how a row's sense reads in constraints.csv (words, so that Excel never takes "=…" for a formula)
SENSE_WORDS = {">=": "at least", "<=": "at most", "==": "exactly"}


def read_constraints(m: pyo.ConcreteModel, inst: Instance, duals: dict) -> pd.DataFrame:
    """One row per policy constraint: required, achieved, slack, binding, marginal cost.

    ``marginal_cost`` is the dual of the row in the LP left when every integer decision is fixed
    at the optimum: what one more unit of the requirement costs through the choices that are
    still continuous (the indicator split, the concentration weights). Where the rule is met by
    whole units alone it is 0; ``exitopt solve --explain`` re-solves for the cost of moving a
    target instead.
    """
    rows = []
    for r in m.rows:
        achieved = _val(r.lhs)
        required = _val(r.required)
        if r.sense == ">=":
            slack = achieved - required
        elif r.sense == "<=":
            slack = required - achieved
        else:
            slack = -abs(achieved - required)
        bound = r.con.lower if r.con.lower is not None else r.con.upper
        body_slack = _val(r.con.body) - _val(bound)
        # tolerance relative to the row's natural size (万吨 of capacity for a share rule)
        binding = abs(body_slack) <= 1e-6 * max(r.scale, abs(required), abs(_val(r.con.body)), 1.0)
        d = duals.get(r.con)
        rows.append(dict(rule=r.rule, name=r.name, year=r.year, product=r.product, sense=SENSE_WORDS[r.sense],
                         required=required, achieved=achieved, slack=slack, binding=bool(binding),
                         marginal_cost=(abs(float(d)) if d is not None and binding else 0.0),
                         unit=r.unit))
    for rule in inst.scenario.protected:
        sel = inst.select(rule.where)
        rows.append(dict(rule="protected", name=rule.name, year=None, product=None, sense="exactly", required=0.0,
                         achieved=0.0, slack=0.0, binding=None, marginal_cost=None,
                         unit=f"exits among {len(sel)} unit(s)"))
    for w in inst.scenario.windows:
        sel = inst.select(w.where)
        rows.append(dict(rule="window", name=w.name, year=None, product=None, sense="only in",
                         required=None, achieved=None, slack=None, binding=None, marginal_cost=None,
                         unit=f"{len(sel)} unit(s) may exit only in {', '.join(map(str, w.years))}"))
    df = pd.DataFrame(rows)
    if not df.empty:
        df["year"] = df["year"].astype("Int64")
    return df


def _solve_by_blocks(m: pyo.ConcreteModel, inst: Instance, time_limit: float | None,
                     cache: dict | None) -> highs.Outcome | None:
    """Solve the independent blocks (:mod:`exitopt.blocks`), fix their plans in the whole model
    ``m`` and solve it; the outcome when that plan is optimal for the whole within the gap, else
    None (the caller then solves the whole model)."""
    from .blocks import solve_blocks

    plans = solve_blocks(inst, time_limit=time_limit, cache=cache)
    if plans is None:
        return None
    exits = {u: e for p in plans for u, e in p.exits.items()}
    built = set().union(*(p.built for p in plans))
    fixed = []
    for k in m.X:
        m.x[k].fix(1.0 if exits.get(k[0]) == (k[1], k[2]) else 0.0)
        fixed.append(m.x[k])
    for j in m.J:
        if not m.a[j].fixed:
            m.a[j].fix(1.0 if j in built else 0.0)
            fixed.append(m.a[j])
    try:
        outcome, _ = highs.solve(m, inst.scenario.solver, time_limit=time_limit)
    finally:
        for v in fixed:
            v.unfix()
    if outcome.status != "optimal":
        return None  # the blocks' plans break a joint worker cap: solve the whole
    bound = sum(p.bound for p in plans)
    gap = highs.gap(outcome.objective, bound)
    seconds = sum(p.seconds for p in plans) + outcome.seconds
    if any(p.status == "limit" for p in plans):
        return highs.Outcome("limit", True, outcome.objective, bound, gap, seconds,
                             f"{len(plans)} independent blocks, one or more stopped at the time limit")
    if gap is None or gap > inst.scenario.solver.rel_gap + 1e-9:
        return None  # blocks of opposite sign can add up to a wider gap: solve the whole
    return highs.Outcome("optimal", True, outcome.objective, bound, gap, seconds,
                         f"{len(plans)} independent blocks, each solved to its gap")


def solve_instance(inst: Instance, *, time_limit: float | None = None, with_duals: bool = True,
                   blocks: bool = True, block_cache: dict | None = None) -> Result:
    """Build and solve; raise InfeasibleError with a diagnosis when no plan meets every rule.

    With ``blocks`` (the default), parts of the model that no rule ties together are solved one
    at a time and checked together (:mod:`exitopt.blocks`); ``block_cache`` (a dict kept by the
    caller, e.g. a sweep worker) lets a block that did not change skip its solve.
    """
    t0 = time.perf_counter()
    m = build(inst)
    t_build = time.perf_counter() - t0
    outcome = _solve_by_blocks(m, inst, time_limit, block_cache) if blocks else None
    if outcome is None:
        limit = time_limit if time_limit is not None else inst.scenario.solver.time_limit
        spent = time.perf_counter() - t0 - t_build  # by the blocks, if they were tried
        outcome, _ = highs.solve(m, inst.scenario.solver, time_limit=max(limit - spent, 0.1 * limit))
    if outcome.status == "infeasible":
        from .diagnose import diagnose  # only when needed: it loads all of pyomo.environ

        diag = diagnose(m, inst)
        raise InfeasibleError(diag.message(), diag)
    highs.require_plan(outcome)
    t1 = time.perf_counter()
    duals = {}
    if with_duals and m.rows:
        duals = highs.lp_duals(m, inst.scenario.solver, [r.con for r in m.rows])
    t_duals = time.perf_counter() - t1
    schedule = read_schedule(m, inst)
    new = read_new_capacity(m, inst)
    summary = summarise(schedule, new, inst)
    constraints = read_constraints(m, inst, duals)
    t_report = time.perf_counter() - t1 - t_duals
    return Result(inst, outcome, schedule, summary, constraints, new, jobs=_val(m.jobs), fiscal=_val(m.fiscal),
                  build_seconds=t_build, timings=_timings(t_build, outcome, t_duals, t_report))


def _timings(build_s: float, outcome: highs.Outcome, duals_s: float, report_s: float) -> dict[str, float]:
    """Seconds by stage: build (Pyomo model), handoff (model to HiGHS), highs (HiGHS's own run time),
    duals (fixed-plan LP for marginal costs), report (tables of the run folder)."""
    out = {"build": build_s}
    if outcome.solver_seconds is not None:
        out["handoff"] = max(outcome.seconds - outcome.solver_seconds, 0.0)
        out["highs"] = outcome.solver_seconds
    else:
        out["highs"] = outcome.seconds
    out.update(duals=duals_s, report=report_s)
    return out

