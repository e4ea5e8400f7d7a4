"""The optimum of a variant that changes one block, proven to the scenario's gap on the whole plan
(docs/model.md#analysis-clock).

A variant of the scenario (a tightened target, a pinned unit) usually changes one block
(:mod:`exitopt.blocks`): every other block's data is as it was, so its optimum is in the
engine's cache. Only the changed block b is solved, from no start, and the whole plan (b's plan,
the others' optima) is priced and checked against the joint rules (the worker caps) with every
decision fixed, in one whole model kept for all the variants of the engine's scenario.

The whole plan must be within the scenario's gap of the variant's optimum, relative to the whole
objective F: ``F − Σ_c bound_c ≤ rel_gap · |F|``. The other blocks take their own gaps
``obj_c − bound_c``; block b may take the rest as an absolute gap::

    abs_gap_b = rel_gap · |F_base| − Σ_{c ≠ b} (obj_c − bound_c)

with F_base the objective of the plan explained (a variant that tightens a rule or pins a unit
costs at least as much, so this is never looser than the whole's own gap). HiGHS stops at the
first of b's relative gap and this absolute one; the plan is then proven to the scenario's gap
on the whole, as a solve of the whole variant would be, and much sooner than to b's own gap.

Where the variant changes more than one block, does not split, or its plan breaks a joint
rule, it is solved by :meth:`exitopt.engine.Engine.solve`.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import highs
from .blocks import block_key, product_blocks, sub_instance
from .inputs import Instance
from .model import build
from .rules.mergers import merged


@dataclass(frozen=True)
class VariantOutcome:
    """The optimum of a variant: its objective (None when no plan meets its rules) and status
    (optimal, limit, or infeasible)."""

    objective: float | None
    status: str


def solve_variant(engine, variant: Instance, *, base_objective: float,
                  time_limit: float | None = None) -> VariantOutcome:
    """The optimum of ``variant``, a variant of ``engine.inst``; raises LimitReached when no plan
    is found within ``time_limit`` seconds."""
    outcome = _one_block(engine, variant, base_objective, time_limit)
    if outcome is not None:
        return outcome
    p = engine.solve(variant, time_limit=time_limit)[0]
    return VariantOutcome(None, "infeasible") if p is None else VariantOutcome(p.objective, p.status)


def _one_block(engine, variant: Instance, base_objective: float, time_limit: float | None
               ) -> VariantOutcome | None:
    """The variant solved in its one changed block; None when it must be solved another way."""
    if not engine.blocks:
        return None
    groups = product_blocks(variant)
    if not groups:
        return None
    subs = {g: sub_instance(variant, g) for g in groups}
    keys = {g: block_key(sub) for g, sub in subs.items()}
    missing = [g for g in groups if keys[g] not in engine.cache]
    if len(missing) != 1:
        return None
    changed = missing[0]
    others = [engine.cache[keys[g]] for g in groups if g != changed]
    if any(p is None for p in others):  # a block with no plan: the variant has none
        return VariantOutcome(None, "infeasible")
    if any(p.bound is None or p.status != "optimal" for p in others):
        return None
    settings = variant.scenario.solver
    allowed = settings.rel_gap * abs(base_objective) - sum(p.objective - p.bound for p in others)
    m = build(subs[changed])
    solved = highs.solve(m, settings, time_limit=time_limit, warm=False, abs_gap=max(allowed, 0.0))
    if solved.status == "infeasible":
        return VariantOutcome(None, "infeasible")
    highs.require_plan(solved)
    exits = {k[0]: (k[1], k[2]) for k in m.X if (m.x[k].value or 0.0) > 0.5}
    built = {j for j in m.J if (m.a[j].value or 0.0) > 0.5}
    merges = merged(m)
    for p in others:
        exits.update(p.exits)
        built |= set(p.built)
        merges.update(p.merges)
    whole = engine.check_plan(exits, built, merges)
    if whole.status != "optimal" or whole.objective is None:
        return None  # the plan breaks a joint rule: the variant is solved whole
    bound = None if solved.bound is None else solved.bound + sum(p.bound for p in others)
    gap = highs.gap(whole.objective, bound)
    proven = solved.status == "optimal" and gap is not None and gap <= settings.rel_gap + 1e-9
    return VariantOutcome(float(whole.objective), "optimal" if proven else "limit")
