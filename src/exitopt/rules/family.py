"""What one rule family declares: :class:`Family`, and the small types it is written with.

A family module (``exitopt/rules/<family>.py``) ends with ``FAMILY = Family(...)``; the
registry (:mod:`exitopt.rules`) lists those. Nothing here imports Pyomo or the model: a
family's ``add_variables`` and ``add`` import what they build with when they are called, so that
reading a scenario and checking a plan never load the optimiser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ..selection import Selection

#: How far a rule kept per block of :mod:`exitopt.blocks` is the rule itself:
#:
#: * ``exact`` — the products a rule ties share one block, and the block's rows are the rule;
#: * ``relaxation`` — each block keeps the part over its own units, which the rule implies
#:   (the worker caps: a region's cap on each block's displaced workers); the plans of the
#:   blocks are checked against the whole;
#: * ``coupling`` — no block can keep it (a budget over every product): the model is solved whole.
Keeping = Literal["exact", "relaxation", "coupling"]

#: how the rows of a family are named in constraints.csv: ``"<rule>: <unit>"`` per unit,
#: ``"<rule>: <region>"`` per region, or the rule's name alone
PerItem = Literal["", "unit", "region"]


@dataclass(frozen=True)
class Tie:
    """Products that one rule (or one part of it) ties together, and how a block keeps it."""

    products: frozenset[str]
    keeping: Keeping = "exact"


@dataclass(frozen=True)
class Editable:
    """A number of one rule that the meeting room may change: its sweep path, the label the page
    shows, its value now (None: not set; giving one sets it), the pydantic model and field that
    describe it, and its unit when it is not the one its key's words name (a fleet limit in
    kgce/t, not 万吨/年): the page's labels then carry this unit instead."""

    path: str
    label: str
    value: Any
    model: BaseModel
    field: str
    unit: str = ""


def every_product(inst: Any, rule: Any) -> list[Tie]:
    """A rule over the outlay or the awards of the whole plan: it ties every product, and no block
    can keep it alone (one block's outlay can pay for another's)."""
    return [Tie(frozenset(inst.units["product"]) | frozenset(inst.projects["product"]), "coupling")]


def no_selections(rule: Any) -> list[tuple[str, Selection]]:
    return []


def where(rule: Any) -> list[tuple[str, Selection]]:
    """The one selection of a rule that selects units by ``where``."""
    return [("", rule.where)]


def by_name(rule: Any) -> str:
    return rule.name


def nothing_editable(scen: Any) -> list[Editable]:
    return []


def unit_ties(inst: Any, rule: Any) -> list[Tie]:
    """One tie per selected unit: its own product (a rule kept unit by unit ties no two products)."""
    product = inst.units["product"]
    return [Tie(frozenset({product[u]})) for u in inst.select(rule.where)]


def product_tie(inst: Any, rule: Any) -> list[Tie]:
    """The rule's product (a rule that names one product)."""
    return [Tie(frozenset({rule.product}))]


def item_numbers(key: str, scen: Any, skip: frozenset[str] = frozenset()) -> list[Editable]:
    """Every number of every rule of the list ``key`` (``{ year = … }`` tables year by year), but
    names, products, years and selections and the fields in ``skip``; a rule is addressed by its
    unique name or product (``[name="coal exit"]``), else by its place (``[0]``)."""
    items = [r.model_dump() for r in getattr(scen, key)]
    out: list[Editable] = []
    for i, item in enumerate(items):
        sel, name = item_selector(items, i)
        model = getattr(scen, key)[i]
        for field, value in item.items():
            if field in NOT_NUMBERS or field in skip:
                continue
            if isinstance(value, dict):
                out += [Editable(f"{key}{sel}.{field}.{k}", f"{name} · {field} {k}", v, model, field)
                        for k, v in value.items()]
            else:
                out.append(Editable(f"{key}{sel}.{field}", f"{name} · {field}", value, model, field))
    return out


#: fields of a rule that are not numbers to change: names (English and Chinese), products, years, selections
NOT_NUMBERS = frozenset({"name", "name_zh", "product", "by", "years", "where"})


def item_selector(items: list, i: int, keys: tuple[str, ...] = ("name", "product")) -> tuple[str, str]:
    """``[name="coal exit 1,000"]`` for list item ``i`` when that name is unique, else ``[i]``;
    and the item's label."""
    item = items[i]
    for key in keys:
        v = item.get(key) if isinstance(item, dict) else None
        if isinstance(v, str) and '"' not in v and sum(1 for x in items if isinstance(x, dict) and x.get(key) == v) == 1:
            return f'[{key}="{v}"]', v
    return f"[{i}]", f"#{i + 1}"


@dataclass(frozen=True)
class Family:
    """One rule family of docs/model.md, whole: its schema, checks, rows, ties, words and numbers.

    Scenario and messages
        ``key`` — the scenario's list that holds its rules (``[[targets]]`` → ``targets``), or,
        for a family of the ``[caps]`` section, a name of its own (``list_field`` False);
        ``noun`` — how a message names one rule; ``number`` — its rule number in docs/model.md
        ("1", "12a"); ``anchor`` — its section there (``docs/model.md#<anchor>``);
        ``scenario_key`` — how the scenario file writes it (``[[targets]]``, ``[caps]``);
        ``schema`` — the pydantic class of one rule (the section's part, for a cap);
        ``rules(scen)`` — its rules in a scenario (for a cap: ``[scen.caps]`` when set, or none);
        ``title(rule)`` — a rule as ``exitopt validate`` lists it.
    Validation (messages are the scenario's: see :func:`exitopt.scenario.Scenario._years`)
        ``check_years(scen, need)`` — every year a rule names, through ``need(year, where)``;
        ``check(scen)`` — what else the scenario alone can refuse (a ratio given twice), raising
        ValueError; ``selections(rule)`` — the selections a rule reads, each with a label, that
        :func:`exitopt.inputs.bind` checks against the unit table; ``bind(inst, file)`` — what
        else needs the tables, units and projects (raising :class:`exitopt.errors.InputError`).
    The model and the block split
        ``add_variables(m, inst)`` — variables other families read (run for every family before
        any family's rows); ``add(m, inst)`` — its rows, through ``model.base.add_row`` (None: it
        only shapes which decisions exist, :mod:`exitopt.model.domain`); ``keeping`` — how a block
        keeps its rows; ``ties(inst, rule)`` — the products each rule (or part) ties together.
        A block keeps a rule of a scenario list when one of its ties lies in the block; a family
        that is no list (``list_field`` False: the caps) is kept whole, and its ``add`` keeps
        to the units of the instance it is given.
    Reports
        ``labels`` — {row value in constraints.csv: (Chinese, English)}; ``notes(inst, rule)`` —
        its line in constraints.csv when it has no row; ``row_name(rule)`` — the name its rows
        carry; ``per_item`` — whether that name is followed by ": <unit>" or ": <region>";
        ``name_zh(rule, regions, nth)`` — its Chinese name; ``fallback_zh(row, name)`` — a Chinese
        name for a row whose rule run.json does not name (None: the generic one).
    The meeting room
        ``editable(scen)`` — the numbers of its rules the page may change; ``group`` — the
        page's group for them.
    """

    key: str
    noun: str
    number: str
    anchor: str
    scenario_key: str
    schema: type[BaseModel]
    labels: dict[str, tuple[str, str]]
    keeping: Keeping
    ties: Callable[[Any, Any], list[Tie]]
    name_zh: Callable[[Any, dict[str, str], int], str]
    rules: Callable[[Any], list] | None = None
    list_field: bool = True
    title: Callable[[Any], str] = by_name
    selections: Callable[[Any], list[tuple[str, Selection]]] = no_selections
    check_years: Callable[[Any, Callable[[int, str], None]], None] | None = None
    check: Callable[[Any], None] | None = None
    bind: Callable[[Any, Any], None] | None = None
    add_variables: Callable[[Any, Any], None] | None = None
    add: Callable[[Any, Any], None] | None = None
    notes: Callable[[Any, Any], dict] | None = None
    row_name: Callable[[Any], str] = by_name
    per_item: PerItem = ""
    fallback_zh: Callable[[str, str], str | None] | None = None
    editable: Callable[[Any], list[Editable]] = nothing_editable
    group: str = ""

    @property
    def rows(self) -> tuple[str, ...]:
        """The ``rule`` values its rows carry in constraints.csv."""
        return tuple(self.labels)

    def rules_of(self, scen: Any) -> list:
        """Its rules in ``scen``."""
        return self.rules(scen) if self.rules is not None else list(getattr(scen, self.key))
