"""Words of the briefing pack in Chinese (zh) and English (en): column headers with their units,
sheet names, chart titles, and the names of products, sectors, modes and rules.

Every column of the run folder has one :class:`Column`: its header in each language (unit in
the header, e.g. "产能(万吨/年)" / "Capacity (10 kt/yr)") and the kind of number it holds, which
decides its cell format in the workbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..rules import FAMILIES

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Column:
    """One column of a briefing table: headers in both languages and the kind of value.

    ``kind`` is one of: text, year, capacity (万吨/yr, 1 decimal), persons (0 decimals),
    money (万元), share (0–1, shown as %), count, flag (true/false), by_unit (number whose
    unit is given per row in a ``unit`` column), cost (objective units).
    """

    zh: str
    en: str
    kind: str = "text"

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


C = Column
COLUMNS: dict[str, Column] = {
    # schedule.csv
    "unit_id": C("单位编号", "Unit id"),
    "name": C("名称", "Name"),
    "name_zh": C("中文名称", "Chinese name"),
    "sector": C("行业", "Sector"),
    "kind": C("类型", "Kind"),
    "product": C("产品", "Product"),
    "firm": C("企业", "Firm"),
    "group": C("集团", "Group"),
    "region": C("地区", "Region"),
    "capacity": C("产能(万吨/年)", "Capacity (10 kt/yr)", "capacity"),
    "exit_year": C("退出年份", "Exit year", "year"),
    "mode": C("退出方式", "Exit mode"),
    "upgrade": C("技术改造", "Upgrade"),
    "upgrade_year": C("改造年份", "Upgrade year", "year"),
    "upgrade_outlay": C("改造支出(万元)", "Upgrade outlay (10k yuan)", "money"),
    "merge_year": C("兼并年份", "Merger year", "year"),
    "acquirer": C("兼并方(集团)", "Acquiring group"),
    "counted": C("计入任务产能(万吨/年)", "Counted toward target (10 kt/yr)", "capacity"),
    "indicator": C("用作置换指标(万吨/年)", "Used as replacement indicator (10 kt/yr)", "capacity"),
    "workers_displaced": C("分流职工(人)", "Workers displaced (persons)", "persons"),
    "outlay": C("退出当年财政支出(万元)", "Outlay in exit year (10k yuan)", "money"),
    "award": C("奖补资金(万元)", "Award (10k yuan)", "money"),
    "award_base": C("基础奖补(万元)", "Base award (10k yuan)", "money"),
    "award_ladder": C("梯级奖补(万元)", "Ladder award (10k yuan)", "money"),
    "losses_paid": C("亏损补贴(万元)", "Losses subsidised (10k yuan)", "money"),
    "revenue_foregone": C("减少的财政收入(万元,现值)", "Revenue foregone (10k yuan, present value)", "money"),
    "stranded_value": C("搁浅价值核销(万元,现值)", "Stranded value written off (10k yuan, present value)", "money"),
    "reason": C("原因", "Reason"),
    # summary.csv
    "year": C("年份", "Year", "year"),
    "capacity_start": C("年初产能(万吨/年)", "Capacity at start (10 kt/yr)", "capacity"),
    "new_capacity": C("新增产能(万吨/年)", "New capacity (10 kt/yr)", "capacity"),
    "exits": C("退出产能(万吨/年)", "Exits (10 kt/yr)", "capacity"),
    "capacity_left": C("年末产能(万吨/年)", "Capacity left (10 kt/yr)", "capacity"),
    "demand": C("需求(万吨)", "Demand (10 kt)", "capacity"),
    "utilisation": C("产能利用率(%)", "Utilisation (%)", "share"),
    "concentration": C("产能集中度(%)", "Concentration (%)", "share"),
    "concentration_k": C("集中度前k家", "Concentration top k", "count"),
    # constraints.csv
    "rule": C("规则", "Rule"),
    "sense": C("关系", "Sense"),
    "required": C("要求值", "Required", "by_unit"),
    "achieved": C("实现值", "Achieved", "by_unit"),
    "slack": C("余量", "Slack", "by_unit"),
    "binding": C("是否约束", "Binding", "flag"),
    "marginal_cost": C("边际成本(目标值/单位)", "Marginal cost (objective per unit)", "cost"),
    "unit": C("单位", "Unit"),
    # new_capacity.csv
    "project_id": C("项目编号", "Project id"),
    "approval": C("审批状态", "Approval"),
    "built": C("是否建设", "Built", "flag"),
}
# Columns whose meaning differs by table: (table, column) → Column.
TABLE_COLUMNS: dict[tuple[str, str], Column] = {
    ("summary", "outlay"): C("当年财政支出(万元,含亏损补贴)", "Outlay in the year, losses included (10k yuan)",
                             "money"),
    ("summary", "revenue_foregone"): C("当年减少的财政收入(万元,未折现)", "Revenue foregone in the year (10k yuan, "
                                       "undiscounted)", "money"),
    ("summary", "stranded_value"): C("当年搁浅价值核销(万元,未折现)", "Stranded value written off in the year "
                                     "(10k yuan, undiscounted)", "money"),
    ("summary", "workers_displaced"): C("当年分流职工(人)", "Workers displaced in the year (persons)", "persons"),
    ("new_capacity", "year"): C("投产年份", "Year in service", "year"),
}
del C

SHEETS = {
    "overview": ("概览", "overview"),
    "schedule": ("退出计划", "schedule"),
    "summary": ("年度汇总", "summary"),
    "constraints": ("政策约束", "constraints"),
    "new_capacity": ("新增产能", "new capacity"),
}

PRODUCTS = {
    "coal": ("煤炭", "Coal"),
    "pig_iron": ("生铁", "Pig iron"),
    "crude_steel": ("粗钢", "Crude steel"),
    "rolled_steel": ("钢材", "Rolled steel"),
    "clinker": ("熟料", "Clinker"),
    "cement": ("水泥", "Cement"),
}

SECTORS = {"coal": ("煤炭", "Coal"), "steel": ("钢铁", "Steel"), "cement": ("水泥", "Cement")}

#: {the `rule` value of a constraints.csv row: (Chinese, English)}, from each rule family's module
RULES = {row: label for family in FAMILIES for row, label in family.labels.items()}

MEASURES = {
    "万吨/yr": ("万吨/年", "10 kt/yr"),
    "万元": ("万元", "10k yuan"),
    "persons": ("人", "persons"),
    "share": ("比例", "share"),
    "unit": ("个(单位)", "unit"),
    "units": ("个(单位)", "units"),
    "package": ("个(整体退出包)", "package"),
    "kgce/t": ("千克标准煤/吨", "kgce/t"),
    "kWh/t": ("千瓦时/吨", "kWh/t"),
    "mg/m³": ("毫克/立方米", "mg/m³"),
    "share of lines": ("生产线比例", "share of lines"),
}

# The unit of a constraints.csv row → the kind of its required/achieved/slack figures.
MEASURE_KINDS = {"share": "share", "persons": "persons", "万吨/yr": "capacity", "万元": "money",
                 "unit": "count", "units": "count", "package": "count", "share of lines": "share"}

MODES = {"close": ("关闭", "close"), "relocate": ("转移(国际产能合作)", "relocate abroad"),
         "merge": ("兼并重组", "merged")}

STATUS = {"optimal": ("最优", "optimal"), "limit": ("达到时间上限(非最优)", "stopped at limit"),
          "infeasible": ("无可行方案", "infeasible"), "killed": ("已中止", "stopped")}

TEXT = {
    "title": ("去产能方案简报", "Capacity exit plan briefing"),
    "scenario": ("情景", "Scenario"),
    "status": ("求解状态", "Status"),
    "objective": ("目标值(万元当量)", "Objective (10k yuan equivalent)"),
    "gap": ("最优性间隙", "Optimality gap"),
    "jobs": ("分流职工合计(人)", "Workers displaced (persons)"),
    "fiscal": ("财政支出现值(万元)", "Fiscal outlay, present value (10k yuan)"),
    "revenue_foregone": ("其中:减少的财政收入(万元,现值)", "of which revenue foregone (10k yuan, present value)"),
    "stranded_value": ("其中:搁浅价值核销(万元,现值)", "of which stranded value written off (10k yuan, present value)"),
    "units_exiting": ("退出单位数", "Units exiting"),
    "capacity_exiting": ("退出产能(万吨/年)", "Capacity exiting (10 kt/yr)"),
    "projects_built": ("新建项目", "New projects built"),
    "robust_objective": ("统一方案的求解目标", "What the shared plan minimises"),
    "robust_value": ("该目标的值(万元当量)", "Its value (10k yuan equivalent)"),
    "cases": ("情形数", "Cases"),
    "worst_cost": ("最坏情形成本(万元当量)", "Worst case's cost (10k yuan equivalent)"),
    "worst_regret": ("最大后悔值(万元当量)", "Worst regret (10k yuan equivalent)"),
    "none": ("无", "none"),
    "headline": ("主要结果", "Headline figures"),
    "exits_by_product": ("分产品退出", "Exits by product"),
    "units": ("单位数", "Units"),
    "charts": ("图表", "Charts"),
    "scroll_hint": ("表格较宽时可左右滑动查看。", "Wide tables scroll sideways."),
    "binding": ("起约束作用的规则", "Rules that bind"),
    "binding_none": ("没有起约束作用的规则。", "No rule binds."),
    "binding_note": (
        "下列规则在方案中恰好达到要求(误差在0.01%以内),放宽其中一条可能降低成本。"
        "边际成本是固定方案下要求每增加一个单位的代价;“未定价”表示该代价为0"
        "(规则由整单位退出满足),放宽的价值需重新求解才能得知(退出目标可用 exitopt solve --explain)。",
        "These rules are met exactly by the plan (within 0.01 %); loosening one of them may lower the cost. "
        "The marginal cost is what one more unit of the requirement costs with the plan's exits held fixed; "
        "\u201cnot priced\u201d means that figure is 0 because whole units meet the rule, and only a new solve "
        "tells what loosening it is worth (for exit targets: exitopt solve --explain).",
    ),
    "binding_rows": ("{n}/{m}年", "{n} of {m} yr"),
    "binding_years": ("起约束年份", "Years binding"),
    "not_priced": ("未定价", "not priced"),
    "required_exits": ("规则要求的退出(按要求完成,放宽即取消该项要求):",
                       "Exits the rules require, done as required (loosening one means dropping that requirement):"),
    "required_units": ("{n}个单位", "{n} unit(s)"),
    "nothing_to_do": ("本方案中无事可做的规则(要求为0,实现为0):",
                      "Rules with nothing to do in this plan (required 0, achieved 0):"),
    "plan": ("退出方案", "The plan: units that exit"),
    "plan_note": ("按行业、年份列出每个退出单位;职工为分流人数,支出为退出当年的财政支出(万元,未折现)。",
                  "Every unit that exits, by sector and year; workers are those displaced, outlay is in the "
                  "exit year (10k yuan, undiscounted)."),
    "year_total": ("{year}年小计", "{year} subtotal"),
    "merger_table": ("兼并重组", "Mergers: units that join an acquiring group"),
    "merger_rules": ("集中度规则:{rules}。", " Concentration rules: {rules}."),
    "merger_note": ("兼并单位继续生产,不计入退出任务;自兼并年份起计入兼并方集团的产能集中度。职工为分流人数,"
                    "支出为兼并当年的财政支出(万元,未折现)。",
                    "A merged unit keeps running and counts toward no exit target; from its merger year it "
                    "counts for its acquirer in the concentration rules. Workers are those displaced, outlay "
                    "is in the merger year (10k yuan, undiscounted)."),
    "source": ("数据来源:运行目录", "Source: run folder"),
    "total": ("合计", "Total"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # charts
    "chart_exits": ("分行业、分年度退出产能", "Capacity exiting by sector and year"),
    "chart_exits_y": ("万吨/年", "10 kt/yr"),
    "chart_paths": ("各产品产能路径与政策要求", "Capacity path of each product against the rules"),
    "capacity_left": ("年末产能", "capacity left"),
    "cum_counted": ("累计计入任务的退出", "cumulative exits counted"),
    "floor": ("供应下限", "supply floor"),
    "ceiling": ("利用率上限", "utilisation ceiling"),
    "target": ("退出目标", "exit target"),
    "chart_people": ("分流职工与财政支出", "Workers displaced and fiscal outlay"),
    "workers_by_year": ("分年度分流职工(人)", "Workers displaced by year (persons)"),
    "outlay_by_year": ("分年度财政支出(万元,未折现)", "Fiscal outlay by year (10k yuan, undiscounted)"),
    "workers_by_region": ("分地区分流职工(人)", "Workers displaced by region (persons)"),
    "outlay_by_region": ("分地区财政支出(万元,未折现)", "Fiscal outlay by region (10k yuan, undiscounted)"),
    "chart_concentration": ("产能集中度路径", "Concentration path"),
    "required_share": ("要求", "required"),
    "top_k": ("前{k}家", "top {k}"),
    "no_data": ("无数据", "no data"),
    "font_note": (
        "本机未找到中文字体,图表文字使用英文。",
        "No Chinese font was found on this computer; chart labels are in English.",
    ),
}


# The scenario's keys that a person may read beside a figure (the numbers one may change), with
# their unit: "at_least" → "不少于(万吨/年)".
KEYS = {
    "at_least": ("不少于(万吨/年)", "at least (10 kt/yr)"), "at_most": ("不多于(万吨/年)", "at most (10 kt/yr)"),
    "at_least_change": ("较基年平均变化不低于(比例)", "at least this change from the base average"),
    "at_most_change": ("较基年平均变化不高于(比例)", "at most this change from the base average"),
    "cost_per_capacity": ("改造支出(万元/万吨)", "upgrade outlay per capacity (10k yuan per 10 kt)"),
    "values": ("改造后数值", "value after the upgrade"), "changes": ("改造后变化(比例)", "change after the upgrade"),
    "count_at_least": ("退出单位数不少于(个)", "units exited, at least"),
    "count_at_most": ("退出单位数不多于(个)", "units exited, at most"),
    "ratio": ("置换比例", "replacement ratio"), "share": ("集中度要求(比例)", "required share"),
    "top": ("前k家(家)", "top k"), "demand": ("需求(万吨)", "demand (10 kt)"),
    "min_utilisation": ("最低产能利用率(比例)", "minimum utilisation"),
    "reserve": ("供应储备率(比例)", "supply reserve"), "per_year": ("每年安置上限(人)", "per year (persons)"),
    "budget": ("年度财政预算(万元)", "budget (10k yuan)"), "ladder": ("奖补系数", "award ladder weight"),
    "attrition": ("职工自然减员率(每年)", "attrition (per year)"),
    "jobs_weight": ("分流职工权重(万元/人)", "jobs weight (10k yuan per person)"),
    "fiscal_weight": ("财政支出权重", "fiscal weight"), "discount_rate": ("折现率(每年)", "discount rate (per year)"),
    "resettlement_per_worker": ("职工安置费用(万元/人)", "resettlement per worker (10k yuan)"),
    "award_per_capacity": ("奖补资金(万元/万吨)", "award per capacity (10k yuan per 10 kt)"),
    "exit_cost_per_capacity": ("退出费用(万元/万吨)", "exit cost per capacity (10k yuan per 10 kt)"),
    "redeployed_share": ("内部转岗比例", "redeployed share"),
    "merge_cost_per_capacity": ("兼并重组支出(万元/万吨)", "merger outlay per capacity (10k yuan per 10 kt)"),
    "merge_displaced_share": ("兼并重组分流职工比例", "share of a merged unit's workers displaced"),
    "revenue_per_capacity": ("每年财政收入(万元/万吨)", "revenue per capacity (10k yuan per 10 kt a year)"),
    "stranded_per_capacity": ("搁浅价值(万元/万吨)", "stranded value per capacity (10k yuan per 10 kt)"),
    "service_life": ("使用年限(年)", "service life (years)"),
    "relocate_stranded_share_kept": ("转移时保留的搁浅价值比例", "stranded share kept on relocation"),
    "award_products": ("享受奖补的产品", "products earning the award"),
    "award_base_share": ("基础奖补比例", "base award share"),
    "award_nonstate_per_capacity": ("非国有企业奖补(万元/万吨)", "non-state award per capacity (10k yuan per 10 kt)"),
    "award_nonstate_per_unit": ("非国有企业奖补(万元/个)", "non-state award per unit (10k yuan)"),
    "award_fund": ("奖补资金总额(万元)", "award fund (10k yuan)"),
    "award_fund_per_year": ("年度奖补资金(万元)", "award fund per year (10k yuan)"),
    "budget_basis": ("预算口径(净额/总额)", "budget basis (net/gross)"),
}


def key(name: str, lang: str) -> str:
    """A scenario key in words (count_at_most → 退出单位数不多于(个)); an unknown key as it is."""
    return _pick(KEYS, name, lang)


def text(key: str, lang: str) -> str:
    """A phrase of the briefing in ``lang``."""
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def _pick(table: dict[str, tuple[str, str]], code: object, lang: str) -> str:
    if not isinstance(code, str) or code not in table:
        return "" if code is None else str(code)
    zh, en = table[code]
    return zh if lang == "zh" else en


def product(code: object, lang: str) -> str:
    """A product's name (coal → 煤炭 / Coal); unknown codes are returned as they are."""
    return _pick(PRODUCTS, code, lang)


def sector(code: object, lang: str) -> str:
    """A sector's name (steel → 钢铁 / Steel)."""
    return _pick(SECTORS, code, lang)


def rule(code: object, lang: str) -> str:
    """A rule family's name (target → 退出目标 / exit target)."""
    return _pick(RULES, code, lang)


SENSES = {"at least": ("不低于", "at least"), "at most": ("不高于", "at most"), "exactly": ("等于", "exactly"),
          "only in": ("仅限", "only in")}


def sense(code: object, lang: str) -> str:
    """How a requirement binds (at least → 不低于 / at least)."""
    return _pick(SENSES, code, lang)


# The units of measure of the protected and window rows, which name their units (rules.py).
_MEASURE_PATTERNS = (
    (re.compile(r"exits among (\d+) unit\(s\)"), "{0}个单位中的退出数"),
    (re.compile(r"(\d+) unit\(s\) may exit only in (.+)"), "{0}个单位仅可在{1}年退出"),
)


def measure(code: object, lang: str) -> str:
    """The unit of measure of a constraint row (万吨/yr → 万吨/年 / 10 kt/yr); others as they are."""
    if lang == "zh" and isinstance(code, str) and code not in MEASURES:
        for pattern, zh in _MEASURE_PATTERNS:
            m = pattern.fullmatch(code)
            if m:
                return zh.format(*(g.replace(", ", "、") for g in m.groups()))
    return _pick(MEASURES, code, lang)


def mode(code: object, lang: str) -> str:
    """An exit mode in words (relocate → 转移(国际产能合作) / relocate abroad)."""
    return _pick(MODES, code, lang)


def status(code: object, lang: str) -> str:
    """The solver status of a run (optimal, limit) in words."""
    return _pick(STATUS, code, lang)


def sheet(key: str, lang: str) -> str:
    """A workbook sheet's name."""
    zh, en = SHEETS[key]
    return zh if lang == "zh" else en


def header(column: str, lang: str, table: str | None = None) -> str:
    """The header of a run-folder column (of ``table``, when its meaning differs by table) in
    ``lang``; an unknown column keeps its own name."""
    col = (TABLE_COLUMNS.get((table, column)) if table is not None else None) or COLUMNS.get(column)
    return col.header(lang) if col else column


def kind(column: str) -> str:
    """The kind of value of a column (see :class:`Column`); text when unknown."""
    col = COLUMNS.get(column)
    return col.kind if col else "text"
