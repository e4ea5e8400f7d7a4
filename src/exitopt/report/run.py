"""Read a run folder written by ``exitopt solve`` back into typed tables.

Every cell is read as text first, so ids such as "00123" stay text; numeric columns are then
converted one by one, and a cell that is not a number is reported with its file, row and column.
Text cells that ``exitopt.output`` protected from Excel (a leading apostrophe before =, +, -, @)
get their original text back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..cells import yes_no
from ..errors import InputError
from ..files import is_folder, shown
from ..output import restore
from ..vocab import PRODUCTS

REQUIRED = {
    "schedule.csv": ["unit_id", "name", "sector", "product", "region", "capacity", "exit_year", "mode",
                     "counted", "indicator", "workers_displaced", "outlay"],
    "summary.csv": ["year", "product", "capacity_left", "exits", "counted", "workers_displaced", "outlay"],
    "constraints.csv": ["rule", "name", "year", "product", "sense", "required", "achieved", "binding"],
}
OPTIONAL = {"new_capacity.csv": ["project_id", "product", "capacity", "year", "built"]}
# Tables that `exitopt solve` writes without even a header row when they have no rows.
MAY_BE_EMPTY = ("constraints.csv", "new_capacity.csv")

NUMERIC = {
    "capacity", "counted", "indicator", "workers_displaced", "outlay", "award", "losses_paid",
    "revenue_foregone", "stranded_value", "award_base", "award_ladder", "upgrade_outlay",
    "capacity_start", "new_capacity", "exits", "capacity_left", "demand", "utilisation", "concentration",
    "required", "achieved", "slack", "marginal_cost",
}
INTEGER = {"exit_year", "year", "concentration_k", "merge_year", "upgrade_year"}
FLAGS = {"binding", "built"}
RECORD_KEYS = ("status", "objective", "jobs", "fiscal")
PRODUCT_ORDER = PRODUCTS  # the order reports list products in

@dataclass
class Run:
    """A run folder's tables (pandas) and its run.json record (dict)."""

    path: Path
    schedule: pd.DataFrame
    summary: pd.DataFrame
    constraints: pd.DataFrame
    new_capacity: pd.DataFrame
    record: dict = field(default_factory=dict)
    #: regret.csv of a folder written by ``exitopt robust`` (:mod:`.regret`); None for a plain run
    regret: pd.DataFrame | None = None

    @property
    def exiting(self) -> pd.DataFrame:
        """The schedule rows of units that exit."""
        return self.schedule[self.schedule["exit_year"].notna()]

    @property
    def name(self) -> str:
        return str(self.record.get("scenario") or self.path.name)

    @property
    def names(self):
        """The Chinese names of the run's rules, regions and projects (:class:`chinese.Names`)."""
        from .chinese import Names

        return Names.of(self.record)

    def title(self, lang: str) -> str:
        """The scenario's name in ``lang``: its name_zh in Chinese when the scenario gives one."""
        return self.names.scenario(self.name, lang)


def _convert(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Turn the text cells of known numeric, year and flag columns into numbers; name any bad cell."""
    out = df.copy()
    for col in out.columns:
        raw = out[col]
        if col in NUMERIC or col in INTEGER:
            blank = raw.str.strip() == ""
            num = pd.to_numeric(raw.where(~blank, None), errors="coerce")
            bad = num.isna() & ~blank
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                raise InputError(
                    f"row {i + 2}, column {col}: {raw.iloc[i]!r} is not a number. This file should be "
                    f"exactly as `exitopt solve` wrote it; solve the scenario again to rewrite it.", file=path)
            if col in INTEGER:
                if (num.dropna() % 1 != 0).any():
                    raise InputError(f"column {col} holds a year or count that is not whole.", file=path)
                num = num.astype("Int64")
            else:
                num = num.astype(float)
            out[col] = num
        elif col in FLAGS:
            out[col] = raw.map(yes_no).astype(object)  # an empty cell: None
        else:
            out[col] = raw.map(restore)
    return out


def read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """One CSV of a run folder, every column read as text, then typed; InputError when unreadable."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("is missing from the run folder. Point at a folder written by `exitopt solve`, "
                         "or solve the scenario again.", file=path) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text; it was changed after `exitopt solve` wrote it. "
                         "Solve the scenario again to rewrite it.", file=path) from None
    except pd.errors.EmptyDataError:
        if path.name in MAY_BE_EMPTY:
            return _convert(pd.DataFrame({c: pd.Series(dtype=str) for c in columns}), path)
        raise InputError("is empty. Solve the scenario again to rewrite it.", file=path) from None
    except pd.errors.ParserError as e:
        raise InputError(f"cannot be read as CSV ({str(e).strip()}). Solve the scenario again to rewrite it.",
                         file=path) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"lacks the column(s) {', '.join(missing)}. This is not a run folder table written "
                         f"by `exitopt solve`; solve the scenario again.", file=path)
    return _convert(df, path)


def read_record(path: Path) -> dict:
    """run.json as a dict; InputError when missing, not JSON, or without the headline figures."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("is missing from the run folder. Point at a folder written by `exitopt solve`, "
                         "or solve the scenario again.", file=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"is not valid JSON ({e}). Solve the scenario again to rewrite it.", file=path) from None
    if not isinstance(record, dict):
        raise InputError("does not hold a JSON object. Solve the scenario again to rewrite it.", file=path)
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise InputError(f"lacks the key(s) {', '.join(missing)}. Solve the scenario again to rewrite it.",
                         file=path)
    return record


def read_run(folder: Path | str) -> Run:
    """Read a run folder; raise InputError naming the first missing or garbled file."""
    folder = Path(folder)
    if not is_folder(folder):  # also a path too long for the system, or with a NUL
        raise InputError("is not a folder. Give the run folder that `exitopt solve --out` wrote.", file=shown(folder))
    tables = {name: read_table(folder / name, cols) for name, cols in REQUIRED.items()}
    for name, cols in OPTIONAL.items():
        p = folder / name
        tables[name] = read_table(p, cols) if p.exists() else pd.DataFrame(columns=cols)
    record = read_record(folder / "run.json")
    regret = None
    constraints = tables["constraints.csv"]
    from .regret import is_robust, read_regret

    if is_robust(record):
        # a robust folder: the shared plan's tables as its first case sees them, every case's rows
        regret = read_regret(folder)
        if "case" in constraints.columns:
            first = str(regret["case"].iloc[0])
            constraints = constraints[constraints["case"] == first].drop(columns="case").reset_index(drop=True)
    return Run(folder, tables["schedule.csv"], tables["summary.csv"], constraints,
               tables["new_capacity.csv"], record, regret)


def run_folder_name(run: Run) -> str:
    """The run folder's own name, for footers: never a full local path, which would tell the
    reader of a mailed briefing where files lie on the analyst's computer."""
    return run.path.resolve().name or str(run.path)


def binding_flags(c: pd.DataFrame) -> pd.Series:
    """Whether each constraints.csv row binds, by :func:`exitopt.binding.binds` on its required and
    achieved figures (so that run folders written with another tolerance read the same). Rows
    whose ``binding`` cell is empty (protected units, windows: rules with no bound to meet) never
    bind; a row without figures keeps its cell."""
    from ..binding import binds

    if c.empty:
        return pd.Series([], index=c.index, dtype=bool)
    flags = []
    for r, a, cell in zip(c["required"], c["achieved"], c["binding"], strict=True):
        f = binds(r, a) if cell is not None else False
        flags.append(bool(f) if f is not None else cell is True)
    return pd.Series(flags, index=c.index, dtype=bool)


def exits_by_product(run: Run) -> pd.DataFrame:
    """Per product, in the usual order (coal, iron, steel, rolled steel, clinker, cement): units
    exiting, capacity exiting, counted, used as indicator (万吨/yr), workers displaced (persons) and
    outlay in the exit year (万元, undiscounted)."""
    ex = run.exiting
    g = ex.groupby("product", sort=True).agg(units=("unit_id", "size"), capacity=("capacity", "sum"),
                                             counted=("counted", "sum"), indicator=("indicator", "sum"),
                                             workers_displaced=("workers_displaced", "sum"),
                                             outlay=("outlay", "sum"))
    order = {p: i for i, p in enumerate(PRODUCT_ORDER)}
    g = g.reset_index()
    return g.assign(_o=g["product"].map(order).fillna(len(order))).sort_values(["_o", "product"]).drop(
        columns="_o").reset_index(drop=True)


def exit_totals(table: pd.DataFrame) -> dict:
    """Totals of exits_by_product over products: units, workers, outlay (capacities of different
    products are not added up, so they are left out)."""
    return {"units": int(table["units"].sum()), "workers_displaced": float(table["workers_displaced"].sum()),
            "outlay": float(table["outlay"].sum())}


def headline(run: Run, lang: str = "en") -> list[tuple[str, object]]:
    """The figures a briefing opens with, as (label key, value) pairs; see labels.TEXT for the keys.
    The scenario is named in ``lang``."""
    r = run.record
    built = r.get("projects_built") or []
    rows: list[tuple[str, object]] = [
        ("scenario", run.title(lang)),
        ("status", r.get("status")),
        ("objective", r.get("objective")),
    ]
    if r.get("gap") is not None:
        rows.append(("gap", r.get("gap")))
    rows += [
        ("jobs", r.get("jobs")),
        ("fiscal", r.get("fiscal")),
    ]
    # the parts of the fiscal cost that a scenario without their figures leaves at 0
    for key in ("revenue_foregone", "stranded_value"):
        total = float(run.schedule[key].sum()) if key in run.schedule else 0.0
        if total:
            rows.append((key, total))
    rows += [
        ("units_exiting", int(run.exiting.shape[0])),
        ("projects_built", ", ".join(map(str, built))),
    ]
    if run.regret is not None:
        from .regret import headline_rows

        rows += headline_rows(r, run.regret)
    return rows
