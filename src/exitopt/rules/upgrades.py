"""Rule 10b — upgrades (技术改造): an offered unit may be upgraded instead of closed
(docs/model.md#upgrades).

Each ``[[upgrades]]`` rule offers its selected units an upgrade in one of its years. Binary
``u[i, y]`` is 1 when unit i is upgraded in y; ``U[i, t] = Σ_{y ≤ t} u[i, y]``. A unit is
upgraded once at most and an upgraded unit does not exit in the plan::

    Σ_{y,m} x[i, y, m] + Σ_y u[i, y] ≤ 1        for every offered unit i

After the upgrade a column v the rule names reads ``v'_i`` = the rule's ``values[v]``, or
``(1 + changes[v]) · v_i``. A fleet row over v (:mod:`exitopt.rules.fleet`) gives the unit the
term ``w_i [(1 − e[i, t])(v_i − L) + U[i, t](v'_i − v_i)]`` (:func:`shifts`): linear, and
exact since ``U[i, t] = 1`` implies ``e[i, t] = 0``. The upgrade costs ``g · q_i`` 万元 in its
year (``cost_per_capacity`` times the capacity), added to the outlay by
:mod:`exitopt.model.cost` (:func:`upgrade_outlay`). Rows are named ``<rule>: <unit>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, model_validator

from ..errors import InputError
from ..schema import NAME_ZH, Year, _Strict
from ..selection import Selection
from .family import Editable, Family, item_selector, unit_ties, where

if TYPE_CHECKING:
    from ..inputs import Instance
    from ..model.exit_model import ExitModel

MAX_UPGRADE_COST = 1e6     # 万元 per 万吨/yr upgraded
MAX_UPGRADE_VALUE = 1e6    # a column's value after the upgrade (kgce/t, mg/m³, a 0/1 flag)

Column = Annotated[str, Field(min_length=1, max_length=100)]


class Upgrade(_Strict):
    """Rule 10b — upgrades (技术改造): the selected units may be upgraded, once, which changes one or
    more of their columns that fleet averages read (docs/model.md#upgrades)."""

    name: str = Field(min_length=1, max_length=200)
    name_zh: str | None = Field(None, description=NAME_ZH)
    where: Selection = Field(description="The units offered the upgrade.")
    years: list[Year] | None = Field(None, description="Years the upgrade may take place; none: every planning year.")
    cost_per_capacity: float = Field(ge=0, le=MAX_UPGRADE_COST,
                                     description="Outlay of the upgrade, 万元 per 万吨/yr of the unit's capacity, "
                                                 "in the upgrade year.")
    values: dict[Column, Annotated[float, Field(ge=-MAX_UPGRADE_VALUE, le=MAX_UPGRADE_VALUE)]] = Field(
        default_factory=dict, description="{column: its value after the upgrade}, e.g. nox_mg_m3 = 320.")
    changes: dict[Column, Annotated[float, Field(gt=-1, le=10)]] = Field(
        default_factory=dict, description="{column: its relative change after the upgrade}; −0.3 = 30 % lower.")

    @model_validator(mode="after")
    def _columns(self) -> Upgrade:
        if not self.values and not self.changes:
            raise ValueError("give the columns the upgrade changes: values = { column = new value } or "
                             "changes = { column = relative change }")
        twice = sorted(set(self.values) & set(self.changes))
        if twice:
            raise ValueError(f"column '{twice[0]}' is in both values and changes; give it in one of them")
        return self

    def columns(self) -> list[str]:
        return sorted({*self.values, *self.changes})

    def after(self, column: str, value: float) -> float:
        """The column's value for a unit after the upgrade (``value`` before it)."""
        if column in self.values:
            return self.values[column]
        return (1.0 + self.changes[column]) * value


def offers(inst: Instance) -> dict[str, Upgrade]:
    """{unit: the upgrade rule that offers it}."""
    out: dict[str, Upgrade] = {}
    for rule in inst.scenario.upgrades:
        for u in sorted(inst.select(rule.where)):
            out.setdefault(u, rule)
    return out


def years_of(inst: Instance, rule: Upgrade) -> list[int]:
    plan = set(inst.years)
    return sorted(set(rule.years) & plan) if rule.years else list(inst.years)


def upgrade_outlay(rule: Upgrade, capacity: float) -> float:
    """万元 spent in the upgrade year: cost_per_capacity × capacity."""
    return rule.cost_per_capacity * float(capacity)


def add_variables(m: ExitModel, inst: Instance) -> None:
    """u[i, y] for every offered unit and year of its rule; {unit: its keys} (empty without upgrades:
    the fleet rows and the cost read them)."""
    import pyomo.core as pyo

    m.upgrade_rule = {u: rule.name for u, rule in offers(inst).items()}
    keys = [(u, y) for u, rule in offers(inst).items() for y in years_of(inst, rule)]
    m.UP = pyo.Set(initialize=keys, dimen=2, ordered=True)
    m.up = pyo.Var(m.UP, domain=pyo.Binary)
    m.upgrades_of = {}
    for k in keys:
        m.upgrades_of.setdefault(k[0], []).append(k)


def add_to(m: ExitModel, inst: Instance) -> None:
    """A unit is upgraded once at most, and then does not exit: one row per offered unit."""
    import pyomo.core as pyo

    from ..model.base import add_row

    product = inst.units["product"]
    for u, keys in m.upgrades_of.items():
        done = pyo.quicksum(m.x[k] for k in m.by_unit.get(u, ())) + pyo.quicksum(m.up[k] for k in keys)
        add_row(m, rule="upgrade", name=f"{m.upgrade_rule[u]}: {u}", year=None, product=product[u],
                lhs=done, sense="<=", rhs=1.0, unit="units")


def shifts(m: ExitModel, inst: Instance, unit: str, column: str, value: float, year: int) -> tuple[float, object] | None:
    """(v' − v, U[unit, year]) when the unit may be upgraded by ``year`` in a way that changes
    ``column``; None otherwise."""
    import pyomo.core as pyo

    keys = [k for k in m.upgrades_of.get(unit, ()) if k[1] <= year]
    if not keys:
        return None
    rule = next(r for r in inst.scenario.upgrades if r.name == m.upgrade_rule[unit])
    if column not in rule.values and column not in rule.changes:
        return None
    return rule.after(column, value) - value, pyo.quicksum(m.up[k] for k in keys)


def upgraded(m: ExitModel) -> dict[str, tuple[int, str]]:
    """{unit: (upgrade year, rule)} of the plan the model holds."""
    return {k[0]: (k[1], m.upgrade_rule[k[0]]) for k in m.UP if (m.up[k].value or 0.0) > 0.5}


def _years(scen, need) -> None:
    for up in scen.upgrades:
        for y in up.years or ():
            need(y, f"upgrade '{up.name}'")


def _bind(inst: Instance, f) -> None:
    """Each rule selects some unit, a unit is offered by one rule only, and every column it changes
    is a column of the unit table with a finite figure for each offered unit (with ``changes``), and
    the figure after the upgrade is finite."""
    from .fleet import _number_cells

    units = inst.units
    offered: dict[str, str] = {}
    for up in inst.scenario.upgrades:
        chosen = inst.select(up.where)
        if not chosen:
            raise InputError(f"upgrade '{up.name}' selects no unit. Check its where selection.", file=f)
        for u in sorted(chosen):
            if u in offered:
                raise InputError(f"unit {u} is offered two upgrades: '{offered[u]}' and '{up.name}'. Select each "
                                 f"unit in one upgrade rule only (one rule may change several columns).", file=f)
            offered[u] = up.name
        for column in up.columns():
            if column not in units.columns:
                raise InputError(f"upgrade '{up.name}' changes column '{column}', which the unit table does not "
                                 f"have. Name a column of the unit table (one a fleet rule averages).",
                                 file=inst.files.get("units"))
        mask = units.index.isin(sorted(chosen))
        pos = [i + 2 for i, c in enumerate(mask) if c]
        for column in up.changes:
            cells = units.loc[mask, column]
            values = _number_cells(cells, column, units.index[mask], pos, f"upgrade '{up.name}'",
                                   inst.files.get("units"))
            for ident, v in zip(units.index[mask], values, strict=True):
                if not abs(up.after(column, v)) <= MAX_UPGRADE_VALUE:
                    raise InputError(f"upgrade '{up.name}': unit {ident}'s {column} after the upgrade is beyond "
                                     f"±{MAX_UPGRADE_VALUE:,.0f}. Give a smaller change.", file=f)


def _editable(scen) -> list[Editable]:
    """Each upgrade's cost (万元/万吨), its values after the upgrade (in the unit a fleet rule over the
    column gives, else the column's name) and its changes (a share)."""
    items = [r.model_dump() for r in scen.upgrades]
    unit_of = {f.column: f.unit for f in scen.fleet if f.unit}
    out = []
    for i, rule in enumerate(scen.upgrades):
        sel, name = item_selector(items, i, ("name",))
        out.append(Editable(f"upgrades{sel}.cost_per_capacity", f"{name} · cost_per_capacity (万元/万吨)",
                            rule.cost_per_capacity, rule, "cost_per_capacity", "万元/万吨"))
        for column, v in rule.values.items():
            unit = unit_of.get(column, "")
            shown = f" ({unit})" if unit else ""
            out.append(Editable(f"upgrades{sel}.values.{column}", f"{name} · values {column}{shown}", v, rule,
                                "values", unit))
        for column, v in rule.changes.items():
            out.append(Editable(f"upgrades{sel}.changes.{column}", f"{name} · changes {column} (share)", v, rule,
                                "changes", "share"))
    return out


def name_zh(rule: Upgrade, regions: dict[str, str], nth: int) -> str:
    return rule.name_zh or f"第{nth}项（技术改造）"


FAMILY = Family(
    key="upgrades", noun="upgrade", number="10b", anchor="upgrades", scenario_key="[[upgrades]]", schema=Upgrade,
    labels={"upgrade": ("技术改造", "upgrade")}, keeping="exact", ties=unit_ties, name_zh=name_zh,
    selections=where, check_years=_years, bind=_bind, add_variables=add_variables, add=add_to, per_item="unit",
    editable=_editable, group="upgrades",
)
