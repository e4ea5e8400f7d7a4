"""What the checker found, and the short text ``exitopt check`` prints.

A :class:`Violation` is one broken rule as the analyst reads it; a :class:`CheckResult` holds
every violation with the plan's cost per unit and per year; :func:`format_report` writes it as
a few lines of text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Violation:
    """One rule the plan breaks, as the analyst reads it."""

    rule: str
    name: str
    year: int | None
    product: str | None
    required: float | None
    achieved: float | None
    message: str


@dataclass
class CheckResult:
    """What :func:`~exitopt.check.check_plan` found: broken rules, and the plan's cost.

    ``units``: one row per unit (unit_id, product, capacity, exit_year, mode, counted, indicator,
    workers_displaced, outlay, award, losses_paid, revenue_foregone, stranded_value); ``outlay``
    is undiscounted, in the exit year, net of the award, the stranded value written off included;
    ``losses_paid`` is the unit's subsidised losses over the plan years; ``revenue_foregone`` and
    ``stranded_value`` are present values.
    ``years``: per year, exits, capacity exited, displaced workers, exit outlay, subsidised
    losses paid (losses_paid), revenue foregone, stranded value written off, total outlay (万元,
    undiscounted), discount factor and present value.
    """

    scenario: str
    violations: list[Violation]
    units: pd.DataFrame
    years: pd.DataFrame
    jobs: float
    fiscal: float
    objective: float
    indicators_allocated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def violation_table(self) -> pd.DataFrame:
        cols = ["rule", "name", "year", "product", "required", "achieved", "message"]
        return pd.DataFrame([v.__dict__ for v in self.violations], columns=cols)


def format_report(result: CheckResult, limit: int | None = None) -> str:
    """A short text: OK or one line per broken rule (at most ``limit``), then jobs, fiscal, objective."""
    lines = []
    if result.ok:
        lines.append(f"OK: the plan meets every rule of scenario '{result.scenario}'.")
    else:
        n = len(result.violations)
        lines.append(f"The plan breaks the rules of scenario '{result.scenario}' {n} time(s):")
        shown = result.violations if limit is None else result.violations[:limit]
        lines += [f"  - {v.rule}: {v.message}" for v in shown]
        if len(shown) < n:
            lines.append(f"  … and {n - len(shown)} more.")
    if result.indicators_allocated:
        lines.append("Replacement indicators allocated by the checker for: "
                     + ", ".join(result.indicators_allocated) + ".")
    lines.append(f"Jobs: {result.jobs:,.0f} persons displaced")
    lines.append(f"Fiscal: {result.fiscal:,.1f} 万元 (present value)")
    parts = [(label, float(result.units[col].sum())) for col, label in
             (("revenue_foregone", "revenue foregone"), ("stranded_value", "stranded value written off"))
             if col in result.units]
    parts = [(label, v) for label, v in parts if v]
    if parts:
        lines.append("  of which " + "; ".join(f"{label} {v:,.1f} 万元" for label, v in parts))
    lines.append(f"Objective: {result.objective:,.1f}")
    return "\n".join(lines)
