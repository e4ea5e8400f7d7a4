"""The rule families of ``docs/model.md``, one module each, and the registry every layer loops over.

A family is one module of this package, ending with ``FAMILY = Family(...)``
(:class:`~.family.Family` lists what it declares): its pydantic schema and scenario key, its
validation, what each rule ties and how a block keeps it (:class:`~.family.Tie`), its
``add_variables``/``add`` of the model's rows, its row labels in Chinese and English, its
notes line for constraints.csv, its Chinese names, and which of its numbers the meeting room
may change. The scenario, the model, the block split, the coupled solve, constraints.csv, the
Chinese names, the briefing and the meeting room read all of it from :data:`FAMILIES`; no
family is named outside its module. The yearly caps (rule 12: budget, worker caps, award fund)
are families too, whose keys are parts of the scenario's ``[caps]`` section.

To add a family:

1. write ``docs/model.md``'s section for it first (``<a id="key"></a>``, ``## Rule N — …``, its
   scenario key, its rows and its inequality);
2. write ``rules/<key>.py``: a docstring citing ``docs/model.md#key`` with the math, the schema
   class, ``add`` (and ``add_variables`` if other families read its variables), and
   ``FAMILY = Family(...)``; add it to :data:`FAMILIES` below, in the order its rows should come;
3. give :class:`exitopt.scenario.Scenario` its field, typed with the schema (a list family:
   ``key: list[Schema] = Field(default_factory=list)``; a cap: a base of ``Caps``);
4. write the checker's own function in :mod:`exitopt.check.rules`, from the document, and put
   it in ``CHECKS`` under the family's key;
5. tests: its rows against a hand computation or a brute force, and its bad input.

``tests/test_rules.py`` fails while a registered family lacks a part.

Reading this package never loads Pyomo or the model: a family imports what it builds with
when its ``add`` runs.
"""

from __future__ import annotations

from . import (
    award_fund,
    budget,
    concentration,
    fleet,
    mandatory,
    mergers,
    packages,
    protected,
    replacement,
    targets,
    upgrades,
    utilisation,
    windows,
    worker_caps,
    works,
)
from .family import Editable, Family, Keeping, Tie
from .packages import package_members
from .works import works_of

#: the rule families, in the order the model adds them and constraints.csv lists their rows
#: (the caps last: they read the cost, which is added after every family's variables)
FAMILIES: tuple[Family, ...] = tuple(mod.FAMILY for mod in (
    targets, replacement, concentration, utilisation, packages, mandatory, protected, windows, works, fleet, upgrades, mergers,
    budget, worker_caps, award_fund,
))

#: {a `rule` value of constraints.csv: its family}
BY_ROW: dict[str, Family] = {row: f for f in FAMILIES for row in f.rows}


def family(key: str) -> Family:
    """The family registered under ``key``."""
    return next(f for f in FAMILIES if f.key == key)


def rule_of_row(rule: str, name: str) -> str:
    """The name of the rule a constraints.csv row belongs to: a family whose rows are named
    ``"<rule>: <unit or region>"`` (``per_item``) loses the part after the colon."""
    family = BY_ROW.get(rule)
    per_item = family is not None and family.per_item
    return name.rsplit(": ", 1)[0] if per_item and ": " in name else name


def coupling_rows() -> tuple[str, ...]:
    """The `rule` values of the rows no block keeps exactly (relaxation or coupling): the rows a
    coupled solve prices across blocks."""
    return tuple(r for f in FAMILIES if f.keeping != "exact" for r in f.rows)


__all__ = ["BY_ROW", "FAMILIES", "Editable", "Family", "Keeping", "Tie", "coupling_rows", "family",
           "package_members", "rule_of_row", "works_of"]
