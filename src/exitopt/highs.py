"""The one place exitopt talks to HiGHS (through Pyomo's ``pyomo.contrib.solver`` interface).

Kept small on purpose: that interface is new in Pyomo, so its use is confined here.
HiGHS keeps one thread setting per process; callers pass the same ``threads`` every time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pyomo.core as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

# ``pyomo.core`` and the HiGHS interface class directly, rather than ``pyomo.environ`` and the
# solver factory: loading every solver plugin of Pyomo adds about 0.3 s to each command.

from .scenario import Solver


@dataclass
class Outcome:
    """What a solve ended with."""

    status: str  # optimal | limit | infeasible | unbounded | error
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float  # the whole call: handing the model to HiGHS, solving, reading the status
    message: str = ""
    solver_seconds: float | None = None  # HiGHS's own run time (presolve, search), when known


def gap(obj: float | None, bound: float | None) -> float | None:
    """Relative gap between an objective and a bound (None when either is unknown)."""
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    return abs(obj - bound) / max(abs(obj), 1e-9) if obj else abs(obj - bound)


def solve(m: pyo.ConcreteModel, settings: Solver, *, time_limit: float | None = None,
          duals: bool = False) -> tuple[Outcome, object]:
    """Solve ``m``; load the solution into it when there is one. Returns (outcome, results)."""
    opt = Highs()
    start = time.perf_counter()
    res = opt.solve(
        m,
        time_limit=time_limit if time_limit is not None else settings.time_limit,
        rel_gap=settings.rel_gap,
        threads=settings.threads,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    seconds = time.perf_counter() - start
    try:
        solver_seconds = float(opt._solver_model.getRunTime())  # the highspy object behind the interface
    except (AttributeError, TypeError, ValueError):
        solver_seconds = None
    tc = res.termination_condition
    has = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has:
        res.solution_loader.load_vars()
    obj = res.incumbent_objective if has else None
    bound = res.objective_bound
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = "optimal"
    elif tc in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                TerminationCondition.infeasibleOrUnbounded):
        status = "infeasible"
    elif tc == TerminationCondition.unbounded:
        status = "unbounded"
    elif tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                TerminationCondition.interrupted, TerminationCondition.minStepLength):
        status = "limit"
    else:
        status = "error"
    if status == "optimal" and bound is None:
        bound = obj
    return Outcome(status, has, obj, bound, gap(obj, bound), seconds, str(tc.name), solver_seconds), res


def lp_duals(m: pyo.ConcreteModel, settings: Solver, cons: list) -> dict:
    """Duals of ``cons`` in the LP left when every integer decision is fixed at its value.

    Integer variables become continuous with both bounds at their current value; HiGHS then
    solves an LP, which has duals. The model is restored afterwards.
    """
    saved = []
    for v in m.component_data_objects(pyo.Var, active=True, descend_into=True):
        if v.is_integer():  # fixed ones too: HiGHS would otherwise still see a MIP
            val = round(v.value or 0.0)
            saved.append((v, v.domain, v.lb, v.ub))
            v.domain = pyo.Reals
            if not v.fixed:
                v.setlb(val)
                v.setub(val)
    try:
        opt = Highs()
        res = opt.solve(m, threads=settings.threads, load_solutions=False,
                        raise_exception_on_nonoptimal_result=False)
        if res.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
            return {}
        return res.solution_loader.get_duals(cons)
    finally:
        for v, dom, lb, ub in saved:
            v.domain = dom
            v.setlb(lb)
            v.setub(ub)


def require_plan(outcome: Outcome) -> None:
    """Raise when a solve that was not infeasible still ended without any plan."""
    from .errors import ExitoptError, LimitReached

    if outcome.has_solution:
        return
    if outcome.status == "limit":
        raise LimitReached(
            f"HiGHS reached its time limit after {outcome.seconds:.0f} s without finding any plan. "
            f"Raise [solver] time_limit in the scenario (or --time-limit), or loosen the rules."
        )
    raise ExitoptError(f"HiGHS stopped without a plan ({outcome.message}).")
