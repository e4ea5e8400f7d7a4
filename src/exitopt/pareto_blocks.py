"""The jobs–fiscal frontier by independent blocks (docs/model.md#pareto).

When no rule couples the blocks of :mod:`exitopt.blocks`, jobs and fiscal are sums over blocks
and the blocks share nothing but the bound ``jobs ≤ ε``. So each block's own frontier is
computed once, in its own model (built with the concentration classes,
:func:`exitopt.rules.concentration.symmetric_holders`): its two lexicographic ends, then
ε-steps from its least-outlay end down, ``min F_b + η_b · J_b`` subject to ``J_b ≤ J_prev − δ``,
each from the fewest-jobs end's plan (it meets every step's bound), until a step reaches the
fewest-jobs end. The frontier of the whole is then, for any ε, one point per block with jobs
summing to at most ε and the least total outlay: the blocks' lists are merged one at a time,
keeping the nondominated sums only (:func:`combine`), and each ε picks from the result.

Exact, to the blocks' gaps: each point of a block's list exceeds its step's optimum by at most
``σ`` (its absolute gap plus the tie-break's part), and for any split of ε over the blocks the
list holds a point under each part no dearer than its optimum plus σ; the chosen combination's
outlay is thus within ``Σ σ`` of the optimum of the whole for that ε. Its bound is its outlay
less ``Σ σ``. Each chosen combination is priced in the whole model with its exits, projects and
mergers fixed; a combination that breaks a joint rule (a worker cap over regions, which the
blocks keep only as a relaxation) is left to the caller, which solves that point whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import Progress, Solution, put, solve_model
from .errors import LimitReached
from .highs import deadline
from .inputs import Instance
from .model import build
from .model.exit_model import ExitModel

#: relative step between two ε-steps of a block: a point with fewer jobs than this is a new point
STEP = 1e-6


@dataclass(frozen=True)
class BlockPoint:
    """One point of a block's own frontier: its plan, jobs and fiscal, and how far its outlay
    may exceed the least the block can do under its jobs (``slack``, 万元)."""

    jobs: float
    fiscal: float
    exits: dict[str, tuple[int, str]]
    built: frozenset[str]
    merges: dict[str, tuple[int, str]]
    slack: float
    proven: bool


@dataclass
class BlockFrontier:
    """A block's points, fewest jobs first; ``complete`` when every step was proven and the
    steps reached the fewest-jobs end within the time given."""

    products: frozenset[str]
    points: list[BlockPoint] = field(default_factory=list)
    complete: bool = True
    solves: int = 0


def merges_of(p: Solution) -> dict[str, tuple[int, str]]:
    """{unit: (merger year, acquirer)} of a plan's mergers."""
    s = p.schedule
    if "merge_year" not in s:
        return {}
    rows = s[s["mode"] == "merge"]
    return {u: (int(y), str(a)) for u, y, a in zip(rows["unit_id"], rows["merge_year"], rows["acquirer"], strict=True)}


def _point(p: Solution, slack: float) -> BlockPoint:
    from .pareto import _built

    return BlockPoint(p.jobs, p.fiscal, p.exits(), frozenset(_built(p)), merges_of(p), max(slack, 0.0),
                      p.status == "optimal")


def _abs_gap(p: Solution) -> float:
    """The absolute gap of the last solve behind ``p`` (its objective less its bound)."""
    o = p.outcome
    if o.objective is not None and o.bound is not None:
        return max(o.objective - o.bound, 0.0)
    return (o.gap or 0.0) * max(1.0, abs(o.objective or 0.0))


def block_frontier(sub: Instance, time_limit: float | None, progress: Progress) -> BlockFrontier | None:
    """The block's own frontier (module docstring); None when the block has no plan."""
    from .pareto import _add_bounds, _least_outlay_under, _lexicographic, tie_weight
    from .rules.concentration import symmetric_holders

    d = deadline(time_limit)
    with symmetric_holders():
        m = build(sub)
    _add_bounds(m)
    front = BlockFrontier(frozenset(sub.units["product"]))
    low = _lexicographic(m, sub, "jobs", None, d.share(2, 6))
    if low is None:
        return None
    high = _lexicographic(m, sub, "fiscal", None, d.share(2, 4))
    front.solves += 4
    if high is None:
        return None
    gap = sub.scenario.solver.rel_gap
    # the fiscal end's outlay holds its first stage's optimum to within the gap
    ends = [_point(low, _abs_gap(low)), _point(high, gap * max(1.0, abs(high.fiscal)) + _abs_gap(high))]
    tol = STEP * max(1.0, abs(low.jobs))
    if high.jobs <= low.jobs + tol:
        front.points = [ends[0]]
        front.complete = low.status == "optimal"
        progress(f"block {', '.join(sorted(front.products))}: 1 point on its frontier")
        return front
    eta = tie_weight(sub, low, high)
    found, current = [ends[1]], high
    while True:
        eps = current.jobs - STEP * max(1.0, abs(current.jobs))
        if eps < low.jobs + tol or d.expired():
            front.complete = eps < low.jobs + tol
            break
        put(m, low.exits(), ends[0].built, ends[0].merges)  # meets every step's bound
        try:
            p = _least_outlay_under(m, sub, eps, eta, d.share(1, 3))
        except LimitReached:
            front.complete = False
            break
        front.solves += 1
        if p is None or p.jobs >= current.jobs - tol / 2:  # numerically no further point
            break
        if p.jobs <= low.jobs + tol:  # the fewest-jobs end is reached: its plan is the cheapest there
            break
        found.append(_point(p, _abs_gap(p) + eta * max(eps - p.jobs, 0.0)))
        current = p
    front.points = [ends[0]] + found[::-1]
    front.complete = front.complete and all(q.proven for q in front.points)
    progress(f"block {', '.join(sorted(front.products))}: {len(front.points)} points on its frontier")
    return front


#: one combination: (jobs, fiscal, the index of the point chosen in each block)
Combination = tuple[float, float, tuple[int, ...]]


def combine(lists: list[list[tuple[float, float]]]) -> list[Combination]:
    """Every nondominated sum of one (jobs, fiscal) per list, fewest jobs first: the lists merged
    one at a time, each partial sum that another beats on both counts dropped (a dynamic
    programme over the lists; exact, since a dominated partial sum stays dominated whatever is
    added to it)."""
    sums: list[Combination] = [(0.0, 0.0, ())]
    for points in lists:
        merged = [(j + pj, f + pf, idx + (k,)) for j, f, idx in sums for k, (pj, pf) in enumerate(points)]
        sums = pareto_filter(merged)
    return sums


def pareto_filter(sums: list[Combination]) -> list[Combination]:
    """The sums no other beats on both counts (ties on both: the first), fewest jobs first."""
    out: list[Combination] = []
    for j, f, idx in sorted(sums, key=lambda s: (s[0], s[1], s[2])):
        if out and f >= out[-1][1] - 1e-9 * max(1.0, abs(f)):
            continue  # no cheaper than a sum with no more jobs
        out.append((j, f, idx))
    return out


def pick(sums: list[Combination], eps: float) -> Combination:
    """The least outlay among the sums with jobs ≤ ε (fewest jobs among equals); the fewest-jobs
    sum when none is within ε."""
    within = [s for s in sums if s[0] <= eps + 1e-9 * max(1.0, abs(eps))]
    return min(within, key=lambda s: (s[1], s[0])) if within else sums[0]


def price(m: ExitModel, inst: Instance, fronts: list[BlockFrontier], choice: tuple[int, ...]) -> Solution | None:
    """The whole plan of one point per block, priced in the whole model ``m`` with every exit,
    project and merger fixed; None when it breaks a rule that spans blocks."""
    chosen = [f.points[k] for f, k in zip(fronts, choice, strict=True)]
    exits = {u: e for p in chosen for u, e in p.exits.items()}
    built = set().union(*(p.built for p in chosen))
    merges = {u: g for p in chosen for u, g in p.merges.items()}
    put(m, exits, built, merges)
    fixed = [v for v in list(m.x.values()) + [m.a[j] for j in m.J] + list(m.mg.values()) if not v.fixed]
    for v in fixed:
        v.fix()
    m.min_fiscal.activate()  # the indicator split is still free: the least outlay for this plan
    try:
        union = solve_model(m, inst, grace=True)
    finally:
        m.min_fiscal.deactivate()
        for v in fixed:
            v.unfix()
    if union is None:
        return None
    slack = sum(p.slack for p in chosen)
    proven = all(f.complete for f in fronts)
    union.outcome.status = "optimal" if proven else "limit"
    union.outcome.bound = union.fiscal - slack
    union.outcome.gap = slack / max(1.0, abs(union.fiscal))
    union.outcome.message = (f"{len(fronts)} independent blocks, each block's frontier "
                             f"{'proven' if proven else 'cut short by the time limit'}, combined")
    return union


def block_frontiers(inst: Instance, time_limit: float | None, progress: Progress) -> list[BlockFrontier] | None:
    """Each block's frontier, smallest block first, or None when the model does not split (a
    rule no block can keep) or a block has no plan."""
    from .blocks import by_size, product_blocks, sub_instance, time_share

    groups = product_blocks(inst)
    if not groups:
        return None
    d = deadline(time_limit)
    ordered, size = by_size(inst, groups)
    fronts = []
    for i, products in enumerate(ordered):
        share = None if d.end is None else time_share(d.left(), size[products], sum(size[g] for g in ordered[i:]))
        front = block_frontier(sub_instance(inst, products), share, progress)
        if front is None:
            return None
        fronts.append(front)
    return fronts
