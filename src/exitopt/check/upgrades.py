"""The checker's test of upgrades (rule 10b, docs/model.md#upgrades), and the values a fleet
average reads once a unit is upgraded — written from the document, apart from the model."""

from __future__ import annotations

import pandas as pd

from .facts import Facts
from .report import Violation


def after_upgrades(f: Facts, column: str, value: pd.Series, year: int) -> pd.Series:
    """``value`` (a column's figures, indexed by unit) with each unit upgraded by ``year`` given the
    figure after its upgrade: the rule's ``values[column]``, or (1 + ``changes[column]``) × the figure;
    units whose upgrade leaves the column alone keep theirs."""
    u = f.units.loc[value.index]
    out = value.copy()
    for rule in f.scen.upgrades:
        if column not in rule.values and column not in rule.changes:
            continue
        done = u["upgrade"].eq(rule.name) & (u["upgrade_year"].astype(float).fillna(f.scen.last_year + 1) <= year)
        if column in rule.values:
            out[done] = rule.values[column]
        else:
            out[done] = value[done] * (1.0 + rule.changes[column])
    return out


def check_upgrades(f: Facts) -> list[Violation]:
    """Upgrades (docs/model.md#upgrades): an upgraded unit is selected by the rule it names, in one
    of the rule's years (every planning year when it names none), and does not exit in the plan."""
    u = f.units
    out = []
    for r in u[u["upgrade"].ne("")].itertuples():
        rule = next(x for x in f.scen.upgrades if x.name == r.upgrade)
        year = int(r.upgrade_year)
        if not bool(rule.where.mask(u).loc[r.Index]):
            out.append(Violation("upgrade", rule.name, year, r.product, None, None,
                                 f"upgrade '{rule.name}': unit {r.Index} is upgraded in {year}, but the rule does not "
                                 f"offer it (its where selection leaves it out)"))
        years = rule.years or f.scen.years
        if year not in years:
            out.append(Violation("upgrade", rule.name, year, r.product, None, float(year),
                                 f"upgrade '{rule.name}': unit {r.Index} is upgraded in {year}, but the rule allows "
                                 f"only {', '.join(str(y) for y in sorted(years))}"))
        if bool(r.exits):
            out.append(Violation("upgrade", rule.name, year, r.product, None, None,
                                 f"upgrade '{rule.name}': unit {r.Index} is upgraded in {year} and exits in "
                                 f"{int(r.exit_year)}; an upgraded unit does not exit in the plan"))
    return out
