"""When a rule "binds": one test for constraints.csv, the briefing, compare and --explain.

A row binds when what the plan achieves equals what the rule requires, to within a tolerance
relative to the row's natural size::

    |achieved − required| ≤ REL_TOL · max(|required|, |achieved|, 1)

in the row's own unit: 万吨/yr for capacity rows, persons, 万元, and the share itself (0–1) for
a concentration rule, so that a share of 0.850005 against 0.85 binds (5e-6 ≤ 1e-4) while an exit
target met at 1,002 against 1,000 does not (2 > 0.1). The tolerance lies above what a MIP solver
leaves in a row it treats as met (its feasibility tolerance, times the row's coefficients) and
well below any slack an analyst would call room to spare.

A row that binds only trivially — nothing required and nothing achieved (a replacement rule in a
year without new capacity) — is set apart by :func:`trivial`, and a row whose requirement is a
whole unit or package (a mandatory exit, a required package) by :func:`required_exit`: such rows
are met by construction, and saying that loosening them "may lower the cost" tells nothing.
"""

from __future__ import annotations

import math

#: relative tolerance of "achieved equals required"
REL_TOL = 1e-4

#: units of measure of rows whose requirement is an exit itself (see :func:`required_exit`)
EXIT_UNITS = ("unit", "package")


def _number(v: object) -> float | None:
    """A float, or None for a missing value (None, NA, NaN, text)."""
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def binds(required: object, achieved: object) -> bool | None:
    """True when ``achieved`` equals ``required`` within :data:`REL_TOL` of the row's size;
    None when either is missing (protected and window rows, a share of nothing left)."""
    r, a = _number(required), _number(achieved)
    if r is None or a is None:
        return None
    return abs(a - r) <= REL_TOL * max(abs(r), abs(a), 1.0)


def trivial(required: object, achieved: object) -> bool:
    """True when the row asks for nothing and gets nothing (both within REL_TOL of 0)."""
    r, a = _number(required), _number(achieved)
    return r is not None and a is not None and abs(r) <= REL_TOL and abs(a) <= REL_TOL


def required_exit(unit: object) -> bool:
    """True for a row whose requirement is that a unit or package exits (met by construction)."""
    return str(unit) in EXIT_UNITS
