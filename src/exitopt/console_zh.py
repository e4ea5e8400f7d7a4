"""What the commands print in Chinese (``--lang zh``): the summaries of ``validate``, ``solve`` and
``check`` and the line ``report`` ends with. Rules, products, statuses and the scenario are named
as the Chinese briefing names them (:mod:`exitopt.report.chinese`, :mod:`exitopt.report.labels`);
unit ids, file names and figures stay as they are.

The other commands' Chinese views are in :mod:`exitopt.console_zh_views` and
:mod:`exitopt.console_zh_runs`; messages about bad input in :mod:`exitopt.errors_zh`.
"""

from __future__ import annotations

import re

import pandas as pd
from rich.markup import escape
from rich.table import Table

from .report import labels
from .report.chinese import Names, names_of, number, rule_name_zh

LANGS = ("en", "zh")

def scenario_name(inst) -> str:
    return inst.scenario.name_zh or inst.scenario.name


def summary_table(inst) -> Table:
    """Units, capacity (万吨/年) and workers (人) per sector and product, in Chinese."""
    u = inst.units
    t = Table(title=f"{escape(scenario_name(inst))}：单位", show_edge=False)
    for col, right in (("行业", False), ("产品", False), ("单位数", True), ("产能(万吨/年)", True), ("职工(人)", True)):
        t.add_column(col, justify="right" if right else "left")
    g = u.groupby(["sector", "product"]).agg(n=("capacity", "size"), cap=("capacity", "sum"), w=("workers", "sum"))
    for (s, p), r in g.iterrows():
        t.add_row(labels.sector(s, "zh"), labels.product(p, "zh"), f"{int(r.n):,}", number(round(float(r.cap), 1)),
                  f"{int(r.w):,}")
    return t


def validate_lines(inst) -> list[str]:
    """What ``validate`` says after its table: years, projects, the rules family by family, caps."""
    from .rules import FAMILIES as REGISTRY

    s = inst.scenario
    regions = names_of(inst)["regions"]
    approved = int((inst.projects["approval"] == "approved").sum()) if len(inst.projects) else 0
    lines = [f"规划年份 {s.first_year}–{s.last_year}；新建产能项目 {len(inst.projects)} 个，其中已批准 {approved} 个"]
    for family in REGISTRY:
        rules = family.rules_of(s) if family.list_field else []
        if rules:
            names = "、".join(rule_name_zh(family.key, r, regions, i) for i, r in enumerate(rules, start=1))
            title = "与".join(zh for zh, _ in family.labels.values())
            lines.append(f"{title}（{len(rules)}条）：{names}")
    if s.caps.budget or s.caps.workers:
        lines.append(f"上限：{len(s.caps.budget)}个年度的财政预算，{len(s.caps.workers)}项职工安置上限")
    if s.caps.has_fund:
        whole = f"全期 {s.caps.award_fund:,.0f} 万元" if s.caps.award_fund is not None else "不设总额"
        lines.append(f"奖补资金：{whole}，{len(s.caps.award_fund_per_year)}个年度设有年度上限")
    return lines


def headline(res) -> list[str]:
    """The figures of a solve, as ``cli.headline`` gives them in English."""
    o = res.outcome
    gap = f"，最优性间隙 {o.gap:.3%}" if o.gap is not None else ""
    return [f"求解状态：{labels.status(o.status, 'zh')}{gap}；目标值 {o.objective:,.1f}",
            f"分流职工 {res.jobs:,.0f} 人；财政支出 {res.fiscal:,.1f} 万元（现值）"]


def exits_table(sched: pd.DataFrame, years: list[int]) -> Table:
    t = Table(title="退出产能，万吨/年（单位数）", show_edge=False)
    t.add_column("产品")
    for y in years:
        t.add_column(f"{y}年", justify="right")
    for p, g in sched.groupby("product"):
        cells = []
        for y in years:
            e = g[g["exit_year"] == y]
            cells.append(f"{e['capacity'].sum():,.0f} ({len(e)})" if len(e) else "")
        t.add_row(labels.product(p, "zh"), *cells)
    return t


def _signed(value: float, digits: int) -> str:
    return f"{round(float(value), digits) + 0.0:+,.{digits}f}"


def _pin(label: str) -> str:
    """keep COAL-S008 → 保留 COAL-S008; exit COAL-S101 in 2017 → COAL-S101 于2017年退出; keep U through 2017."""
    if label == "all pins":
        return "全部固定"
    m = re.fullmatch(r"(keep|exit) (.+?)(?: (in|through) (\d{4}))?", label)
    if m is None:
        return label
    action, unit, how, year = m.groups()
    if action == "keep":
        return f"保留 {unit}" + (f"至{year}年" if year else "")
    return f"{unit} " + (f"于{year}年退出" if year else "退出（年份由模型定）")


def run_lines(files: dict) -> list[str]:
    """The lines ``solve`` prints about pins (pins.csv) and explanations (margins.csv)."""
    lines: list[str] = []
    costs = files.get("pins.csv")
    if isinstance(costs, pd.DataFrame):
        lines.append("固定单位的代价（重新求解，目标值单位）：")
        for _, r in costs.iterrows():
            pin = _pin(str(r["pin"]))
            if pd.isna(r["cost"]):
                lines.append(f"  {pin}：{labels.status(r['status'], 'zh')}")
                continue
            every = r["pin"] == "all pins"
            lines.append(f"  {pin}：代价 {_signed(r['cost'], 1)}（{'有全部固定' if every else '有其他固定'}时目标值 "
                         f"{r['objective_with_pins']:,.1f}，{'不固定' if every else '去掉此项'}时 "
                         f"{r['objective_without']:,.1f}；分流职工 {_signed(r['jobs_delta'], 0)} 人，"
                         f"财政支出 {_signed(r['fiscal_delta'], 1)} 万元）")
    margins = files.get("margins.csv")
    if isinstance(margins, pd.DataFrame):
        lines.append(f"margins.csv：重新求解了 {len(margins)} 个边际与置换")
    return lines


def written(target) -> str:
    return f"已写入 {target}"


def next_step(command: str) -> tuple[str, str]:
    return f"下一步：{command}", "（简报工作簿、图表和网页）"


LIMIT = {
    "gap": "[yellow]达到时间上限：[/]写入的是找到的最好方案，与最优方案相差至多 {gap}。",
    "no_gap": "[yellow]达到时间上限：[/]写入的是找到的最好方案，其最优性间隙未知。",
    "cut_short": "[yellow]达到时间上限：[/]方案是最优的，但为固定单位定价或解释退出的部分重新求解超时（其状态列注明）。"
                 "加大 --time-limit 可全部完成。",
}


def check_report(result, names: Names, limit: int | None = None) -> str:
    """``check``'s report in Chinese: passed, or each broken rule with what it requires and what the
    plan gives; then workers, outlay and the objective."""
    scen = names.scenario(result.scenario, "zh")
    lines = []
    if result.ok:
        lines.append(f"通过：方案满足情景“{scen}”的全部规则。")
    else:
        n = len(result.violations)
        lines.append(f"方案违反情景“{scen}”的规则 {n} 处：")
        shown = result.violations if limit is None else result.violations[:limit]
        for v in shown:
            where = f"（{v.year}年）" if v.year is not None else ""
            rule = names.rule(v.rule, v.name, "zh", product=v.product) or labels.rule(v.rule, "zh")
            figures = (f"要求 {v.required:,.1f}，方案为 {v.achieved:,.1f}" if v.required is not None
                       and v.achieved is not None else v.message)
            lines.append(f"  - {labels.rule(v.rule, 'zh')}“{rule}”{where}：{figures}")
        if len(shown) < n:
            lines.append(f"  … 另有 {n - len(shown)} 处。")
    if result.indicators_allocated:
        lines.append("由检查程序分配置换指标的产品：" + "、".join(labels.product(p, "zh") for p in
                                                        result.indicators_allocated) + "。")
    lines.append(f"分流职工：{result.jobs:,.0f} 人")
    lines.append(f"财政支出：{result.fiscal:,.1f} 万元（现值）")
    parts = [(label, float(result.units[col].sum())) for col, label in
             (("revenue_foregone", "减少的财政收入"), ("stranded_value", "搁浅价值核销")) if col in result.units]
    parts = [(label, v) for label, v in parts if v]
    if parts:
        lines.append("  其中" + "；".join(f"{label} {v:,.1f} 万元" for label, v in parts))
    lines.append(f"目标值：{result.objective:,.1f}")
    return "\n".join(lines)


def report_written(folder, files: list[str]) -> str:
    return f"已写入 {folder}：{'、'.join(files)}"


def progress(message: str) -> str:
    """A progress line of the re-solves (pins.py, explain.py) and of pareto, alternatives and robust
    (:mod:`exitopt.console_zh_runs`) in Chinese; one not known here as it is."""
    from .console_zh_runs import progress as other

    if (said := other(message)) is not None:
        return said
    known = {"the plan with every pin": "有全部固定的方案", "the free optimum (no pin)": "不固定的最优方案"}
    if message in known:
        return known[message]
    m = re.fullmatch(r"without pin (\d+) of (\d+): (.+)", message)
    if m:
        return f"去掉第{m[1]}项固定（共{m[2]}项）：{_pin(m[3])}"
    m = re.fullmatch(r"(margin of|swap:) (.+)", message)
    if m:
        return ("边际：" if m[1] == "margin of" else "置换：") + (_pin(m[2]) if m[1] == "swap:" else m[2])
    return message
