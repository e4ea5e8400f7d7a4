"""What the page shows, as JSON-ready dicts, read from run folders (:func:`exitopt.report.read_run`).

A plan: its headline figures, exits by sector, product and region per year, every unit's row,
and the rules that bind. A comparison of two plans: :func:`exitopt.report.compare_runs` as lists.
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


def plan_view(run: Run) -> dict:
    """Everything the page shows of one plan."""
    r = run.record
    ex = run.exiting
    c = run.constraints
    binding = c[c["binding"].map(lambda v: v is True)] if not c.empty else c
    return {
        "figures": {
            "status": r.get("status"), "objective": plain(r.get("objective")), "gap": plain(r.get("gap")),
            "jobs": plain(r.get("jobs")), "fiscal": plain(r.get("fiscal")), "units_exiting": int(len(ex)),
            "capacity_exiting": float(ex["capacity"].sum()) if not ex.empty else 0.0,
            "projects_built": r.get("projects_built") or [],
        },
        "years": sorted({int(y) for y in run.summary["year"].dropna()}),
        "exits": {k: _exits_by(run, k) for k in ("sector", "product", "region")},
        "units": records(run.schedule, UNIT_COLUMNS),
        "binding": records(binding, BINDING_COLUMNS),
    }


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
