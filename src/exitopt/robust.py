"""One plan for every case of a sweep (docs/model.md#robust).

A sweep gives each case its own best plan. ``exitopt robust SWEEP.toml`` gives one plan — one
exit year and mode per unit, one set of projects built, one split of the retired capacity into
counted capacity and replacement indicators — that meets the rules of every case, and prices it
in each. The model holds every case's own model (:func:`exitopt.model.build`) as a block of one
Pyomo model; the blocks' decisions are tied to one master copy by equalities, their cost and
rows stay their own, and the master minimises

* ``expected``: the weighted mean of the cases' costs (weights from the sweep file's
  ``[robust] weights``, 1 when not given, normalised to sum 1);
* ``worst``: the highest case cost (an epigraph variable above every case's cost);
* ``regret``: the highest cost above the case's own optimum, which comes from the sweep's
  ledger when it holds the case solved to optimality, else from solving the case first.

With ``worst`` and ``regret`` a second solve keeps the first one's optimum and lowers the
expected cost among the plans that reach it, so that the cases that do not set the maximum are
not left at any cost.
"""

from __future__ import annotations

import io
import json
import math
import os
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyomo.core as pyo

from . import highs
from .binding import required_exit, trivial
from .engine import read, round_integers
from .errors import InfeasibleError, InputError, LimitReached
from .inputs import Instance, bind
from .model import build
from .model.cost import exit_price
from .model.exit_model import ExitModel
from .sweep.spec import Case, Sweep, apply, read_sweep
from .toml_text import toml_text

OBJECTIVES = ("expected", "worst", "regret")
#: what each objective is called in the terminal, regret.csv and run.json
OBJECTIVE_TITLES = {"expected": "least expected cost", "worst": "least worst-case cost",
                    "regret": "least worst regret"}


@dataclass
class RobustCase:
    """One case of the sweep: its scenario bound to the tables, its weight, its own optimum."""

    case: Case
    inst: Instance
    weight: float  # normalised: the weights of all cases sum to 1
    own: float | None = None  # the case's own optimum (objective units)
    own_status: str = ""  # optimal | limit (the best plan found in time)
    own_source: str = ""  # ledger | solved
    own_exits: dict[str, int] = field(default_factory=dict)  # {unit: exit year} of the case's own plan
    block: ExitModel | None = None

    @property
    def id(self) -> str:
        return self.case.id

    def describe(self) -> str:
        vals = ", ".join(f"{k} = {v:g}" for k, v in self.case.values.items())
        return f"case {self.case.id} (variant '{self.case.variant}'" + (f"; {vals})" if vals else ")")


@dataclass
class RobustProblem:
    """A read sweep file, every case bound, and the objective chosen."""

    sweep: Sweep
    base: Instance
    cases: list[RobustCase]
    objective: str


@dataclass
class CasePlan:
    """The shared plan as one case sees it."""

    rc: RobustCase
    schedule: pd.DataFrame
    constraints: pd.DataFrame
    jobs: float
    fiscal: float
    cost: float

    @property
    def regret(self) -> float | None:
        return None if self.rc.own is None else self.cost - self.rc.own


@dataclass
class RobustResult:
    """The shared plan, its outcome, and how it fares in every case."""

    problem: RobustProblem
    outcome: highs.Outcome
    value: float  # the objective minimised: expected cost, worst cost or worst regret
    plans: list[CasePlan]
    new_capacity: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    note: str = ""  # e.g. the second (expected-cost) stage ran out of time

    @property
    def cut_short(self) -> bool:
        """True when the plan or some case's own optimum is only the best found in time."""
        return self.outcome.status == "limit" or any(p.rc.own_status == "limit" for p in self.plans)


# --------------------------------------------------------------------------------------------
# Reading the sweep


def read_problem(sweep_file: Path | str, objective: str | None = None) -> RobustProblem:
    """Read the sweep file, bind every case's scenario to the base tables, weigh the cases.

    Raises InputError (exit 2) for a bad sweep file, a weight of an unknown case or weights that
    are all 0.
    """
    from .inputs import load
    from .sweep.runner import _check_variants

    sweep = read_sweep(sweep_file)
    base = load(sweep.base_path)
    _check_variants(sweep, base)
    spec = sweep.spec.robust
    chosen = objective if objective is not None else spec.objective
    if chosen not in OBJECTIVES:
        raise InputError(f"--objective {chosen!r}: choose expected, worst or regret.")
    ids = [c.id for c in sweep.cases]
    unknown = [k for k in spec.weights if k not in ids]
    if unknown:
        raise InputError(f"[robust] weights names case {unknown[0]!r}, but the sweep makes cases {ids[0]}…{ids[-1]}. "
                         f"Give weights by case id (as in the sweep's cases.csv).", file=sweep.path)
    raw = [float(spec.weights.get(k, 1.0)) for k in ids]
    if sum(raw) <= 0:
        raise InputError("[robust] weights are all 0: give at least one case a weight above 0.", file=sweep.path)
    data = base.scenario.model_dump()
    cases = []
    for case, w in zip(sweep.cases, raw):
        scen = apply(base.scenario, case, data)
        inst = bind(scen, base.units, base.projects, files=base.files, scenario_path=base.scenario_path)
        cases.append(RobustCase(case, inst, w / sum(raw)))
    return RobustProblem(sweep, base, cases, chosen)


def ledger_optima(folder: Path, problem: RobustProblem) -> dict[str, tuple[float, dict[str, int]]]:
    """{case id: (objective, {unit: exit year})} of the cases a sweep folder's ledger holds solved
    to optimality, with the same base tables and the same values; {} when there is no ledger or
    it is of other data."""
    from .sweep.ledger import read_ledger

    try:
        ledger = read_ledger(folder)
        if ledger is None:
            return {}
        try:
            meta, cases, unit_exits = ledger.meta(), ledger.cases(), ledger.unit_exits()
        finally:
            ledger.close()
    except (sqlite3.Error, pd.errors.DatabaseError, ValueError):
        return {}
    if meta.get("base_sha256") != json.dumps(problem.base.hashes(), sort_keys=True):
        return {}
    exits: dict[str, dict[str, int]] = defaultdict(dict)
    for r in unit_exits.itertuples():
        exits[r.case_id][r.unit_id] = int(r.exit_year)
    by_id = {rc.id: rc.case for rc in problem.cases}
    out = {}
    for r in cases.itertuples():
        case = by_id.get(r.case_id)
        if case is None or r.status != "optimal" or pd.isna(r.objective) or r.variant != case.variant:
            continue
        if r.params != case.values:
            continue
        out[r.case_id] = (float(r.objective), exits.get(r.case_id, {}))
    return out


def default_time_limit(problem: RobustProblem) -> float:
    """Seconds for the whole command when --time-limit is not given: the sweep's time per case
    (its ``time_limit``, else the base scenario's ``[solver] time_limit``) for every case's own
    optimum, and as much again for the shared plan."""
    per_case = problem.sweep.spec.time_limit or problem.base.scenario.solver.time_limit
    return float(per_case) * 2 * len(problem.cases)


# --------------------------------------------------------------------------------------------
# Each case's own optimum


def own_optima(problem: RobustProblem, ledger: dict[str, tuple[float, dict[str, int]]],
               progress=lambda _m: None) -> None:
    """Fill in every case's own optimum: from ``ledger`` where it has the case, else solved.

    A case without any plan of its own raises InfeasibleError naming it, with its diagnosis.
    Each solve takes its share of the command's time (the shared solve weighs as much as all the
    cases together); the block cache is shared, so a block that two cases leave alike is solved
    once.
    """
    from .solve import solve_instance

    cache: dict = {}
    todo = [rc for rc in problem.cases if rc.id not in ledger]
    for rc in problem.cases:
        if rc.id in ledger:
            (rc.own, rc.own_exits), rc.own_status, rc.own_source = ledger[rc.id], "optimal", "ledger"
    for i, rc in enumerate(todo):
        progress(f"{rc.id}: its own optimum ({i + 1} of {len(todo)})")
        d = highs.deadline()
        share = d.share(1.0, (len(todo) - i) + len(problem.cases))
        try:
            try:
                res = solve_instance(rc.inst, time_limit=share, with_duals=False, block_cache=cache)
            except LimitReached:
                if share is None or highs.deadline().expired():
                    raise
                res = solve_instance(rc.inst, with_duals=False, block_cache=cache)
        except InfeasibleError as e:
            raise InfeasibleError(f"{rc.describe()} has no plan even on its own, so no plan can serve every "
                                  f"case.\n{e}", e.diagnosis) from None
        rc.own, rc.own_status, rc.own_source = res.objective, res.outcome.status, "solved"
        rc.own_exits = {u: y for u, (y, _m) in res.exits().items()}


# --------------------------------------------------------------------------------------------
# The model: every case a block, the decisions shared


def _conflicting_projects(problem: RobustProblem) -> str | None:
    """A sentence naming a project that one case must build (approved) and another may not
    (rejected), or None."""
    approved: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for rc in problem.cases:
        for j, status in rc.inst.projects["approval"].items() if len(rc.inst.projects) else ():
            if status == "approved":
                approved.setdefault(j, rc.id)
            elif status == "rejected":
                rejected.setdefault(j, rc.id)
    both = sorted(set(approved) & set(rejected))
    if not both:
        return None
    j = both[0]
    return (f"project {j} is approved in case {approved[j]} (it must be built) and rejected in case "
            f"{rejected[j]} (it may not be): no single plan does both. Approve or reject it in every case "
            f"(new_capacity.approve / reject in the sweep's variants).")


def build_shared(problem: RobustProblem) -> pyo.ConcreteModel:
    """One Pyomo model: each case's ExitModel as a block, tied to master decisions.

    The master holds the decisions every case allows (a unit's exit year and mode, a project);
    a decision some case does not allow (a window, a protected unit, a rejected project) is
    fixed at 0 in every case. Replacement indicators are shared too: a master variable per
    class of units that every case's classes agree on (and that every case lets give
    indicators), whose totals make up each case's own class totals.
    """
    conflict = _conflicting_projects(problem)
    if conflict:
        raise InfeasibleError(f"No single plan meets the rules of every case: {conflict}")
    d = highs.deadline()
    top = pyo.ConcreteModel(name=f"{problem.sweep.name} (robust)")
    blocks = []
    for rc in problem.cases:
        d.check("building the model")
        blk = build(rc.inst)
        blk.cost.deactivate()
        top.add_component(f"case_{rc.id}", blk)
        rc.block = blk
        blocks.append(blk)
    common = set(blocks[0].X)
    for blk in blocks[1:]:
        common &= set(blk.X)
    keys = [k for k in blocks[0].X if k in common]
    top.X = pyo.Set(initialize=keys, dimen=3, ordered=True)
    top.x = pyo.Var(top.X, domain=pyo.Binary)
    live = set(blocks[0].J)
    for blk in blocks[1:]:
        live &= set(blk.J)
    projects = [j for j in blocks[0].J if j in live]
    top.J = pyo.Set(initialize=projects, ordered=True)
    top.a = pyo.Var(top.J, domain=pyo.Binary)
    top.link = pyo.ConstraintList()
    for blk in blocks:
        d.check("building the model")
        for k in blk.X:
            if k in common:
                top.link.add(blk.x[k] == top.x[k])
            else:
                blk.x[k].fix(0)
        for j in blk.J:
            if j in live:
                top.link.add(blk.a[j] == top.a[j])
            elif not blk.a[j].fixed:
                blk.a[j].fix(0)
    _share_indicators(top, blocks)
    return top


def _share_indicators(top: pyo.ConcreteModel, blocks: list[ExitModel]) -> None:
    """Master indicator variables ``ind[r, y]`` on the classes every case agrees on, and each
    case's class totals made of them."""
    eligible = set(blocks[0].ind_class_of)
    for blk in blocks[1:]:
        eligible &= set(blk.ind_class_of)
    signature = {u: tuple(blk.ind_class_of[u] for blk in blocks) for u in eligible}
    refined = {sig: i for i, sig in enumerate(sorted(set(signature.values())))}
    members: dict[int, list[str]] = defaultdict(list)
    for u in blocks[0].ind_class_of:  # table order, as each case's own classes
        if u in eligible:
            members[refined[signature[u]]].append(u)
    exits: dict[tuple[int, int], list] = defaultdict(list)
    most: dict[tuple[int, int], float] = defaultdict(float)
    cap = blocks[0].capacity
    for r, us in members.items():
        for u in us:
            years = set()
            for k in blocks[0].by_unit.get(u, ()):
                if k in top.X:
                    exits[r, k[1]].append(cap[u] * top.x[k])
                    years.add(k[1])
            for y in years:
                most[r, y] += float(cap[u])
    keys = sorted(exits)
    top.IND = pyo.Set(initialize=keys, dimen=2, ordered=True)
    top.ind = pyo.Var(top.IND, domain=pyo.NonNegativeReals, bounds=lambda m, r, y: (0.0, most[r, y]))
    top.ind_le_exit = pyo.Constraint(top.IND, rule=lambda m, r, y: m.ind[r, y] <= pyo.quicksum(exits[r, y]))
    top._ind_members = dict(members)
    top.ind_link = pyo.ConstraintList()
    for n, blk in enumerate(blocks):
        parts: dict[tuple[int, int], list] = defaultdict(list)
        for (r, y) in keys:
            parts[signature[members[r][0]][n], y].append(top.ind[r, y])
        for (c, y) in blk.IND:
            top.ind_link.add(blk.ind[c, y] == pyo.quicksum(parts.get((c, y), [])))


def unit_split(top: pyo.ConcreteModel, chosen: dict[str, tuple[int, str]]) -> dict[str, float]:
    """The shared indicators split onto units: each master class's total of a year goes to its
    units exiting that year, in table order, each up to its capacity (the same split for every
    case, since every case's class is a union of master classes)."""
    members = getattr(top, "_ind_members", {})
    cap = next(iter(_blocks(top))).capacity
    out: dict[str, float] = {}
    for (r, y) in top.IND:
        left = top.ind[r, y].value or 0.0
        for u in members[r]:
            if left <= 1e-9:
                break
            if chosen.get(u, (None,))[0] == y:
                part = min(left, float(cap[u]))
                out[u] = out.get(u, 0.0) + part
                left -= part
    return out


def _blocks(top: pyo.ConcreteModel) -> list[ExitModel]:
    return [b for b in top.component_objects(pyo.Block, descend_into=False) if isinstance(b, ExitModel)]


def case_costs(problem: RobustProblem) -> list:
    """Each case's own objective, as an expression of its block."""
    return [rc.block.cost.expr for rc in problem.cases]


def set_objective(top: pyo.ConcreteModel, problem: RobustProblem) -> None:
    """The objective chosen, minimised (an epigraph variable ``t`` for worst and regret)."""
    costs = case_costs(problem)
    expected = pyo.quicksum(rc.weight * c for rc, c in zip(problem.cases, costs))
    top.expected = pyo.Expression(expr=expected)
    if problem.objective == "expected":
        top.objective = pyo.Objective(expr=top.expected, sense=pyo.minimize)
        return
    top.t = pyo.Var(domain=pyo.Reals)
    top.epigraph = pyo.ConstraintList()
    for rc, c in zip(problem.cases, costs):
        own = rc.own if problem.objective == "regret" else 0.0
        top.epigraph.add(top.t >= c - own)
    top.objective = pyo.Objective(expr=top.t, sense=pyo.minimize)


# --------------------------------------------------------------------------------------------
# Solving


def solve_problem(problem: RobustProblem, *, ledger_folder: Path | None = None,
                  progress=lambda _m: None) -> RobustResult:
    """Own optima (ledger or solved), then the shared plan under the objective chosen.

    Raises InfeasibleError (exit 3) naming the case and the rules when no plan serves every
    case, LimitReached (exit 4) when the time runs out before any shared plan is found.
    """
    t0 = time.perf_counter()
    ledger = ledger_optima(ledger_folder, problem) if ledger_folder is not None else {}
    own_optima(problem, ledger, progress)
    t_own = time.perf_counter() - t0
    progress(f"the shared plan of {len(problem.cases)} case(s): building")
    top = build_shared(problem)
    set_objective(top, problem)
    settings = problem.base.scenario.solver
    t_build = time.perf_counter() - t0 - t_own
    progress(f"the shared plan of {len(problem.cases)} case(s): solving ({OBJECTIVE_TITLES[problem.objective]})")
    outcome = by_blocks(top, problem, settings, progress) if problem.objective == "expected" else None
    if outcome is None:
        outcome = highs.solve(top, settings)
    if outcome.status == "infeasible":
        raise InfeasibleError(diagnose_shared(top, problem), None)
    highs.require_plan(outcome)
    note = ""
    value = float(pyo.value(top.objective))
    if problem.objective != "expected":
        note = _second_stage(top, problem, settings, outcome)
    t_solve = time.perf_counter() - t0 - t_own - t_build
    result = read_result(top, problem, outcome, value)
    result.note = note
    result.timings = {"own_optima": t_own, "build": t_build, "solve": t_solve,
                      "report": time.perf_counter() - t0 - t_own - t_build - t_solve}
    return result


def block_groups(problem: RobustProblem) -> list[frozenset[str]]:
    """The product blocks (:mod:`exitopt.blocks`) that no case's rules tie together; [] when
    some case does not split (a budget) or the cases split differently."""
    from .blocks import product_blocks

    groups = None
    for rc in problem.cases:
        mine = set(product_blocks(rc.inst))
        if not mine or (groups is not None and mine != groups):
            return []
        groups = mine
    return sorted(groups or [], key=lambda g: sorted(g))


def by_blocks(top: pyo.ConcreteModel, problem: RobustProblem, settings, progress=lambda _m: None
              ) -> highs.Outcome | None:
    """The least expected cost block by block: the expected cost is a sum over the products'
    blocks, so each block's shared plan is solved apart, over the cases that differ in it (cases
    that leave a block alike count once, with their weights added). The blocks' plans are then
    fixed in the whole model (a small LP) to check the rules that span blocks (worker caps).

    Returns the outcome in ``top`` (its plan loaded), or None when the whole must be solved:
    no blocks, a block without a plan, the joint check failing, or a gap wider than allowed.
    """
    from .blocks import block_key, sub_instance

    groups = block_groups(problem)
    if not groups:
        return None
    started = time.perf_counter()
    d = highs.deadline()
    size = {g: max(int(problem.base.units["product"].isin(g).sum()), 1) for g in groups}
    exits: dict[tuple, float] = {}
    built: dict[str, float] = {}
    bound, limited, solver = 0.0, False, 0.0
    for i, g in enumerate(groups):
        merged: dict[str, RobustCase] = {}
        for rc in problem.cases:
            sub = sub_instance(rc.inst, g)
            key = block_key(sub)
            if key in merged:
                merged[key].weight += rc.weight
            else:
                merged[key] = RobustCase(rc.case, sub, rc.weight)
        part = RobustProblem(problem.sweep, problem.base, list(merged.values()), "expected")
        progress(f"block {', '.join(sorted(g))}: {len(merged)} distinct case(s)")
        share = d.share(size[g], sum(size[h] for h in groups[i:]) * 1.1)
        sub_top = build_shared(part)
        set_objective(sub_top, part)
        outcome = highs.solve(sub_top, settings, time_limit=share, warm=False)
        if not outcome.has_solution or outcome.bound is None:
            return None
        for k in sub_top.X:
            exits[k] = round(sub_top.x[k].value or 0.0)
        for j in sub_top.J:
            built[j] = round(sub_top.a[j].value or 0.0)
        bound += outcome.bound
        limited |= outcome.status == "limit"
        solver += outcome.solver_seconds or 0.0
    fixed = []
    for k in top.X:
        if not top.x[k].fixed:
            top.x[k].fix(exits.get(k, 0.0))
            fixed.append(top.x[k])
    for j in top.J:
        if not top.a[j].fixed:
            top.a[j].fix(built.get(j, 0.0))
            fixed.append(top.a[j])
    try:
        check = highs.solve(top, settings, grace=True)
    finally:
        for v in fixed:
            v.unfix()
    if check.status != "optimal":
        return None  # a rule across blocks (a worker cap) breaks: solve the whole, from scratch
    gap = highs.gap(check.objective, bound)
    if not limited and (gap is None or gap > settings.rel_gap + 1e-9):
        return None
    status = "limit" if limited else "optimal"
    what = "one or more stopped at the time limit" if limited else "each solved to its gap"
    return highs.Outcome(status, True, check.objective, bound, gap, time.perf_counter() - started,
                         f"{len(groups)} independent blocks, {what}", solver + (check.solver_seconds or 0.0))


def _integer_values(top: pyo.ConcreteModel) -> list:
    """[(master decision, its value)] of the plan the model holds."""
    return [(v, v.value) for v in list(top.x.values()) + list(top.a.values())]


def _second_stage(top: pyo.ConcreteModel, problem: RobustProblem, settings, first: highs.Outcome) -> str:
    """Among the plans that reach the worst cost (or regret) found, the least expected cost.

    The bound kept is the plan's value plus the gap the solver allows, so that the second solve
    starts from the first plan. When it finds nothing better in time, the first plan stands."""
    t_star = float(top.t.value)
    tol = max(settings.rel_gap * abs(t_star), 1e-6 * max(1.0, abs(t_star)))
    kept = _integer_values(top)
    top.objective.deactivate()
    top.t_cap = pyo.Constraint(expr=top.t <= t_star + tol)
    top.second = pyo.Objective(expr=top.expected, sense=pyo.minimize)
    if highs.deadline().expired():
        _restore(top, kept, settings)
        return "the time limit left no time to lower the expected cost among the plans of least worst value"
    try:
        out = highs.solve(top, settings)
    except LimitReached:
        out = None
    if out is None or not out.has_solution:
        _restore(top, kept, settings)
        return "the expected cost among the plans of least worst value was not lowered in time"
    if out.status == "limit":
        return "the expected cost among the plans of least worst value was lowered as far as time allowed"
    return ""


def _restore(top: pyo.ConcreteModel, kept: list, settings) -> None:
    """Put the first stage's plan back (its continuous parts by a small LP with the plan fixed)."""
    fixed = []
    for v, val in kept:
        if val is not None and not v.fixed:
            v.fix(round(val))
            fixed.append(v)
    try:
        highs.solve(top, settings, grace=True)
    finally:
        for v in fixed:
            v.unfix()


def diagnose_shared(top: pyo.ConcreteModel, problem: RobustProblem) -> str:
    """Why no plan serves every case: every case's policy rows relaxed with weighted slacks, as
    :mod:`exitopt.diagnose` does for one scenario; the rows that must give, case by case."""
    from .diagnose import TOL, Give
    from .model.base import value_of

    rows = [(rc, r) for rc in problem.cases for r in rc.block.rows]
    for _, r in rows:
        r.slack_up.unfix()
        r.slack_down.unfix()
    top.objective.deactivate()
    top.violation = pyo.Objective(expr=pyo.quicksum((r.slack_up + r.slack_down) / r.scale for _, r in rows))
    try:
        outcome = highs.solve(top, problem.base.scenario.solver, warm=False)
        gives: dict[str, list[Give]] = defaultdict(list)
        if outcome.has_solution:
            for rc, r in rows:
                s = (r.slack_up.value or 0.0) + (r.slack_down.value or 0.0)
                if s > TOL * r.scale:
                    gives[rc.id].append(Give(r.rule, r.name, r.year, r.product, r.sense, value_of(r.required),
                                             value_of(r.lhs), r.unit))
    finally:
        top.del_component(top.violation)
        top.objective.activate()
        for _, r in rows:
            r.slack_up.fix(0)
            r.slack_down.fix(0)
    head = ("No single plan meets the rules of every case (each case has a plan of its own, but they cannot "
            "be one plan).")
    if not gives:
        if outcome.status != "optimal":
            return (f"{head} The search for the rules that must give stopped before it found an answer (HiGHS: "
                    f"{outcome.status}); raise --time-limit and run again.")
        return (f"{head} Relaxing the policy rules does not help: the cases allow different exits (a unit "
                f"protected, or outside its window, in one case and in a package that must exit in another). "
                f"Compare the cases' protected units, windows and packages.")
    lines = [head, f"With the plan shared, {sum(len(g) for g in gives.values())} rule(s) in "
                   f"{len(gives)} case(s) must give:"]
    for rc in problem.cases:
        for g in gives.get(rc.id, []):
            lines.append(f"  - {rc.describe()}: {g.sentence()}")
    lines.append("Loosen those rules in the sweep (or drop the cases), or solve the cases apart with "
                 "`exitopt sweep`.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Reading the plan back


def binding_text(constraints: pd.DataFrame) -> str:
    """The rows that bind in a case, e.g. ``target 'coal exit 1,000' 2020; utilisation …``."""
    if constraints.empty or "binding" not in constraints:
        return ""
    out = []
    for _, r in constraints.iterrows():
        if r["binding"] is not True or trivial(r["required"], r["achieved"]) or required_exit(r["unit"]):
            continue
        year = "" if pd.isna(r["year"]) else f" {int(r['year'])}"
        out.append(f"{r['rule']} '{r['name']}'{year}")
    return "; ".join(out)


def reprice(schedule: pd.DataFrame, inst: Instance, split: dict[str, float]) -> pd.DataFrame:
    """A case's schedule with the shared indicator split, priced in that case."""
    s = schedule.copy()
    scen = inst.scenario
    for i, r in s.iterrows():
        if pd.isna(r["exit_year"]):
            continue
        cap = float(r["capacity"])
        ind = min(split.get(r["unit_id"], 0.0), cap)
        u = inst.units.loc[r["unit_id"]]
        p = exit_price(scen, r["sector"], u["workers"], cap, int(r["exit_year"]), r["mode"], ind)
        s.at[i, "indicator"] = ind
        s.at[i, "counted"] = p.counted
        s.at[i, "outlay"] = p.outlay
        s.at[i, "award"] = p.award
    return s


def read_result(top: pyo.ConcreteModel, problem: RobustProblem, outcome: highs.Outcome,
                value: float) -> RobustResult:
    """The shared plan as every case sees it."""
    from .solve import read_constraints

    round_integers(top)
    plans = []
    split = None
    new_capacity = None
    for rc in problem.cases:
        sol = read(rc.block, rc.inst, outcome)
        if split is None:
            split = unit_split(top, sol.exits())
            new_capacity = sol.new_capacity
        constraints = read_constraints(rc.block, rc.inst, {})
        plans.append(CasePlan(rc, reprice(sol.schedule, rc.inst, split), constraints, sol.jobs, sol.fiscal,
                              sol.objective))
        if rc.own is not None and rc.own_status != "optimal" and sol.objective < rc.own:
            # the case's own search stopped at the limit; the shared plan is a better plan of it
            rc.own, rc.own_source = sol.objective, "shared plan"
    if problem.objective == "expected":
        value = sum(p.rc.weight * p.cost for p in plans)
    elif problem.objective == "worst":
        value = max(p.cost for p in plans)
    else:
        value = max(p.regret for p in plans)
    return RobustResult(problem, outcome, value, plans, new_capacity)


# --------------------------------------------------------------------------------------------
# The run folder


def regret_table(result: RobustResult) -> pd.DataFrame:
    """regret.csv: per case, the shared plan's cost, the case's own optimum, regret, what binds."""
    rows = []
    for p in result.plans:
        rc = p.rc
        regret = p.regret
        rows.append({"case": rc.id, "variant": rc.case.variant, **rc.case.values, "weight": rc.weight,
                     "cost": p.cost, "jobs": p.jobs, "fiscal": p.fiscal, "own_optimum": rc.own,
                     "own_status": rc.own_status, "own_source": rc.own_source, "regret": regret,
                     "regret_share": (regret / abs(rc.own) if regret is not None and rc.own else None),
                     "binding": binding_text(p.constraints)})
    return pd.DataFrame(rows)


def insurance_table(result: RobustResult) -> pd.DataFrame:
    """insurance.csv: every unit that exits in the shared plan or in some case's own plan — in
    how many cases' own plans it exits, and whether the shared plan retires it as every plan does
    (``every plan``), beyond what some cases' own plans do (``insurance``), or keeps it."""
    first = result.plans[0].schedule.set_index("unit_id")
    n = len(result.plans)
    counts: dict[str, int] = defaultdict(int)
    for p in result.plans:
        for u in p.rc.own_exits:
            counts[u] += 1
    shared = set(first.index[first["exit_year"].notna()])
    rows = []
    for u in first.index:
        if u not in shared and not counts.get(u):
            continue
        k = counts.get(u, 0)
        role = ("every plan" if u in shared and k == n else "insurance" if u in shared
                else "kept by the shared plan")
        rows.append({"unit_id": u, "name": first.at[u, "name"], "product": first.at[u, "product"],
                     "capacity": first.at[u, "capacity"], "shared_exit_year": first.at[u, "exit_year"],
                     "shared_mode": first.at[u, "mode"], "own_plans_retiring": k, "cases": n, "role": role})
    out = pd.DataFrame(rows)
    if not out.empty:
        order = {"every plan": 0, "insurance": 1, "kept by the shared plan": 2}
        out = out.sort_values(["role", "product", "unit_id"], key=lambda c: c.map(order) if c.name == "role" else c)
    return out.reset_index(drop=True)


def regret_chart(table: pd.DataFrame, title: str) -> bytes:
    """regret.png: the regret of the shared plan in each case (bars), the worst marked."""
    from .sweep.plots import _pyplot

    plt = _pyplot()
    n = len(table)
    fig, ax = plt.subplots(figsize=(min(max(6.0, 0.18 * n + 3), 16), 3.6))
    vals = table["regret"].fillna(0.0).astype(float)
    worst = vals.max() if n else 0.0
    colours = ["#c0392b" if v >= worst - 1e-9 * max(1.0, abs(worst)) else "#5b7fa6" for v in vals]
    ax.bar(range(n), vals, color=colours)
    ax.set_xticks(range(n))
    ax.set_xticklabels(table["case"], rotation=90 if n > 12 else 0, fontsize=7)
    ax.set_ylabel("regret (objective units)", fontsize=8)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.axhline(0, color="#333", linewidth=0.6)
    ax.set_title(title, fontsize=9)
    buf = io.BytesIO()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return buf.getvalue()


def scenario_toml(inst: Instance, folder: Path, rc: RobustCase) -> str:
    """A case's scenario as a TOML file that ``exitopt check`` reads from ``folder`` (its tables
    named relative to it, or absolute when on another drive)."""
    data = inst.scenario.model_dump(mode="json", exclude_none=True)

    def where(p: str) -> str:
        try:
            return Path(os.path.relpath(p, folder)).as_posix()
        except ValueError:
            return Path(p).as_posix()

    data["units"] = where(data["units"])
    if "projects" in data:
        data["projects"] = where(data["projects"])
    head = (f"# {rc.describe()}, written by exitopt robust; check the shared plan against it:\n#   exitopt check cases/{rc.id}.toml schedule.csv\n")
    return head + toml_text(data)


def files(result: RobustResult, target: Path) -> dict:
    """{relative path: content} of the robust run folder."""
    from .output import versions

    problem = result.problem
    first = result.plans[0]
    table = regret_table(result)
    cons = []
    for p in result.plans:
        c = p.constraints.copy()
        c.insert(0, "case", p.rc.id)
        cons.append(c)
    out: dict = {
        "schedule.csv": first.schedule,
        "new_capacity.csv": result.new_capacity,
        "regret.csv": table,
        "insurance.csv": insurance_table(result),
        "constraints.csv": pd.concat(cons, ignore_index=True) if cons else pd.DataFrame(),
        "regret.png": regret_chart(table, f"{problem.sweep.name}: regret of the shared plan "
                                          f"({OBJECTIVE_TITLES[problem.objective]})"),
    }
    o = result.outcome
    out["run.json"] = {
        "sweep": problem.sweep.name,
        "robust_objective": problem.objective,
        "value": result.value,
        "status": o.status,
        "solver_message": o.message,
        "bound": o.bound,
        "gap": o.gap,
        "note": result.note,
        "cases": len(result.plans),
        "expected_cost": float(sum(p.rc.weight * p.cost for p in result.plans)),
        "worst_cost": float(max(p.cost for p in result.plans)),
        "worst_regret": (float(max(p.regret for p in result.plans))
                         if all(p.regret is not None for p in result.plans) else None),
        "units_exiting": int(first.schedule["exit_year"].notna().sum()),
        "projects_built": [str(j) for j in result.new_capacity.loc[result.new_capacity["built"], "project_id"]]
        if not result.new_capacity.empty else [],
        "seconds": {k: round(v, 3) for k, v in result.timings.items()},
        "versions": versions(),
        "sha256": {**problem.base.hashes(), "sweep": problem.sweep.sha256},
    }
    cases = Path(target).resolve() / "cases"
    for p in result.plans:
        out[f"cases/{p.rc.id}.toml"] = scenario_toml(p.rc.inst, cases, p.rc)
        out[f"cases/{p.rc.id}_schedule.csv"] = p.schedule
    return out


def lines(result: RobustResult) -> list[str]:
    """A few lines for the terminal."""
    o = result.outcome
    p0 = result.plans
    gap = f", gap {o.gap:.3%}" if o.gap is not None else ""
    worst = max(p0, key=lambda p: p.regret if p.regret is not None else -math.inf)
    out = [f"{OBJECTIVE_TITLES[result.problem.objective]} over {len(p0)} case(s): status {o.status}{gap}; "
           f"value {result.value:,.1f}",
           f"expected cost {sum(p.rc.weight * p.cost for p in p0):,.1f}; worst cost "
           f"{max(p.cost for p in p0):,.1f} ({max(p0, key=lambda p: p.cost).rc.id})"]
    if worst.regret is not None:
        out.append(f"worst regret {worst.regret:,.1f} in {worst.rc.id} (own optimum {worst.rc.own:,.1f})")
    n = int(p0[0].schedule["exit_year"].notna().sum())
    ins = insurance_table(result)
    extra = ins[ins["role"] == "insurance"] if not ins.empty else ins
    held = float(extra["capacity"].sum()) if len(extra) else 0.0
    out.append(f"{n} unit(s) exit in the shared plan; {len(extra)} of them ({held:,.0f} 万吨/yr) as insurance "
               f"(some case's own plan keeps them)")
    exp_own = sum(p.rc.weight * p.rc.own for p in p0 if p.rc.own is not None)
    if all(p.rc.own is not None for p in p0):
        out.append(f"one plan for all costs {sum(p.rc.weight * p.cost for p in p0) - exp_own:,.1f} more in the "
                   f"expected case than each case's own plan")
    if result.note:
        out.append(f"note: {result.note}")
    return out
