"""Near-optimal alternative plans, each as different from the others as the rules allow.

Given the optimum (objective ``opt``) and a share δ, every alternative costs at most
``opt + δ·|opt|`` at the scenario's own weights (``(1 + δ)·opt`` for a positive optimum). They
are found one at a time: with ``e_k`` the exit indicator of decision key k — a unit (it exits
or not, ``e_u = Σ_{y,m} x[u, y, m]``) or, with ``by_year``, a unit and year
(``e_{u,y} = Σ_m x[u, y, m]``) — the Hamming distance to an earlier plan P is linear::

    dist_P = Σ_{k ∈ P} (1 − e_k) + Σ_{k ∉ P} e_k

The next plan maximises ``t`` subject to ``t ≤ dist_P`` and ``dist_P ≥ 1`` for every plan P
found so far (the optimum included), and the cost bound. ``t`` takes whole values at every
plan, so HiGHS may stop as soon as its bound is less than 1 above the plan in hand: that plan
is then proven the farthest (exact, and much quicker than closing the last fraction of the
bound). The search stops early when no plan within the bound differs from all earlier ones.

``robustness`` then says, per unit, in how many of the plans (optimum + alternatives) it
exits: always, never or in some.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyomo.core as pyo

from .engine import Engine, Progress, Solution, quiet, raise_infeasible, solve_share
from .errors import InputError, LimitReached
from .highs import deadline
from .inputs import Instance
from .model.exit_model import ExitModel


@dataclass
class Alternatives:
    """The optimum, the alternatives found, the cost bound (objective units) and the robustness table."""

    optimum: Solution
    plans: list[Solution]
    bound: float
    within: float
    by_year: bool
    robustness: pd.DataFrame
    table: pd.DataFrame
    stopped: bool = False  # the time limit cut the search short, or a plan's proof

    def files(self) -> dict[str, pd.DataFrame]:
        """optimum.csv, alt_XX.csv (with _projects.csv where a candidate project is built),
        alternatives.csv and robustness.csv."""
        files: dict[str, pd.DataFrame] = dict(self.optimum.plan_files("optimum"))
        for i, p in enumerate(self.plans, start=1):
            files.update(p.plan_files(f"alt_{i:02d}"))
        files["alternatives.csv"] = self.table
        files["robustness.csv"] = self.robustness
        return files

    def render(self):
        """The plans as a table for the console (a rich renderable), and how often units exit."""
        t = self.table
        view = pd.DataFrame({
            "plan": t["plan"],
            "objective": t["objective"].map(lambda v: f"{v:,.1f}"),
            "above optimum": t["above_optimum"].map(lambda v: f"{v:.2%}" if pd.notna(v) else ""),
            "jobs": t["jobs"].map(lambda v: f"{v:,.0f}"),
            "fiscal 万元": t["fiscal"].map(lambda v: f"{v:,.1f}"),
            "units exiting": t["units_exiting"],
            "differences to nearest": t["differences_to_nearest"].map(lambda v: "" if pd.isna(v) else str(v)),
            "status": t["status"],
        })
        c = self.counts()
        from rich.console import Group
        from rich.text import Text

        from .console import frame_table

        table = frame_table(view, wrap=("differences to nearest",),
                            right=("objective", "above optimum", "jobs", "fiscal 万元", "units exiting"))
        return Group(table, Text(f"units exiting in all {len(t)} plans: {c['always']}; "
                                 f"in some: {c['some']}; in none: {c['never']}"))

    def counts(self) -> dict[str, int]:
        """How many units always, never and in some plans exit."""
        c = self.robustness["exits"].value_counts()
        return {k: int(c.get(k, 0)) for k in ("always", "some", "never")}


#: HiGHS's absolute gap on the distance t, a whole number: below 1, the plan found is the farthest
WHOLE = 0.999


def parse_share(text: str) -> float:
    """'2%' → 0.02, '0.02' → 0.02; a share of the optimum, 0 or more."""
    t = str(text).strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise InputError(f"--within '{text}' is not a share; write e.g. 2% or 0.02.") from None
    if not v >= 0 or v != v:
        raise InputError(f"--within '{text}' must be 0 or more, e.g. 2%.")
    return v


def keys_of(point: Solution, by_year: bool) -> set:
    """The decision keys at 1 in a plan: unit ids, or (unit id, year) pairs."""
    ex = point.exits()
    return {(u, y) for u, (y, _) in ex.items()} if by_year else set(ex)


def _indicators(m: ExitModel, by_year: bool) -> dict:
    """{key: linear expression of the exit indicator} for every unit (and year) with a decision."""
    if by_year:
        return {(u, y): pyo.quicksum(m.x[k] for k in ks) for (u, y), ks in m.by_unit_year.items()}
    return {u: pyo.quicksum(m.x[k] for k in ks) for u, ks in m.by_unit.items()}


def distance(keys: set, e: dict):
    """Linear Hamming distance between the model's plan and the plan with ``keys`` at 1."""
    return pyo.quicksum((1 - e[k]) if k in keys else e[k] for k in e)


def alternatives(inst: Instance, within: float = 0.02, count: int = 5, *, by_year: bool = False,
                 time_limit: float | None = None, progress: Progress = quiet) -> Alternatives:
    """The optimum and up to ``count`` alternatives within ``within`` (a share) of its objective.

    Under a time limit (``time_limit`` from now, or the deadline in force) each alternative left
    takes an equal share of the time left; one cut short keeps its plan (status 'limit': it
    meets the cost bound and differs from every earlier plan, not proven the farthest).
    """
    if count < 1:
        raise InputError(f"the number of alternatives to look for must be at least 1 (it is {count}).")
    progress("the optimum")
    opt, m = Engine(inst).solve(time_limit=time_limit)  # block by block where the model splits
    if opt is None:
        raise_infeasible(inst, m)
    bound = opt.objective + within * abs(opt.objective)
    m.cost_cap = pyo.Constraint(expr=m.cost.expr <= bound)
    m.cost.deactivate()
    e = _indicators(m, by_year)
    m.t = pyo.Var(domain=pyo.NonNegativeReals, bounds=(0, len(e)))
    m.near = pyo.ConstraintList()
    m.far = pyo.Objective(expr=m.t, sense=pyo.maximize)
    found = [opt]
    stopped = False
    nearest: list[int] = []
    clock = deadline(time_limit)
    for i in range(1, count + 1):
        d = distance(keys_of(found[-1], by_year), e)
        m.near.add(m.t <= d)
        m.near.add(d >= 1)
        progress(f"alternative {i} of {count}")
        # each alternative left takes an equal share of the time left: one hard proof cannot
        # leave the later alternatives without a plan
        try:  # t takes whole values: a bound less than 1 above the plan's t proves it the farthest
            p = solve_share(m, inst, clock.share(1, count - i + 1), abs_gap=WHOLE)
        except LimitReached:
            progress(f"alternative {i}: no plan found within the time limit; the search stops here")
            stopped = True
            break
        if p is None:
            progress(f"no further plan within the bound differs from the {len(found)} found")
            break
        found.append(p)
        mine = keys_of(p, by_year)
        nearest.append(min(len(mine ^ keys_of(q, by_year)) for q in found[:-1]))
    plans = found[1:]
    stopped = stopped or any(p.status == "limit" for p in found)  # a plan not proven by the limit
    return Alternatives(opt, plans, bound, within, by_year, robustness(inst, found),
                        summary_table(opt, plans, nearest, bound), stopped)


def summary_table(opt: Solution, plans: list[Solution], nearest: list[int], bound: float) -> pd.DataFrame:
    """One row per plan: objective, its excess over the optimum, jobs, fiscal, distance to the nearest."""
    rows = []
    for name, p, near in [("optimum", opt, None)] + [(f"alt_{i:02d}", p, n)
                                                      for i, (p, n) in enumerate(zip(plans, nearest, strict=False), start=1)]:
        rows.append({
            "plan": name,
            "objective": p.objective,
            "above_optimum": (p.objective - opt.objective) / abs(opt.objective) if opt.objective else None,
            "bound": bound,
            "jobs": p.jobs,
            "fiscal": p.fiscal,
            "units_exiting": len(p.exits()),
            "differences_to_nearest": near,
            "status": p.status,
            "file": f"{name}.csv",
        })
    df = pd.DataFrame(rows)
    df["differences_to_nearest"] = df["differences_to_nearest"].astype("Int64")
    return df


def robustness(inst: Instance, plans: list[Solution]) -> pd.DataFrame:
    """Per unit: in how many of ``plans`` it exits, and whether that is always, never or some."""
    n = len(plans)
    exits = [p.exits() for p in plans]
    units = inst.units
    rows = []
    for u in units.index:
        years = [ex[u][0] for ex in exits if u in ex]
        k = len(years)
        by_year = pd.Series(years).value_counts().sort_index() if years else pd.Series(dtype=int)
        rows.append({
            "unit_id": u,
            "name": units.at[u, "name"],
            "product": units.at[u, "product"],
            "capacity": float(units.at[u, "capacity"]),
            "plans_exiting": k,
            "plans": n,
            "exits": "always" if k == n else "never" if k == 0 else "some",
            "exit_years": "; ".join(f"{int(y)} ({c})" for y, c in by_year.items()),
            "in_optimum": u in exits[0],
        })
    return pd.DataFrame(rows)
