"""briefing.xlsx: the run folder's tables as one Excel workbook an analyst can brief from.

Sheets: overview (headline figures and exits by product), schedule, summary, constraints and
new capacity. Headers carry their units in the chosen language; the header row and the id
columns are frozen; every sheet has an autofilter; ids and names are written as text so Excel
never turns "00123" into 123; numbers get thousands separators, capacity one decimal, persons
none, shares a percent sign. Every sheet prints on A4 landscape, one page wide, with its header
row on every page and the scenario, date and page number in the page header and footer.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..printing import set_up_printing
from . import chinese, labels
from .run import Run, exit_totals, exits_by_product, headline, run_folder_name

NUMBER_FORMATS = {
    "capacity": "#,##0.0",
    "persons": "#,##0",
    "money": "#,##0",
    "share": "0.0%",
    "gap": "0.000%",
    "year": "0",
    "count": "0",
    "cost": "#,##0.00",
    "number": "#,##0.00",
}
FROZEN_COLUMNS = {"schedule": 1, "summary": 2, "constraints": 2, "new_capacity": 1}
MAX_WIDTH = 60


def display_width(text: str) -> int:
    """Width of a text in Excel character units: a CJK character takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _is_blank(value: object) -> bool:
    """None, NA or NaN: an empty cell."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


class _Formats:
    """The workbook's cell formats, created once per workbook."""

    def __init__(self, wb) -> None:
        self.header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DCE6F1",
                                     "bottom": 1})
        self.text = wb.add_format({"num_format": "@"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.label = wb.add_format({"bold": True})
        self.numbers = {k: wb.add_format({"num_format": v}) for k, v in NUMBER_FORMATS.items()}

    def number(self, kind: str):
        return self.numbers.get(kind, self.numbers["number"])


def _cell_kind(column: str, row: pd.Series) -> str:
    """How to format a cell: by the column, or for constraint figures by the row's unit."""
    kind = labels.kind(column)
    if kind == "by_unit":
        return labels.MEASURE_KINDS.get(str(row.get("unit", "")), "number")
    return kind


def _write_cell(ws, r: int, c: int, value: Any, kind: str, fmt: _Formats, lang: str) -> str:
    """Write one cell; return the text as displayed (for the column width)."""
    if _is_blank(value):
        ws.write_blank(r, c, None, fmt.text if kind == "text" else fmt.number(kind))
        return ""
    if kind == "flag":
        s = labels.text("yes" if bool(value) else "no", lang)
        ws.write_string(r, c, s)
        return s
    if kind == "text":
        s = str(value)
        if s == "":
            ws.write_blank(r, c, None, fmt.text)
        else:
            ws.write_string(r, c, s, fmt.text)
        return s
    x = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0, so Excel never shows "-0"
    if kind == "persons":
        x = round(x, 1) + 0.0  # 198.3 persons in the cell, not 198.305589 (shown whole)
    ws.write_number(r, c, x, fmt.number(kind))
    if kind in ("share", "gap"):
        return f"{x:.3%}"
    if kind in ("year", "count"):
        return f"{x:.0f}"
    return f"{x:,.1f}"


def print_title(run: Run, lang: str) -> str:
    """What every printed page of the briefing names in its header: the briefing and the scenario."""
    return f"{labels.text('title', lang)} · {labels.text('scenario', lang)}: {run.title(lang)}"


def _has_chinese(values: pd.Series) -> bool:
    return any(isinstance(v, str) and any(ord(ch) > 0x2E80 for ch in v) for v in values)


def shown_table(run: Run, name: str, lang: str) -> pd.DataFrame:
    """A run-folder table as its sheet shows it. In English, as the CSV file holds it (the codes
    coal, close … that filters match). In Chinese, every code and name in Chinese: products,
    sectors, kinds, modes, regions, rules, senses, approvals and reasons; units by their Chinese
    name (the English name column left out), projects by theirs; firm and group only when the
    table names them in Chinese."""
    df = {"schedule": run.schedule, "summary": run.summary, "constraints": run.constraints,
          "new_capacity": run.new_capacity}[name]
    if lang != "zh":
        return df
    names = run.names
    out = df.copy()

    def each(col: str, f) -> None:
        if col in out.columns:
            out[col] = [f(v) for v in out[col]]

    each("product", lambda v: labels.product(v, lang))
    each("sector", lambda v: labels.sector(v, lang))
    each("mode", lambda v: labels.mode(v, lang) if isinstance(v, str) else v)
    each("region", lambda v: names.region(v, lang))
    each("kind", lambda v: chinese.kind(v, lang))
    each("reason", lambda v: names.reason(v, lang))
    each("approval", lambda v: chinese.approval(v, lang))
    if name == "schedule":
        if "name_zh" in out.columns:
            out["name_zh"] = [chinese.unit_name(n, z, lang) for n, z in zip(out["name"], out["name_zh"], strict=True)]
            out = out.drop(columns="name")
        out = out.drop(columns=[c for c in ("firm", "group", "acquirer") if c in out.columns
                               and not _has_chinese(out[c])])
    if name == "constraints" and "name" in out.columns:
        out["name"] = [names.rule(r, n, lang, product=p, required=q, sense=s, unit=u) for r, n, p, q, s, u in
                       zip(out["rule"], out["name"], out.get("product", [None] * len(out)),
                           out.get("required", [None] * len(out)), out.get("sense", [None] * len(out)),
                           out.get("unit", [None] * len(out)), strict=False)]
        each("rule", lambda v: labels.rule(v, lang))
        each("sense", lambda v: labels.sense(v, lang))
    if name == "new_capacity" and "name" in out.columns:
        out["name"] = [names.project(i, n, lang) for i, n in zip(out["project_id"], out["name"], strict=True)]
        if not _has_chinese(out["name"]):
            out = out.drop(columns="name")
    return out


def write_table(wb, fmt: _Formats, name: str, df: pd.DataFrame, lang: str, frozen: int,
                title: str = "") -> None:
    """One data sheet: translated headers, typed cells, frozen header and id columns, autofilter;
    printed on A4 landscape, one page wide, the header row on every page."""
    ws = wb.add_worksheet(labels.sheet(name, lang))
    cols = list(df.columns)
    widths = []
    for c, col in enumerate(cols):
        h = labels.header(col, lang, name)
        ws.write_string(0, c, h, fmt.header)
        widths.append(min(display_width(h), 24))
    for r, (_, row) in enumerate(df.iterrows(), start=1):
        for c, col in enumerate(cols):
            value = labels.measure(row[col], lang) if col == "unit" and isinstance(row[col], str) else row[col]
            shown = _write_cell(ws, r, c, value, _cell_kind(col, row), fmt, lang)
            widths[c] = max(widths[c], display_width(shown))
    for c, w in enumerate(widths):
        ws.set_column(c, c, min(w + 2, MAX_WIDTH))
    ws.set_row(0, 32)
    ws.freeze_panes(1, frozen)
    ws.autofilter(0, 0, max(len(df), 1), max(len(cols) - 1, 0))
    set_up_printing(ws, title, lang)


def _headline_value(key: str, value: object, lang: str):
    """A headline figure as (value to write, format kind)."""
    if key == "status":
        return labels.status(value, lang), "text"
    if key == "gap":
        return value, "gap"
    if key == "jobs":
        return value, "persons"
    if key in ("objective", "fiscal", "revenue_foregone", "stranded_value"):
        return value, "money"
    if key in ("units_exiting", "cases"):
        return value, "count"
    if key in ("robust_value", "worst_cost", "worst_regret"):
        return value, "money"
    if key == "robust_objective":
        from .regret import objective_name

        return objective_name(value, lang), "text"
    if key == "projects_built":
        return (value or labels.text("none", lang)), "text"
    return value, "text"


def write_overview(wb, fmt: _Formats, run: Run, lang: str) -> None:
    """The first sheet: headline figures, then exits by product."""
    ws = wb.add_worksheet(labels.sheet("overview", lang))
    ws.write_string(0, 0, labels.text("title", lang), fmt.title)
    r = 2
    for key, value in headline(run, lang):
        ws.write_string(r, 0, labels.text(key, lang), fmt.label)
        v, kind = _headline_value(key, value, lang)
        _write_cell(ws, r, 1, v, kind, fmt, lang)
        r += 1
    r += 1
    ws.write_string(r, 0, labels.text("exits_by_product", lang), fmt.label)
    r += 1
    table = exits_by_product(run)
    heads = [labels.header("product", lang), labels.text("units", lang)] + [
        labels.header(c, lang) for c in ("capacity", "counted", "indicator", "workers_displaced", "outlay")]
    for c, h in enumerate(heads):
        ws.write_string(r, c, h, fmt.header)
    kinds = ["text", "count", "capacity", "capacity", "capacity", "persons", "money"]
    for _, row in table.iterrows():
        r += 1
        values = [labels.product(row["product"], lang), row["units"], row["capacity"], row["counted"],
                  row["indicator"], row["workers_displaced"], row["outlay"]]
        for c, (v, k) in enumerate(zip(values, kinds, strict=False)):
            _write_cell(ws, r, c, v, k, fmt, lang)
    if not table.empty:
        r += 1
        tot = exit_totals(table)
        ws.write_string(r, 0, labels.text("total", lang), fmt.label)
        _write_cell(ws, r, 1, tot["units"], "count", fmt, lang)
        _write_cell(ws, r, 5, tot["workers_displaced"], "persons", fmt, lang)
        _write_cell(ws, r, 6, tot["outlay"], "money", fmt, lang)
    r += 2
    ws.write_string(r, 0, labels.text("source", lang), fmt.label)
    ws.write_string(r, 1, run_folder_name(run), fmt.text)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 6, 20)
    set_up_printing(ws, print_title(run, lang), lang)


def write_workbook(run: Run, path: Path, lang: str) -> Path:
    """Write briefing.xlsx for ``run`` in ``lang`` (zh or en) at ``path``.

    The workbook is made in memory and written in one go, so that a disk that fills up raises
    the plain OSError of that write (the caller removes what it wrote) and leaves no half-made
    zip file open behind it.
    """
    import xlsxwriter

    book = io.BytesIO()
    wb = xlsxwriter.Workbook(book, {"nan_inf_to_errors": True, "in_memory": True})
    try:
        fmt = _Formats(wb)
        write_overview(wb, fmt, run, lang)
        for name in ("schedule", "summary", "constraints", "new_capacity"):
            write_table(wb, fmt, name, shown_table(run, name, lang), lang, FROZEN_COLUMNS[name],
                        print_title(run, lang))
        if run.regret is not None:
            from .regret import write_regret

            write_regret(wb, fmt, run, lang)
    finally:
        wb.close()
    Path(path).write_bytes(book.getvalue())
    return path
