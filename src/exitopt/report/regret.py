"""The regret of a shared plan across the cases, in the briefing of a robust run folder
(docs/model.md#robust).

A folder that ``exitopt robust`` wrote holds, besides the shared plan's schedule, summary and
rows as its first case sees them, ``regret.csv``: per case c its weight w_c, the shared plan's
cost C_c, the case's own optimum C_c* and the regret C_c - C_c*. The briefing adds:

- a chart (``regret.png``): per case, the shared plan's cost and the case's own optimum (top),
  and the regret (bottom, the worst in red);
- a table of the same figures, with the values that make each case;
- headline rows: the objective the plan minimised and its value, the number of cases, the
  worst cost and the worst regret.

The words of both languages are here, so that the single-run briefing keeps its own.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..errors import InputError

#: regret.csv columns the briefing needs
COLUMNS = ["case", "weight", "cost", "own_optimum", "regret"]
#: the columns regret.csv writes around the sweep's own value columns
FIXED = ["case", "variant", "weight", "cost", "jobs", "fiscal", "own_optimum", "own_status", "own_source",
         "regret", "regret_share", "binding"]
NUMBERS = ["weight", "cost", "jobs", "fiscal", "own_optimum", "regret", "regret_share"]

WORDS = {
    "section": ("各情形下的后悔值", "Regret across the cases"),
    "note": ("统一方案为所有情形共用的一个退出方案;成本为该方案在各情形下的目标值,本情形最优为该情形单独求解的最优值,"
             "后悔值为两者之差(万元当量)。上文的方案、汇总和约束为统一方案在情形 {first} 下的结果;"
             "目标值、分流职工和财政支出为各情形按权重的平均值。",
             "The shared plan is one exit plan for every case; its cost is that plan's objective in the case, "
             "the case's own optimum is the best the case could do on its own, and the regret is the "
             "difference (10k yuan equivalent). The plan, summary and rules above are the shared plan as case "
             "{first} sees it; objective, workers displaced and fiscal outlay are the means over the cases, "
             "weighted."),
    "chart": ("统一方案的成本与各情形自身最优、后悔值", "Shared plan's cost against each case's own optimum, and regret"),
    "cost_axis": ("成本(万元当量)", "cost (10k yuan eq.)"),
    "regret_axis": ("后悔值(万元当量)", "regret (10k yuan eq.)"),
    "shared": ("统一方案", "shared plan"),
    "own": ("本情形最优", "case's own optimum"),
    "worst": ("最大后悔值", "worst regret"),
    "case": ("情形", "Case"),
    "weight": ("权重", "Weight"),
    "cost": ("统一方案成本", "Shared plan's cost"),
    "own_optimum": ("本情形最优", "Own optimum"),
    "regret": ("后悔值", "Regret"),
    "regret_share": ("后悔值占比", "Regret share"),
    "sheet": ("后悔值", "regret"),
    "t_regret": ("各情形的统一方案成本、自身最优与后悔值", "Shared plan's cost, own optimum and regret by case"),
}
#: the objectives ``exitopt robust`` minimises, as the briefing names them
OBJECTIVES = {"expected": ("期望成本最小", "least expected cost"), "worst": ("最坏情形成本最小", "least worst-case cost"),
              "regret": ("最大后悔值最小", "least worst regret")}


def word(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return zh if lang == "zh" else en


def objective_name(code: object, lang: str) -> str:
    pair = OBJECTIVES.get(str(code))
    return (pair[0] if lang == "zh" else pair[1]) if pair else str(code)


def is_robust(record: dict) -> bool:
    """Whether a run.json is that of ``exitopt robust``."""
    return isinstance(record, dict) and "robust_objective" in record


def read_regret(folder: Path) -> pd.DataFrame:
    """regret.csv of a robust run folder, typed; InputError naming the file, row and column of
    anything it cannot read."""
    path = Path(folder) / "regret.csv"
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("is missing from the robust run folder. Run `exitopt robust` again to rewrite it.",
                         file=path) from None
    except (UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError):
        raise InputError("cannot be read as the UTF-8 CSV `exitopt robust` writes. Run it again to rewrite it.",
                         file=path) from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"lacks the column(s) {', '.join(missing)}. Run `exitopt robust` again to rewrite it.",
                         file=path)
    if raw.empty:
        raise InputError("holds no case. Run `exitopt robust` again to rewrite it.", file=path)
    out = raw.copy()
    for col in [c for c in NUMBERS if c in out.columns]:
        text = out[col].astype(str).str.strip()
        blank = text == ""
        num = pd.to_numeric(text.where(~blank, None), errors="coerce")
        bad = (num.isna() & ~blank) | ~num.fillna(0.0).map(math.isfinite)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"row {i + 2}, column {col}: {out[col].iloc[i]!r} is not a finite number. This file "
                             f"should be exactly as `exitopt robust` wrote it; run it again to rewrite it.", file=path)
        out[col] = num.astype(float)
    return out


def value_columns(table: pd.DataFrame) -> list[str]:
    """The sweep's own columns: the values that make each case."""
    return [c for c in table.columns if c not in FIXED]


def headline_rows(record: dict, table: pd.DataFrame) -> list[tuple[str, object]]:
    """(label key, value) pairs the briefing's headline adds for a robust run."""
    regret = table["regret"].dropna()
    return [("robust_objective", record.get("robust_objective")), ("robust_value", record.get("value")),
            ("cases", int(len(table))), ("worst_cost", float(table["cost"].max())),
            ("worst_regret", float(regret.max()) if len(regret) == len(table) else None)]


def table_cells(table: pd.DataFrame, lang: str) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    """The regret table as shown: heads and (text, numeric?) cells, a row per case."""
    values = value_columns(table)
    heads = [word("case", lang), *values, word("weight", lang), word("cost", lang), word("own_optimum", lang),
             word("regret", lang), word("regret_share", lang)]
    rows = []
    for _, r in table.iterrows():
        def num(v, f):
            return ("" if v is None or (isinstance(v, float) and math.isnan(v)) else f.format(float(v)), True)

        cells = [(str(r["case"]), False)]
        for c in values:
            v = r[c]
            try:
                cells.append((f"{float(v):,g}", True))
            except (TypeError, ValueError):
                cells.append((str(v), False))
        cells += [num(r["weight"], "{:.3f}"), num(r["cost"], "{:,.1f}"), num(r["own_optimum"], "{:,.1f}"),
                  num(r["regret"], "{:,.1f}"), num(r.get("regret_share"), "{:.2%}")]
        rows.append(cells)
    return heads, rows


def chart_regret(table: pd.DataFrame, lang: str):
    """Two panels sharing the cases: the shared plan's cost and the case's own optimum (points
    joined by the regret's span), and the regret (bars, the worst in red)."""
    import matplotlib.pyplot as plt

    from .charts import thousands

    n = len(table)
    x = list(range(n))
    cost = table["cost"].astype(float)
    own = table["own_optimum"].astype(float)
    regret = table["regret"].astype(float)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(min(max(7.0, 0.3 * n + 3), 16), 6.0), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    for i, (c, o) in enumerate(zip(cost, own, strict=False)):
        if not math.isnan(o):
            top.plot([i, i], [o, c], color="#999999", linewidth=1)
    top.scatter(x, own, marker="o", facecolors="white", edgecolors="#2166ac", label=word("own", lang), zorder=3)
    top.scatter(x, cost, marker="o", color="#b2182b", label=word("shared", lang), zorder=3)
    top.set_ylabel(word("cost_axis", lang))
    top.legend(fontsize=8, frameon=False, loc="best")
    thousands(top)
    worst = regret.max() if regret.notna().any() else math.nan
    colours = ["#c0392b" if not math.isnan(worst) and v >= worst - 1e-9 * max(1.0, abs(worst)) else "#5b7fa6"
               for v in regret.fillna(0.0)]
    bottom.bar(x, regret.fillna(0.0), color=colours)
    bottom.axhline(0, color="#333333", linewidth=0.6)
    bottom.set_ylabel(word("regret_axis", lang))
    thousands(bottom)
    if not math.isnan(worst):
        i = int(regret.idxmax())
        bottom.annotate(f"{word('worst', lang)} {worst:,.0f}", (x[table.index.get_loc(i)], worst), ha="center",
                        va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
        bottom.set_ylim(top=max(worst * 1.2, 1.0))
    bottom.set_xticks(x)
    bottom.set_xticklabels(table["case"].astype(str), rotation=90 if n > 12 else 0, fontsize=7)
    bottom.set_xlabel(word("case", lang))
    fig.suptitle(word("chart", lang))
    fig.tight_layout()
    return fig


def regret_section(run, lang: str) -> str:
    """A robust run's regret by case as a table (id="regret"), with what the figures are; "" for a
    plain run (the chart is among the charts)."""
    if run.regret is None:
        return ""
    from html import escape

    from .html import _scroll, _table

    heads, cells = table_cells(run.regret, lang)
    first = str(run.regret["case"].iloc[0])
    return (f"<h2>{escape(word('section', lang))}</h2>"
            f'<p class="note">{escape(word("note", lang).format(first=first))}</p>'
            + _scroll(_table(heads, cells, "regret").replace("<table", '<table id="regret"', 1)))


def write_regret(wb, fmt, run, lang: str) -> None:
    """A robust run's sheet of regret by case: the values that make it, weight, the shared plan's
    cost, the case's own optimum, regret and its share, as numbers."""
    from ..printing import set_up_printing
    from .workbook import _write_cell, print_title

    t = run.regret
    ws = wb.add_worksheet(word("sheet", lang))
    cols = ["case", *value_columns(t), "weight", "cost", "own_optimum", "regret", "regret_share"]
    kinds = {"weight": "share", "regret_share": "share", "cost": "money", "own_optimum": "money", "regret": "money"}
    for c, col in enumerate(cols):
        ws.write_string(0, c, word(col, lang) if col in ("case", "weight", "cost", "own_optimum", "regret",
                                                           "regret_share") else col, fmt.header)
    for r, (_, row) in enumerate(t.iterrows(), start=1):
        for c, col in enumerate(cols):
            v = row.get(col)
            kind = kinds.get(col, "text" if col == "case" else "number")
            if kind == "number":
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    kind = "text"
            _write_cell(ws, r, c, v, kind, fmt, lang)
    ws.set_column(0, len(cols) - 1, 16)
    ws.set_row(0, 32)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, len(t), len(cols) - 1)
    set_up_printing(ws, print_title(run, lang), lang)
