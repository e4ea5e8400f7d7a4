"""What the page shows, as JSON-ready dicts, read from run folders (:func:`exitopt.report.read_run`).

A plan: its headline figures (with the parts of the fiscal cost), exits by sector, product and
region per year, every unit's row, the rules that bind — those with something to do, apart from
the exits the rules require and the rules with nothing to do — and, for a folder of ``exitopt
robust``, the regret by case. A comparison of two plans:
:func:`exitopt.report.compare_runs` as lists.
The words of both languages come from :mod:`exitopt.report.labels`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..report import labels
from ..report.compare import compare_runs
from ..report.run import Run

#: schedule columns the units table of the page shows
UNIT_COLUMNS = ["unit_id", "name", "name_zh", "sector", "product", "region", "capacity", "exit_year", "mode",
                "workers_displaced", "outlay", "reason"]
BINDING_COLUMNS = ["rule", "name", "year", "product", "sense", "required", "achieved", "marginal_cost", "unit"]


def plain(v: Any) -> Any:
    """A cell as JSON takes it: NaN and NA become None, numpy numbers Python numbers."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def records(df: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    cols = [c for c in (columns or list(df.columns)) if c in df.columns]
    return [{c: plain(v) for c, v in zip(cols, row)} for row in df[cols].itertuples(index=False, name=None)]


def _exits_by(run: Run, key: str) -> list[dict]:
    """Per ``key`` (sector, product or region) and exit year: units, capacity, workers displaced."""
    ex = run.exiting
    if ex.empty:
        return []
    g = ex.groupby([key, "exit_year"]).agg(units=("unit_id", "size"), capacity=("capacity", "sum"),
                                           workers=("workers_displaced", "sum")).reset_index()
    g = g.rename(columns={key: "key", "exit_year": "year"})
    return records(g)


#: a fixed-plan marginal cost below this is no price: whole units meet the rule (README, constraints.csv)
PRICED = 1e-9


def _family(rule: str, name: str) -> str:
    """The rule a row belongs to: mandatory and worker-cap rows are named "<rule>: <unit or region>"."""
    return name.rsplit(": ", 1)[0] if rule in ("mandatory", "workers", "works") and ": " in name else name


def binding_groups(c: pd.DataFrame) -> dict[str, list[dict]]:
    """The binding rows of constraints.csv in three groups: ``binding`` (rows with something to do,
    each with ``priced``: whether its fixed-plan marginal cost is a price, not 0 or missing),
    ``required`` (mandatory exits and required packages, one entry per rule with its units) and
    ``idle`` (nothing required, nothing achieved, one entry per rule with its years)."""
    from ..binding import required_exit, trivial

    out: dict[str, list[dict]] = {"binding": [], "required": [], "idle": []}
    if c.empty:
        return out
    rows = c[c["binding"].map(lambda v: v is True)]
    grouped: dict[tuple[str, str, str], dict] = {}
    for row in records(rows, BINDING_COLUMNS):
        rule, name = str(row["rule"]), str(row["name"])
        if required_exit(row["unit"]):
            key = ("required", rule, _family(rule, name))
        elif trivial(row["required"], row["achieved"]):
            key = ("idle", rule, name)
        else:
            m = row["marginal_cost"]
            out["binding"].append({**row, "priced": m is not None and abs(m) > PRICED})
            continue
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = {"rule": rule, "name": key[2], "product": row["product"], "years": [], "count": 0}
            out[key[0]].append(entry)
        entry["count"] += 1
        if row["year"] is not None and row["year"] not in entry["years"]:
            entry["years"].append(row["year"])
    return out


def _part(run: Run, key: str) -> float:
    """A part of the fiscal cost over the plan (present value): the schedule's column summed; 0 when
    the run has no such column (a scenario that sets neither term writes 0 there)."""
    return float(run.schedule[key].sum()) if key in run.schedule else 0.0


def plan_view(run: Run) -> dict:
    """Everything the page shows of one plan."""
    r = run.record
    ex = run.exiting
    groups = binding_groups(run.constraints)
    return {
        "figures": {
            "status": r.get("status"), "objective": plain(r.get("objective")), "gap": plain(r.get("gap")),
            "jobs": plain(r.get("jobs")), "fiscal": plain(r.get("fiscal")),
            "revenue_foregone": _part(run, "revenue_foregone"), "stranded_value": _part(run, "stranded_value"),
            "units_exiting": int(len(ex)),
            "capacity_exiting": float(ex["capacity"].sum()) if not ex.empty else 0.0,
            "projects_built": r.get("projects_built") or [],
        },
        "years": sorted({int(y) for y in run.summary["year"].dropna()}),
        "exits": {k: _exits_by(run, k) for k in ("sector", "product", "region")},
        "units": records(run.schedule, UNIT_COLUMNS),
        **groups,
        "regret": regret_view(run),
    }


def regret_view(run: Run) -> dict | None:
    """A robust run's regret by case (what the page's regret chart draws); None for a plain run."""
    if run.regret is None:
        return None
    r = run.record
    return {"objective": r.get("robust_objective"), "value": plain(r.get("value")),
            "worst_regret": plain(r.get("worst_regret")), "worst_cost": plain(r.get("worst_cost")),
            "cases": records(run.regret, ["case", "weight", "cost", "own_optimum", "regret"])}


def compare_view(a: Run, b: Run) -> dict:
    """What changed from plan ``a`` to plan ``b``: figures, units, binding rules."""
    comp = compare_runs(a, b)
    return {"figures": records(comp.figures), "units": records(comp.units), "rules": records(comp.rules),
            "same": comp.same}


def words() -> dict:
    """The words of the page the briefing pack already has, in both languages."""
    out: dict[str, dict] = {}
    for lang in labels.LANGS:
        out[lang] = {
            "columns": {k: labels.header(k, lang) for k in labels.COLUMNS},
            "products": {k: labels.product(k, lang) for k in labels.PRODUCTS},
            "sectors": {k: labels.sector(k, lang) for k in labels.SECTORS},
            "rules": {k: labels.rule(k, lang) for k in labels.RULES},
            "senses": {k: labels.sense(k, lang) for k in labels.SENSES},
            "measures": {k: labels.measure(k, lang) for k in labels.MEASURES},
            "status": {k: labels.status(k, lang) for k in labels.STATUS},
            "text": {k: labels.text(k, lang) for k in labels.TEXT},
        }
    return out
