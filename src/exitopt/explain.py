"""Why each unit exits: the rule that forced it, or how its cost compares with the margin.

A unit that exits because a rule says so already carries that rule in its ``reason``
("mandatory: …", "package: …"). For a unit the optimiser *chose*, this module says how its
cost per 万吨 counted compares with the marginal cost of the capacity rule it serves, e.g.
``chosen: 212 万元 per 万吨 counted vs 240 at the margin of 'coal exit 1,000'``.

Cost of an exit (objective units: 万元, with a displaced worker at ``jobs_weight``), for unit u
leaving in year y by mode m, against staying::

    jobs_weight · D + fiscal_weight · ( disc(y) · outlay − Σ_{y' ≥ y} disc(y') · subsidised_loss_u
                                        + Σ_{y' ≥ y} disc(y') · contribution_u )

with D and outlay as in :mod:`exitopt.model.cost` (the award is netted on the counted part
only, the stranded value written off is in the outlay), the losses no longer paid, and the
revenue foregone. Divided by the capacity counted, it is
comparable with a rule's margin.

Margins are re-solved, never guessed from duals: the margin of an exit target is
``(objective(at_least + Δ) − objective) / Δ``, that of a utilisation rule
``(objective(cap − Δ) − objective) / Δ`` with ``cap = demand / min_utilisation`` (Δ in 万吨/yr,
5 by default). A rule whose slack is at least Δ has a margin of exactly 0 (the same plan
remains optimal), with no solve. Only rules that a chosen unit serves are priced.

A chosen unit whose targets do not bind names the concentration rules of its product that bind
(a small holder's exit raises the top holders' share); its replacement indicators, if any, are
stated; and a unit whose swap was solved says what keeping it costs.

Units near the margin — per product with a chosen unit, the ``n`` dearest chosen (per 万吨
counted) and the ``n`` cheapest not chosen (per 万吨, at their cheapest year and mode) — are
re-solved pinned the other way (:mod:`exitopt.pins`): the swap's cost is the change in the
optimum. Differences smaller than the solver's gap (rel_gap × objective) are noise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from .binding import binds
from .engine import Engine, Pin, Progress, apply, clock as make_clock, quiet, step_budget
from .errors import LimitReached
from .highs import Deadline
from .inputs import Instance, bind
from .model.cost import contribution, revenue_foregone, unit_exit_price
from .model.domain import build_domain, package_members
from .scenario import Utilisation
from .variants import VariantOutcome

#: the status of a re-solve that the time limit cut short
OUT_OF_TIME = "no plan found within the time limit"
#: Δ used to price a rule's margin, 万吨/yr
DELTA = 5.0
#: units on each side of the margin re-solved per product
NEAR = 5


# --------------------------------------------------------------------------------------------
# Cost of one exit


def exit_cost(inst: Instance, unit: str, year: int, mode: str, indicator: float = 0.0) -> float:
    """Objective cost (万元) of ``unit`` exiting in ``year`` by ``mode`` rather than staying."""
    scen = inst.scenario
    r = inst.units.loc[unit]
    p = unit_exit_price(scen, r, year, mode, indicator)
    displaced, outlay = p.displaced, p.outlay
    saved = 0.0
    if r["loss_making"]:
        saved = float(r["subsidised_loss"]) * sum(scen.discount(y) for y in scen.years if y >= year)
    lost = revenue_foregone(scen, contribution(scen, r), year)
    w = scen.objective
    return w.jobs_weight * displaced + w.fiscal_weight * (scen.discount(year) * outlay - saved + lost)


def cheapest_exit(inst: Instance, unit: str, choices: list[tuple[int, list[str]]]) -> tuple[int, str, float] | None:
    """(year, mode, cost per 万吨/yr) of a unit's cheapest exit among ``choices`` [(year, modes)];
    None when it has none."""
    cap = float(inst.units.at[unit, "capacity"])
    options = [(y, md, exit_cost(inst, unit, y, md) / cap) for y, modes in choices for md in modes]
    return min(options, key=lambda o: o[2]) if options else None


class Budget:
    """The re-solves of an explanation on one clock: each takes its share by the engine's one
    policy (:func:`exitopt.engine.step_budget`), counting the re-solves still to come."""

    def __init__(self, clock: Deadline, steps: int) -> None:
        self.clock = clock
        self.left = steps

    def next(self) -> float | None:
        """Seconds for the next re-solve."""
        share = step_budget(self.clock, self.left)
        self.left = max(self.left - 1, 1)
        return share


def _solve_or_note(engine: Engine, inst: Instance, base: float, budget: Budget | None
                   ) -> tuple[VariantOutcome | None, str]:
    """(optimum or None, status text): a variant solved in its block, 'infeasible' or out of time
    noted, not raised. A re-solve with no plan at the end of its share may go on to the end of the
    clock."""
    share = budget.next() if budget is not None else None
    try:
        try:
            p = engine.variant(inst, base_objective=base, time_limit=share)
        except LimitReached:
            if share is None or budget is None or budget.clock.expired():
                raise
            p = engine.variant(inst, base_objective=base, time_limit=budget.clock.left())
    except LimitReached:
        return None, OUT_OF_TIME
    if p.objective is None:
        return None, "infeasible: no plan meets the rules with it"
    return p, p.status


# --------------------------------------------------------------------------------------------
# Rules a chosen unit serves, and their margins


@dataclass(frozen=True)
class RuleRef:
    """A capacity rule: an exit target (at_least), or a utilisation rule's cap in one year."""

    kind: str  # "target" | "utilisation"
    name: str
    product: str
    year: int

    @property
    def label(self) -> str:
        return self.name if self.kind == "target" else f"{self.name} ({self.year})"


def served_rules(inst: Instance, unit: str, year: int) -> list[RuleRef]:
    """The rules that ``unit`` exiting in ``year`` helps meet."""
    scen = inst.scenario
    product = inst.units.at[unit, "product"]
    out = [RuleRef("target", t.name, t.product, t.by) for t in scen.targets
           if t.at_least is not None and t.product == product and year <= t.by
           and bool(t.where.mask(inst.units.loc[[unit]]).iloc[0])]
    out += [RuleRef("utilisation", u.name, u.product, y) for u in scen.utilisation
            if u.min_utilisation is not None and u.product == product
            for y in sorted(u.demand) if y >= year]
    return out


def tightened(inst: Instance, rule: RuleRef, delta: float) -> Instance:
    """A copy of ``inst`` with ``rule`` tighter by ``delta`` 万吨/yr; ``inst`` is left as it was."""
    scen = inst.scenario
    if rule.kind == "target":
        targets = [t.model_copy(update={"at_least": t.at_least + delta}) if t.name == rule.name and
                   t.product == rule.product and t.at_least is not None else t for t in scen.targets]
        new = scen.model_copy(update={"targets": targets})
    else:
        rules: list[Utilisation] = []
        for u in scen.utilisation:
            if u.name != rule.name or u.product != rule.product or u.min_utilisation is None:
                rules.append(u)
                continue
            demand = dict(u.demand)
            demand[rule.year] = demand[rule.year] - delta * u.min_utilisation
            rules.append(u.model_copy(update={"demand": demand, "reserve": None}))
            if u.reserve is not None:  # keep the supply floor at the old demand
                rules.append(u.model_copy(update={"min_utilisation": None}))
        new = scen.model_copy(update={"utilisation": rules})
    return bind(new, inst.units, inst.projects, files=inst.files, scenario_path=inst.scenario_path)


def _slack(constraints: pd.DataFrame, rule: RuleRef) -> float | None:
    """Slack (万吨/yr) of the rule's row in a run's constraints table."""
    c = constraints
    if c.empty:
        return None
    if rule.kind == "target":
        rows = c[(c["rule"] == "target") & (c["name"] == rule.name) & (c["sense"] == "at least")]
    else:
        rows = c[(c["rule"] == "utilisation") & (c["name"] == rule.name) & (c["year"] == rule.year)]
    return float(rows["slack"].iloc[0]) if len(rows) else None


def needs_solve(constraints: pd.DataFrame, rule: RuleRef, delta: float = DELTA) -> bool:
    """Whether the rule's margin needs a re-solve: its slack is less than Δ."""
    slack = _slack(constraints, rule)
    return not (slack is not None and slack >= delta - 1e-6)


def rule_margin(inst: Instance, rule: RuleRef, objective: float, constraints: pd.DataFrame, *,
                delta: float = DELTA, budget: Budget | None = None, engine: Engine | None = None) -> dict:
    """The rule's marginal cost per 万吨/yr, re-solved (or 0 when its slack covers Δ)."""
    slack = _slack(constraints, rule)
    row = {"kind": "rule margin", "rule": rule.label, "product": rule.product, "unit_id": "", "name": "",
           "exit_year": None, "cost_per_wt": None, "slack": slack,
           "change": f"{rule.label}: {delta:g} 万吨/yr tighter", "objective_after": objective}
    if slack is not None and slack >= delta - 1e-6:
        return {**row, "cost_of_change": 0.0, "margin_per_wt": 0.0,
                "status": f"not binding: slack {slack:,.1f} 万吨/yr ≥ Δ, the same plan stays optimal"}
    p, status = _solve_or_note(engine or Engine(inst), tightened(inst, rule, delta), objective, budget)
    if p is None:
        return {**row, "objective_after": None, "cost_of_change": None, "margin_per_wt": None,
                "status": status if status.startswith("no plan") else "infeasible: the rule cannot be tightened by Δ"}
    assert p.objective is not None  # a variant with no plan is reported above
    return {**row, "objective_after": p.objective, "cost_of_change": p.objective - objective,
            "margin_per_wt": (p.objective - objective) / delta, "status": p.status}


# --------------------------------------------------------------------------------------------
# The whole explanation


@dataclass
class Explanation:
    """The schedule with explained reasons, and the margins table (margins.csv)."""

    schedule: pd.DataFrame
    margins: pd.DataFrame


def _per_wt(inst: Instance, sched: pd.DataFrame) -> pd.Series:
    """Cost per 万吨 counted of each exiting unit (NaN when nothing is counted)."""
    out = {}
    for _, r in sched[sched["exit_year"].notna()].iterrows():
        cost = exit_cost(inst, r["unit_id"], int(r["exit_year"]), r["mode"], float(r["indicator"]))
        out[r["unit_id"]] = cost / r["counted"] if r["counted"] > 1e-9 else float("nan")
    return pd.Series(out, dtype=float)


def _num(v: float) -> str:
    """A figure with as many decimals as its size needs: 1,234 · 56.7 · 0.85."""
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}"


def _binding_elsewhere(constraints: pd.DataFrame, product: str, year: int) -> list[str]:
    """Concentration rules of the product that bind (:func:`exitopt.binding.binds`) in or after
    the exit year: a small holder's exit raises the top holders' share."""
    c = constraints
    if c.empty:
        return []
    rows = c[(c["rule"] == "concentration") & (c["product"] == product) & (c["year"].fillna(year) >= year)]
    tight = [bool(binds(r, a)) for r, a in zip(rows["required"], rows["achieved"], strict=True)]
    return list(dict.fromkeys(str(n) for n in rows.loc[tight, "name"]))


def _reason(cost: float, per_wt: float, indicator: float, margins: list[tuple[RuleRef, float | None]],
            others: list[str], swap_cost: float | None) -> str:
    """The reason text of a chosen unit."""
    extra = f"; {indicator:,.1f} 万吨 used as replacement indicators" if indicator > 1e-6 else ""
    if swap_cost is not None:
        extra += f"; keeping it instead costs {_num(swap_cost)}"
    if per_wt != per_wt:  # nothing counted
        return f"chosen: all its capacity serves as replacement indicators (cost {_num(cost)} 万元){extra}"
    priced = [(r, m) for r, m in margins if m is not None]
    if priced:
        rule, m = max(priced, key=lambda rm: rm[1])
        if m > 1e-6:
            return f"chosen: {_num(per_wt)} 万元 per 万吨 counted vs {_num(m)} at the margin of '{rule.label}'{extra}"
    if cost < 0:
        return f"chosen: exiting saves {_num(-cost)} 万元 (losses no longer paid exceed its exit cost){extra}"
    head = f"chosen: {_num(per_wt)} 万元 per 万吨 counted"
    names = ", ".join(f"'{r.label}'" for r, _ in margins)
    if names:
        head += f"; {names} not binding (margin 0)"
    if others:
        names = ", ".join(f"'{n}'" for n in others)
        return head + f"; needed by the binding {names}{extra}"
    return head + f"; needed by a rule other than the exit targets{extra}"


def explain(result, *, near: int = NEAR, delta: float = DELTA, time_limit: float | None = None,
            clock: Deadline | None = None, progress: Progress = quiet, engine: Engine | None = None) -> Explanation:
    """Explain a solved run (:class:`exitopt.solve.Result`): reasons in its schedule, and margins.csv.

    Every re-solve goes through one :class:`exitopt.engine.Engine` (``engine``, when the run was
    solved with one): a tightened rule or a swap changes one block, and only that block is solved
    again (:meth:`exitopt.engine.Engine.variant`). ``clock`` (the command's, handed down; else
    ``time_limit`` seconds from now, or the scenario's own limit) covers every re-solve, each
    taking its share by the engine's one policy (:class:`Budget`).
    """
    inst: Instance = result.inst
    engine = engine if engine is not None else Engine(inst)
    clock = clock if clock is not None else make_clock(inst, time_limit)
    sched = result.schedule.copy()
    base = result.objective
    per_wt = _per_wt(inst, sched)
    chosen = sched[sched["exit_year"].notna() & (sched["reason"] == "chosen")]

    # margins of the rules that chosen units serve, and the swaps: one budget for all re-solves
    serves = {r["unit_id"]: served_rules(inst, r["unit_id"], int(r["exit_year"])) for _, r in chosen.iterrows()}
    rules = list(dict.fromkeys(r for rs in serves.values() for r in rs))
    planned = swap_plans(result, per_wt, near=near)
    budget = Budget(clock, sum(needs_solve(result.constraints, r, delta) for r in rules) + len(planned))
    # the re-solves of the blocks that solved fastest first: what they leave goes to the harder ones
    tasks = [(r.product, "rule", r) for r in rules] + [(sp[0], "swap", sp) for sp in planned]
    done: dict[int, dict] = {}
    for i in sorted(range(len(tasks)), key=lambda i: (engine.block_seconds(tasks[i][0]), i)):
        _, kind, what = tasks[i]
        if isinstance(what, RuleRef):
            progress(f"margin of {what.label}")
            done[i] = rule_margin(inst, what, base, result.constraints, delta=delta, budget=budget, engine=engine)
        else:
            done[i] = swap_row(result, what, budget=budget, progress=progress, engine=engine)
    rows = [done[i] for i in range(len(rules))]
    margin = {rule: row["margin_per_wt"] for rule, row in zip(rules, rows, strict=True)}
    swap_rows = [done[i] for i in range(len(rules), len(tasks))]
    kept_cost = {r["unit_id"]: r["cost_of_change"] for r in swap_rows if r["kind"] == "swap out"}

    for i, r in chosen.iterrows():
        u = r["unit_id"]
        cost = exit_cost(inst, u, int(r["exit_year"]), r["mode"], float(r["indicator"]))
        sched.at[i, "reason"] = _reason(cost, per_wt.get(u, float("nan")), float(r["indicator"]),
                                        [(rule, margin.get(rule)) for rule in serves[u]],
                                        _binding_elsewhere(result.constraints, r["product"], int(r["exit_year"])),
                                        kept_cost.get(u))

    cols = ["kind", "rule", "product", "unit_id", "name", "exit_year", "cost_per_wt", "margin_per_wt", "slack",
            "change", "objective_after", "cost_of_change", "status"]
    margins = pd.DataFrame(rows + swap_rows, columns=cols)
    margins["exit_year"] = margins["exit_year"].astype("Int64")
    return Explanation(sched, margins)


def swap_plans(result, per_wt: pd.Series, *, near: int = NEAR) -> list[tuple[str, str, str, float, int | None]]:
    """The swaps to re-solve, (product, unit, keep or exit, cost per 万吨, exit year of a kept one):
    per product with a chosen unit, the ``near`` dearest chosen and the ``near`` cheapest not chosen."""
    inst: Instance = result.inst
    sched = result.schedule.set_index("unit_id", drop=False)
    choices: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
    for (u, y), modes in build_domain(inst).items():
        choices[u].append((y, modes))
    in_package = {u for p in inst.scenario.packages for u in package_members(inst, p)}
    chosen = sched[sched["exit_year"].notna() & (sched["reason"] == "chosen")]
    out: list[tuple[str, str, str, float, int | None]] = []
    for product in sorted(set(chosen["product"])):
        dear = (per_wt.reindex(chosen.index[chosen["product"] == product]).dropna()
                .sort_values(ascending=False).head(near))
        staying = sched[sched["exit_year"].isna() & (sched["product"] == product)
                        & ~sched["unit_id"].isin(in_package)]
        options = {u: cheapest_exit(inst, u, choices[u]) for u in staying.index}
        cheap = sorted(((o[2], u, o[0]) for u, o in options.items() if o is not None))[:near]
        out += [(product, u, "keep", per_wt[u], int(sched.at[u, "exit_year"])) for u in dear.index]
        out += [(product, u, "exit", c, None) for c, u, _ in cheap]
    return out


def swaps(result, planned: list, *, budget: Budget | None = None, progress: Progress = quiet,
          engine: Engine | None = None) -> list[dict]:
    """Re-solve the units nearest the margin (:func:`swap_plans`) pinned the other way; one row per swap."""
    engine = engine if engine is not None else Engine(result.inst)
    return [swap_row(result, sp, budget=budget, progress=progress, engine=engine) for sp in planned]


def swap_row(result, planned: tuple, *, budget: Budget | None, progress: Progress, engine: Engine) -> dict:
    """One swap of :func:`swap_plans` re-solved: the row of margins.csv."""
    product, u, action, cost, year = planned
    pin = Pin(u, action)
    progress(f"swap: {pin.label}")
    p, status = _solve_or_note(engine, apply(result.inst, [pin]), result.objective, budget)
    return {"kind": "swap out" if action == "keep" else "swap in", "rule": "", "product": product,
            "unit_id": u, "name": result.schedule.set_index("unit_id").at[u, "name"], "exit_year": year,
            "cost_per_wt": cost, "margin_per_wt": None, "slack": None, "change": pin.label,
            "objective_after": p.objective if p is not None else None,
            "cost_of_change": p.objective - result.objective if p is not None else None, "status": status}
