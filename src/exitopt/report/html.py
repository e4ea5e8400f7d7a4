"""briefing.html: one self-contained page (inline CSS, charts embedded as base64 data URIs, no
link to anything outside the file), so it opens offline and can be mailed as one attachment.

It shows the headline figures, exits by product, the charts, and the rules that bind.
"""

from __future__ import annotations

import base64
import math
from html import escape
from pathlib import Path

import pandas as pd

from . import labels
from .charts import Chart
from .run import Run, exit_totals, exits_by_product, headline

CSS = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Noto Sans SC", SimHei,
       "Segoe UI", Arial, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #DCE6F1; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
th { background: #DCE6F1; text-align: left; }
td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.headline th { width: 22em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
p.note { color: #8a4b00; background: #fff4e0; padding: 0.4em 0.8em; }
p.small { font-size: 0.85em; color: #666; }
"""


def _blank(v: object) -> bool:
    """None, NA or NaN: nothing to show."""
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def fmt_number(v: object, kind: str) -> str:
    """A number as the briefing shows it: thousands separators, capacity 1 decimal, persons none."""
    if _blank(v):
        return ""
    if isinstance(v, str):
        return v
    x = float(v)
    if kind == "share":
        return f"{x:.1%}"
    if kind in ("year", "count"):
        return f"{x:.0f}"
    if kind in ("persons", "money"):
        return f"{x:,.0f}"
    if kind in ("capacity", "decimal1"):
        return f"{x:,.1f}"
    if kind == "gap":
        return f"{x:.3%}"
    return f"{x:,.2f}"


def _table(heads: list[str], rows: list[list[tuple[str, bool]]], cls: str = "") -> str:
    """An HTML table; each cell is (text already formatted, numeric?)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{escape(t)}</td>' if num else f"<td>{escape(t)}</td>" for t, num in r)
        + "</tr>" for r in rows)
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


HEADLINE_KINDS = {"objective": "decimal1", "jobs": "persons", "fiscal": "decimal1", "units_exiting": "count",
                  "gap": "gap"}


def headline_section(run: Run, lang: str) -> str:
    """Headline figures as a two-column table (id="headline")."""
    rows = []
    for key, value in headline(run):
        if key == "status":
            text = labels.status(value, lang)
        elif key == "projects_built":
            text = value or labels.text("none", lang)
        else:
            text = fmt_number(value, HEADLINE_KINDS.get(key, "text"))
        cls = "num" if key in HEADLINE_KINDS else "text"
        rows.append(f'<tr><th>{escape(labels.text(key, lang))}</th>'
                    f'<td class="{cls}" data-key="{escape(key)}">{escape(str(text))}</td></tr>')
    return f'<table class="headline" id="headline"><tbody>{"".join(rows)}</tbody></table>'


def exits_section(run: Run, lang: str) -> str:
    """Exits by product, with a total row of units, workers and outlay (id="exits")."""
    t = exits_by_product(run)
    heads = [labels.header("product", lang), labels.text("units", lang)] + [
        labels.header(c, lang) for c in ("capacity", "counted", "indicator", "workers_displaced", "outlay")]
    kinds = ["count", "capacity", "capacity", "capacity", "persons", "money"]
    rows = []
    for _, r in t.iterrows():
        vals = [r["units"], r["capacity"], r["counted"], r["indicator"], r["workers_displaced"], r["outlay"]]
        rows.append([(labels.product(r["product"], lang), False)] + [(fmt_number(v, k), True)
                                                                     for v, k in zip(vals, kinds)])
    if not rows:
        return f"<p>{escape(labels.text('none', lang))}</p>"
    tot = exit_totals(t)
    rows.append([(labels.text("total", lang), False), (fmt_number(tot["units"], "count"), True), ("", True),
                 ("", True), ("", True), (fmt_number(tot["workers_displaced"], "persons"), True),
                 (fmt_number(tot["outlay"], "money"), True)])
    return _table(heads, rows).replace("<table>", '<table id="exits">', 1)


def binding_rules(run: Run) -> pd.DataFrame:
    """The rows of constraints.csv whose ``binding`` is true."""
    c = run.constraints
    return c[c["binding"].map(lambda v: v is True)]


def _figure_unit(unit: object) -> str:
    """How to show the figures of a constraint row, from its unit of measure."""
    return labels.MEASURE_KINDS.get(str(unit), "number")


def binding_section(run: Run, lang: str) -> str:
    """The rules that bind (id="binding"): rule, name, year, product, sense, required, achieved,
    marginal cost, unit."""
    b = binding_rules(run)
    if b.empty:
        return f"<p>{escape(labels.text('binding_none', lang))}</p>"
    cols = ["rule", "name", "year", "product", "sense", "required", "achieved", "marginal_cost", "unit"]
    heads = [labels.header(c, lang) for c in cols]
    rows = []
    for _, r in b.iterrows():
        kind = _figure_unit(r.get("unit"))
        rows.append([
            (labels.rule(r["rule"], lang), False), (str(r["name"]), False), (fmt_number(r["year"], "year"), True),
            (labels.product(r["product"], lang) if not _blank(r["product"]) else "", False),
            (labels.sense(r["sense"], lang), False), (fmt_number(r["required"], kind), True),
            (fmt_number(r["achieved"], kind), True), (fmt_number(r.get("marginal_cost"), "cost"), True),
            (labels.measure(r.get("unit"), lang) if not _blank(r.get("unit")) else "", False),
        ])
    note = f'<p class="small">{escape(labels.text("binding_note", lang))}</p>'
    return note + _table(heads, rows).replace("<table>", '<table id="binding">', 1)


def data_uri(png: Path) -> str:
    """A PNG file as a data: URI, so the page needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")


def charts_section(charts: list[Chart], folder: Path) -> str:
    """Every chart as an embedded image with its caption."""
    figs = []
    for ch in charts:
        figs.append(f'<figure><img alt="{escape(ch.title)}" src="{data_uri(Path(folder) / ch.file)}">'
                    f"<figcaption>{escape(ch.title)}</figcaption></figure>")
    return "".join(figs)


def build_html(run: Run, charts: list[Chart], chart_folder: Path, lang: str, note: str | None = None) -> str:
    """The whole page as text, in ``lang``."""
    title = f"{labels.text('title', lang)}: {run.name}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<h2>{escape(labels.text('headline', lang))}</h2>",
        headline_section(run, lang),
        f"<h3>{escape(labels.text('exits_by_product', lang))}</h3>",
        exits_section(run, lang),
        f"<h2>{escape(labels.text('charts', lang))}</h2>",
        f'<p class="note">{escape(note)}</p>' if note else "",
        charts_section(charts, chart_folder),
        f"<h2>{escape(labels.text('binding', lang))}</h2>",
        binding_section(run, lang),
        f'<p class="small">{escape(labels.text("source", lang))}: {escape(str(run.path.resolve()))}</p>',
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)
