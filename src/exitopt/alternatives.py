"""Near-optimal alternative plans, each as different from the others as the rules allow
(docs/model.md#alternatives).

Given the optimum (objective ``opt``) and a share δ, every alternative costs at most
``opt + δ·|opt|`` at the scenario's own weights. A plan's *decisions* are the set of keys at 1:
a unit exits (with ``by_year``: exits in year y) and a unit merges (with ``by_year``: merges in
year y); with ``e_k`` the linear indicator of key k (``Σ x`` over the unit's exits, ``Σ z``
over its class's mergers) the Hamming distance to an earlier plan P is linear::

    dist_P = Σ_{k ∈ P} (1 − e_k) + Σ_{k ∉ P} e_k

so a unit that merges in one plan and closes in the other differs in two keys, one that stays
in one and closes (or merges) in the other in one.

*By blocks* (the default where the model splits, :mod:`exitopt.blocks`): an alternative changes
one block and keeps the other blocks' optimal decisions. Its search for block b is the model
with every decision outside b fixed at the optimum, maximising ``t`` subject to ``t ≤ dist_P``
and ``dist_P ≥ 1`` for the optimum and b's earlier alternatives, and the cost bound. An earlier
alternative of another block c needs no row: it differs from any plan of b by its own distance
in c plus b's distance to the optimum, never less than the optimum's row. So each block keeps
its best next candidate, and the next alternative is the candidate with the largest ``t`` (then
the cheaper, then the block first in size order); only that block is searched again. Blocks
tied by a coupling rule (a budget, an award fund), or a model in one block, are searched whole:
``t ≤ dist_P`` over every key, as is ``whole=True`` (alternatives changing several blocks at
once).

``t`` takes whole values at every plan, so HiGHS may stop as soon as its bound is less than 1
above the plan in hand: that plan is then proven the farthest. The search stops early when no
plan within the bound differs from all earlier ones. Each search is one step of the clock's
policy (:func:`exitopt.engine.step_budget`).

``robustness`` then says, per unit, in how many of the plans (optimum + alternatives) it
exits: always, never or in some.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyomo.core as pyo

from .blocks import by_size, product_blocks
from .engine import Engine, Progress, Solution, clock as make_clock, quiet, raise_infeasible, solve_share, step_budget
from .errors import InputError, LimitReached
from .highs import Deadline
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


def merges_of(point: Solution) -> dict[str, int]:
    """{unit_id: merger year} of the units that merge in a plan (none without mergers)."""
    s = point.schedule
    if "merge_year" not in s:
        return {}
    s = s[s["merge_year"].notna()]
    return {u: int(y) for u, y in zip(s["unit_id"], s["merge_year"], strict=True)}


def keys_of(point: Solution, by_year: bool) -> set:
    """The decision keys at 1 in a plan: unit ids (exits) and (unit id, 'merge') pairs, or with
    ``by_year`` (unit id, year) and (unit id, year, 'merge')."""
    ex = point.exits()
    mg = merges_of(point)
    if by_year:
        return {(u, y) for u, (y, _) in ex.items()} | {(u, y, "merge") for u, y in mg.items()}
    return set(ex) | {(u, "merge") for u in mg}


def unit_of(key) -> str:
    """The unit a decision key is about."""
    return key if isinstance(key, str) else key[0]


def _indicators(m: ExitModel, by_year: bool) -> dict:
    """{key: linear expression of the indicator} for every exit and merger decision of a unit."""
    terms: dict = {}
    for (u, y), ks in m.by_unit_year.items():
        terms.setdefault((u, y) if by_year else u, []).extend(m.x[k] for k in ks)
    for k in m.MG:
        for u in m.merge_members[k[0]]:
            terms.setdefault((u, k[1], "merge") if by_year else (u, "merge"), []).append(m.mg[k])
    return {key: pyo.quicksum(vs) for key, vs in terms.items()}


def distance(keys: set, e: dict):
    """Linear Hamming distance between the model's plan and the plan with ``keys`` at 1."""
    return pyo.quicksum((1 - e[k]) if k in keys else e[k] for k in e)


@dataclass
class _Search:
    """The alternatives' model: the optimum's model with the cost bound, ``t`` and its rows."""

    m: ExitModel
    inst: Instance
    e: dict
    by_year: bool
    clock: Deadline

    def add(self, keys: set, among: set | None = None) -> None:
        """Rows ``t ≤ dist`` and ``dist ≥ 1`` to the plan with ``keys`` (over the keys ``among``)."""
        e = self.e if among is None else {k: v for k, v in self.e.items() if unit_of(k) in among}
        d = distance(keys, e)
        self.m.near.add(self.m.t <= d)
        self.m.near.add(d >= 1)

    def solve(self, steps_left: int) -> Solution | None:
        """The farthest plan (None when none is left); LimitReached when none is found in time."""
        return solve_share(self.m, self.inst, step_budget(self.clock, steps_left), abs_gap=WHOLE,
                           clock=self.clock)


def alternatives(inst: Instance, within: float = 0.02, count: int = 5, *, by_year: bool = False,
                 whole: bool = False, time_limit: float | None = None, clock: Deadline | None = None,
                 progress: Progress = quiet) -> Alternatives:
    """The optimum and up to ``count`` alternatives within ``within`` (a share) of its objective.

    By blocks where the model splits (each alternative changes one block), over the whole model
    with ``whole`` or where it does not split. ``clock`` (:func:`exitopt.engine.clock`), or
    ``time_limit`` seconds from now (the scenario's own limit when None), covers the optimum and
    every search; each search takes its share by :func:`exitopt.engine.step_budget`. One cut
    short keeps its plan (status 'limit': it meets the cost bound and differs from every earlier
    plan, not proven the farthest).
    """
    if count < 1:
        raise InputError(f"the number of alternatives to look for must be at least 1 (it is {count}).")
    clock = clock if clock is not None else make_clock(inst, time_limit)
    progress("the optimum")
    opt, m = Engine(inst).solve(time_limit=clock.left() if clock.end is not None else None)
    if opt is None:
        raise_infeasible(inst, m)
    bound = opt.objective + within * abs(opt.objective)
    m.cost_cap = pyo.Constraint(expr=m.cost.expr <= bound)
    m.cost.deactivate()
    e = _indicators(m, by_year)
    m.t = pyo.Var(domain=pyo.NonNegativeReals, bounds=(0, len(e)))
    m.near = pyo.ConstraintList()
    m.far = pyo.Objective(expr=m.t, sense=pyo.maximize)
    search = _Search(m, inst, e, by_year, clock)
    groups = [] if whole else by_size(inst, product_blocks(inst))[0]
    if groups:
        found, blocks, stopped = _by_blocks(search, opt, groups, count, progress)
    else:
        found, stopped = _whole(search, opt, count, progress)
        blocks = ["all"] * (len(found) - 1)
    nearest = [min(len(keys_of(p, by_year) ^ keys_of(q, by_year)) for q in found[:i])
               for i, p in enumerate(found) if i > 0]
    plans = found[1:]
    stopped = stopped or any(p.status == "limit" for p in found)  # a plan not proven by the limit
    return Alternatives(opt, plans, bound, within, by_year, robustness(inst, found),
                        summary_table(opt, plans, nearest, bound, blocks), stopped)


def _whole(search: _Search, opt: Solution, count: int, progress: Progress) -> tuple[list[Solution], bool]:
    """Alternatives over the whole model: each the farthest from the nearest earlier plan."""
    found = [opt]
    for i in range(1, count + 1):
        search.add(keys_of(found[-1], search.by_year))
        progress(f"alternative {i} of {count}")
        try:
            p = search.solve(count - i + 1)
        except LimitReached:
            progress(f"alternative {i}: no plan found within the time limit; the search stops here")
            return found, True
        if p is None:
            progress(f"no further plan within the bound differs from the {len(found)} found")
            break
        found.append(p)
    return found, False


def _decisions(m: ExitModel, inst: Instance) -> list[tuple[Any, str]]:
    """(variable, its unit's product) of every free exit, merger and project decision."""
    product = inst.units["product"].to_dict()
    out = [(m.x[k], product[k[0]]) for k in m.X]
    out += [(m.mg[k], product[m.merge_members[k[0]][0]]) for k in m.MG]
    out += [(m.a[j], inst.projects.at[j, "product"]) for j in m.J]
    return [(v, p) for v, p in out if not v.fixed]


def _by_blocks(search: _Search, opt: Solution, groups: list[frozenset[str]], count: int,
               progress: Progress) -> tuple[list[Solution], list[str], bool]:
    """Alternatives each changing one block, the other blocks at their optimum (module docstring)."""
    m, inst, by_year = search.m, search.inst, search.by_year
    decisions = _decisions(m, inst)
    at_optimum = [(v, round(v.value or 0.0)) for v, _ in decisions]
    product = inst.units["product"].to_dict()
    opt_keys = keys_of(opt, by_year)
    names = {g: ", ".join(sorted(g)) for g in groups}
    earlier: dict[frozenset[str], list[set]] = {g: [opt_keys] for g in groups}
    candidate: dict[frozenset[str], tuple[int, Solution]] = {}
    stopped = False

    def search_block(g: frozenset[str], steps_left: int) -> None:
        nonlocal stopped
        for v, value in at_optimum:  # the other blocks' optimum, and a start for this one
            v.set_value(value, skip_validation=True)
        others = [v for v, p in decisions if p not in g]
        for v in others:
            v.fix()
        members = {u for u, p in product.items() if p in g}
        rows = len(m.near)
        for keys in earlier[g]:
            search.add(keys, members)
        progress(f"alternative in {names[g]}")
        try:
            p = search.solve(steps_left)
        except LimitReached:
            progress(f"{names[g]}: no plan found within the time limit")
            p, stopped = None, True
        finally:
            for v in others:
                v.unfix()
            for i in range(rows + 1, len(m.near) + 1):  # this block's rows are of no other's search
                m.near[i].deactivate()
        if p is None:
            candidate.pop(g, None)
            return
        mine = keys_of(p, by_year)
        candidate[g] = (min(len(mine ^ q) for q in earlier[g]), p)

    found, blocks = [opt], []
    for i, g in enumerate(groups):
        search_block(g, len(groups) - i + count - 1)
    while candidate and len(found) <= count:
        order = {g: i for i, g in enumerate(groups)}
        g = max(candidate, key=lambda b: (candidate[b][0], -candidate[b][1].objective, -order[b]))
        t, p = candidate.pop(g)
        found.append(p)
        blocks.append(names[g])
        earlier[g].append(keys_of(p, by_year))
        progress(f"alternative {len(found) - 1} of {count}: {t} differences, in {names[g]}")
        if len(found) <= count:
            search_block(g, count - len(found) + 1)
    if not candidate and len(found) <= count:
        progress(f"no further plan within the bound differs from the {len(found)} found")
    return found, blocks, stopped


def summary_table(opt: Solution, plans: list[Solution], nearest: list[int], bound: float,
                  blocks: list[str] | None = None) -> pd.DataFrame:
    """One row per plan: objective, its excess over the optimum, jobs, fiscal, distance to the
    nearest, and the products of the block it changes ('all' for a search of the whole model)."""
    rows = []
    blocks = blocks if blocks is not None else ["all"] * len(plans)
    for name, p, near, block in [("optimum", opt, None, "")] + [
            (f"alt_{i:02d}", p, n, b) for i, (p, n, b) in enumerate(zip(plans, nearest, blocks, strict=True), start=1)]:
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
            "changes": block,
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
