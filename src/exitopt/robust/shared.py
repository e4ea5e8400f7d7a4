"""The shared-plan model and its objectives (docs/model.md#robust).

Every case's own model (:func:`exitopt.model.build`) is a block of one Pyomo model; the blocks'
exit decisions ``x[u, y, m]``, mergers ``mg[c, y, g]`` and projects ``a[j]`` are tied to one
master copy by equalities, and the replacement indicators to master variables ``ind[r, y]`` on
the classes every case agrees on. Each block keeps its own cost and rows. The objectives, over the cases c with weights w_c
(summing to 1) and costs C_c:

* ``expected``: min sum_c w_c C_c;
* ``worst``: min t with t >= C_c for every c;
* ``regret``: min t with t >= C_c - C_c* for every c (C_c* the case's own optimum).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.core as pyo

from .. import highs
from ..errors import InfeasibleError
from ..model import build
from ..model.exit_model import ExitModel
from .problem import RobustProblem

# --------------------------------------------------------------------------------------------
# The model: every case a block, the decisions shared


def _conflicting_projects(problem: RobustProblem) -> str | None:
    """A sentence naming a project that one case must build (approved) and another may not
    (rejected), or None."""
    approved: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for rc in problem.cases:
        for j, status in rc.inst.projects["approval"].items() if len(rc.inst.projects) else ():
            if status == "approved":
                approved.setdefault(j, rc.id)
            elif status == "rejected":
                rejected.setdefault(j, rc.id)
    both = sorted(set(approved) & set(rejected))
    if not both:
        return None
    j = both[0]
    return (f"project {j} is approved in case {approved[j]} (it must be built) and rejected in case "
            f"{rejected[j]} (it may not be): no single plan does both. Approve or reject it in every case "
            f"(new_capacity.approve / reject in the sweep's variants).")


def build_shared(problem: RobustProblem) -> pyo.ConcreteModel:
    """One Pyomo model: each case's ExitModel as a block, tied to master decisions.

    The master holds the decisions every case allows (a unit's exit year and mode, a project);
    a decision some case does not allow (a window, a protected unit, a rejected project) is
    fixed at 0 in every case. Replacement indicators are shared too: a master variable per
    class of units that every case's classes agree on (and that every case lets give
    indicators), whose totals make up each case's own class totals.
    """
    conflict = _conflicting_projects(problem)
    if conflict:
        raise InfeasibleError(f"No single plan meets the rules of every case: {conflict}")
    d = highs.deadline()
    top = pyo.ConcreteModel(name=f"{problem.sweep.name} (robust)")
    blocks = []
    for rc in problem.cases:
        d.check("building the model")
        blk = build(rc.inst)
        blk.cost.deactivate()
        top.add_component(f"case_{rc.id}", blk)
        rc.block = blk
        blocks.append(blk)
    common = set(blocks[0].X)
    for blk in blocks[1:]:
        common &= set(blk.X)
    keys = [k for k in blocks[0].X if k in common]
    top.X = pyo.Set(initialize=keys, dimen=3, ordered=True)
    top.x = pyo.Var(top.X, domain=pyo.Binary)
    live = set(blocks[0].J)
    for blk in blocks[1:]:
        live &= set(blk.J)
    projects = [j for j in blocks[0].J if j in live]
    top.J = pyo.Set(initialize=projects, ordered=True)
    top.a = pyo.Var(top.J, domain=pyo.Binary)
    top.link = pyo.ConstraintList()
    for blk in blocks:
        d.check("building the model")
        for k in blk.X:
            if k in common:
                top.link.add(blk.x[k] == top.x[k])
            else:
                blk.x[k].fix(0)
        for j in blk.J:
            if j in live:
                top.link.add(blk.a[j] == top.a[j])
            elif not blk.a[j].fixed:
                blk.a[j].fix(0)
    _share_mergers(top, blocks)
    _share_indicators(top, blocks)
    return top


def _share_mergers(top: pyo.ConcreteModel, blocks: list[ExitModel]) -> None:
    """Mergers (docs/model.md#mergers) are decisions of the plan like exits: a master ``mg[c, y, g]``
    for every merger that every case allows, the others fixed at 0 in every case."""
    common = set(blocks[0].MG)
    for blk in blocks[1:]:
        common &= set(blk.MG)
    top.MG = pyo.Set(initialize=[k for k in blocks[0].MG if k in common], dimen=3, ordered=True)
    top.mg = pyo.Var(top.MG, domain=pyo.Binary)
    for blk in blocks:
        for k in blk.MG:
            if k in common:
                top.link.add(blk.mg[k] == top.mg[k])
            else:
                blk.mg[k].fix(0)


def _share_indicators(top: pyo.ConcreteModel, blocks: list[ExitModel]) -> None:
    """Master indicator variables ``ind[r, y]`` on the classes every case agrees on, and each
    case's class totals made of them."""
    eligible = set(blocks[0].ind_class_of)
    for blk in blocks[1:]:
        eligible &= set(blk.ind_class_of)
    signature = {u: tuple(blk.ind_class_of[u] for blk in blocks) for u in eligible}
    refined = {sig: i for i, sig in enumerate(sorted(set(signature.values())))}
    members: dict[int, list[str]] = defaultdict(list)
    for u in blocks[0].ind_class_of:  # table order, as each case's own classes
        if u in eligible:
            members[refined[signature[u]]].append(u)
    exits: dict[tuple[int, int], list] = defaultdict(list)
    most: dict[tuple[int, int], float] = defaultdict(float)
    cap = blocks[0].capacity
    for r, us in members.items():
        for u in us:
            years = set()
            for k in blocks[0].by_unit.get(u, ()):
                if k in top.X:
                    exits[r, k[1]].append(cap[u] * top.x[k])
                    years.add(k[1])
            for y in years:
                most[r, y] += float(cap[u])
    keys = sorted(exits)
    top.IND = pyo.Set(initialize=keys, dimen=2, ordered=True)
    top.ind = pyo.Var(top.IND, domain=pyo.NonNegativeReals, bounds=lambda m, r, y: (0.0, most[r, y]))
    top.ind_le_exit = pyo.Constraint(top.IND, rule=lambda m, r, y: m.ind[r, y] <= pyo.quicksum(exits[r, y]))
    top._ind_members = dict(members)
    top.ind_link = pyo.ConstraintList()
    for n, blk in enumerate(blocks):
        parts: dict[tuple[int, int], list] = defaultdict(list)
        for (r, y) in keys:
            parts[signature[members[r][0]][n], y].append(top.ind[r, y])
        for (c, y) in blk.IND:
            top.ind_link.add(blk.ind[c, y] == pyo.quicksum(parts.get((c, y), [])))


def unit_split(top: pyo.ConcreteModel, chosen: dict[str, tuple[int, str]]) -> dict[str, float]:
    """The shared indicators split onto units: each master class's total of a year goes to its
    units exiting that year, in table order, each up to its capacity (the same split for every
    case, since every case's class is a union of master classes)."""
    members = getattr(top, "_ind_members", {})
    cap = next(iter(_blocks(top))).capacity
    out: dict[str, float] = {}
    for (r, y) in top.IND:
        left = top.ind[r, y].value or 0.0
        for u in members[r]:
            if left <= 1e-9:
                break
            if chosen.get(u, (None,))[0] == y:
                part = min(left, float(cap[u]))
                out[u] = out.get(u, 0.0) + part
                left -= part
    return out


def _blocks(top: pyo.ConcreteModel) -> list[ExitModel]:
    return [b for b in top.component_objects(pyo.Block, descend_into=False) if isinstance(b, ExitModel)]


def case_costs(problem: RobustProblem) -> list:
    """Each case's own objective, as an expression of its block."""
    return [rc.block.cost.expr for rc in problem.cases]  # type: ignore[union-attr]  # built with the model


def set_objective(top: pyo.ConcreteModel, problem: RobustProblem) -> None:
    """The objective chosen, minimised (an epigraph variable ``t`` for worst and regret)."""
    costs = case_costs(problem)
    expected = pyo.quicksum(rc.weight * c for rc, c in zip(problem.cases, costs, strict=False))
    top.expected = pyo.Expression(expr=expected)
    if problem.objective == "expected":
        top.objective = pyo.Objective(expr=top.expected, sense=pyo.minimize)
        return
    top.t = pyo.Var(domain=pyo.Reals)
    top.epigraph = pyo.ConstraintList()
    for rc, c in zip(problem.cases, costs, strict=False):
        own = rc.own if problem.objective == "regret" else 0.0
        top.epigraph.add(top.t >= c - own)
    top.objective = pyo.Objective(expr=top.t, sense=pyo.minimize)
