"""The briefing page's table of mergers (docs/model.md#mergers): every unit merged into an
acquiring group, by merger year, with the concentration rules its capacity counts in."""

from __future__ import annotations

from html import escape

import pandas as pd

from . import labels
from .html import PLAN_KINDS, _blank, _scroll, _table, fmt_number
from .run import Run

MERGER_COLUMNS = ("merge_year", "unit_id", "name", "product", "acquirer", "capacity", "workers_displaced", "outlay")


def _acquirer(schedule: pd.DataFrame, group: str, product: str, lang: str) -> str:
    """An acquiring group as the page names it: in Chinese, when the group's name has no Chinese,
    by the Chinese name of its largest unit of ``product`` (else of any product) and 所属集团."""
    if lang != "zh" or any("\u4e00" <= ch <= "\u9fff" for ch in group) or "name_zh" not in schedule:
        return group
    own = schedule[schedule["group"] == group].assign(_other=lambda d: d["product"] != product)
    own = own.sort_values(["_other", "capacity", "unit_id"], ascending=[True, False, True])
    zh = own["name_zh"].dropna().astype(str).str.strip()
    zh = zh[zh != ""]
    return f"{zh.iloc[0]}所属集团" if len(zh) else group


def merger_section(run: Run, lang: str) -> str:
    """Every unit merged into an acquiring group (id="mergers"), by merger year; empty when the
    plan merges none."""
    s = run.schedule
    if "merge_year" not in s:
        return ""
    merged = s[s["mode"] == "merge"].sort_values(["merge_year", "unit_id"])
    if merged.empty:
        return ""
    rows = []
    for _, r in merged.iterrows():
        zh = r.get("name_zh")
        name = zh if lang == "zh" and not _blank(zh) and str(zh).strip() else r["name"]
        rows.append([(fmt_number(r["merge_year"], "year"), True), (str(r["unit_id"]), False), (str(name), False),
                     (labels.product(r["product"], lang), False),
                     (_acquirer(s, r["acquirer"], r["product"], lang), False)]
                    + [(fmt_number(r[c], PLAN_KINDS[c]), True) for c in MERGER_COLUMNS[5:]])
    table = _table([labels.header(c, lang) for c in MERGER_COLUMNS], rows).replace(
        "<table>", '<table class="plan mergers" id="mergers">', 1)
    c = run.constraints
    rules = sorted({run.names.rule("concentration", n, lang) for n in c.loc[c["rule"] == "concentration", "name"]})
    note = labels.text("merger_note", lang)
    if rules:  # the concentration rules the merged capacity counts in
        note += labels.text("merger_rules", lang).format(rules="、".join(rules) if lang == "zh" else "; ".join(rules))
    return (f"<h2>{escape(labels.text('merger_table', lang))}</h2>"
            f'<p class="small">{escape(note)}</p>' + _scroll(table))
