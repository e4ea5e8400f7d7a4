"""Chinese names of what a run folder holds in English: rules, regions, projects, the scenario,
the reasons of exits and the diagnosis of a plan that cannot be met.

At solve time :func:`names_of` collects, from the scenario and the unit and project tables, every
Chinese name the Chinese views need (a rule's ``name_zh``, else one built from its facts by
:func:`rule_name_zh`; the tables' ``region_zh`` and ``name_zh`` columns) into run.json's
``names_zh``. :class:`Names` reads them back for any view (briefing, workbook, Word document,
meeting room): ``Names.of(run.record)``; run folders written before keep their English names
where no Chinese one is known, except regions and rules of a known kind, which are named from
:mod:`labels`' words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..rules import BY_ROW, FAMILIES
from . import labels

# Kinds of unit (the unit table's ``kind``), approvals of projects, and how an exit came about.
KINDS = {"coal_mine": "煤矿", "blast_furnace": "高炉", "converter": "转炉(炼钢炉)", "rolling_mill": "轧钢生产线",
         "clinker_line": "熟料生产线", "grinding_station": "水泥粉磨站"}
APPROVALS = {"candidate": "候选", "approved": "已批准", "rejected": "不予批准", "announced": "已公告"}
REASONS = {"chosen": "优化选择", "mandatory": "强制退出", "package": "整体退出包", "protected": "保留单位",
           "merger": "兼并重组"}

# Regions named in the Chinese views when the data gives no region_zh: China's provinces, and the
# prefectures of Gansu, as run folders of the national and Gansu tables name them.
REGIONS = {
    "Beijing": "北京市", "Tianjin": "天津市", "Hebei": "河北省", "Shanxi": "山西省", "Inner Mongolia": "内蒙古自治区",
    "Liaoning": "辽宁省", "Jilin": "吉林省", "Heilongjiang": "黑龙江省", "Shanghai": "上海市", "Jiangsu": "江苏省",
    "Zhejiang": "浙江省", "Anhui": "安徽省", "Fujian": "福建省", "Jiangxi": "江西省", "Shandong": "山东省",
    "Henan": "河南省", "Hubei": "湖北省", "Hunan": "湖南省", "Guangdong": "广东省", "Guangxi": "广西壮族自治区",
    "Hainan": "海南省", "Chongqing": "重庆市", "Sichuan": "四川省", "Guizhou": "贵州省", "Yunnan": "云南省",
    "Tibet": "西藏自治区", "Xizang": "西藏自治区", "Shaanxi": "陕西省", "Gansu": "甘肃省", "Qinghai": "青海省",
    "Ningxia": "宁夏回族自治区", "Xinjiang": "新疆维吾尔自治区",
    "Lanzhou": "兰州市", "Jiayuguan": "嘉峪关市", "Jinchang": "金昌市", "Baiyin": "白银市", "Tianshui": "天水市",
    "Wuwei": "武威市", "Zhangye": "张掖市", "Pingliang": "平凉市", "Jiuquan": "酒泉市", "Qingyang": "庆阳市",
    "Dingxi": "定西市", "Longnan": "陇南市", "Linxia": "临夏回族自治州", "Gannan": "甘南藏族自治州",
    "Yicheng, Shanxi": "山西省翼城县",
}

# How the rows of each rule are named in constraints.csv: "<rule>: <unit or region>" or "<rule>".
PER_ITEM = {row: family.per_item for family in FAMILIES for row in family.rows if family.per_item}


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def number(x: float) -> str:
    """A figure of a rule's name: thousands separators, no trailing zeros (1,000 · 1.25 · 0.5)."""
    text = f"{float(x):,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent(x: float) -> str:
    return number(float(x) * 100) + "%"


def product_zh(code: str) -> str:
    """A product's Chinese name."""
    return labels.product(code, "zh")


_product = product_zh


def region_of(where: Any, regions: dict[str, str]) -> str:
    """The region a selection picks by ``region == R`` (in Chinese), or ""."""
    for c in getattr(where, "all", []) or []:
        if c.column == "region" and c.op == "==" and isinstance(c.value, str):
            return regions.get(c.value) or REGIONS.get(c.value, "")
    return ""


def selected(where: Any) -> bool:
    return bool(getattr(where, "all", None) or getattr(where, "any", None))


def rule_name_zh(family: str, rule: Any, regions: dict[str, str] | None = None, number_in_family: int = 1) -> str:
    """The Chinese name of a scenario rule: its ``name_zh`` when given, else one built from its
    facts by its family (``name_zh`` of :class:`exitopt.rules.Family`: 煤炭退出 1,000 万吨（不少于）).
    ``family`` is the family's key (targets, replacement, …, worker_caps); packages, mandatory
    exits, protected units and windows, whose facts are their selections, are named by their
    place in the family (``number_in_family``, from 1): 第2项（2018年前）, shown beside the
    rule's kind (强制退出)."""
    given = getattr(rule, "name_zh", None)
    if given and given.strip():
        return given.strip()
    return next(f for f in FAMILIES if f.key == family).name_zh(rule, regions or {}, number_in_family)


def names_of(inst: Any) -> dict:
    """Every Chinese name the Chinese views of a run need, for run.json's ``names_zh``: the
    scenario's, each rule's (by the name its constraints.csv rows carry, without the ": unit"
    part), each region's (from the tables' region_zh column) and each project's."""
    scen = inst.scenario
    regions: dict[str, str] = {}
    for table in (inst.units, inst.projects):
        if table is not None and not table.empty and "region_zh" in table.columns:
            for r, zh in zip(table["region"], table["region_zh"], strict=True):
                if isinstance(r, str) and isinstance(zh, str) and zh.strip():
                    regions.setdefault(r, zh.strip())
    rules: dict[str, str] = {}
    for family in FAMILIES:  # by the name the rows carry, as constraints.csv lists them
        for i, rule in enumerate(family.rules_of(scen), start=1):
            rules.setdefault(family.row_name(rule), rule_name_zh(family.key, rule, regions, i))
    projects: dict[str, str] = {}
    p = inst.projects
    if p is not None and not p.empty and "name_zh" in p.columns:
        projects = {str(i): str(zh).strip() for i, zh in zip(p["project_id"], p["name_zh"], strict=True)
                    if isinstance(zh, str) and zh.strip()}
    out: dict[str, Any] = {"rules": rules, "regions": regions, "projects": projects}
    if scen.name_zh and scen.name_zh.strip():
        out["scenario"] = scen.name_zh.strip()
    return out


@dataclass
class Names:
    """The Chinese names of one run (run.json's ``names_zh``), and how each view shows a rule,
    region, unit, project, reason or scenario in a language: in ``en`` everything stays as the
    run folder writes it."""

    rules: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    projects: dict[str, str] = field(default_factory=dict)
    scenario_zh: str | None = None

    @classmethod
    def of(cls, record: dict | None) -> Names:
        """From a run's record (run.json); a record without names gives the fallbacks only."""
        got = (record or {}).get("names_zh") or {}
        if not isinstance(got, dict):
            got = {}

        def table(key: str) -> dict[str, str]:
            t = got.get(key)
            return {str(k): str(v) for k, v in t.items() if isinstance(v, str)} if isinstance(t, dict) else {}

        zh = got.get("scenario")
        return cls(table("rules"), table("regions"), table("projects"), zh if isinstance(zh, str) else None)

    def scenario(self, name: str, lang: str) -> str:
        return self.scenario_zh if lang == "zh" and self.scenario_zh else name

    def region(self, region: object, lang: str) -> str:
        """A region's name (平凉市 / Pingliang)."""
        if _blank(region):
            return ""
        r = str(region)
        if lang != "zh":
            return r
        return self.regions.get(r) or REGIONS.get(r) or r

    def rule(self, rule: object, name: object, lang: str, *, product: object = None,
             required: object = None, sense: object = None, unit: object = None) -> str:
        """The name of a rule as a constraints.csv row (or the reasons and comparisons) carry it:
        in Chinese the rule's Chinese name, its unit or region after a colon for the rules named
        per unit or region; a rule unknown to run.json is named by its kind, product and figure."""
        if _blank(name):
            return ""
        text = str(name)
        if lang != "zh":
            return text
        item = ""
        if str(rule) in PER_ITEM and ": " in text:
            text, item = text.rsplit(": ", 1)
            if PER_ITEM[str(rule)] == "region":
                item = self.region(item, "zh")
        zh = self.rules.get(text) or self._fallback(str(rule), text, product, required, sense, unit)
        return f"{zh}：{item}" if item else zh

    def _fallback(self, rule: str, name: str, product: Any, required: Any, sense: Any,
                  unit: object) -> str:
        family = BY_ROW.get(rule)
        own = family.fallback_zh(rule, name) if family is not None and family.fallback_zh is not None else None
        if own is not None:
            return own
        head = (_product(product) if not _blank(product) else "") + labels.rule(rule, "zh")
        if not _blank(required) and unit in ("万吨/yr", "万元", "persons"):
            head += f" {number(float(required))} {labels.measure(unit, 'zh')}"
            if not _blank(sense):
                head += f"（{labels.sense(sense, 'zh')}）"
        elif not _blank(required) and unit == "share":
            head += f" {percent(float(required))}"
        return head

    def family(self, rule: object, name: object, lang: str) -> str:
        """A rule's name without the unit or region its per-unit rows add (a rule's heading)."""
        text = "" if _blank(name) else str(name)
        if str(rule) in PER_ITEM and ": " in text:
            text = text.rsplit(": ", 1)[0]
        return self.rule(rule, text, lang)

    def project(self, project_id: object, name: object, lang: str) -> str:
        if lang == "zh" and not _blank(project_id) and str(project_id) in self.projects:
            return self.projects[str(project_id)]
        return "" if _blank(name) else str(name)

    def reason(self, reason: object, lang: str) -> str:
        """Why a unit exits (schedule.csv's reason): chosen → 优化选择; "mandatory: <rule>" →
        强制退出：<the rule's Chinese name>."""
        if _blank(reason):
            return ""
        text = str(reason)
        if lang != "zh":
            return text
        kind, _, rule = text.partition(": ")
        word = REASONS.get(kind)
        if word is None:
            return text
        if not rule or kind == "chosen":  # the figures of --explain are in the English views
            return word
        return f"{word}：{self.rule(kind, rule, 'zh')}"


def unit_name(name: object, name_zh: object, lang: str) -> str:
    """A unit's name as every view shows it: the Chinese name in Chinese when the table has one."""
    if lang == "zh" and not _blank(name_zh):
        return str(name_zh).strip()
    return "" if _blank(name) else str(name)


def kind(code: object, lang: str) -> str:
    """A unit's kind (coal_mine → 煤矿); as it is in English."""
    if _blank(code):
        return ""
    return KINDS.get(str(code), str(code)) if lang == "zh" else str(code)


def approval(code: object, lang: str) -> str:
    if _blank(code):
        return ""
    return APPROVALS.get(str(code), str(code)) if lang == "zh" else str(code)


SENSE_ZH = {">=": "不低于", "<=": "不高于", "==": "等于"}


def diagnosis_zh(diagnosis: Any, names: Names | None = None) -> str:
    """The Chinese text of :class:`exitopt.diagnose.Diagnosis`: which rules must give, and by how
    much, as its English ``message()`` says."""
    names = names or Names()
    gives, status = diagnosis.gives, diagnosis.status
    if not gives and status != "optimal":
        return ("没有任何方案能满足全部规则，且在找到须放宽的规则之前搜索已停止(HiGHS：" + labels.status(status, "zh")
                + ")。请在情景文件中提高[solver] time_limit后重新运行，或放宽可能冲突的规则。")
    if not gives:
        return ("没有任何方案能满足全部规则，放宽各项政策规则也无济于事：冲突在整体退出包或退出时间窗本身"
                "(例如整体退出包的成员被列为保留单位，或成员没有共同的可退出年份)。请检查情景文件中的这些规则。")
    lines = [f"没有任何方案能满足全部规则。须放宽{len(gives)}条规则："]
    for g in gives:
        what = f"{labels.rule(g.rule, 'zh')}“{names.rule(g.rule, g.name, 'zh')}”" + (
            f"({g.year}年)" if g.year is not None else "")
        if g.unit == "share":
            req, got = percent(g.required), percent(g.reachable)
        else:
            unit = labels.measure(g.unit, "zh")
            req, got = f"{g.required:,.1f}{unit}", f"{g.reachable:,.1f}{unit}"
        if g.sense == ">=":
            lines.append(f"  - {what}在其他规则下最多只能达到{got}(要求不低于{req})")
        elif g.sense == "<=":
            lines.append(f"  - {what}在其他规则下无法低于{got}(要求不高于{req})")
        else:
            lines.append(f"  - {what}只能达到{got}(要求等于{req})")
    if status != "optimal":
        lines.append("  (在时间上限内找到：可能存在更小的调整；提高[solver] time_limit可确认)")
    return "\n".join(lines)
