"""Independent blocks: parts of the model that no rule ties together, solved one at a time.

Which products a block must hold together comes from what the rules declare
(:class:`exitopt.rules.Tie`, one per rule or part of one): the products each ties, and how a
block keeps it —

* ``exact``: the tied products share one block, whose rows are then the rule itself. Targets,
  replacement, concentration and utilisation each name one product; mandatory exits, protected
  units and windows speak of single units; a package ties the products of its members (the JISCO
  package ties pig iron, crude steel and rolled steel), a works link those of each linked works (a
  converter that needs the blast furnaces of its works ties crude steel to pig iron). So the
  products fall into blocks — in Gansu: coal, the three steel products, clinker, cement — and the
  cost is a sum over units;
* ``relaxation``: the rule does not join blocks; each keeps its part over its own units, which
  the rule implies (the worker caps per region: displaced workers are never negative), so the
  blocks together are a relaxation;
* ``coupling``: no block can keep it (the yearly **budget**, whose outlay can be negative in one
  block and positive in another; the **award fund**, on which every product's awards draw): the
  model is solved whole, by :mod:`exitopt.decompose` (a Lagrangian relaxation over these blocks).

Solving each block to optimality and putting the plans together gives a plan whose cost is
at most the optimum of the whole (a relaxation's optimum). If that plan meets the joint rules,
it is optimal for the whole model; :func:`exitopt.solve.solve_instance` checks this by fixing
the plan in the whole model and solving it, and falls back to one solve of the whole
otherwise. The bound reported is the sum of the blocks' bounds, the gap measured against it.

Why bother: in a sweep, most cases change one block only (a coal target leaves the clinker
block as it was), and an unchanged block is not solved again (``cache``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from . import highs
from .inputs import Instance
from .model import build
from .rules import FAMILIES, Tie
from .rules.mergers import merged
from .rules.upgrades import upgraded


@dataclass(frozen=True)
class BlockPlan:
    """The optimum of one block: exits, projects built, objective and bound."""

    exits: dict[str, tuple[int, str]]
    built: frozenset[str]
    objective: float
    bound: float | None  # None when the solve stopped before HiGHS had one
    seconds: float
    status: str  # optimal, or limit (a plan, not proven within the gap)
    solver_seconds: float = 0.0  # HiGHS's own run time
    merges: dict[str, tuple[int, str]] = field(default_factory=dict)  # {unit: (year, acquirer)}
    upgrades: dict[str, tuple[int, str]] = field(default_factory=dict)  # {unit: (year, upgrade rule)}


def ties(inst: Instance) -> list[Tie]:
    """Every tie the scenario's rules declare (:class:`exitopt.rules.Tie`), family by family."""
    return [tie for family in FAMILIES for rule in family.rules_of(inst.scenario) for tie in family.ties(inst, rule)]


def product_blocks(inst: Instance, *, coupling: bool = True) -> list[frozenset[str]]:
    """The products grouped so that no rule kept exactly spans two groups; [] when the model
    cannot be split (a rule no block can keep — a budget, an award fund —, or a single group).
    With ``coupling`` False, the rules no block can keep are set aside: the blocks a coupled
    solve would find (:func:`exitopt.decompose.coupled`)."""
    declared = ties(inst)
    if coupling and any(t.keeping == "coupling" for t in declared):
        return []
    products = sorted(set(inst.units["product"]) | set(inst.projects["product"]))
    parent = {p: p for p in products}

    def root(p: str) -> str:
        while parent[p] != p:
            p = parent[p]
        return p

    for tie in declared:
        if tie.keeping != "exact":
            continue
        tied = sorted(tie.products)
        for p in tied[1:]:
            parent[root(p)] = root(tied[0])
    groups: dict[str, set[str]] = {}
    for p in products:
        groups.setdefault(root(p), set()).add(p)
    return [frozenset(g) for g in groups.values()] if len(groups) > 1 else []


def sub_instance(inst: Instance, products: frozenset[str]) -> Instance:
    """The instance restricted to a block's products: its units, projects and rules (a rule of a
    scenario list is kept when one of its ties lies in the block; the ``[caps]`` section is kept
    whole: each block's rows of it are over its own units)."""
    scen = inst.scenario
    units = inst.units[inst.units["product"].isin(products)]

    def keeps(family, rule) -> bool:
        return any(tie.products & products for tie in family.ties(inst, rule))

    sub = scen.model_copy(update={f.key: [r for r in f.rules_of(scen) if keeps(f, r)]
                                  for f in FAMILIES if f.list_field})
    projects = inst.projects[inst.projects["product"].isin(products)]
    return Instance(sub, units, projects, inst.files, inst.scenario_path)


def block_key(sub: Instance) -> str:
    """A fingerprint of everything a block's optimum depends on (only optima are kept under it)."""
    h = hashlib.sha256()
    h.update(sub.scenario.model_dump_json().encode())
    h.update(sub.units.drop(columns="allowed_years").to_csv().encode())
    h.update(str(sub.units["allowed_years"].map(lambda s: sorted(s) if s is not None else None).tolist()).encode())
    h.update(sub.projects.to_csv().encode())
    return h.hexdigest()


def solve_block(sub: Instance, time_limit: float | None, start: BlockPlan | None = None) -> BlockPlan | None:
    """Solve one block, from the plan ``start`` when given (a MIP start); None when it has no
    plan (infeasible, or none by the time limit)."""
    from .engine import put

    m = build(sub)
    if start is not None:
        put(m, start.exits, start.built, start.merges, start.upgrades)
    outcome = highs.solve(m, sub.scenario.solver, time_limit=time_limit)
    if outcome.status not in ("optimal", "limit") or not outcome.has_solution or outcome.objective is None:
        return None
    exits = {k[0]: (k[1], k[2]) for k in m.X if (m.x[k].value or 0.0) > 0.5}
    built = frozenset(j for j in m.J if (m.a[j].value or 0.0) > 0.5)
    bound = float(outcome.bound) if outcome.bound is not None else None
    return BlockPlan(exits, built, float(outcome.objective), bound, outcome.seconds, outcome.status,
                     outcome.solver_seconds or 0.0, merged(m), upgraded(m))


def by_size(inst: Instance, groups: list[frozenset[str]]) -> tuple[list[frozenset[str]], dict[frozenset[str], int]]:
    """The blocks smallest first (the time they leave goes to the larger ones), and their sizes
    in units."""
    count = inst.units["product"].value_counts()
    size = {g: max(int(count.reindex(sorted(g)).fillna(0).sum()), 1) for g in groups}
    return sorted(groups, key=lambda g: (size[g], sorted(g))), size


def time_share(left: float, size: int, rest: int) -> float:
    """Seconds for a block of ``size`` units when ``left`` seconds remain and blocks of ``rest``
    units (this one included) are still to solve: the time left but what the later blocks keep
    back (half their share by size), so that a hard block cannot leave the later ones without a
    plan, and a tenth for the check of the whole."""
    return max(0.9 * left - 0.5 * left * (rest - size) / rest, 0.05)


def solve_blocks(inst: Instance, *, time_limit: float | None = None,
                 cache: dict[str, BlockPlan | None] | None = None) -> list[BlockPlan] | None:
    """Each block's plan, or None when the model does not split or a block has no plan.

    ``cache`` (kept by the caller) holds the optimum of every block already solved, keyed by all
    it depends on. A block is solved from no start, so a cached optimum is the plan a solve of
    that block would find anew: a block's plan never depends on what was solved before it.
    """
    groups = product_blocks(inst)
    if not groups:
        return None
    d = highs.deadline(time_limit, inst.scenario.solver)
    plans = []
    ordered, size = by_size(inst, groups)
    for i, products in enumerate(ordered):
        sub = sub_instance(inst, products)
        key = block_key(sub) if cache is not None else ""
        if cache is not None and key in cache:
            plan = cache[key]
        else:
            share = None if d.end is None else time_share(d.left(), size[products],
                                                          sum(size[g] for g in ordered[i:]))
            plan = solve_block(sub, share)
            if cache is not None and (plan is None or plan.status == "optimal"):
                cache[key] = plan  # a plan cut short by the clock is not worth keeping
        if plan is None:
            return None
        plans.append(plan)
    return plans
