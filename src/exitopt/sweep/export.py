"""Tables and pictures of a sweep, made from its ledger (so a resumed sweep exports everything).

* ``cases.csv`` — one row per case: case, variant, each axis value, status, objective, jobs
  (persons), fiscal (万元, present value), gap, exits by product (万吨/yr over the plan), …
* ``unit_frequency.csv`` — per unit: in how many solved cases it exits, by choice or forced.
* ``units_long.csv`` (with ``--long``) — case × unit: exit_year, mode (blank when it stays).
* ``response.png``, ``tornado.png``, ``unit_frequency.png`` — see :mod:`exitopt.sweep.plots`.

Every file is written to a temporary name in the folder and renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..output import write_csv
from ..vocab import PRODUCTS
from .ledger import Ledger
from .spec import Sweep

PRODUCT_ORDER = PRODUCTS  # the order reports list products in
SOLVED = ("optimal", "limit")


def has_plan(status: str, objective) -> bool:
    """Whether a recorded case has a plan: solved (optimal, or stopped at the time limit with a
    plan in hand) and an objective. A case that reached its time limit before any plan has none:
    its figures are empty cells and it is left out of the pictures and the frequencies."""
    return status in SOLVED and objective is not None and bool(pd.notna(objective))


def _atomic_csv(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write_csv(df, tmp)
    os.replace(tmp, path)


def cases_table(sweep: Sweep, ledger_cases: pd.DataFrame, products: list[str]) -> pd.DataFrame:
    """The tidy one-row-per-case table (cases.csv), in case order."""
    rows = []
    for r in ledger_cases.itertuples(index=False):
        row = {"case": r.case_id, "variant": r.variant}
        for a in sweep.axis_names:
            row[a] = r.params.get(a)
        row.update(status=r.status, objective=r.objective, jobs=r.jobs, fiscal=r.fiscal, gap=r.gap, bound=r.bound)
        exits = r.exits or {}
        for p in products:  # empty cells, not zeros, for a case without a plan (a NULL reads back as NaN)
            row[f"exits_{p}"] = float(sum(exits.get(p, {}).values())) if has_plan(r.status, r.objective) else None
        row["projects_built"] = ";".join(r.projects_built or [])
        row["seconds"] = r.seconds
        row["diagnosis"] = r.diagnosis or ""
        rows.append(row)
    return pd.DataFrame(rows)


def unit_frequency(units: pd.DataFrame, exits: pd.DataFrame, solved: list[str]) -> pd.DataFrame:
    """Per unit: share of solved cases in which it exits, and how often a mandatory rule forced it."""
    n = max(len(solved), 1)
    e = exits[exits["case_id"].isin(solved)]
    g = e.groupby("unit_id")
    out = pd.DataFrame({
        "unit_id": units.index,
        "name": units["name"].values,
        "product": units["product"].values,
        "capacity": units["capacity"].values,
    })
    out["cases_exiting"] = out["unit_id"].map(g.size()).fillna(0).astype(int)
    out["cases_forced"] = out["unit_id"].map(g["forced"].sum()).fillna(0).astype(int)
    out["exit_share"] = out["cases_exiting"] / n
    out["typical_year"] = out["unit_id"].map(g["exit_year"].agg(lambda s: int(s.mode().iloc[0]))).astype("Int64")
    out["typical_mode"] = out["unit_id"].map(g["mode"].agg(lambda s: s.mode().iloc[0])).fillna("")
    return out.sort_values(["exit_share", "capacity", "unit_id"], ascending=[False, False, True]).reset_index(drop=True)


def units_long(units: pd.DataFrame, cases: pd.DataFrame, exits: pd.DataFrame) -> pd.DataFrame:
    """Case × unit: exit year and mode (blank for a unit that stays or a case without a plan)."""
    base = units[["unit_id", "product"]].reset_index(drop=True)
    grid = cases[["case_id", "variant", "status"]].merge(base, how="cross")
    out = grid.merge(exits[["case_id", "unit_id", "exit_year", "mode"]], on=["case_id", "unit_id"], how="left")
    out["exit_year"] = out["exit_year"].astype("Int64")
    out["mode"] = out["mode"].fillna("")
    return out.rename(columns={"case_id": "case"})[["case", "variant", "status", "unit_id", "product",
                                                     "exit_year", "mode"]]


def export(out: Path, sweep: Sweep, inst, ledger: Ledger, *, long: bool = False) -> list[str]:
    """Write the tables and pictures of every case in the ledger; return the file names written."""
    from . import plots

    out = Path(out)
    lc = ledger.cases()
    exits = ledger.unit_exits()
    present = set(inst.units["product"])
    products = [p for p in PRODUCT_ORDER if p in present]
    table = cases_table(sweep, lc, products)
    _atomic_csv(table, out / "cases.csv")
    written = ["cases.csv"]
    solved = [c for c, st, obj in zip(lc["case_id"], lc["status"], lc["objective"], strict=True) if has_plan(st, obj)]
    freq = unit_frequency(inst.units, exits, solved)
    _atomic_csv(freq, out / "unit_frequency.csv")
    written.append("unit_frequency.csv")
    if long:
        _atomic_csv(units_long(inst.units, lc, exits), out / "units_long.csv")
        written.append("units_long.csv")
    elif (out / "units_long.csv").is_file():  # from an earlier pass: it would be stale
        (out / "units_long.csv").unlink()
    ok = table[table["case"].isin(solved)]
    if len(ok):
        written += plots.draw_all(out, ok, sweep, products, freq, len(solved))
    return written
