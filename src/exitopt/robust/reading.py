"""The shared plan read back from the solved model, as every case sees it: its schedule with
the shared indicator split priced in the case, its rows, its cost and regret."""

from __future__ import annotations

import pandas as pd
import pyomo.core as pyo

from .. import highs
from ..binding import required_exit, trivial
from ..engine import read, round_integers
from ..inputs import Instance
from ..model.cost import exit_price
from .problem import CasePlan, RobustProblem, RobustResult
from .shared import unit_split

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
    from ..solve import read_constraints

    round_integers(top)
    plans = []
    split = None
    new_capacity = None
    for rc in problem.cases:
        assert rc.block is not None  # built with the shared model
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
        value = max(p.regret for p in plans)  # type: ignore[type-var, assignment]  # every own optimum is known
    return RobustResult(problem, outcome, value, plans, new_capacity)
