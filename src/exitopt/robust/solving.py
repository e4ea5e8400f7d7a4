"""Solving the shared plan (docs/model.md#robust): the expected cost block by block where the
cases allow, worst cost and regret whole with a second stage for the expected cost, and the
diagnosis when no plan serves every case.

The expected cost sum_c w_c C_c is a sum over the products' independent blocks (no rule of any
case ties them), so each block's shared plan is solved apart and the plans put together are
checked in the whole model. A maximum over cases of sums over blocks does not split that way:
worst cost and regret are solved as one model.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import pyomo.core as pyo

from .. import highs
from ..errors import InfeasibleError, LimitReached
from .problem import OBJECTIVE_TITLES, RobustCase, RobustProblem, RobustResult, ledger_optima, own_optima
from .reading import read_result
from .shared import build_shared, set_objective

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
    from ..blocks import product_blocks

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
    from ..blocks import block_key, sub_instance

    groups = block_groups(problem)
    if not groups:
        return None
    started = time.perf_counter()
    d = highs.deadline()
    size = {g: max(int(problem.base.units["product"].isin(g).sum()), 1) for g in groups}
    exits: dict[tuple, float] = {}
    built: dict[str, float] = {}
    merges: dict[tuple, float] = {}
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
        for k in sub_top.MG:
            merges[k] = round(sub_top.mg[k].value or 0.0)
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
    for k in top.MG:
        if not top.mg[k].fixed:
            top.mg[k].fix(merges.get(k, 0.0))
            fixed.append(top.mg[k])
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
    return [(v, v.value) for v in list(top.x.values()) + list(top.a.values()) + list(top.mg.values())]


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
    from ..diagnose import TOL, Give
    from ..model.base import value_of

    rows = [(rc, r) for rc in problem.cases for r in rc.block.rows]  # type: ignore[union-attr]  # built
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
