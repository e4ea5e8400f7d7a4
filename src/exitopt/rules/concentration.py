"""Rule 3 — concentration: the top k firms (or groups) hold at least a share α of what remains
(docs/model.md#concentration).

"Top k" is whoever ends up largest, so the model picks the k holders itself. With
``r[g, y]`` the remaining capacity of holder g (its units not yet retired plus its built
projects), binary ``s[g, y]`` (g counted among the k) and ``w[g, y] ≥ 0``::

    Σ_g s[g, y] ≤ k
    w[g, y] = s[g, y] · r[g, y]          (the capacity g brings to the top k)
    Σ_g w[g, y] ≥ α · remaining[p, y]

Any k holders that meet the share prove the top k do too, since the top k hold the most; so
this is exact. When there are no more than k holders the rule always holds and is skipped.

Formulation: the product ``s · r`` is linearised term by term, not on the sum. With
``r[g, y] = C_g + Σ_{u ∈ g} capacity_u · (1 − e[u, y]) + Σ_{j ∈ g} capacity_j · a[j]``, where
C_g is the capacity of g's units that cannot exit and ``e[u, y] = Σ_{y' ≤ y, m} x[u, y', m]``,
each unit that can exit and each project gets ``v ≥ 0`` with::

    v[u, y] ≤ s[g, y],   v[u, y] ≤ 1 − e[u, y]          v[j, y] ≤ s[g, y],   v[j, y] ≤ a[j]
    w[g, y] = C_g · s[g, y] + Σ_u capacity_u · v[u, y] + Σ_j capacity_j · v[j, y]

At whole-number s, x, a the largest v is the product, so the rule is the same; the linear
relaxation is tighter than ``w ≤ r``, ``w ≤ R_g · s`` on the sums (the national clinker block,
with hundreds of holders, is proven in seconds rather than tens of seconds).

Mergers (docs/model.md#mergers): by group, a candidate that may have merged by y is split into
a part ``1 − e[u, y] − Σ_g μ[u, ≤y, g]`` held by its own group and a part ``Σ μ[u, ≤y, g]`` held by
each acquirer g, each a term ``capacity_u · v`` as above.

Classes of interchangeable holders (docs/model.md#concentration), in block solves only: in a
year y, holders whose ``r[g, y]`` has the same form — the same capacity C without a decision by
y, and exactly one part of the same capacity q that may be gone (a unit that can exit or merge,
a project, a unit merged into it), or no part at all — are interchangeable for the top k: s
enters no cost term and no other row. A class c of n_c holders, ``R[c, y]`` the sum of their
parts' fractions (how many still hold their part), gets one whole number ``N[c, y] ∈ {0, …,
n_c}`` for its binaries and one ``t[c, y]`` for its v's::

    Σ_{g alone} s[g, y] + Σ_c N[c, y] ≤ k
    t[c, y] ≤ N[c, y],   t[c, y] ≤ R[c, y],   the class brings  C · N[c, y] + q · t[c, y]

At whole-number decisions each fraction is 0 or 1, so the most any N members bring is
``C · N + q · min(N, R)``, the largest t: the same plans meet the row. A merge candidate's
part is a decision even when the unit cannot exit, so it never shares a class with a holder
whose capacity cannot go (that is C, not a part). Holders with two or more parts stay alone.
:func:`symmetric_holders` turns the classes on while a model is built; whole-model solves keep a
binary per holder (their MIPs were measured slower with the classes).
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..schema import NAME_ZH, Product, Year, _Strict
from .family import Family, item_numbers, product_tie

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel


class Concentration(_Strict):
    """Rule 3: the top k firms or groups hold at least a share of remaining capacity."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    product: Product
    by: Literal["firm", "group"] = "group"
    top: int = Field(gt=0, le=100_000, description="k: how many of the largest count; 1–100,000.")
    share: float = Field(gt=0, le=1, description="α: minimum share of remaining capacity, 0 < α ≤ 1.")
    years: list[Year] = Field(description="Years in which the rule holds.")


def holder_parts(m: ExitModel, inst: Instance, product: str, by: str, year: int
                 ) -> dict[str, tuple[float, list[tuple[float, object]]]]:
    """{holder: (capacity of its units that cannot exit, [(capacity, fraction still there in
    ``year``)] for its units that can exit and its projects)}; a fraction is ``1 − e[u, year]``
    for a unit and ``a[j]`` for a project of ``year`` or before."""
    import pyomo.core as pyo

    from . import mergers

    units = inst.units[inst.units["product"] == product]
    fixed: dict[str, float] = defaultdict(float)
    parts: dict[str, list] = defaultdict(list)
    # mergers (docs/model.md#mergers): by group, a merged unit is its acquirer's from its merger year
    by_group = by == "group"
    for g in (mergers.acquirers(m, units.index) if by_group else ()):
        fixed[g] += 0.0
    for u, g, c in zip(units.index, units[by], units["capacity"], strict=False):
        ks = [k for k in m.by_unit.get(u, ()) if k[1] <= year]
        moved = mergers.moves(m, u, year) if by_group else {}
        if moved:
            parts[g].append((float(c), 1 - pyo.quicksum(m.x[k] for k in ks) - pyo.quicksum(moved.values())))
            for a, there in moved.items():
                parts[a].append((float(c), there))
        elif ks:
            parts[g].append((float(c), 1 - pyo.quicksum(m.x[k] for k in ks)))
        else:
            fixed[g] += float(c)
    for j in m.projects_of.get(product, []):
        g = inst.projects.at[j, by]
        fixed[g] += 0.0
        if m.project_year[j] <= year:
            parts[g].append((m.project_cap[j], m.a[j]))
    return {g: (fixed[g], parts[g]) for g in sorted(set(fixed) | set(parts))}


def max_holding(m: ExitModel, inst: Instance, product: str, by: str) -> dict[str, float]:
    """{holder: the most it can ever hold}: all its units and all its projects."""
    units = inst.units[inst.units["product"] == product]
    most = units.groupby(by)["capacity"].sum().to_dict()
    if by == "group":  # an acquirer may come to hold the units merged into it
        from . import mergers

        for u, c in zip(units.index, units["capacity"], strict=True):
            for a in mergers.acquirers(m, [u]):
                most[a] = most.get(a, 0.0) + float(c)
    for j in m.projects_of.get(product, []):
        g = inst.projects.at[j, by]
        most[g] = most.get(g, 0.0) + m.project_cap[j]
    return most


_CLASSES: ContextVar[bool] = ContextVar("concentration_classes", default=False)


@contextmanager
def symmetric_holders(on: bool = True):
    """Within the block, models built count interchangeable holders by class (module docstring)."""
    token = _CLASSES.set(on)
    try:
        yield
    finally:
        _CLASSES.reset(token)


def holder_classes(held: dict[str, tuple[float, list]]) -> list[tuple[tuple[float, float | None], list[str]]]:
    """The holders of one year that are interchangeable for the top k, in classes of two or more:
    [((C, q), [holders])], every holder of a class with the same capacity C that cannot go and
    exactly one part of capacity q (q None: no part at all). Holders with more parts stay alone."""
    shapes: dict[tuple[float, float | None], list[str]] = defaultdict(list)
    for g, (fixed, parts) in held.items():
        if len(parts) <= 1:
            shapes[float(fixed), float(parts[0][0]) if parts else None].append(g)
    order = sorted(shapes.items(), key=lambda kv: (kv[0][0], kv[0][1] is None, kv[0][1] or 0.0))
    return [(shape, gs) for shape, gs in order if len(gs) > 1]


def add_to(m: ExitModel, inst: Instance) -> None:
    import pyomo.core as pyo

    from ..model.base import Computed, add_row, remaining

    by_class = _CLASSES.get()
    for i, rule in enumerate(inst.scenario.concentration):
        most = max_holding(m, inst, rule.product, rule.by)
        holders = sorted(most)
        if len(holders) <= rule.top:
            continue
        b = pyo.Block()
        m.add_component(f"concentration_{i}", b)
        held_in = {y: holder_parts(m, inst, rule.product, rule.by, y) for y in rule.years}
        classes = {y: holder_classes(held_in[y]) if by_class else [] for y in rule.years}
        in_class = {(g, y) for y in rule.years for _, gs in classes[y] for g in gs}
        b.S = pyo.Set(initialize=[(g, y) for g in holders for y in rule.years if (g, y) not in in_class], dimen=2)
        b.s = pyo.Var(b.S, domain=pyo.Binary)
        b.w = pyo.Var(b.S, domain=pyo.NonNegativeReals)
        # a class c of interchangeable holders: n of them counted, t of those still holding their part
        b.C = pyo.Set(initialize=[(c, y) for y in rule.years for c in range(len(classes[y]))], dimen=2)
        size = {(c, y): len(classes[y][c][1]) for (c, y) in b.C}
        b.n = pyo.Var(b.C, domain=pyo.NonNegativeIntegers, bounds=lambda b, c, y: (0, size[c, y]))  # noqa: B023 (built at once)
        b.t = pyo.Var(b.C, domain=pyo.NonNegativeReals, bounds=lambda b, c, y: (0, size[c, y]))  # noqa: B023
        b.k = pyo.Constraint(rule.years, rule=lambda b, y: (  # the rows are built at once: the loop variables are current
            sum(b.s[g, y] for g in holders if (g, y) in b.S) + sum(b.n[c, y] for c in range(len(classes[y])))  # noqa: B023
            <= rule.top))  # noqa: B023
        b.v = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals, bounds=(0, 1))
        b.link = pyo.ConstraintList()
        for y in rule.years:
            held = held_in[y]
            top_terms = []
            for g, (fixed, parts) in held.items():
                if (g, y) in in_class:
                    continue
                terms = [fixed * b.s[g, y]]
                for n, (cap, there) in enumerate(parts):
                    v = b.v[g, y, n]
                    b.link.add(v <= b.s[g, y])
                    b.link.add(v <= there)
                    terms.append(cap * v)
                b.link.add(b.w[g, y] == pyo.quicksum(terms))
                top_terms.append(b.w[g, y])
            for c, ((fixed, part), gs) in enumerate(classes[y]):
                if part is None:
                    b.t[c, y].fix(0)
                    top_terms.append(fixed * b.n[c, y])
                    continue
                b.link.add(b.t[c, y] <= b.n[c, y])
                b.link.add(b.t[c, y] <= pyo.quicksum(held[g][1][0][1] for g in gs))
                top_terms.append(fixed * b.n[c, y] + part * b.t[c, y])
            top = pyo.quicksum(top_terms)
            total = remaining(m, rule.product, y)
            add_row(m, rule="concentration", name=rule.name, year=y, product=rule.product,
                    lhs=top - rule.share * total, sense=">=", rhs=0.0, unit="share",
                    scale=rule.share * sum(most.values()), achieved=Computed(partial(top_share, held, rule.top, total)), required=rule.share)


def top_share(held: dict[str, tuple[float, list]], k: int, total) -> float:
    """The share of ``total`` the k largest holders hold in the plan the model holds (NaN when
    nothing is left)."""
    from ..model.base import value_of

    sizes = sorted((fixed + sum(cap * value_of(there) for cap, there in parts)
                    for fixed, parts in held.values()), reverse=True)
    left = value_of(total)
    return sum(sizes[:k]) / left if left > 0 else float("nan")


def _years(scen, need) -> None:
    for c in scen.concentration:
        for y in c.years:
            need(y, f"concentration '{c.name}'")


def name_zh(rule: Concentration, regions: dict[str, str], nth: int) -> str:
    from ..report import chinese as zh

    holder = "企业" if rule.by == "firm" else "集团"
    return f"{zh.product_zh(rule.product)}前{rule.top}家{holder}产能集中度不低于{zh.percent(rule.share)}"


FAMILY = Family(
    key="concentration", noun="concentration", number="3", anchor="concentration",
    scenario_key="[[concentration]]", schema=Concentration,
    labels={"concentration": ("产能集中度", "concentration")}, keeping="exact", ties=product_tie, name_zh=name_zh,
    check_years=_years, add=add_to, editable=lambda scen: item_numbers("concentration", scen), group="concentration",
)
