"""briefing.html: one self-contained page (inline CSS, charts embedded as base64 data URIs, no
link to anything outside the file), so it opens offline and can be mailed as one attachment.

It shows what a reader needs first at the top: the headline figures, exits by product, the charts
and the rules that bind; then the plan itself (every unit that
exits, by sector and year). Large type, cells that never break a word or a Chinese term into single
characters, and tables that scroll sideways inside their box keep it readable on a phone and on a
projector.
"""

from __future__ import annotations

import base64
import math
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..rules import BY_ROW, rule_of_row
from . import labels
from .charts import Chart
from .run import PRODUCT_ORDER, Run, binding_flags, exit_totals, exits_by_product, headline, run_folder_name

CSS = """
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Noto Sans SC", SimHei,
       "Segoe UI", Arial, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em;
       color: #111; background: #fff; font-size: clamp(17px, 1.1vw + 12px, 24px); line-height: 1.45; }
h1 { font-size: 1.7em; margin: 0.2em 0; line-height: 1.2; }
h2 { font-size: 1.35em; border-bottom: 3px solid #9DB8DA; padding-bottom: 0.2em; margin-top: 1.6em; }
h3 { font-size: 1.15em; margin: 1.2em 0 0.3em; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.95em; }
th, td { border: 1px solid #bbb; padding: 0.35em 0.6em; vertical-align: top; word-break: keep-all;
         overflow-wrap: normal; }
th { background: #DCE6F1; text-align: left; }
td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f3f6fa; }
table.plan td:nth-child(2), table.plan td:nth-child(4), table.plan td:nth-child(5) { white-space: nowrap; }
table.plan td:nth-child(3) { min-width: 9em; }
table.headline th { width: 22em; }
table#binding td:nth-child(3), table#binding td:nth-child(5), table#binding td:last-child { white-space: nowrap; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 720px), 1fr)); gap: 0 1.2em; }
p.hint { display: none; }
figcaption { font-size: 0.9em; color: #444; }
p.note { color: #7a4300; background: #fff4e0; padding: 0.4em 0.8em; }
p.small { font-size: 0.85em; color: #444; }
@media (max-width: 640px) {
  body { padding: 0.6em; }
  table.headline th { width: auto; white-space: normal; }
  th, td { padding: 0.3em 0.4em; }
  p.hint { display: block; font-size: 0.85em; color: #444; }
  .charts figure { overflow-x: auto; -webkit-overflow-scrolling: touch; }
  .charts figure img { max-width: none; width: 600px; }
}
@media print { .scroll { overflow: visible; } }
"""


def _blank(v: object) -> bool:
    """None, NA or NaN: nothing to show."""
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def fmt_number(v: Any, kind: str) -> str:
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


def _table(heads: list[str], rows: list[list[tuple[str, bool]]], cls: str = "",
           totals: frozenset[int] = frozenset()) -> str:
    """An HTML table; each cell is (text already formatted, numeric?); rows whose index is in
    ``totals`` are marked as total rows."""
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    body = "".join(
        ('<tr class="total">' if i in totals else "<tr>")
        + "".join(f'<td class="num">{escape(t)}</td>' if num else f"<td>{escape(t)}</td>" for t, num in r)
        + "</tr>" for i, r in enumerate(rows))
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


HEADLINE_KINDS = {"objective": "decimal1", "jobs": "persons", "fiscal": "decimal1", "units_exiting": "count",
                  "gap": "gap", "revenue_foregone": "decimal1", "stranded_value": "decimal1",
                  "robust_value": "decimal1", "cases": "count", "worst_cost": "decimal1", "worst_regret": "decimal1"}


def headline_rows(run: Run, lang: str) -> list[tuple[str, str, str]]:
    """The headline figures as shown: (key, label, text), in the order of :func:`headline`."""
    rows = []
    for key, value in headline(run, lang):
        if key == "status":
            text = labels.status(value, lang)
        elif key == "projects_built":
            text = str(value or labels.text("none", lang))
        elif key == "robust_objective":
            from .regret import objective_name

            text = objective_name(value, lang)
        else:
            text = fmt_number(value, HEADLINE_KINDS.get(key, "text"))
        rows.append((key, labels.text(key, lang), str(text)))
    return rows


def headline_section(run: Run, lang: str) -> str:
    """Headline figures as a two-column table (id="headline")."""
    rows = []
    for key, label, text in headline_rows(run, lang):
        cls = "num" if key in HEADLINE_KINDS else "text"
        rows.append(f'<tr><th>{escape(label)}</th>'
                    f'<td class="{cls}" data-key="{escape(key)}">{escape(text)}</td></tr>')
    return f'<table class="headline" id="headline"><tbody>{"".join(rows)}</tbody></table>'


Cells = list[list[tuple[str, bool]]]  # rows of (text as shown, numeric?)


def exits_table(run: Run, lang: str) -> tuple[list[str], Cells, frozenset[int]] | None:
    """Exits by product as shown: headers, rows with a last total row of units, workers and outlay,
    and the index of that total row; None when no unit exits."""
    t = exits_by_product(run)
    heads = [labels.header("product", lang), labels.text("units", lang)] + [
        labels.header(c, lang) for c in ("capacity", "counted", "indicator", "workers_displaced", "outlay")]
    kinds = ["count", "capacity", "capacity", "capacity", "persons", "money"]
    rows = []
    for _, r in t.iterrows():
        vals = [r["units"], r["capacity"], r["counted"], r["indicator"], r["workers_displaced"], r["outlay"]]
        rows.append([(labels.product(r["product"], lang), False)] + [(fmt_number(v, k), True)
                                                                     for v, k in zip(vals, kinds, strict=False)])
    if not rows:
        return None
    tot = exit_totals(t)
    totals = frozenset({len(rows)})
    rows.append([(labels.text("total", lang), False), (fmt_number(tot["units"], "count"), True), ("", True),
                 ("", True), ("", True), (fmt_number(tot["workers_displaced"], "persons"), True),
                 (fmt_number(tot["outlay"], "money"), True)])
    return heads, rows, totals


def exits_section(run: Run, lang: str) -> str:
    """Exits by product, with a total row of units, workers and outlay (id="exits")."""
    table = exits_table(run, lang)
    if table is None:
        return f"<p>{escape(labels.text('none', lang))}</p>"
    heads, rows, totals = table
    return _scroll(_table(heads, rows, totals=totals).replace("<table>", '<table id="exits">', 1))


def _family(rule: str, name: str) -> str:
    """The rule a row belongs to (the rows of some families are named "<rule>: <unit or region>")."""
    return rule_of_row(rule, name)


def _span(values: list, kind: str) -> str:
    """One figure, or the lowest and highest when they differ: "193.8" · "0.5–3.0"."""
    vals = [v for v in values if not _blank(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    a, b = fmt_number(lo, kind), fmt_number(hi, kind)
    return a if a == b else f"{a}–{b}"


def _years(years: list) -> str:
    """Years as runs: 2016, 2018–2020."""
    ys = sorted({int(y) for y in years if not _blank(y)})
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def binding_rules(run: Run) -> dict[str, list[dict]]:
    """The rules that bind, one entry per rule (its rows of constraints.csv taken together), in three
    groups: ``priced`` (met exactly with something to do: the table), ``required`` (mandatory exits
    and required packages, met by construction) and ``idle`` (nothing required, nothing achieved).
    Binding is decided by :func:`exitopt.binding.binds` on each row's figures."""
    from ..binding import required_exit, trivial

    c = run.constraints
    out: dict[str, list[dict]] = {"priced": [], "required": [], "idle": []}
    if c.empty:
        return out
    c = c.assign(_binds=binding_flags(c), _family=[_family(str(r), str(n)) for r, n in zip(c["rule"], c["name"], strict=True)])
    for (rule, family), g in c.groupby(["rule", "_family"], sort=False):
        b = g[g["_binds"]]
        if b.empty:
            continue
        entry = dict(rule=rule, name=family, rows=b, all_rows=g, names=run.names)
        if required_exit(b["unit"].iloc[0]):
            out["required"].append(entry)
        elif all(trivial(r, a) for r, a in zip(b["required"], b["achieved"], strict=True)):
            out["idle"].append(entry)
        else:
            entry["rows"] = b[[not trivial(r, a) for r, a in zip(b["required"], b["achieved"], strict=True)]]
            out["priced"].append(entry)
    return out


def _figure_unit(unit: object) -> str:
    """How to show the figures of a constraint row, from its unit of measure."""
    return labels.MEASURE_KINDS.get(str(unit), "number")


def _marginal(rows: pd.DataFrame, lang: str) -> str:
    """The largest fixed-plan marginal cost of a rule's binding rows, or "not priced" when it is 0."""
    m = pd.to_numeric(rows.get("marginal_cost", pd.Series(dtype=float)), errors="coerce").abs().max()
    if _blank(m) or m < 1e-9:
        return labels.text("not_priced", lang)
    return fmt_number(m, "cost")


def _rule_name(entry: dict, lang: str) -> str:
    """A rule of :func:`binding_rules` by its name in ``lang`` (its Chinese name in Chinese)."""
    names, row = entry["names"], entry["rows"].iloc[0]
    return names.rule(entry["rule"], entry["name"], lang, product=row.get("product"), required=row.get("required"),
                      sense=row.get("sense"), unit=row.get("unit"))


def binding_table(groups: dict[str, list[dict]], lang: str) -> tuple[list[str], Cells] | None:
    """The rules that bind and have something to do, one line per rule, as shown: rule, name,
    product, years binding, sense, required, achieved, marginal cost, unit; None when there are none.
    ``groups`` is what :func:`binding_rules` returns."""
    if not groups["priced"]:
        return None
    cols = ["rule", "name", "product", "binding_years", "sense", "required", "achieved", "marginal_cost", "unit"]
    heads = [labels.text(c, lang) if c == "binding_years" else labels.header(c, lang) for c in cols]
    rows = []
    for e in groups["priced"]:
        b, unit = e["rows"], e["rows"]["unit"].iloc[0]
        kind = _figure_unit(unit)
        products = ", ".join(dict.fromkeys(labels.product(p, lang) for p in b["product"] if not _blank(p)))
        years = _years(list(b["year"]))
        n_years = e["all_rows"]["year"].dropna().nunique()
        if n_years > 1:
            years += " (" + labels.text("binding_rows", lang).format(n=b["year"].dropna().nunique(),
                                                                      m=n_years) + ")"
        rows.append([
            (labels.rule(e["rule"], lang), False), (_rule_name(e, lang), False), (products, False), (years, False),
            (" / ".join(dict.fromkeys(labels.sense(s, lang) for s in b["sense"])), False),
            (_span(list(b["required"]), kind), True), (_span(list(b["achieved"]), kind), True),
            (_marginal(b, lang), True), (labels.measure(unit, lang) if not _blank(unit) else "", False),
        ])
    return heads, rows


def required_items(groups: dict[str, list[dict]], lang: str) -> list[str]:
    """The exits the rules require (mandatory exits, required packages), one line each."""
    items = []
    for e in groups["required"]:
        n = len(e["rows"])
        per_unit = BY_ROW[e["rule"]].per_item == "unit" if e["rule"] in BY_ROW else False  # a row per unit
        what = labels.text("required_units", lang).format(n=n) if per_unit else ""
        items.append(_quoted(e, lang) + ((("：" if lang == "zh" else ": ") + what) if what else ""))
    return items


def idle_items(groups: dict[str, list[dict]], lang: str) -> list[str]:
    """The rules with nothing to do (required 0, achieved 0), one line each with their years."""
    years = "（{}年）" if lang == "zh" else " ({})"
    return [_quoted(e, lang) + years.format(_years(list(e["rows"]["year"]))) for e in groups["idle"]]


def _quoted(e: dict, lang: str) -> str:
    """A rule's kind and quoted name: 强制退出“…” / mandatory exit \u2018…\u2019."""
    name = _rule_name(e, lang)
    if lang == "zh":
        return f"{labels.rule(e['rule'], lang)}\u201c{name}\u201d"
    return f"{labels.rule(e['rule'], lang)} \u2018{name}\u2019"


def binding_section(run: Run, lang: str) -> str:
    """The rules that bind (id="binding"), one line per rule: rule, name, product, years binding,
    required, achieved, marginal cost, unit; then the exits rules require and the idle rules."""
    groups = binding_rules(run)
    parts = []
    table = binding_table(groups, lang)
    if table is not None:
        heads, rows = table
        parts.append(f'<p class="small">{escape(labels.text("binding_note", lang))}</p>')
        parts.append(_scroll(_table(heads, rows).replace("<table>", '<table id="binding">', 1)))
    else:
        parts.append(f"<p>{escape(labels.text('binding_none', lang))}</p>")
    if groups["required"]:
        items = "".join(f"<li>{escape(t)}</li>" for t in required_items(groups, lang))
        parts.append(f'<p id="required-exits">{escape(labels.text("required_exits", lang))}</p>'
                     f"<ul>{items}</ul>")
    if groups["idle"]:
        items = "".join(f"<li>{escape(t)}</li>" for t in idle_items(groups, lang))
        parts.append(f'<p id="idle-rules">{escape(labels.text("nothing_to_do", lang))}</p><ul>{items}</ul>')
    return "".join(parts)


def _scroll(table: str) -> str:
    """A table in a box that scrolls sideways on a narrow screen instead of squeezing its columns."""
    return f'<div class="scroll">{table}</div>'


PLAN_COLUMNS = ("exit_year", "unit_id", "name", "product", "mode", "capacity", "workers_displaced", "outlay")
PLAN_KINDS = {"capacity": "capacity", "workers_displaced": "persons", "outlay": "money"}


def plan_tables(run: Run, lang: str) -> list[tuple[str, list[str], Cells, frozenset[int]]]:
    """Every unit that exits as shown, one table per sector: (sector, headers, rows, indexes of the
    subtotal rows). By year: unit, name (the Chinese name in Chinese), product, mode, capacity
    (万吨/yr), workers displaced (persons) and outlay in the exit year (万元), with a subtotal per
    year. Empty when no unit exits."""
    ex = run.exiting
    if ex.empty:
        return []
    order = {p: i for i, p in enumerate(PRODUCT_ORDER)}
    ex = ex.assign(_o=ex["product"].map(order).fillna(len(order)))
    heads = [labels.header(c, lang) for c in PLAN_COLUMNS]
    sectors = sorted(ex["sector"].unique(), key=lambda s: (SECTOR_RANK.get(s, 9), str(s)))
    tables = []
    for sector in sectors:
        g = ex[ex["sector"] == sector].sort_values(["exit_year", "_o", "unit_id"])
        rows, totals = [], set()
        for year, gy in g.groupby("exit_year", sort=True):
            for _, r in gy.iterrows():
                zh = r.get("name_zh")
                name = zh if lang == "zh" and not _blank(zh) and str(zh).strip() else r["name"]
                rows.append([(fmt_number(year, "year"), True), (str(r["unit_id"]), False), (str(name), False),
                             (labels.product(r["product"], lang), False), (labels.mode(r["mode"], lang), False)]
                            + [(fmt_number(r[c], PLAN_KINDS[c]), True) for c in PLAN_COLUMNS[5:]])
            totals.add(len(rows))
            rows.append([(labels.text("year_total", lang).format(year=int(year)), False),
                         (labels.text("required_units", lang).format(n=len(gy)), False), ("", False), ("", False),
                         ("", False)] + [(fmt_number(gy[c].sum(), PLAN_KINDS[c]), True) for c in PLAN_COLUMNS[5:]])
        tables.append((str(sector), heads, rows, frozenset(totals)))
    return tables


def plan_section(run: Run, lang: str) -> str:
    """Every unit that exits (id="plan"), one table per sector, by year (see :func:`plan_tables`)."""
    tables = plan_tables(run, lang)
    if not tables:
        return f"<p>{escape(labels.text('none', lang))}</p>"
    parts = [f'<p class="small">{escape(labels.text("plan_note", lang))}</p>']
    for sector, heads, rows, totals in tables:
        table = _table(heads, rows, totals=totals).replace("<table>", f'<table class="plan" id="plan-{escape(sector)}">', 1)
        parts.append(f"<h3>{escape(labels.sector(sector, lang))}</h3>" + _scroll(table))
    return "".join(parts)


SECTOR_RANK = {"coal": 0, "steel": 1, "cement": 2}


def data_uri(png: Path) -> str:
    """A PNG file as a data: URI, so the page needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")


def charts_section(charts: list[Chart], folder: Path) -> str:
    """Every chart as an embedded image with its caption, in a grid (side by side on a screen wide
    enough for two at a readable size; on a phone one under the other, each scrolling sideways)."""
    figs = []
    for ch in charts:
        figs.append(f'<figure><img alt="{escape(ch.title)}" src="{data_uri(Path(folder) / ch.file)}">'
                    f"<figcaption>{escape(ch.title)}</figcaption></figure>")
    return f'<div class="charts">{"".join(figs)}</div>' if figs else ""


def build_html(run: Run, charts: list[Chart], chart_folder: Path, lang: str, note: str | None = None) -> str:
    """The whole page as text, in ``lang``."""
    from .merger_html import merger_section
    from .regret import regret_section

    title = f"{labels.text('title', lang)}{'：' if lang == 'zh' else ': '}{run.title(lang)}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<h2>{escape(labels.text('headline', lang))}</h2>",
        headline_section(run, lang),
        f"<h3>{escape(labels.text('exits_by_product', lang))}</h3>",
        exits_section(run, lang),
        f'<p class="hint">{escape(labels.text("scroll_hint", lang))}</p>',
        f"<h2>{escape(labels.text('charts', lang))}</h2>",
        f'<p class="note">{escape(note)}</p>' if note else "",
        charts_section(charts, chart_folder),
        regret_section(run, lang),
        f"<h2>{escape(labels.text('binding', lang))}</h2>",
        binding_section(run, lang),
        f"<h2>{escape(labels.text('plan', lang))}</h2>",
        plan_section(run, lang),
        merger_section(run, lang),
        f'<p class="small">{escape(labels.text("source", lang))}: {escape(run_folder_name(run))}</p>',
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)
