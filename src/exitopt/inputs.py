"""Bind a scenario to its unit and project tables as an ``Instance``, checking the two together.

The tables are read and checked on their own by :mod:`exitopt.tables`; here the cross-checks
between the scenario and the tables: unknown unit ids or columns in a rule, packages that ask a
unit for a mode it does not allow, and the like. Every failure is one ``InputError`` naming the
file and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from .files import sha256
from .scenario import Scenario, load_scenario
from .selection import Selection
from .tables import PROJECT_COLUMNS, UNIT_COLUMNS, control_character, escaped, read_projects, read_units


@dataclass
class Instance:
    """A scenario bound to its data: what the model, the checker and the reports all read."""

    scenario: Scenario
    units: pd.DataFrame
    projects: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)
    scenario_path: Path | None = None

    @property
    def years(self) -> list[int]:
        return self.scenario.years

    def select(self, sel: Selection) -> list[str]:
        return list(self.units.index[sel.mask(self.units)])

    def hashes(self) -> dict[str, str]:
        return {name: sha256(p) for name, p in self.files.items()}


#: columns exitopt adds to the unit table for itself; a selection may not test them
INTERNAL_COLUMNS = frozenset({"allowed_years"})
_NUMBER_KINDS = ("capacity", "count", "money", "year")


def _check_condition(c, where: str, scen_file: Path | None) -> None:
    """The value of a condition suits its column's kind (a number for capacity, text for region…).

    Columns the unit table has beyond UNIT_COLUMNS hold text that may also be compared as numbers.
    """
    kind = UNIT_COLUMNS.get(c.column, ("extra",))[0]
    values = c.values()
    cond = f"{where}: [\"{c.column}\", \"{c.op}\", {c.value!r}]"
    if kind in _NUMBER_KINDS:
        if c.op in ("contains", "startswith"):
            raise InputError(f"{cond} looks for text, but '{c.column}' holds numbers. Compare it with "
                             f"==, <, >= … and a number.", file=scen_file)
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            raise InputError(f"{cond}: '{c.column}' holds numbers, but {bad[0]!r} is not one. Write the number "
                             f"without quotes.", file=scen_file)
    elif kind in ("text", "id"):
        if c.op in ("<", "<=", ">", ">="):
            raise InputError(f"{cond}: '{c.op}' compares numbers, but '{c.column}' holds text. Use ==, in or "
                             f"startswith.", file=scen_file)
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            raise InputError(f"{cond}: '{c.column}' holds text, so {bad[0]!r} never matches. Write it in quotes: "
                             f"\"{str(bad[0]).lower() if isinstance(bad[0], bool) else bad[0]}\".", file=scen_file)
    elif kind == "bool" and c.op not in ("==", "!=", "in", "not in"):
        raise InputError(f"{cond}: '{c.column}' is a yes/no column; compare it with == true or == false.",
                         file=scen_file)


def _check_selection(sel: Selection | None, where: str, units: pd.DataFrame, scen_file: Path | None) -> None:
    if sel is None:
        return
    texts = [*(sel.units or []), *(v for c in (*sel.all, *sel.any) for v in c.values() if isinstance(v, str))]
    for text in texts:
        ch = control_character(text)
        if ch is not None:
            raise InputError(f"{where} names '{escaped(text)}', which holds the control character {ch!r} "
                             f"(U+{ord(ch):04X}); no id or name of a table holds one. Remove it.", file=scen_file)
    selectable = [c for c in units.columns if c not in INTERNAL_COLUMNS]
    unknown_cols = sorted(sel.columns() - set(selectable))
    if unknown_cols:
        raise InputError(
            f"{where} tests column(s) {', '.join(unknown_cols)}, which the unit table does not have. "
            f"Columns available: {', '.join(selectable)}.",
            file=scen_file,
        )
    for c in (*sel.all, *sel.any):
        _check_condition(c, where, scen_file)
    if sel.units is not None:
        unknown = [u for u in sel.units if u not in units.index]
        if unknown:
            raise InputError(
                f"{where} names unit(s) {', '.join(unknown[:5])} that are not in the unit table.",
                file=scen_file,
            )
    for c in (*sel.all, *sel.any):
        if UNIT_COLUMNS.get(c.column, ("",))[0] != "bool" or c.op not in ("==", "!=", "in", "not in"):
            continue
        values = c.values()
        if not all(isinstance(v, bool) for v in values):
            raise InputError(
                f"{where} compares the yes/no column '{c.column}' with {c.value!r}. Write true or false "
                f"without quotes, e.g. [\"{c.column}\", \"==\", true].",
                file=scen_file,
            )


def _project_status(scen: Scenario, projects: pd.DataFrame, scen_file: Path | None) -> pd.Series:
    pol = scen.new_capacity
    for key, ids in (("approve", pol.approve), ("reject", pol.reject),
                     ("candidates", [] if pol.candidates == "table" else pol.candidates)):
        unknown = [p for p in ids if p not in projects.index]
        if unknown:
            raise InputError(
                f"new_capacity.{key} names project(s) {', '.join(unknown[:5])} that are not in the projects table.",
                file=scen_file,
            )
    if pol.candidates == "table":
        status = projects["status"].copy()
    else:
        status = pd.Series("rejected", index=projects.index)
        status[list(pol.candidates)] = "candidate"
        status[projects["status"] == "approved"] = "approved"
    status[list(pol.approve)] = "approved"
    status[list(pol.reject)] = "rejected"
    banned = projects["product"].isin(list(pol.ban))
    named = [j for j in pol.approve if banned[j]]
    if named:
        raise InputError(
            f"new_capacity.approve names project {named[0]} of {projects.at[named[0], 'product']}, a product "
            f"new_capacity.ban allows no new capacity of. Take it out of approve, or the product out of ban.",
            file=scen_file,
        )
    status[banned] = "rejected"
    return status


def bind(scen: Scenario, units: pd.DataFrame, projects: pd.DataFrame | None = None,
         *, files: dict[str, Path] | None = None, scenario_path: Path | None = None) -> Instance:
    """Cross-check a scenario against its tables and return the Instance.

    Also the way to make a variant of a loaded instance without touching its data:
    ``bind(inst.scenario.model_copy(update=...), inst.units, inst.projects, files=inst.files)``.
    """
    from .rules import FAMILIES

    f = scenario_path
    for family in FAMILIES:
        for rule in family.rules_of(scen):
            for side, sel in family.selections(rule):
                _check_selection(sel, f"{family.noun} '{rule.name}'{side}", units, f)
    inst = Instance(scen, units, pd.DataFrame(), files or {}, scenario_path)

    if projects is None or projects.empty:
        # no projects: an empty table with the columns' types, so sums over it are numbers
        projects = pd.DataFrame(columns=[*PROJECT_COLUMNS, "approval"]).astype(
            {"capacity": float, "year": int}).set_index("project_id", drop=False)
        if scen.new_capacity.approve or scen.new_capacity.reject:
            raise InputError("new_capacity names projects but the scenario gives no projects table.", file=f)
    else:
        projects = projects.drop(columns="approval", errors="ignore").copy()
        projects["approval"] = _project_status(scen, projects, f)
        # Projects outside the plan's years cannot come on line within it.
        outside = ~projects["year"].between(scen.first_year, scen.last_year)
        projects.loc[outside & (projects["approval"] != "approved"), "approval"] = "rejected"
        late = projects.index[outside & (projects["approval"] == "approved")]
        if len(late):
            raise InputError(
                f"project {late[0]} is approved but its year {projects.at[late[0], 'year']} is outside the plan "
                f"{scen.first_year}–{scen.last_year}.",
                file=f,
            )
    inst.projects = projects
    for family in FAMILIES:  # what a family checks against the tables, the projects' approval known
        if family.bind is not None:
            family.bind(inst, f)
    return inst


def load(scenario_path: Path | str) -> Instance:
    """Load a scenario file and its tables; raise InputError on anything wrong."""
    scenario_path = Path(scenario_path)
    scen = load_scenario(scenario_path)
    files = {"scenario": scenario_path, "units": scen.units}
    units = read_units(scen.units)
    projects = None
    if scen.projects is not None:
        projects = read_projects(scen.projects)
        files["projects"] = scen.projects
    return bind(scen, units, projects, files=files, scenario_path=scenario_path)
