"""What ``compare``, ``pareto`` and ``alternatives`` print in Chinese (``--lang zh``): the same
tables and lines as their English views, with Chinese headings, column heads, statuses, modes
and changes. Rules are named by the scenario rule's ``name_zh`` (run.json's names) and the
registry's Chinese family names, regions and units by their Chinese names in the data; unit
ids, file names and figures stay as they are. Tables are :class:`exitopt.console.FrameTable`
views, so they fit the terminal as the English ones do (a Chinese character two cells wide).
"""

from __future__ import annotations

from typing import Any, Literal, cast

import pandas as pd

from .console import frame_table
from .report import labels
from .report.chinese import unit_name
from .report.compare import MERGER, MODE, NOT_IN_A, NOT_IN_B, ONLY_A, ONLY_B, YEAR, YEAR_MODE

#: compare.py's words for a unit's change, in Chinese
CHANGES = {ONLY_A: "仅在A中退出", ONLY_B: "仅在B中退出", YEAR: "退出年份不同", MODE: "退出方式不同",
           YEAR_MODE: "退出年份和方式均不同", MERGER: "兼并重组不同", NOT_IN_A: "A的单位表中没有",
           NOT_IN_B: "B的单位表中没有"}
RULE_CHANGES = {"binds only in A": "仅在A中起约束作用", "binds only in B": "仅在B中起约束作用"}
FIGURES = {"objective": "目标值(万元当量)", "jobs": "分流职工(人)", "fiscal": "财政支出(万元，现值)",
           "units_exiting": "退出单位数"}
EXITS = {"always": "所有方案都退出", "some": "部分方案退出", "never": "所有方案都不退出"}


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or pd.isna(v)


def plan_zh(year: object, mode: object, merge_year: object = None, acquirer: object = None) -> str:
    """A unit's plan in words: 2018年关闭, 2020年兼并重组并入 G02, or 保留."""
    if str(mode) == "merge" and not _blank(merge_year):
        return f"{int(cast(float, merge_year))}年兼并重组并入 {acquirer}"
    if _blank(year):
        return "保留"
    return f"{int(cast(float, year))}年{labels.mode(mode, 'zh') if not _blank(mode) else ''}"


def _status(code: object) -> str:
    return labels.status(code, "zh") if not _blank(code) else "未知"


def _names_zh(comp) -> dict[str, str]:
    """{unit id: Chinese name} from both runs' schedules (name_zh when the table gives one)."""
    out: dict[str, str] = {}
    for run in (comp.b, comp.a):
        s = run.schedule
        for uid, name, zh in zip(s["unit_id"], s["name"], s["name_zh"] if "name_zh" in s else [None] * len(s), strict=True):
            out[str(uid)] = unit_name(name, zh, "zh")
    return out


def compare_render(comp):
    """:func:`exitopt.report.compare.render` in Chinese."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    names = comp.b.names
    parts: list[Any] = [Text(f"A = {comp.a.path}（{comp.a.title('zh')}，{_status(comp.a.record.get('status'))}）\n"
                  f"B = {comp.b.path}（{comp.b.title('zh')}，{_status(comp.b.record.get('status'))}）")]
    t = Table(title="主要结果", show_edge=False)
    heads: tuple[tuple[str, Literal["left", "right"]], ...] = (("指标", "left"), ("A", "right"), ("B", "right"),
                                                             ("B − A", "right"))
    for col, just in heads:
        t.add_column(col, justify=just)
    for r in comp.figures.itertuples():
        d = 0 if r.figure == "units_exiting" else 1
        t.add_row(FIGURES.get(r.figure, r.label), f"{r.a:,.{d}f}", f"{r.b:,.{d}f}", f"{r.change:+,.{d}f}")
    parts.append(t)
    if comp.units.empty:
        parts.append(Text("单位：两次运行中退出的单位、年份和方式均相同"))
    else:
        zh = _names_zh(comp)
        regions = {**comp.a.names.regions, **names.regions}
        from .report.chinese import Names

        both = Names(names.rules, regions, names.projects, names.scenario_zh)
        rows = [(str(r.unit_id), plan_zh(r.year_a, r.mode_a, r.merge_year_a, r.acquirer_a),
                 plan_zh(r.year_b, r.mode_b, r.merge_year_b, r.acquirer_b), CHANGES.get(r.change, r.change),
                 labels.product(r.product, "zh"), "" if _blank(r.capacity) else f"{r.capacity:,.1f}",
                 both.region(r.region, "zh"), zh.get(str(r.unit_id), str(r.name)))
                for r in comp.units.itertuples()]
        view = pd.DataFrame(rows, columns=["单位", "A", "B", "变化", "产品", "万吨/年", "地区", "名称"])
        parts.append(frame_table(view, wrap=("变化", "地区", "名称"), right=("万吨/年",), optional=("地区",),
                                 title=f"有差异的单位（{len(comp.units)}个）", lang="zh"))
    if comp.rules.empty:
        parts.append(Text("规则：两次运行中起约束作用的规则相同"))
    else:
        rules: list[tuple] = []
        for r in comp.rules.itertuples():
            run = comp.a if r.change.endswith("A") else comp.b
            rules.append((labels.rule(r.rule, "zh"), run.names.rule(r.rule, r.name, "zh", product=r.product),
                         "" if _blank(r.year) else f"{int(r.year)}年",
                         "" if _blank(r.product) or not str(r.product) else labels.product(r.product, "zh"),
                         RULE_CHANGES.get(r.change, r.change)))
        view = pd.DataFrame(rules, columns=["规则", "名称", "年份", "产品", "变化"])
        parts.append(frame_table(view, wrap=("名称", "变化"), title=f"仅在一次运行中起约束作用的规则（{len(comp.rules)}条）",
                                 lang="zh"))
    return Group(*parts)


def _point_change(row, last: bool, limit: int = 2) -> str:
    """A frontier point's change from the one before, as pareto.short_label says it in English."""
    if row.point == 0:
        return "分流职工最少"
    lists = [[u for u in str(v).split("; ") if u] if not _blank(v) else []
             for v in (row.units_in, row.units_out, row.units_moved)]
    n_in, n_out, n_moved = map(len, lists)
    if n_in + n_out + n_moved == 0:
        text = "方案相同"
    elif n_in + n_out <= limit and not n_moved:
        text = "，".join([f"新增退出 {u}" for u in lists[0]] + [f"不再退出 {u}" for u in lists[1]])
    else:
        text = "，".join(f"{word} {n} 个" for word, n in (("新增退出", n_in), ("不再退出", n_out), ("改变年份", n_moved))
                        if n)
    return f"{text}（财政支出最少）" if last else text


def pareto_render(front):
    """:meth:`exitopt.pareto.Frontier.render` in Chinese."""
    t = front.table
    last = len(t) - 1
    view = pd.DataFrame({
        "点": t["point"],
        "分流(人)": t["jobs"].map(lambda v: f"{v:,.0f}"),
        "财政(万元)": t["fiscal"].map(lambda v: f"{v:,.1f}"),
        "目标值": t["objective"].map(lambda v: f"{v:,.1f}"),
        "状态": t["status"].map(_status),
        "退出单位": t["units_exiting"],
        "变化": [_point_change(r, i == last and i > 0) for i, r in enumerate(t.itertuples())],
        "拐点": t["knee"].map(lambda k: "拐点" if k else ""),
    })
    return frame_table(view, wrap=("变化",),
                       right=("点", "分流(人)", "财政(万元)", "目标值", "退出单位"), lang="zh")


def _plan_name(name: str) -> str:
    if name == "optimum":
        return "最优方案"
    return f"备选{name.removeprefix('alt_')}"


def alternatives_render(alts):
    """:meth:`exitopt.alternatives.Alternatives.render` in Chinese."""
    from rich.console import Group
    from rich.text import Text

    t = alts.table
    view = pd.DataFrame({
        "方案": t["plan"].map(_plan_name),
        "目标值": t["objective"].map(lambda v: f"{v:,.1f}"),
        "高于最优": t["above_optimum"].map(lambda v: f"{v:.2%}" if pd.notna(v) else ""),
        "分流(人)": t["jobs"].map(lambda v: f"{v:,.0f}"),
        "财政(万元)": t["fiscal"].map(lambda v: f"{v:,.1f}"),
        "退出单位": t["units_exiting"],
        "差异(个)": t["differences_to_nearest"].map(lambda v: "" if pd.isna(v) else str(v)),
        "状态": t["status"].map(_status),
    })
    c = alts.counts()
    table = frame_table(view, wrap=(),
                        right=("目标值", "高于最优", "分流(人)", "财政(万元)", "退出单位"), lang="zh")
    return Group(table, Text(f"在全部 {len(t)} 个方案中都退出的单位：{c['always']} 个；部分方案中退出："
                             f"{c['some']} 个；都不退出：{c['never']} 个"))
