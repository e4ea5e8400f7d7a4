"""Check any exit plan against every rule of a scenario, and price it, without the optimiser.

A plan says, for each unit, the year it exits (or that it stays), the mode, and optionally how
much of its capacity is used as a replacement indicator. It may come from ``exitopt solve``
(its ``schedule.csv`` is a valid plan) or be typed by hand in Excel. This package reads it,
tests rules 1–11 of ``docs/model.md`` and adds up the cost exactly as ``docs/model.md`` defines it, using
pandas on the unit table only: it shares no code with the optimisation model (it imports
neither ``exitopt.model`` nor the engine or the solver), so that it is an independent check of
what the model reports.

- :mod:`.reading`: the plan and the project approvals, read and checked cell by cell;
- :mod:`.facts`: the plan joined to the unit table, with indicators, costs and the capacity
  that remains worked out (the checker's own pricing);
- :mod:`.rules`: one check per rule family, and :func:`check_plan`, which runs them all;
- :mod:`.report`: the violations, the result and the text ``exitopt check`` prints.

Units: capacity in 万吨/yr, money in 万元, people in persons, calendar years.

Comparisons allow a tolerance of ``REL_TOL × max(1, |required|)``.
"""

from .reading import REL_TOL, Plan, plan_from_frame, read_plan, read_project_approvals
from .report import CheckResult, Violation, format_report
from .rules import (
    CHECKS,
    RULE_FAMILIES,
    check_budget,
    check_concentration,
    check_mandatory,
    check_mergers,
    check_modes,
    check_new_capacity,
    check_packages,
    check_plan,
    check_protected,
    check_replacement,
    check_targets,
    check_utilisation,
    check_windows,
    check_workers,
)
from .upgrades import check_upgrades

__all__ = [
    "CHECKS", "REL_TOL", "RULE_FAMILIES", "CheckResult", "Plan", "Violation", "check_budget", "check_concentration",
    "check_mandatory", "check_mergers", "check_modes", "check_new_capacity", "check_packages", "check_plan", "check_protected",
    "check_replacement", "check_targets", "check_upgrades", "check_utilisation", "check_windows", "check_workers", "format_report",
    "plan_from_frame", "read_plan", "read_project_approvals",
]
