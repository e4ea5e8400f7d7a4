"""What differs between two runs: units that exit in one and not the other, units that exit in
different years or by different modes, the change in objective, jobs and fiscal outlay, and the
rules that bind in one run but not in the other.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ..errors import OutputError
from .run import Run, binding_flags, read_run

FIGURES = (("objective", "objective (万元 equivalent)"), ("jobs", "jobs (persons displaced)"),
           ("fiscal", "fiscal outlay (万元, present value)"), ("units_exiting", "units exiting"))
RULE_KEY = ["rule", "name", "year", "product"]

ONLY_A = "exits only in A"
ONLY_B = "exits only in B"
YEAR = "exit year differs"
MODE = "exit mode differs"
YEAR_MODE = "exit year and mode differ"
MERGER = "merger differs"
NOT_IN_A = "not in A's unit table"
NOT_IN_B = "not in B's unit table"


@dataclass
class Comparison:
    """Two runs side by side; every table lists differences only."""

    a: Run
    b: Run
    figures: pd.DataFrame  # figure, label, a, b, change
    units: pd.DataFrame  # unit_id, name, product, region, capacity, year_a, mode_a, year_b, mode_b, change
    rules: pd.DataFrame  # rule, name, year, product, binding_a, binding_b, change

    @property
    def same(self) -> bool:
        """True when both runs choose the same plan and the same rules bind."""
        return self.units.empty and self.rules.empty


def _figure(run: Run, key: str) -> float:
    """A headline figure of a run: from run.json, or the number of units exiting."""
    if key == "units_exiting":
        return float(len(run.exiting))
    v = run.record.get(key)
    return float(v) if v is not None else math.nan


def compare_figures(a: Run, b: Run) -> pd.DataFrame:
    """Objective, jobs, fiscal outlay and units exiting in A and B, and the change B − A."""
    rows = []
    for key, label in FIGURES:
        x, y = _figure(a, key), _figure(b, key)
        rows.append(dict(figure=key, label=label, a=x, b=y, change=y - x))
    return pd.DataFrame(rows)


def _change(row: pd.Series) -> str | None:
    """How a unit's exit differs between the runs (None when it does not)."""
    ia, ib = row["_merge"] in ("both", "left_only"), row["_merge"] in ("both", "right_only")
    if not ia:
        return NOT_IN_A
    if not ib:
        return NOT_IN_B
    ea, eb = not pd.isna(row["year_a"]), not pd.isna(row["year_b"])
    if ea and not eb:
        return ONLY_A
    if eb and not ea:
        return ONLY_B
    if not ea:  # neither exits: a merger (year, acquiring group) in one run and not the same in the other
        return MERGER if _merger(row, "a") != _merger(row, "b") else None
    dy, dm = int(row["year_a"]) != int(row["year_b"]), str(row["mode_a"]) != str(row["mode_b"])
    if dy and dm:
        return YEAR_MODE
    if dy:
        return YEAR
    if dm:
        return MODE
    return None


def _merger(row, side: str) -> tuple | None:
    """(merge year, acquiring group) of a unit that merges in run ``side``, else None."""
    if str(row[f"mode_{side}"]) != "merge":
        return None
    return (row[f"merge_year_{side}"], row[f"acquirer_{side}"])


def _with_mergers(schedule: pd.DataFrame) -> pd.DataFrame:
    """The schedule with merge_year and acquirer columns (empty for a run without mergers)."""
    out = schedule.copy()
    for c in ("merge_year", "acquirer"):
        if c not in out.columns:
            out[c] = pd.NA
    return out


def compare_units(a: Run, b: Run) -> pd.DataFrame:
    """Units whose exit (whether, when, how) or merger differs, one row each, sorted by change and id."""
    cols = ["unit_id", "exit_year", "mode", "merge_year", "acquirer"]
    left = _with_mergers(a.schedule)[cols + ["name", "product", "region", "capacity"]].rename(
        columns={"exit_year": "year_a", "mode": "mode_a", "merge_year": "merge_year_a", "acquirer": "acquirer_a"})
    right = _with_mergers(b.schedule)[cols + ["name", "product", "region", "capacity"]].rename(
        columns={"exit_year": "year_b", "mode": "mode_b", "merge_year": "merge_year_b", "acquirer": "acquirer_b",
                 "name": "name_b", "product": "product_b", "region": "region_b", "capacity": "capacity_b"})
    m = left.merge(right, on="unit_id", how="outer", indicator=True)
    for c in ("name", "product", "region", "capacity"):
        m[c] = m[c].where(m[c].notna(), m[f"{c}_b"])
    m["change"] = m.apply(_change, axis=1) if len(m) else pd.Series(dtype=object)
    out = m[m["change"].notna()]
    order = {k: i for i, k in enumerate((ONLY_A, ONLY_B, YEAR_MODE, YEAR, MODE, MERGER, NOT_IN_A, NOT_IN_B))}
    out = out.assign(_o=out["change"].map(order)).sort_values(["_o", "unit_id"])
    keep = ["unit_id", "name", "product", "region", "capacity", "year_a", "mode_a", "year_b", "mode_b",
            "merge_year_a", "acquirer_a", "merge_year_b", "acquirer_b", "change"]
    return out[keep].reset_index(drop=True)


def _binding(c: pd.DataFrame) -> pd.DataFrame:
    """constraints.csv reduced to its key and whether the row binds (true only when it says so)."""
    df = c[RULE_KEY].copy()
    df["year"] = df["year"].astype("Int64")
    df["product"] = df["product"].fillna("")
    df["binding"] = binding_flags(c)
    return df.drop_duplicates(RULE_KEY)


def compare_rules(a: Run, b: Run) -> pd.DataFrame:
    """Rules (one row per rule, year and product) that bind in one run and not in the other."""
    m = _binding(a.constraints).merge(_binding(b.constraints), on=RULE_KEY, how="outer",
                                      suffixes=("_a", "_b"))
    m["binding_a"] = m["binding_a"].map(lambda v: v is True)
    m["binding_b"] = m["binding_b"].map(lambda v: v is True)
    out = m[m["binding_a"] != m["binding_b"]].copy()
    out["change"] = out["binding_a"].map(lambda v: "binds only in A" if v else "binds only in B")
    return out.sort_values(["change", "rule", "name", "year"]).reset_index(drop=True)


def compare_runs(run_a: Path | str | Run, run_b: Path | str | Run) -> Comparison:
    """Read two run folders (or take two Runs) and list what differs."""
    a = run_a if isinstance(run_a, Run) else read_run(run_a)
    b = run_b if isinstance(run_b, Run) else read_run(run_b)
    return Comparison(a, b, compare_figures(a, b), compare_units(a, b), compare_rules(a, b))


def _plan(year: Any, mode: object, merge_year: Any = None, acquirer: object = None) -> str:
    """A unit's plan in words: "2018 close", "2020 merge into G02", or "stays"."""
    if str(mode) == "merge" and not pd.isna(merge_year):
        return f"{int(merge_year)} merge into {acquirer}"
    if pd.isna(year):
        return "stays"
    return f"{int(year)} {mode}".strip()


def as_table(comp: Comparison) -> pd.DataFrame:
    """Every difference as one long table: section, key, name, a, b, change (for a CSV file)."""
    rows = [dict(section="figure", key=r.figure, name=r.label, a=round(r.a, 4), b=round(r.b, 4),
                 change=round(r.change, 4)) for r in comp.figures.itertuples()]  # numbers stay numbers
    rows += [dict(section="unit", key=u.unit_id, name=u.name,
                  a=_plan(u.year_a, u.mode_a, u.merge_year_a, u.acquirer_a),
                  b=_plan(u.year_b, u.mode_b, u.merge_year_b, u.acquirer_b), change=u.change)
             for u in comp.units.itertuples()]
    rows += [dict(section="rule", key=r.rule,
                  name=" ".join(str(x) for x in (r.name, "" if pd.isna(r.year) else int(r.year)) if x != ""),
                  a="binding" if r.binding_a else "not binding", b="binding" if r.binding_b else "not binding",
                  change=r.change) for r in comp.rules.itertuples()]
    return pd.DataFrame(rows, columns=["section", "key", "name", "a", "b", "change"])


def write_comparison(comp: Comparison, path: Path | str, *, force: bool = False) -> Path:
    """Write :func:`as_table` as a CSV (UTF-8 with BOM), atomically; refuse to overwrite without force."""
    from ..output import why_not, write_csv

    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder. Give a file name for --out, e.g. comparison.csv.")
    if path.exists() and not force:
        raise OutputError(f"{path} already exists. Add --force to replace it, or choose another --out.")
    tmp = None
    try:
        path.resolve().parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.resolve().parent)
        os.close(fd)
        write_csv(as_table(comp), Path(tmp))
        os.replace(tmp, path)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)  # nothing half-written stays beside it
        raise OutputError(f"cannot write {path}: {why_not(e)}") from None
    return path


def render(comp: Comparison):
    """The comparison as rich renderables (a Group of tables) for the terminal."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from ..console import frame_table

    parts: list[Text | Table] = [Text(f"A = {comp.a.path} ({comp.a.name}, {comp.a.record.get('status')})\n"
                  f"B = {comp.b.path} ({comp.b.name}, {comp.b.record.get('status')})")]
    t = Table(title="headline figures", show_edge=False)
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (("figure", "left"), ("A", "right"), ("B", "right"),
                                                                 ("B − A", "right"))
    for col, just in columns:
        t.add_column(col, justify=just)
    for r in comp.figures.itertuples():
        d = 0 if r.figure == "units_exiting" else 1
        t.add_row(r.label, f"{r.a:,.{d}f}", f"{r.b:,.{d}f}", f"{r.change:+,.{d}f}")
    parts.append(t)
    if comp.units.empty:
        parts.append(Text("units: the same units exit in the same years by the same modes"))
    else:
        rows = [(str(r.unit_id), _plan(r.year_a, r.mode_a, r.merge_year_a, r.acquirer_a),
                 _plan(r.year_b, r.mode_b, r.merge_year_b, r.acquirer_b), r.change, str(r.product),
                 "" if pd.isna(r.capacity) else f"{r.capacity:,.1f}", str(r.region), str(r.name))
                for r in comp.units.itertuples()]
        # the plan columns keep their cells whole; on a narrow terminal the change, region and name
        # break at spaces (to a file or a pipe every table is printed at its full width)
        view = pd.DataFrame(rows, columns=["unit", "A", "B", "change", "product", "万吨/yr", "region", "name"])
        parts.append(frame_table(view, wrap=("change", "region", "name"), right=("万吨/yr",), optional=("region",),
                                 title=f"units that differ ({len(comp.units)})"))
    if comp.rules.empty:
        parts.append(Text("rules: the same rules bind in both runs"))
    else:
        view = pd.DataFrame([(str(r.rule), str(r.name), "" if pd.isna(r.year) else str(int(r.year)), str(r.product),
                              r.change) for r in comp.rules.itertuples()],
                            columns=["rule", "name", "year", "product", "change"])
        parts.append(frame_table(view, wrap=("name", "change"),
                                 title=f"rules that bind in one run only ({len(comp.rules)})"))
    return Group(*parts)
