"""The solve engine: the one road from an instance to a solved plan.

Every command that solves — ``solve``, ``pareto``, ``alternatives``, the what-if pins, the
explanations, the diagnosis and each case of a sweep — goes through this module:

* :func:`solve_model` solves a built model with whatever objective and extra rows are active
  and reads the plan back as a :class:`Solution`. A model built once can be changed in place
  (bounds, right-hand sides, an extra row, the objective) and solved again; each solve starts
  from the plan read into the model last (a MIP start).
* :class:`Engine` solves scenario *variants* (pins, a tightened rule): each is split into the
  blocks no rule ties together (:mod:`exitopt.blocks`); a block the variant leaves as it was
  is not solved again. A variant's plan is the one a first solve of it finds: nothing solved
  before (no MIP start from another variant) steers it.
* :class:`Pin` and :func:`apply` turn a what-if pin into rules of a variant.

Every solve draws on the wall clock of the command (:func:`exitopt.highs.limit`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, NoReturn

import pandas as pd
import pyomo.core as pyo

from . import highs
from .errors import InfeasibleError, LimitReached
from .inputs import Instance, bind
from .model import build
from .model.cost import contribution, merge_price, revenue_foregone, splits_award, unit_exit_price
from .model.domain import protected_units
from .model.exit_model import ExitModel
from .rules.mergers import merged
from .rules.replacement import unit_indicators
from .rules.upgrades import upgrade_outlay, upgraded
from .scenario import Mandatory, Protected, Window
from .selection import Selection

Progress = Callable[[str], None]


def quiet(_msg: str) -> None:
    """A progress callback that says nothing."""


# --------------------------------------------------------------------------------------------
# One solved plan


@dataclass
class Solution:
    """One solved plan: its schedule (as ``exitopt solve`` writes it), new capacity and cost.

    ``objective`` is the scenario's own objective, ``jobs_weight × jobs + fiscal_weight ×
    fiscal``, whatever objective the solve minimised; ``outcome`` is the solver's report on
    the objective it did minimise.
    """

    outcome: highs.Outcome
    schedule: pd.DataFrame
    new_capacity: pd.DataFrame
    jobs: float  # persons displaced
    fiscal: float  # 万元, present value
    objective: float

    @property
    def status(self) -> str:
        return self.outcome.status

    def exits(self) -> dict[str, tuple[int, str]]:
        """{unit_id: (exit year, mode)} of the units that exit."""
        s = self.schedule[self.schedule["exit_year"].notna()]
        return {u: (int(y), str(md)) for u, y, md in zip(s["unit_id"], s["exit_year"], s["mode"], strict=True)}

    def candidates_built(self) -> bool:
        """Whether the plan builds a new-capacity project that is only a candidate."""
        n = self.new_capacity
        return bool(not n.empty and (n["built"] & (n["approval"] == "candidate")).any())

    def plan_files(self, stem: str) -> dict[str, pd.DataFrame]:
        """``{stem}.csv`` (the schedule) and, when the plan builds a candidate project,
        ``{stem}_projects.csv`` to give ``exitopt check --projects``."""
        files = {f"{stem}.csv": self.schedule}
        if self.candidates_built():
            files[f"{stem}_projects.csv"] = self.new_capacity
        return files


def weighted(inst: Instance, jobs: float, fiscal: float) -> float:
    """The scenario's objective for a plan with these jobs (persons) and fiscal cost (万元)."""
    w = inst.scenario.objective
    return w.jobs_weight * jobs + w.fiscal_weight * fiscal


def round_integers(m: ExitModel) -> None:
    """Round binary values within the solver's integrality tolerance, so jobs and fiscal are
    those of the plan read back (a value of 0.9999996 would otherwise leak into them)."""
    for v in m.component_data_objects(pyo.Var, active=True, descend_into=True):
        if v.is_integer() and v.value is not None and not v.fixed:
            v.set_value(round(v.value), skip_validation=True)


def read_schedule(m: ExitModel, inst: Instance) -> pd.DataFrame:
    """One row per unit, exiting or not, priced exactly as the objective prices it."""
    scen = inst.scenario
    units = inst.units
    chosen = {}
    for k in m.X:
        if m.x[k].value is not None and m.x[k].value > 0.5:
            chosen[k[0]] = (k[1], k[2])
    ind = unit_indicators(m, chosen)
    protected = protected_units(inst)
    joined = merged(m)
    lifted = upgraded(m)
    offer = {r.name: r for r in scen.upgrades}
    rows = []
    for u, r in units.iterrows():
        year, mode = chosen.get(u, (None, None))
        cap = float(r["capacity"])
        losses = 0.0
        if r["loss_making"]:
            losses = float(r["subsidised_loss"]) * sum(1 for y in inst.years if year is None or y < year)
        if u in joined:  # merged (docs/model.md#mergers): it runs on, held by its acquirer
            when, acquirer = joined[u]
            displaced, spent = merge_price(scen, r, when)
            rows.append(dict(exit_year=None, mode="merge", merge_year=when, acquirer=acquirer, counted=0.0,
                             indicator=0.0, workers_displaced=displaced, outlay=spent, award=0.0, award_base=0.0,
                             award_ladder=0.0, losses_paid=losses, revenue_foregone=0.0, stranded_value=0.0,
                             reason=f"merger: {m.merge_rule[m.merge_of[u]]}"))
            continue
        if year is None:
            reason = f"protected: {protected[u]}" if u in protected else ""
            if u in lifted:  # upgraded (docs/model.md#upgrades): it runs on with its new figures
                reason = f"upgrade: {lifted[u][1]}"
            rows.append(dict(exit_year=None, mode="", counted=0.0, indicator=0.0, workers_displaced=0.0,
                             outlay=0.0, award=0.0, award_base=0.0, award_ladder=0.0, losses_paid=losses,
                             revenue_foregone=0.0, stranded_value=0.0, reason=reason))
            continue
        indicator = min(ind.get(u, 0.0), cap)
        p = unit_exit_price(scen, r, year, mode, indicator)
        counted, displaced, outlay, award = p.counted, p.displaced, p.outlay, p.award
        foregone = revenue_foregone(scen, contribution(scen, r), year)  # present value
        stranded = p.stranded * scen.discount(year)  # present value
        if u in m.mandatory_of:
            reason = f"mandatory: {m.mandatory_of[u]}"
        elif u in m.package_of:
            reason = f"package: {m.package_of[u]}"
        else:
            reason = "chosen"
        rows.append(dict(exit_year=year, mode=mode, counted=counted, indicator=indicator,
                         workers_displaced=displaced, outlay=outlay, award=award, award_base=p.award_base,
                         award_ladder=p.award_ladder, losses_paid=losses,
                         revenue_foregone=foregone, stranded_value=stranded, reason=reason))
    df = pd.DataFrame(rows, index=units.index)
    if scen.upgrades:  # the upgrade (docs/model.md#upgrades) after the mode, before any merger columns
        at = list(df.columns).index("mode") + 1
        df.insert(at, "upgrade", [lifted[u][1] if u in lifted else "" for u in units.index])
        df.insert(at + 1, "upgrade_year", pd.array([lifted[u][0] if u in lifted else None for u in units.index],
                                                   dtype="Int64"))
        df.insert(at + 2, "upgrade_outlay", [upgrade_outlay(offer[lifted[u][1]], units.at[u, "capacity"])
                                             if u in lifted else 0.0 for u in units.index])
    if not splits_award(scen):  # one award, all of it weighted by the ladder: no split to show
        df = df.drop(columns=["award_base", "award_ladder"])
    if scen.mergers:  # the merger year and acquiring group, after the mode; no columns without mergers
        at = list(df.columns).index("upgrade_outlay" if scen.upgrades else "mode") + 1
        df.insert(at, "merge_year", df.pop("merge_year") if "merge_year" in df else None)
        df.insert(at + 1, "acquirer", df.pop("acquirer").fillna("") if "acquirer" in df else "")
    else:
        df = df.drop(columns=["merge_year", "acquirer"], errors="ignore")
    cols = ["unit_id", "name", "name_zh", "sector", "kind", "product", "firm", "group", "region", "capacity"]
    out = pd.concat([units[cols], df], axis=1).reset_index(drop=True)
    out["exit_year"] = out["exit_year"].astype("Int64")
    if "merge_year" in out:
        out["merge_year"] = out["merge_year"].astype("Int64")
    return out


def read_new_capacity(m: ExitModel, inst: Instance) -> pd.DataFrame:
    p = inst.projects
    if p.empty:
        return pd.DataFrame(columns=["project_id", "name", "product", "capacity", "year", "approval", "built"])
    built = [bool(j in m.J and (m.a[j].value or 0) > 0.5) for j in p.index]
    out = p[["project_id", "name", "product", "capacity", "year", "approval"]].copy()
    out["built"] = built
    return out.reset_index(drop=True)


def put(m: ExitModel, exits: dict[str, tuple[int, str]], built: Iterable[str] = (),
        merges: dict[str, tuple[int, str]] | None = None, upgrades: dict[str, tuple[int, str]] | None = None
        ) -> None:
    """Set a plan as the model's values (the next solve's MIP start): the exits ``{unit: (year,
    mode)}``, the candidate projects ``built``, the mergers ``{unit: (year, acquirer)}`` and the
    upgrades ``{unit: (year, rule)}``."""
    built = set(built)
    for k in m.X:
        m.x[k].set_value(1.0 if exits.get(k[0]) == (k[1], k[2]) else 0.0, skip_validation=True)
    merges = merges or {}
    for k in m.MG:
        first = m.merge_members[k[0]][0]
        m.mg[k].set_value(1.0 if merges.get(first) == (k[1], k[2]) else 0.0, skip_validation=True)
    upgrades = upgrades or {}
    for k in m.UP:
        m.up[k].set_value(1.0 if upgrades.get(k[0], (None,))[0] == k[1] else 0.0, skip_validation=True)
    for j in m.J:
        if not m.a[j].fixed:
            m.a[j].set_value(1.0 if j in built else 0.0, skip_validation=True)


def read(m: ExitModel, inst: Instance, outcome: highs.Outcome) -> Solution:
    """The plan held in a solved model, priced as the objective prices it."""
    round_integers(m)
    jobs = float(pyo.value(m.jobs))
    fiscal = float(pyo.value(m.fiscal))
    return Solution(outcome, read_schedule(m, inst), read_new_capacity(m, inst), jobs, fiscal,
                    weighted(inst, jobs, fiscal))


def solve_model(m: ExitModel, inst: Instance, *, time_limit: float | None = None,
                grace: bool = False, abs_gap: float | None = None) -> Solution | None:
    """Solve ``m`` with whatever objective is active, from the plan it holds; None when no plan exists.

    Raises :class:`exitopt.errors.LimitReached` when the time limit passes before any plan is
    found. ``grace``, ``abs_gap``: see :func:`exitopt.highs.solve`.
    """
    outcome = highs.solve(m, inst.scenario.solver, time_limit=time_limit, grace=grace, abs_gap=abs_gap)
    if outcome.status == "infeasible":
        return None
    highs.require_plan(outcome)
    return read(m, inst, outcome)


def solve_share(m: ExitModel, inst: Instance, share: float | None, *, abs_gap: float | None = None,
                clock: highs.Deadline | None = None) -> Solution | None:
    """:func:`solve_model` within ``share`` seconds, one step's part of the command's time; a
    solve with no plan by then may take the rest of the command's time (a share bounds the proof
    of a plan, not the search for a first one). ``clock``: the analysis's own clock
    (:func:`clock`); without one, the deadline in force."""
    try:
        return solve_model(m, inst, time_limit=share, abs_gap=abs_gap)
    except LimitReached:
        end = clock if clock is not None else highs.deadline()
        if share is None or end.expired():
            raise
        return solve_model(m, inst, abs_gap=abs_gap, time_limit=clock.left() if clock is not None else None)


# --------------------------------------------------------------------------------------------
# The clock of an analysis, and how its steps share it


def clock(inst: Instance, time_limit: float | None = None, *, started: float | None = None) -> highs.Deadline:
    """The wall clock of an analysis (alternatives, explanations): ``time_limit`` seconds, or the
    scenario's ``[solver] time_limit`` when None, counted from ``started`` (time.time(); now
    when None). It is handed down explicitly to every step; no step reads an ambient one."""
    seconds = time_limit if time_limit is not None else inst.scenario.solver.time_limit
    return highs.Deadline(seconds, started=started)


def step_budget(clock: highs.Deadline | None, steps_left: int) -> float | None:
    """Seconds for the next step of an analysis when ``steps_left`` steps (this one included)
    are still to come: the one policy of ``alternatives`` and ``solve --explain``.

    Every step takes an equal share of the time left, ``left / steps_left``; one that ends early
    leaves what it did not use to the later ones, so a hard proof cannot leave the later steps
    with nothing. A step whose share passes before it has any plan may go on to the end of the
    clock (:func:`solve_share`): a share bounds the proof of a plan, not the search for a first
    one. None without a clock, or a clock without a limit.
    """
    return None if clock is None else clock.share(1, max(steps_left, 1))


def raise_infeasible(inst: Instance, m: ExitModel | None = None) -> NoReturn:
    """Raise the InfeasibleError (with its diagnosis) that ``exitopt solve`` gives for ``inst``."""
    from .diagnose import diagnose  # only when needed: it loads all of pyomo.environ

    diag = diagnose(m if m is not None else build(inst), inst)
    raise InfeasibleError(diag.message(), diag, instance=inst)


# --------------------------------------------------------------------------------------------
# What-if pins as scenario variants


@dataclass(frozen=True)
class Pin:
    """Keep a unit (through ``year`` when given) or make it exit (in exactly ``year`` when given)."""

    unit: str
    action: Literal["keep", "exit"]
    year: int | None = None

    @property
    def label(self) -> str:
        if self.action == "keep":
            return f"keep {self.unit}" + (f" through {self.year}" if self.year is not None else "")
        return f"exit {self.unit}" + (f" in {self.year}" if self.year is not None else "")


def apply(inst: Instance, pins: Iterable[Pin]) -> Instance:
    """A new instance whose scenario has a rule per pin; ``inst`` is left as it was."""
    scen = inst.scenario
    protected, mandatory, windows = list(scen.protected), list(scen.mandatory), list(scen.windows)
    for p in pins:
        only = Selection(units=[p.unit])
        if p.action == "keep" and p.year is None:
            protected.append(Protected(name=f"what-if pin: {p.label}", where=only))
        elif p.action == "keep" and p.year is not None:
            later = [y for y in scen.years if y > p.year]
            if not later:  # kept through the last planning year: kept
                protected.append(Protected(name=f"what-if pin: {p.label}", where=only))
                continue
            windows.append(Window(name=f"what-if pin: {p.label}", where=only, years=later))
        else:
            by = p.year if p.year is not None else scen.last_year
            mandatory.append(Mandatory(name=f"what-if pin: {p.label}", by=by, where=only))
            if p.year is not None:
                windows.append(Window(name=f"what-if pin: {p.label}", where=only, years=[p.year]))
    new = scen.model_copy(update={"protected": protected, "mandatory": mandatory, "windows": windows})
    return bind(new, inst.units, inst.projects, files=inst.files, scenario_path=inst.scenario_path)


# --------------------------------------------------------------------------------------------
# Variants of one scenario, solved block by block


class Engine:
    """Solves a scenario and its variants, reusing what an earlier solve found.

    The blocks of a variant that no change reaches are taken from the cache as they were (keyed
    by everything the block's optimum depends on, :func:`exitopt.blocks.block_key`); every other
    block, and the whole model when it has to be solved whole, is solved from no start. So a
    variant gets the same plan, to the last digit, whatever was solved before it: the order of a
    sweep's cases, a resume, the meeting room's earlier solves or a fresh process (a MIP start
    from another variant's plan may lead HiGHS to another plan within the gap).
    """

    def __init__(self, inst: Instance, *, blocks: bool = True, cache: dict | None = None) -> None:
        self.inst = inst
        self.blocks = blocks
        self.cache: dict = {} if cache is None else cache
        self._held: tuple | None = None  # the blocks' plan while the whole is solved for a smaller gap
        self._checking: ExitModel | None = None  # the whole model that prices the variants' plans
        self._seconds: dict | None = None  # seconds of the blocks' solves, by product

    def solve(self, inst: Instance | None = None, *, time_limit: float | None = None) -> tuple[
            Solution | None, ExitModel]:
        """(plan or None when no plan meets the rules, the whole model holding it)."""
        inst = self.inst if inst is None else inst
        d = highs.deadline(time_limit, inst.scenario.solver)
        d.check("building the model")
        self._held = None
        outcome, m = self._by_blocks(inst, time_limit) if self.blocks else (None, None)
        if outcome is None:
            m = m if m is not None else build(inst)  # holding the blocks' plan, when there is one
            outcome = self._whole(m, inst, time_limit)
            if self._held is not None and not outcome.has_solution:
                outcome = self._restore(m, inst)  # out of time: the blocks' plan stands
        assert m is not None  # the blocks' road gives its model with its outcome
        if outcome.status == "infeasible":
            return None, m
        highs.require_plan(outcome)
        return read(m, inst, outcome), m

    def variant(self, variant: Instance, *, base_objective: float, time_limit: float | None = None):
        """The optimum of a variant of this engine's scenario (:func:`exitopt.variants.solve_variant`):
        only the block it changes is solved, to the scenario's gap on the whole plan."""
        from .variants import solve_variant

        return solve_variant(self, variant, base_objective=base_objective, time_limit=time_limit)

    def block_seconds(self, product: str) -> float:
        """Seconds the solve of the engine's scenario took in the block holding ``product`` (0 when
        it was not solved by blocks): how hard a variant of that block is likely to be."""
        from .blocks import block_key, product_blocks, sub_instance

        if self._seconds is None:
            self._seconds = {}
            for g in product_blocks(self.inst):
                plan = self.cache.get(block_key(sub_instance(self.inst, g)))
                self._seconds.update({p: plan.seconds if plan is not None else 0.0 for p in g})
        return self._seconds.get(product, 0.0)

    def check_plan(self, exits: dict, built: set, merges: dict | None = None) -> highs.Outcome:
        """A plan of this engine's scenario priced with every decision fixed, in one whole model
        kept for the purpose: status 'optimal' when it meets every rule, the objective its cost."""
        if self._checking is None:
            self._checking = build(self.inst, grace=True)
        return self._fixed(self._checking, self.inst, exits, built, merges)

    def _whole(self, m: ExitModel, inst: Instance, time_limit: float | None) -> highs.Outcome:
        """Solve the whole model; one that only a yearly budget keeps from splitting into blocks
        is solved by :mod:`exitopt.decompose`."""
        from . import decompose

        if self.blocks and decompose.coupled(inst):
            return decompose.solve(m, inst, time_limit=time_limit)
        return highs.solve(m, inst.scenario.solver, time_limit=time_limit)

    def _restore(self, m: ExitModel, inst: Instance) -> highs.Outcome:
        """Put the blocks' plan held in ``self._held`` back into ``m``, priced; status 'limit'."""
        assert self._held is not None
        exits, built, bound, merges, upgrades = self._held
        outcome = self._fixed(m, inst, exits, built, merges, upgrades)
        return highs.Outcome("limit", outcome.has_solution, outcome.objective, bound,
                             highs.gap(outcome.objective, bound), outcome.seconds,
                             "independent blocks; the whole model, solved for a smaller gap, ran out of time",
                             outcome.solver_seconds)

    def _fixed(self, m: ExitModel, inst: Instance, exits: dict, built: set, merges: dict | None = None,
               upgrades: dict | None = None) -> highs.Outcome:
        """Solve ``m`` with every exit, project and merger fixed as given (a small LP; it may use the
        grace period, so that the clock running out does not throw a plan away)."""
        put(m, exits, built, merges, upgrades)
        fixed = [v for v in list(m.x.values()) + [m.a[j] for j in m.J] + list(m.mg.values()) + list(m.up.values())
                 if not v.fixed]
        for v in fixed:
            v.fix()
        try:
            return highs.solve(m, inst.scenario.solver, grace=True)
        finally:
            for v in fixed:
                v.unfix()

    def _by_blocks(self, inst: Instance, time_limit: float | None) -> tuple[highs.Outcome | None,
                                                                             ExitModel | None]:
        """Solve the independent blocks (:mod:`exitopt.blocks`), fix their plans in the whole model
        and solve it; (the outcome, the whole model) when that plan is optimal for the whole within
        the gap, else (None, the whole model or None): the caller then solves the whole model."""
        from .blocks import solve_blocks

        started = time.perf_counter()
        plans = solve_blocks(inst, time_limit=time_limit, cache=self.cache)
        if plans is None:
            return None, None
        m = build(inst, grace=True)  # the blocks' plans are in hand: do not lose them to the clock
        exits = {u: e for p in plans for u, e in p.exits.items()}
        built = set().union(*(p.built for p in plans))
        merges = {u: g for p in plans for u, g in p.merges.items()}
        upgrades = {u: g for p in plans for u, g in p.upgrades.items()}
        outcome = self._fixed(m, inst, exits, built, merges, upgrades)
        if outcome.status != "optimal":
            return None, m  # the blocks' plans break a joint worker cap: solve the whole
        bound = None if any(p.bound is None for p in plans) else sum(p.bound for p in plans if p.bound is not None)
        gap = highs.gap(outcome.objective, bound)
        seconds = time.perf_counter() - started
        solver = sum(p.solver_seconds for p in plans) + (outcome.solver_seconds or 0.0)
        if any(p.status == "limit" for p in plans):
            return highs.Outcome("limit", True, outcome.objective, bound, gap, seconds,
                                 f"{len(plans)} independent blocks, one or more stopped at the time limit",
                                 solver), m
        if gap is None or gap > inst.scenario.solver.rel_gap + 1e-9:
            # blocks of opposite sign can add up to a wider gap: solve the whole, from this plan
            self._held = (exits, built, bound, merges, upgrades)
            return None, m
        return highs.Outcome("optimal", True, outcome.objective, bound, gap, seconds,
                             f"{len(plans)} independent blocks, each solved to its gap", solver), m
