"""Rule 10 — fleet averages (docs/model.md#fleet).

In each listed year y, the average of a unit column v over the selected units T of product p
that remain (and, when they count, the projects J_p built by y), each weighted by w (its
capacity, or 1), is at most (or at least) a limit L. Linear, with e[u, y] the exited-by-y sum
of a unit's decisions and a[j] the build decision of a project::

    Σ_{u ∈ T ∩ U_p} w_u (1 − e[u, y]) (v_u − L) + Σ_{j ∈ J_p, y_j ≤ y} w_j a_j (v_j − L)  ≤ 0   (at most)
                                                                                        ≥ 0   (at least)

L is ``at_most`` / ``at_least``, or (1 + change) × the base average Σ_T w_u v_u / Σ_T w_u of the
table's stock. Nothing left: 0, and the row holds. constraints.csv shows the average reached
against L, in the column's own unit (kgce/t, …); the figures come from :func:`fleet_data`,
which also refuses a column that is missing or holds no finite number for a unit it averages.
The meeting room offers the bound each rule gives, labelled with the column's unit.
An upgrade (rule 10b, :mod:`exitopt.rules.upgrades`) that changes the column adds
``w_u U[u, y] (v'_u − v_u)`` to the unit's term, and the average shown takes the upgraded values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from ..errors import InputError
from ..schema import NAME_ZH, Product, Year, _Strict
from ..selection import Selection
from .family import Editable, Family, item_selector, product_tie, where
from .upgrades import shifts

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel

MAX_FLEET_VALUE = 1e6     # a unit's figure averaged by rule 10 (kgce/t, mg/m³, a 0/1 flag)

#: the keys of a rule's one bound
BOUNDS = ("at_most", "at_least", "at_most_change", "at_least_change")


class Fleet(_Strict):
    """Rule 10: the average of a unit column over the units of a product that remain, weighted by
    capacity or by count, is at most or at least a figure (docs/model.md#fleet)."""

    name: str
    name_zh: str | None = Field(None, description=NAME_ZH)
    product: Product
    column: str = Field(min_length=1, max_length=100,
                        description="Column of the unit table (and of the projects table) averaged, e.g. "
                                    "coal_kgce_per_t.")
    unit: str = Field("", max_length=40, description="Unit of the column, shown in constraints.csv (e.g. kgce/t); "
                                                     "default: the column's name.")
    years: list[Year] = Field(min_length=1, description="Years in which the rule holds.")
    where: Selection = Field(default_factory=Selection, description="Units averaged (default: every unit of the "
                                                                    "product).")
    weight: Literal["capacity", "units"] = Field(
        "capacity", description="capacity: each unit weighs its capacity; units: each unit weighs 1 (a share of lines).")
    projects: bool = Field(True, description="New capacity of the product built by the year counts in the average "
                                             "with its own value of the column.")
    at_most: float | None = Field(None, ge=-MAX_FLEET_VALUE, le=MAX_FLEET_VALUE, description="Average at most this.")
    at_least: float | None = Field(None, ge=-MAX_FLEET_VALUE, le=MAX_FLEET_VALUE, description="Average at least this.")
    at_most_change: float | None = Field(
        None, gt=-1, le=10, description="Average at most (1 + change) × the base average (every selected unit of the "
                                        "table, before any exit); −0.05 = 5 % below it.")
    at_least_change: float | None = Field(
        None, gt=-1, le=10, description="Average at least (1 + change) × the base average.")

    @model_validator(mode="after")
    def _one_bound(self) -> Fleet:
        given = [k for k in BOUNDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of at_most, at_least, at_most_change, at_least_change"
                             + (f" (found {', '.join(given)}; write one rule per bound)" if given else ""))
        return self

    @property
    def sense(self) -> Literal["<=", ">="]:
        return "<=" if self.at_most is not None or self.at_most_change is not None else ">="


@dataclass(frozen=True)
class FleetData:
    """What a fleet rule averages (docs/model.md#fleet): {unit: (weight, value)} of the selected units
    of its product, {project: (weight, value)} of its live projects when they count, the base
    average and the limit L."""

    units: dict[str, tuple[float, float]]
    projects: dict[str, tuple[float, float]]
    base: float
    limit: float


def _number_cells(cells, column: str, ids, rows, what: str, file) -> list[float]:
    """The cells as finite numbers; an empty, non-numeric or huge cell is refused with its row."""
    out = []
    for cell, ident, row in zip(cells, ids, rows, strict=False):
        text = "" if cell is None or (isinstance(cell, float) and cell != cell) else str(cell).strip()
        try:
            v = float(text.replace(",", "")) if text else float("nan")
        except ValueError:
            v = float("nan")
        if not (abs(v) <= MAX_FLEET_VALUE):  # NaN, inf and 1e300 alike
            shown = f"'{text}'" if text else "empty"
            raise InputError(f"row {row} ({ident}), column '{column}': {shown}, but {what} averages it, so it needs a "
                             f"finite number within ±{MAX_FLEET_VALUE:,.0f}. Fill in the figure, or leave the unit "
                             f"out of the rule's where selection.", file=file)
        out.append(v)
    return out


def fleet_data(inst: Instance, rule: Fleet) -> FleetData:
    """The figures a fleet rule reads, checked: the column exists and holds a finite number for every
    unit (and counted project) it averages, else an InputError names the file, row and column."""
    what = f"fleet rule '{rule.name}'"
    units = inst.units
    if rule.column not in units.columns:
        raise InputError(f"{what} averages column '{rule.column}', which the unit table does not have. Add the "
                         f"column (a number per unit of {rule.product}) or name another.",
                         file=inst.files.get("units"))
    chosen = rule.where.mask(units) & (units["product"] == rule.product)
    if not chosen.any():
        raise InputError(f"{what} selects no unit of {rule.product}. Check its product and where selection.",
                         file=inst.scenario_path)
    pos = [i + 2 for i, c in enumerate(chosen) if c]  # rows as Excel numbers them (header = row 1)
    mine = units[chosen]
    values = _number_cells(mine[rule.column], rule.column, mine.index, pos, what, inst.files.get("units"))
    weights = [float(c) if rule.weight == "capacity" else 1.0 for c in mine["capacity"]]
    of_units = {u: (w, v) for u, w, v in zip(mine.index, weights, values, strict=False)}
    of_projects: dict[str, tuple[float, float]] = {}
    prj = inst.projects
    if rule.projects and len(prj):
        live = prj[(prj["product"] == rule.product) & (prj["approval"] != "rejected")]
        if len(live):
            if rule.column not in live.columns:
                raise InputError(f"{what}: the projects table has no column '{rule.column}', but projects of "
                                 f"{rule.product} count in the average. Add the column, or set projects = false "
                                 f"in the rule.", file=inst.files.get("projects"))
            rows = [i + 2 for i, j in enumerate(prj.index) if j in live.index]
            pv = _number_cells(live[rule.column], rule.column, live.index, rows, what, inst.files.get("projects"))
            pw = [float(c) if rule.weight == "capacity" else 1.0 for c in live["capacity"]]
            of_projects = {j: (w, v) for j, w, v in zip(live.index, pw, pv, strict=False)}
    base = sum(w * v for w, v in of_units.values()) / sum(w for w, _ in of_units.values())
    if rule.at_most is not None:
        limit = rule.at_most
    elif rule.at_least is not None:
        limit = rule.at_least
    else:
        change = rule.at_most_change if rule.at_most_change is not None else rule.at_least_change
        assert change is not None  # the rule's validator asks for a bound or a change
        limit = (1.0 + change) * base
    return FleetData(of_units, of_projects, base, limit)


def add_to(m: ExitModel, inst: Instance) -> None:
    import pyomo.core as pyo

    from ..model.base import Computed, add_row

    for rule in inst.scenario.fleet:
        data = fleet_data(inst, rule)
        limit = data.limit
        scale = max(1.0, sum(w * abs(v - limit) for w, v in (*data.units.values(), *data.projects.values())))
        for y in sorted(set(rule.years)):
            parts = []  # (weight, value, share still there: an expression or 1)
            moved: list[tuple[float, float, Any]] = []  # (weight, v' − v, upgraded by y) of the units an upgrade may change (rule 10b)
            for u, (w, v) in data.units.items():
                gone = pyo.quicksum(m.x[k] for k in m.by_unit.get(u, ()) if k[1] <= y)
                parts.append((w, v, 1 - gone))
                shift = shifts(m, inst, u, rule.column, v, y)
                if shift is not None and shift[0] != 0.0:
                    moved.append((w, *shift))
            for j, (w, v) in data.projects.items():
                if j in m.project_year and m.project_year[j] <= y:
                    parts.append((w, v, m.a[j]))
            lhs = pyo.quicksum(w * (v - limit) * there for w, v, there in parts)
            if moved:
                lhs = lhs + pyo.quicksum(w * dv * done for w, dv, done in moved)
            add_row(m, rule="fleet", name=rule.name, year=y, product=rule.product, lhs=lhs, sense=rule.sense,
                    rhs=0.0, unit=rule.unit or rule.column, scale=scale,
                    achieved=Computed(partial(_average, parts, moved)), required=limit)


def _average(parts: list, moved: list | tuple = ()) -> float:
    """The weighted average over what remains in the plan found, upgrades' values in; NaN when
    nothing remains."""
    from ..model.base import value_of

    def val(s):
        return value_of(s) if not isinstance(s, (int, float)) else float(s)

    there = [(w, v, val(s)) for w, v, s in parts]
    total = sum(w * s for w, _, s in there)
    shifted = sum(w * dv * val(done) for w, dv, done in moved)
    return (sum(w * v * s for w, v, s in there) + shifted) / total if total > 1e-9 else float("nan")


def _years(scen, need) -> None:
    for fl in scen.fleet:
        for y in fl.years:
            need(y, f"fleet '{fl.name}'")


def _bind(inst: Instance, f) -> None:
    """The averaged column holds a finite number for every unit (and counted project) it averages."""
    for rule in inst.scenario.fleet:
        fleet_data(inst, rule)


def _editable(scen) -> list[Editable]:
    """The bound each fleet rule gives, in its own unit: the column's (kgce/t, mg/m³), or a share
    for a change from the base average. The other bounds are not offered: a rule states one."""
    items = [r.model_dump() for r in scen.fleet]
    out = []
    for i, rule in enumerate(scen.fleet):
        sel, name = item_selector(items, i)
        key = next(k for k in BOUNDS if getattr(rule, k) is not None)
        unit = "share" if key.endswith("_change") else (rule.unit or rule.column)
        out.append(Editable(f"fleet{sel}.{key}", f"{name} · {key} ({unit})", getattr(rule, key), rule, key, unit))
    return out


def name_zh(rule: Fleet, regions: dict[str, str], nth: int) -> str:
    from ..report import chinese as zh

    bound = rule.at_most if rule.at_most is not None else rule.at_least
    change = rule.at_most_change if rule.at_most_change is not None else rule.at_least_change
    if bound is not None:
        limit = zh.number(bound)
    else:
        assert change is not None  # the rule's validator asks for a bound or a change
        limit = f"较基年{'降低' if change < 0 else '提高'}{zh.percent(abs(change))}"
    sense = "不高于" if rule.sense == "<=" else "不低于"
    return f"{zh.product_zh(rule.product)}存续产能平均{rule.column}{sense}{limit}"


FAMILY = Family(
    key="fleet", noun="fleet rule", number="10", anchor="fleet", scenario_key="[[fleet]]", schema=Fleet,
    labels={"fleet": ("存续产能平均指标", "fleet average")}, keeping="exact", ties=product_tie, name_zh=name_zh,
    selections=where, check_years=_years, bind=_bind, add=add_to, editable=_editable, group="fleet",
)
