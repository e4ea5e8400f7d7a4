"""The robust problem read: every case of a sweep bound to the base tables, weighed, and each
case's own optimum (docs/model.md#robust).

A case's own optimum comes from the ledger of an ``exitopt sweep`` of the same file when it holds
the case solved to optimality with the same tables and values, else from solving the case first.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import highs
from ..errors import InfeasibleError, InputError, LimitReached
from ..inputs import Instance, bind
from ..model.exit_model import ExitModel
from ..sweep.spec import Case, Sweep, apply, read_sweep

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
    from ..inputs import load
    from ..sweep.runner import _check_variants

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
    if base.scenario.upgrades:  # docs/model.md#upgrades: one plan's upgrades are not shared across cases
        raise InputError(f"the base scenario offers upgrades ([[upgrades]] '{base.scenario.upgrades[0].name}'), "
                         f"which exitopt robust does not share across cases. Remove the [[upgrades]] rules for a "
                         f"robust plan, or solve each case with exitopt sweep.", file=base.scenario_path)
    data = base.scenario.model_dump()
    cases = []
    for case, w in zip(sweep.cases, raw, strict=False):
        scen = apply(base.scenario, case, data)
        inst = bind(scen, base.units, base.projects, files=base.files, scenario_path=base.scenario_path)
        cases.append(RobustCase(case, inst, w / sum(raw)))
    return RobustProblem(sweep, base, cases, chosen)


def ledger_optima(folder: Path, problem: RobustProblem) -> dict[str, tuple[float, dict[str, int]]]:
    """{case id: (objective, {unit: exit year})} of the cases a sweep folder's ledger holds solved
    to optimality, with the same base tables and the same values; {} when there is no ledger or
    it is of other data."""
    from ..sweep.ledger import read_ledger

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
    from ..solve import solve_instance

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
