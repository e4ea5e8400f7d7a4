"""What-if pins: fix chosen units one way or the other, re-plan the rest, and price each pin.

A pin is a scenario transform, never an edit of the scenario in place:

* ``keep UNIT`` — a *protected* rule (rule 7) for that unit: it does not exit in the plan.
* ``keep UNIT`` with a year Y — a *window* (rule 8): it may exit only after Y (it stays through
  Y). Pinning every unit that did not exit in 2016 this way, and every 2016 exit with
  ``exit UNIT=2016``, re-plans 2017–2020 from what was done in 2016.
* ``exit UNIT`` — a *mandatory* rule (rule 6) by the last planning year: it exits some year.
* ``exit UNIT=YEAR`` — a mandatory rule by YEAR and a window of that year only: it exits in
  exactly that year.

Pins come from the command line (``--keep``, ``--exit``) or a CSV file (``--pins``) with columns
``unit_id``, ``action`` (keep or exit; 保留 / 退出 also work) and ``year`` (optional).

The cost of a pin is re-solved, not guessed: the optimum with every pin minus the optimum with
every pin but that one (objective units: 万元, with jobs at the scenario's ``jobs_weight``).
The cost of all pins together is measured against the free optimum. Costs of several pins do
not add up in general: units substitute for each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import pandas as pd

from . import cells, columns
from .engine import Engine, Pin, Progress, Solution, apply, quiet, raise_infeasible
from .errors import InputError, LimitReached
from .inputs import Instance
from .model.domain import allowed_years, package_members, protected_units
from .model.exit_model import ExitModel
from .tables import read_text_table

#: what a pin does to its unit (exitopt.engine.Pin.action)
Action = Literal["keep", "exit"]

#: the status of a pin whose re-solve the time limit cut short
OUT_OF_TIME = "not priced: no plan without this pin was found within the time limit"
#: above this many pins, only the cost of all pins together is re-solved (one solve per pin)
MAX_PRICED = 20

_KEEP = {"keep", "stay", "保留"}
_EXIT = {"exit", "close", "退出"}


# --------------------------------------------------------------------------------------------
# Reading pins


def _year(text: str, where: str, file: Path | None = None) -> int:
    v = cells.year(text)
    if v is None:
        raise InputError(f"{where}: '{text}' is not a year. Write it as a number such as 2018.", file=file)
    return v


#: what follows the last '=' of a --keep/--exit value when it is meant as a year: a number as
#: cells are written (2018, 2018.0, 2,018), or inf/nan, which are then refused as years
_YEAR_PART = re.compile(r"\s*[+-]?(\d[\d,]*(\.\d*)?([eE][+-]?\d+)?|inf(inity)?|nan)\s*", re.IGNORECASE)


def split_option(text: str) -> tuple[str, str]:
    """``UNIT=YEAR`` -> (UNIT, YEAR); the part after the last '=' is a year only when it is a
    number or empty (``U=`` names U with no year), so ``A=B`` names the unit ``A=B`` and
    ``A=2018=`` the unit ``A=2018``."""
    text = str(text).strip()
    unit, sep, year = text.rpartition("=")
    if not sep or (year.strip() and not _YEAR_PART.fullmatch(year)):
        return text, ""
    return unit.strip(), year.strip()


def from_options(keep: Iterable[str] = (), exit_: Iterable[str] = ()) -> list[Pin]:
    """Pins from ``--keep UNIT[=YEAR]`` and ``--exit UNIT[=YEAR]`` options (see :func:`split_option`)."""
    pins = []
    for action, values in (("keep", keep), ("exit", exit_)):
        for text in values:
            unit, year = split_option(text)
            if not unit:
                raise InputError(f"--{action} '{text}' names no unit. Write --{action} UNIT_ID or "
                                 f"--{action} UNIT_ID=YEAR.")
            pins.append(Pin(unit, cast(Action, action), _year(year, f"--{action} {text}") if year else None))
    return pins


def read_pins(path: Path | str) -> list[Pin]:
    """Pins from a CSV file: unit_id, action (keep|exit), year (optional)."""
    path = Path(path)
    df = read_text_table(path, "unit_id, action and optionally year", skip_blank_lines=True)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c.name for c in columns.PINS if c.required and c.name not in df.columns]
    if missing:
        raise InputError(f"the pins file lacks column(s) {', '.join(missing)}. Its first row must name the "
                         f"columns unit_id, action (keep or exit) and optionally year.", file=path)
    pins = []
    for i, r in df.iterrows():
        row = int(i) + 2
        unit = str(r["unit_id"]).strip()
        action = str(r["action"]).strip().lower()
        year = str(r.get("year", "")).strip()
        if not unit and not action and not year:
            continue
        if not unit:
            raise InputError(f"row {row}, column 'unit_id' is empty; give the unit's id or delete the row.",
                             file=path)
        if action in _KEEP:
            action = "keep"
        elif action in _EXIT:
            action = "exit"
        else:
            raise InputError(f"row {row} ({unit}), column 'action': '{r['action']}' is neither keep nor exit.",
                             file=path)
        pins.append(Pin(unit, cast(Action, action), _year(year, f"row {row} ({unit}), column 'year'", path)
                        if year else None))
    return pins


def check_pins(inst: Instance, pins: list[Pin], source: str = "the pins") -> None:
    """Raise InputError for a pin on an unknown unit, twice on one unit, outside the plan's years,
    or against a rule of the scenario that already decides the unit the other way."""
    scen = inst.scenario
    seen: dict[str, Pin] = {}
    protected = protected_units(inst)
    allowed = allowed_years(inst)
    mandatory = {u: r.name for r in scen.mandatory for u in inst.select(r.where)}
    required = {u: p.name for p in scen.packages if p.required for u in package_members(inst, p)}
    for p in pins:
        if p.unit not in inst.units.index:
            left, _, right = p.unit.rpartition("=")
            hint = (f" And '{right}' after the last '=' is not a year: to pin unit '{left.strip()}' in a year, write "
                    f"the year as a number, e.g. {left.strip()}=2018." if left.strip() in inst.units.index else "")
            raise InputError(f"{source}: unit '{p.unit}' ({p.label}) is not in the unit table. Check the spelling "
                             f"against the unit table's unit_id column.{hint}")
        if p.unit in seen:
            raise InputError(f"{source}: unit '{p.unit}' is pinned twice ({seen[p.unit].label}; {p.label}). "
                             f"Keep one pin per unit.")
        seen[p.unit] = p
        if p.year is not None and not scen.first_year <= p.year <= scen.last_year:
            raise InputError(f"{source}: {p.label}: {p.year} is outside the plan {scen.first_year}–{scen.last_year}.")
        if p.action == "exit":
            if p.unit in protected:
                raise InputError(f"{source}: {p.label} contradicts the scenario's protected rule "
                                 f"'{protected[p.unit]}'. Remove the pin or that rule.")
            if not allowed[p.unit] or (p.year is not None and p.year not in allowed[p.unit]):
                years = ", ".join(map(str, sorted(allowed[p.unit]))) or "no year"
                raise InputError(f"{source}: {p.label} is not possible: the unit may exit only in {years} "
                                 f"(its exit_years in the unit table and the scenario's windows).")
        else:
            if p.unit in mandatory and p.year is None:
                raise InputError(f"{source}: {p.label} contradicts the scenario's mandatory rule "
                                 f"'{mandatory[p.unit]}'. Remove the pin or that rule.")
            if p.unit in required and p.year is None:
                raise InputError(f"{source}: {p.label} stops the required package '{required[p.unit]}', whose "
                                 f"members all exit together. Remove the pin or make the package optional.")


def collect(inst: Instance, keep: Iterable[str] = (), exit_: Iterable[str] = (),
            pins_file: Path | None = None) -> list[Pin]:
    """Every pin from the options and the file, checked against ``inst``."""
    pins = from_options(keep, exit_)
    if pins_file is not None:
        pins += read_pins(pins_file)
    check_pins(inst, pins)
    return pins


# --------------------------------------------------------------------------------------------
# Solving with pins, and the cost of each


@dataclass
class PinnedRun:
    """The pinned plan, the whole model holding it, the free optimum and the pins' costs."""

    inst: Instance  # the pinned scenario
    solution: Solution
    model: ExitModel  # the Pyomo model of the pinned scenario, holding its plan
    free_objective: float
    costs: pd.DataFrame

    def lines(self) -> list[str]:
        """One console line per row of the cost table."""
        out = []
        for _, r in self.costs.iterrows():
            if pd.isna(r["cost"]):
                out.append(f"{r['pin']}: {r['status']}")
                continue
            every = r["pin"] == "all pins"
            out.append(f"{r['pin']}: costs {_signed(r['cost'], 1)} (objective {r['objective_with_pins']:,.1f} with "
                       f"{'the pins' if every else 'every pin'}, {r['objective_without']:,.1f} "
                       f"without {'any' if every else 'it'}; jobs {_signed(r['jobs_delta'], 0)}, "
                       f"fiscal {_signed(r['fiscal_delta'], 1)} 万元)")
        return out


def _signed(value: float, digits: int) -> str:
    """'+1,234.5' / '-3.0' / '+0.0' (never '-0.0')."""
    return f"{round(float(value), digits) + 0.0:+,.{digits}f}"


def solve_pinned(engine: Engine, pins: list[Pin], *, time_limit: float | None = None,
                 progress: Progress = quiet) -> PinnedRun:
    """Solve ``engine``'s scenario with every pin, solve it free, and re-solve without each pin in
    turn (up to MAX_PRICED).

    The blocks a pin does not reach are solved once; each variant's plan is the one a solve of
    it alone finds (the plan ``exitopt solve`` gives that scenario). Raises InfeasibleError (with a diagnosis)
    when no plan meets the rules with every pin.
    """
    inst = engine.inst
    progress("the plan with every pin")
    pinned = apply(inst, pins)
    res, m = engine.solve(pinned, time_limit=time_limit)
    if res is None:
        raise_infeasible(pinned, m)
    progress("the free optimum (no pin)")
    free = _solve_in_time(engine, inst, time_limit)
    rows = [_cost_row("all pins", res, free)]
    if len(pins) > 1 and len(pins) <= MAX_PRICED:
        for i, p in enumerate(pins):
            progress(f"without pin {i + 1} of {len(pins)}: {p.label}")
            without = _solve_in_time(engine, apply(inst, pins[:i] + pins[i + 1:]), time_limit)
            rows.append(_cost_row(p.label, res, without))
    elif len(pins) == 1:
        rows.append(_cost_row(pins[0].label, res, free))
    elif len(pins) > MAX_PRICED:
        rows.append({"pin": f"each of the {len(pins)} pins", "objective_with_pins": res.objective,
                     "objective_without": None, "cost": None, "jobs_delta": None, "fiscal_delta": None,
                     "status": f"not priced one by one: more than {MAX_PRICED} pins would need {len(pins)} "
                               f"more solves"})
    return PinnedRun(pinned, res, m, free.objective if free is not None else float("nan"), pd.DataFrame(rows))


def _solve_in_time(engine: Engine, inst: Instance, time_limit: float | None):
    """The optimum of a variant, or None when none was found (out of time: the pinned plan
    exists, so a variant with fewer pins always has one)."""
    try:
        return engine.solve(inst, time_limit=time_limit)[0]
    except LimitReached:
        return None


def _cost_row(label: str, pinned, without) -> dict:
    """Objective, jobs and fiscal with the pins minus those without ``label``."""
    if without is None:
        return {"pin": label, "objective_with_pins": pinned.objective, "objective_without": None, "cost": None,
                "jobs_delta": None, "fiscal_delta": None,
                "status": OUT_OF_TIME}
    status = "optimal" if pinned.status == without.status == "optimal" else "limit"
    return {"pin": label, "objective_with_pins": pinned.objective, "objective_without": without.objective,
            "cost": pinned.objective - without.objective, "jobs_delta": pinned.jobs - without.jobs,
            "fiscal_delta": pinned.fiscal - without.fiscal, "status": status}
