"""The rule families of ``docs/model.md``, one entry each: the registry every layer loops over.

Each :class:`Family` says, for one rule family:

* ``key`` — its list in the scenario file (``[[targets]]`` → ``targets``) and ``noun``, how a
  message names one rule ("target 'coal exit 1,000'");
* ``rows`` — the ``rule`` values its rows carry in ``constraints.csv`` (each has a Chinese and
  an English label in :data:`exitopt.report.labels.RULES`);
* ``module`` — the module of :mod:`exitopt.model` that adds it, through ``add_variables`` (run
  for every family before any rule's rows: the indicator split of rule 2, say) and ``add_to``;
  None for the rules that only shape which exits exist (protected units, windows: see
  :mod:`exitopt.model.domain`). The registry names it (``module_name``) and imports it on first
  use, so that reading a scenario and checking a plan never load the model or Pyomo;
* ``scope`` — what ties one of its rules to a block of :mod:`exitopt.blocks`: ``"product"``
  (the rule names a product), ``"units"`` (it selects units), ``"members"`` (a package's
  members);
* ``selections(rule)`` — the selections a rule reads, each with a label for messages: bind
  checks every one against the unit table;
* ``notes(inst, rule)`` — for a rule with no row in the model, its line in ``constraints.csv``;
* ``ties(inst, rule)`` — groups of units the rule ties together across products: the block
  split keeps each group's products in one block (packages tie theirs through ``scope``).

The yearly caps (rule 10: budget, worker caps and the award fund) are one scenario section, not a list; they are
added last, after the cost they cap (see :func:`exitopt.model.build`).

Adding a rule family: the README's "Adding a rule" names every place; ``tests/test_rules.py``
fails while a registered family lacks a part.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from .selection import Selection

Scope = Literal["product", "units", "members"]


@dataclass(frozen=True)
class Family:
    """One rule family: where it is in the scenario, how the model adds it, how it is reported."""

    key: str
    noun: str
    number: int
    rows: tuple[str, ...]
    module_name: str | None
    scope: Scope
    selections: Callable[[object], list[tuple[str, Selection]]]
    title: Callable[[object], str] = lambda rule: rule.name
    notes: Callable[[object, object], dict] | None = None
    ties: Callable[[object, object], list[set[str]]] | None = None

    @property
    def module(self) -> ModuleType | None:
        """The module of :mod:`exitopt.model` that adds this family (imported here, on first use)."""
        if self.module_name is None:
            return None
        return importlib.import_module(f".model.{self.module_name}", __package__)


def _where(rule) -> list[tuple[str, Selection]]:
    return [("", rule.where)]


def _members(rule) -> list[tuple[str, Selection]]:
    return [(f" ({side})", sel) for side, sel in (("close", rule.close), ("relocate", rule.relocate))
            if sel is not None]


def _protected_note(inst, rule) -> dict:
    n = len(inst.select(rule.where))
    return dict(rule="protected", name=rule.name, year=None, product=None, sense="exactly", required=0.0,
                achieved=0.0, slack=0.0, binding=None, marginal_cost=None, unit=f"exits among {n} unit(s)")


def _window_note(inst, rule) -> dict:
    n = len(inst.select(rule.where))
    return dict(rule="window", name=rule.name, year=None, product=None, sense="only in", required=None,
                achieved=None, slack=None, binding=None, marginal_cost=None,
                unit=f"{n} unit(s) may exit only in {', '.join(map(str, rule.years))}")


def _works_selections(rule) -> list[tuple[str, Selection]]:
    sides = [("", rule.where)]
    return sides + [(f" ({side})", sel) for side, sel in (("feeders", rule.feeders), ("dependents", rule.dependents))
                    if sel is not None]


def works_of(inst, rule) -> dict[str, list[str]]:
    """{works: its units that ``rule`` selects, by unit_id} (docs/model.md#works)."""
    chosen = sorted(inst.select(rule.where))
    if not rule.works_column:
        return {"": chosen} if chosen else {}
    column = inst.units[rule.works_column]
    out: dict[str, list[str]] = {}
    for u in chosen:
        out.setdefault(str(column[u]), []).append(u)
    return out


def _works_ties(inst, rule) -> list[set[str]]:
    return [set(units) for units in works_of(inst, rule).values() if len(units) > 1]


#: the rule families, in the order the model adds them and constraints.csv lists their rows
FAMILIES: tuple[Family, ...] = (
    Family("targets", "target", 1, ("target",), "targets", "product", _where),
    Family("replacement", "replacement", 2, ("replacement",), "replacement", "product", lambda rule: [],
           title=lambda rule: f"{rule.product} {rule.ratio:g}:1"),
    Family("concentration", "concentration", 3, ("concentration",), "concentration", "product", lambda rule: []),
    Family("utilisation", "utilisation", 4, ("utilisation", "supply"), "utilisation", "product", lambda rule: []),
    Family("packages", "package", 5, ("package",), "packages", "members", _members),
    Family("mandatory", "mandatory", 6, ("mandatory",), "mandatory", "units", _where),
    Family("protected", "protected", 7, ("protected",), None, "units", _where, notes=_protected_note),
    Family("windows", "window", 8, ("window",), None, "units", _where, notes=_window_note),
    Family("works", "works link", 9, ("works",), "works", "units", _works_selections, ties=_works_ties),
)

#: the `rule` values of the yearly caps' rows (rule 10)
CAP_ROWS = ("budget", "workers", "award_fund")
