"""Every column of every table exitopt reads, written once.

One :class:`Column` per column: its name, the kind of value it holds, its unit, whether it is
required, the default an absent column or empty cell takes, the values it may take, and its
meaning in English and Chinese. Three things read this table:

- the unit and project readers (:mod:`exitopt.tables`): which columns must be there, how each
  cell is parsed and checked, what an absent column becomes;
- the workbook template (:mod:`exitopt.template`): its header labels, comments, drop-down
  lists, range warnings and number formats;
- the column table in ``README.md`` (written by ``python -m exitopt.columns``; a test fails
  while it differs from this table).

Kinds: ``id`` (text, unique, required), ``text``, ``bool`` (yes/no), ``capacity`` (万吨/yr,
above 0), ``count`` (whole persons), ``money`` (万元/yr, 0 or more), ``year``, ``amount``
(万吨/yr, 0 or more). A column with ``choices`` takes one of them.

Run ``python -m exitopt.columns`` to rewrite the README's column table after a change here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .scenario import MODES
from .vocab import ACCIDENTS, KIND_PRODUCT, PRODUCT_SECTOR, SECTORS, SOURCES


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  #: id · text · bool · capacity · count · money · year · amount
    unit: str  #: unit or values, in a few characters
    label_zh: str  #: Chinese label (the second line of a template header)
    en: str  #: meaning in English
    zh: str  #: meaning in Chinese
    required: bool = False
    #: what an absent column becomes, and an empty cell of an optional column (None: nothing)
    default: object = None
    choices: tuple[str, ...] = ()
    #: the default as the template and the README say it, when not the value itself
    default_shown: str | None = None
    #: False for a column the reader takes but the template leaves out (it is worked out)
    in_template: bool = True

    @property
    def default_text(self) -> str:
        """The default as written in a cell: 'false', '0', 'state'; '' when there is none."""
        if self.default_shown is not None:
            return self.default_shown
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return "" if self.default is None else str(self.default)


def _c(name, kind, unit, label_zh, en, zh, *, required=False, default=None, choices=(), default_shown=None,
       in_template=True) -> Column:
    return Column(name, kind, unit, label_zh, en, zh, required, default, tuple(choices), default_shown, in_template)


#: the unit table, in the order of the template's columns
UNITS: tuple[Column, ...] = (
    _c("unit_id", "id", "文本 text", "单位编号", "Unique id of the unit, e.g. COAL-M1839.", "唯一编号，如 COAL-M1839。",
       required=True),
    _c("name", "text", "文本 text", "名称", "Name of the unit (English or any text).", "单位名称。", required=True),
    _c("name_zh", "text", "文本 text", "中文名称", "Chinese name.", "中文名称。", default=""),
    _c("sector", "text", "coal/steel/cement", "行业", "Sector: coal, steel or cement; must match the kind.",
       "行业：coal 煤炭、steel 钢铁、cement 水泥；须与 kind 一致。", required=True, choices=SECTORS),
    _c("kind", "text", "下拉 list", "设备类型", "Equipment: coal_mine, blast_furnace, converter, rolling_mill, "
       "clinker_line, grinding_station. The kind fixes product and sector.",
       "设备类型：煤矿、高炉、转炉、轧机、熟料线、粉磨站；决定产品和行业。", required=True, choices=tuple(KIND_PRODUCT)),
    _c("product", "text", "下拉 list", "产品", "Product the kind makes (coal_mine → coal, blast_furnace → pig_iron, "
       "converter → crude_steel, rolling_mill → rolled_steel, clinker_line → clinker, grinding_station → cement).",
       "产品，由设备类型决定（煤矿→coal，高炉→pig_iron，转炉→crude_steel，轧机→rolled_steel，熟料线→clinker，"
       "粉磨站→cement）。", required=True, choices=tuple(PRODUCT_SECTOR)),
    _c("capacity", "capacity", "万吨/年", "产能", "Annual capacity in 万吨/yr (10 kt per year), above 0.",
       "年产能，万吨/年，大于 0。", required=True),
    _c("firm", "text", "文本 text", "企业", "Operating firm (legal entity).", "经营企业（法人）。", required=True),
    _c("group", "text", "文本 text", "集团", "Parent group; empty means the firm itself.", "所属集团；空白即企业本身。",
       default_shown="firm"),
    _c("region", "text", "文本 text", "地区", "Region (prefecture) where the unit is.", "所在地区（市州）。",
       required=True),
    _c("counts_in", "text", "文本 text", "任务归属", "Whose de-capacity task the unit counts in (e.g. Gansu).",
       "计入哪个地区的去产能任务（如 Gansu）。", default=""),
    _c("workers", "count", "人 persons", "职工", "Employment at the unit, whole persons.", "职工人数（人，整数）。",
       required=True),
    _c("owner", "text", "state/private", "所有制", "Ownership: state or private.", "所有制：state 国有，private 民营。",
       default="state", choices=("state", "private")),
    _c("opening_year", "year", "年 year", "投产年份", "Year the unit opened; with the sector's service_life it makes "
       "the default stranded value fall with age. Empty: not known (no age term).",
       "投产年份；与行业的 service_life 一起使默认搁浅价值随机龄递减。空白：未知（不计机龄）。"),
    _c("accident", "text", "下拉 list", "事故", "Worst safety accident in the last three years: none, general, large, "
       "major, extraordinary.",
       "近三年最严重的安全事故：none 无、general 一般、large 较大、major 重大、extraordinary 特别重大。",
       default="none", choices=ACCIDENTS),
    _c("accident_year", "year", "年 year", "事故年份", "Year of that accident; empty when none.",
       "事故年份；无事故时空白。"),
    _c("protected_area", "bool", "是/否", "保护区", "Overlaps a nature reserve or protection zone.",
       "是否与自然保护区等重叠。", default=False),
    _c("backward_class", "bool", "是/否", "落后产能", "Backward capacity class.", "是否属于落后产能。", default=False),
    _c("banned_method", "bool", "是/否", "禁采工艺", "Uses a banned mining method.", "是否采用禁止的采煤方法。",
       default=False),
    _c("standards_failed", "text", "; 分隔 list", "不达标", "National standards failed, separated by ';' "
       "(energy;environment;quality;safety).", "未达到的国家标准，以 ; 分隔（energy;environment;quality;safety）。",
       default=""),
    _c("loss_making", "bool", "是/否", "亏损", "The unit runs at a loss.", "是否亏损。", default=False),
    _c("subsidised_loss", "money", "万元/年", "亏损补贴", "What the province pays each year the unit still runs, 万元/yr.",
       "单位仍在生产的每年财政补贴，万元/年。", default=0.0),
    _c("fiscal_contribution", "money", "万元/年", "财政贡献", "What the unit pays the province each year it runs "
       "(taxes and fees), 万元/yr, lost from its exit year on. Empty: the sector's revenue_per_capacity × capacity; "
       "0 for a loss-making unit.",
       "单位生产期间每年向本省缴纳的税费，万元/年，自退出当年起失去。空白：行业 revenue_per_capacity × 产能；"
       "亏损单位为 0。", default_shown="sector"),
    _c("stranded_value", "money", "万元", "搁浅价值", "Book value or debt written off when the unit exits, 万元, in "
       "its exit year. Empty: the sector's stranded_per_capacity × capacity (falling with age when the sector gives "
       "a service_life).",
       "单位退出当年核销的账面价值或债务，万元。空白：行业 stranded_per_capacity × 产能（行业给出 service_life "
       "时随机龄递减）。", default_shown="sector"),
    _c("relocatable", "bool", "是/否", "可转移", "May exit by relocation abroad (国际产能合作).",
       "是否可通过国际产能合作转移退出。", default=False),
    _c("indicator_eligible", "bool", "是/否", "可作置换指标", "Retired capacity may serve as a replacement indicator.",
       "退出产能可否作为减量置换指标。", default=True),
    _c("exit_years", "text", "如 2018-2020", "可退出年份",
       "Years the unit may exit, e.g. 2018-2020 or 2019;2020; empty = any.",
       "允许退出的年份，如 2018-2020 或 2019;2020；空白为任意年份。", default=""),
    _c("source", "text", "/".join(SOURCES), "来源",
       "Where the row comes from: gcmt (Global Coal Mine Tracker), plan, press (a news report) or synthetic.",
       "数据来源：gcmt（全球煤矿追踪）、plan（方案）、press（新闻报道）或 synthetic（合成）。", required=True,
       choices=SOURCES),
)

#: the projects table (new capacity)
PROJECTS: tuple[Column, ...] = (
    _c("project_id", "id", "文本 text", "项目编号", "Unique id of the project.", "项目唯一编号。", required=True),
    _c("name", "text", "文本 text", "名称", "Name of the project.", "项目名称。", required=True),
    _c("sector", "text", "coal/steel/cement", "行业", "Sector; worked out from the product.", "行业，由产品决定。",
       in_template=False),
    _c("product", "text", "下拉 list", "产品", "Product of the new capacity.", "新增产能的产品。", required=True,
       choices=tuple(PRODUCT_SECTOR)),
    _c("capacity", "capacity", "万吨/年", "产能", "New capacity, 万吨/yr, above 0.", "新增产能，万吨/年，大于 0。",
       required=True),
    _c("year", "year", "年 year", "投产年份", "Year the capacity comes on line.", "投产年份。", required=True),
    _c("firm", "text", "文本 text", "企业", "Firm building it.", "建设企业。", required=True),
    _c("group", "text", "文本 text", "集团", "Parent group; empty means the firm.", "所属集团；空白即企业本身。",
       default_shown="firm"),
    _c("region", "text", "文本 text", "地区", "Region.", "所在地区。", default=""),
    _c("status", "text", "candidate/approved", "状态", "candidate (the model may approve it) or approved (it is built).",
       "candidate 候选（模型可批准）或 approved 已批准（必建）。", default="candidate", choices=("candidate", "approved")),
)

#: what-if pins (``exitopt solve --pins``)
PINS: tuple[Column, ...] = (
    _c("unit_id", "id", "文本 text", "单位编号", "Unit of the unit table.", "单位表中的单位编号。", required=True),
    _c("action", "text", "keep/exit", "指定", "keep: the unit does not exit (through the year, if given); exit: it "
       "exits (in exactly the year, if given).", "keep 保留（给出年份则保留到该年）；exit 退出（给出年份则在该年退出）。",
       required=True, choices=("keep", "exit")),
    _c("year", "year", "年 year", "年份", "Optional year.", "可选年份。"),
)

#: an exit plan to check (``exitopt check``)
PLAN: tuple[Column, ...] = (
    _c("unit_id", "id", "文本 text", "单位编号", "Unit of the unit table; units not listed stay.",
       "单位表中的单位编号；未列出的单位保留。", required=True),
    _c("exit_year", "year", "年 year", "退出年份", "Year the unit exits; empty = it stays.", "退出年份；空白表示保留。",
       required=True),
    _c("mode", "text", "close/relocate", "方式", "close (淘汰/关闭) or relocate (转移); empty = close.",
       "close 关闭淘汰，relocate 转移；空白为 close。", default="close", choices=MODES),
    _c("indicator", "amount", "万吨/年", "置换指标", "Capacity used as a replacement indicator, 万吨/yr.",
       "用作减量置换指标的产能，万吨/年。", default_shown="0"),
)

#: the project approvals of a plan (``exitopt check --projects``)
APPROVALS: tuple[Column, ...] = (
    _c("project_id", "id", "文本 text", "项目编号", "Project of the projects table.", "项目表中的项目编号。",
       required=True),
    _c("approved", "bool", "是/否", "批准", "Whether the plan builds the project.", "方案是否建设该项目。",
       required=True),
)

#: every table by the name of its template sheet
TABLES: dict[str, tuple[Column, ...]] = {"units": UNITS, "projects": PROJECTS, "pins": PINS, "plan": PLAN,
                                         "approvals": APPROVALS}


def reader_spec(columns: tuple[Column, ...]) -> dict[str, tuple[str, bool, object]]:
    """name -> (kind, required, default): what the table reader checks and fills in."""
    return {c.name: (c.kind, c.required, c.default) for c in columns}


# --------------------------------------------------------------------------------------------
# The README's column table

#: the lines that enclose the generated table in README.md
README_START = "<!-- unit-table columns: written by `python -m exitopt.columns` from src/exitopt/columns.py -->"
README_END = "<!-- end of unit-table columns -->"
README = Path(__file__).resolve().parents[2] / "README.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(columns: tuple[Column, ...]) -> str:
    """A Markdown table of the columns: name, required, kind, unit, default, values, meaning."""
    lines = ["| column | required | kind | unit | default | values | meaning | 说明 |",
             "|---|---|---|---|---|---|---|---|"]
    for c in columns:
        values = ", ".join(f"`{v}`" for v in c.choices)
        default = f"`{c.default_text}`" if c.default_text else ""
        lines.append(f"| `{c.name}` | {'yes' if c.required else ''} | {c.kind} | {_cell(c.unit)} | {default} | "
                     f"{values} | {_cell(c.en)} | {_cell(c.zh)} |")
    return "\n".join(lines)


def readme_section() -> str:
    """The README's unit-table section as this table writes it, between its two marker lines."""
    return f"{README_START}\n{markdown(UNITS)}\n{README_END}"


def readme_with_table(text: str) -> str:
    """``text`` (the README) with the section between the markers replaced by :func:`readme_section`."""
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    return text[:start] + readme_section() + text[end:]


def main() -> int:
    """Rewrite README.md's unit-table columns from :data:`UNITS` (in a source checkout)."""
    if not README.is_file():
        print(f"no README.md at {README}: run this from a source checkout (pip install -e .)", file=sys.stderr)
        return 1
    text = README.read_text(encoding="utf-8")
    new = readme_with_table(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print(f"rewrote the unit-table columns in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
