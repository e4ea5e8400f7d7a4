"""briefing.docx: the briefing as a Word document, laid out as a Chinese government briefing.

A title (标题), then sections numbered 一、二、三 (1. 2. 3. in English): what the plan achieves
and costs; the plan by year and product; the units exiting; the rules that bind and what they
cost; the charts; and, when the report is given another run, what differs from it. Tables are
numbered 表1, 表2 … above them, figures 图1, 图2 … below them. A4 page with the margins of
official documents, body in 仿宋 and headings in 黑体 (set as the East-Asian font of every run;
Latin text in Times New Roman and Arial; the font table names FangSong and SimHei as the
fallbacks where those names are not installed), page numbers in the footer.

Every figure is the text the HTML briefing shows (:mod:`exitopt.report.html`'s rows and
:func:`~exitopt.report.html.fmt_number`), so the document and the run's CSV files agree.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from . import labels
from .charts import Chart
from .compare import MERGER, MODE, NOT_IN_A, NOT_IN_B, ONLY_A, ONLY_B, YEAR, YEAR_MODE, Comparison
from .html import (
    HEADLINE_KINDS,
    Cells,
    binding_rules,
    binding_table,
    exits_table,
    fmt_number,
    headline_rows,
    idle_items,
    plan_tables,
    required_items,
)
from .run import PRODUCT_ORDER, Run, run_folder_name

# Fonts: East-Asian and Latin, for the body and for headings; the fallbacks named in the font table.
BODY_ZH, BODY_LATIN = "仿宋", "Times New Roman"
HEAD_ZH, HEAD_LATIN = "黑体", "Arial"
FALLBACKS = {BODY_ZH: "FangSong", HEAD_ZH: "SimHei"}
# Sizes in points: 二号 title, 三号 body and headings, 四号 captions, 五号 tables.
TITLE_PT, BODY_PT, CAPTION_PT, TABLE_PT = 22, 16, 14, 10.5
SMALL_TABLE_PT, WIDE_TABLE = 9, 8  # 小五 for tables of eight columns or more
LINE_PT = 28  # the fixed line pitch of the body
# A4 and the margins of official documents, in centimetres.
PAGE_CM = (21.0, 29.7)
MARGINS_CM = {"top": 3.7, "bottom": 3.5, "left": 2.8, "right": 2.6}
PICTURE_CM = 15.5
HEADER_FILL = "DCE6F1"

NUMERALS = "一二三四五六七八九十"

DOC_TEXT = {
    "subtitle": ("情景：{scenario}　求解状态：{status}", "Scenario: {scenario} · status: {status}"),
    "s_headline": ("方案成效与代价", "What the plan achieves and what it costs"),
    "s_plan": ("分年度、分产品退出计划", "The plan by year and product"),
    "s_units": ("退出单位", "The units that exit"),
    "s_binding": ("起约束作用的规则及其代价", "The rules that bind and what they cost"),
    "s_charts": ("图表", "Charts"),
    "s_compare": ("与比较方案的差异", "What differs from the compared run"),
    "summary": ("本方案共退出{units_exiting}个生产单位，分流职工{jobs}人，财政支出现值{fiscal}万元，"
                "目标值{objective}万元当量，求解状态为“{status}”。",
                "The plan retires {units_exiting} production units, displaces {jobs} workers and costs "
                "{fiscal} (10k yuan, present value) in fiscal outlay; its objective is {objective} "
                "(10k yuan equivalent), status \u201c{status}\u201d."),
    "gap_sentence": ("最优性间隙为{gap}。", "The optimality gap is {gap}."),
    "built_sentence": ("新建项目：{projects_built}。", "New projects built: {projects_built}."),
    "t_headline": ("主要结果", "Headline figures"),
    "t_exits": ("分产品退出", "Exits by product"),
    "t_plan": ("分年度、分产品退出产能(万吨/年)及当年分流职工、财政支出",
               "Capacity exiting by year and product (10 kt/yr), workers displaced and outlay in the year"),
    "plan_note": ("表中退出产能为各年各产品退出的产能;分流职工与财政支出为当年合计(财政支出含亏损补贴,未折现)。",
                  "Capacity exiting in each year and product; workers displaced and outlay are the year's "
                  "totals (outlay undiscounted, subsidised losses included)."),
    "t_units": ("{sector}行业退出单位", "{sector}: units that exit"),
    "t_binding": ("起约束作用的规则", "Rules that bind"),
    "table_label": ("表{n}", "Table {n}"),
    "figure_label": ("图{n}", "Figure {n}"),
    "compared_with": ("比较方案为“{other}”(运行目录 {folder},求解状态:{status});变化为本方案减比较方案。",
                      "The compared run is \u201c{other}\u201d (run folder {folder}, status: {status}); a "
                      "change is this plan less the compared run."),
    "same_plan": ("两个方案退出的单位、年份和方式相同,起约束作用的规则也相同。",
                  "Both runs retire the same units in the same years by the same modes, and the same rules bind."),
    "t_cmp_figures": ("主要结果对比", "Headline figures compared"),
    "t_cmp_units": ("退出安排不同的单位", "Units whose exit differs"),
    "t_cmp_rules": ("仅在一个方案中起约束作用的规则", "Rules that bind in one run only"),
    "figure_col": ("指标", "Figure"),
    "value_col": ("数值", "Value"),
    "other_col": ("比较方案", "Compared run"),
    "this_col": ("本方案", "This plan"),
    "change_col": ("变化", "Change"),
    "stays": ("保留", "stays"),
    "units_same": ("退出的单位、年份和方式相同。", "The same units exit in the same years by the same modes."),
    "rules_same": ("起约束作用的规则相同。", "The same rules bind in both runs."),
    "binds_other": ("仅在比较方案中起约束作用", "binds only in the compared run"),
    "binds_this": ("仅在本方案中起约束作用", "binds only in this plan"),
}

# compare.py's words for a unit's change, read with A = the compared run and B = this plan.
CHANGES = {
    ONLY_A: ("仅在比较方案中退出", "exits only in the compared run"),
    ONLY_B: ("仅在本方案中退出", "exits only in this plan"),
    YEAR_MODE: ("退出年份和方式不同", "exit year and mode differ"),
    YEAR: ("退出年份不同", "exit year differs"),
    MODE: ("退出方式不同", "exit mode differs"),
    MERGER: ("兼并重组不同", "merger differs"),
    NOT_IN_A: ("比较方案的单位表中没有", "not in the compared run's unit table"),
    NOT_IN_B: ("本方案的单位表中没有", "not in this plan's unit table"),
}


def _t(key: str, lang: str) -> str:
    zh, en = DOC_TEXT[key]
    return zh if lang == "zh" else en


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


# ---- fonts and styles -----------------------------------------------------------------------

def _set_fonts(target, east_asia: str, latin: str) -> None:
    """Give a run or a style its Latin and East-Asian fonts (w:rFonts ascii, hAnsi, cs, eastAsia),
    dropping any theme font that would override them."""
    from docx.oxml.ns import qn

    rpr = target._element.get_or_add_rPr()  # of a run or of a style
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _style(doc, name: str, east_asia: str, latin: str, size: float, *, bold: bool = False):
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    st = doc.styles[name]
    _set_fonts(st, east_asia, latin)
    st.font.size = Pt(size)
    st.font.bold = bold
    st.font.italic = False
    st.font.color.rgb = RGBColor(0, 0, 0)
    pf = st.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(max(LINE_PT, size + 6))
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    return st


def _font_fallbacks(doc) -> None:
    """Name FangSong and SimHei in the font table as the alternatives of 仿宋 and 黑体 (GB2312),
    so a word processor without the Chinese names picks them or another Chinese font."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    part = next((r.target_part for r in doc.part.rels.values() if r.reltype == RT.FONT_TABLE), None)
    if part is None or not hasattr(part, "_blob"):
        return
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:panose1 w:val="02010609060101010101"/>'
        f'<w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>'
        for name, alt in FALLBACKS.items())
    blob = part._blob.decode("utf-8")
    if "</w:fonts>" in blob:
        part._blob = blob.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


def _page(doc) -> None:
    """A4 portrait, the margins of official documents, the page number centred in the footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    sec.top_margin, sec.bottom_margin = Cm(MARGINS_CM["top"]), Cm(MARGINS_CM["bottom"])
    sec.left_margin, sec.right_margin = Cm(MARGINS_CM["left"]), Cm(MARGINS_CM["right"])
    p = sec.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    field.append(r)
    p._p.append(field)
    p._p.append(p.add_run(" —")._r)


def _language(doc, lang: str) -> None:
    """Mark the text as Chinese (zh-CN) or English for spelling and line breaking."""
    from docx.oxml.ns import qn

    rpr = doc.styles["Normal"].element.get_or_add_rPr()
    el = rpr.find(qn("w:lang"))
    if el is None:
        el = rpr.makeelement(qn("w:lang"), {})
        rpr.append(el)
    el.set(qn("w:val"), "en-GB" if lang == "en" else "zh-CN")
    el.set(qn("w:eastAsia"), "zh-CN")


# ---- the document -----------------------------------------------------------------------------

class _Writer:
    """Adds numbered sections, tables and figures to one document."""

    def __init__(self, lang: str) -> None:
        import docx
        from docx.oxml.ns import qn
        from docx.shared import Pt

        self.lang = lang
        self.doc = docx.Document()
        self.tables = 0
        self.figures = 0
        self.sections = 0
        d = self.doc
        normal = _style(d, "Normal", BODY_ZH, BODY_LATIN, BODY_PT)
        normal.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
        for name in ("Title", "Heading 1"):
            st = _style(d, name, HEAD_ZH, HEAD_LATIN, TITLE_PT if name == "Title" else BODY_PT)
            st.paragraph_format.first_line_indent = Pt(0)
            st.paragraph_format.keep_with_next = True
        title_ppr = d.styles["Title"].element.pPr
        border = title_ppr.find(qn("w:pBdr")) if title_ppr is not None else None
        if border is not None:  # no rule under the title
            title_ppr.remove(border)
        caption = _style(d, "Caption", HEAD_ZH, HEAD_LATIN, CAPTION_PT)
        caption.paragraph_format.first_line_indent = Pt(0)
        _font_fallbacks(d)
        _page(d)
        _language(d, lang)

    # text
    def title(self, text: str, subtitle: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        p = self.doc.add_paragraph(text, style="Title")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(12)
        s = self.doc.add_paragraph(subtitle)
        s.alignment = WD_ALIGN_PARAGRAPH.CENTER
        s.paragraph_format.first_line_indent = Pt(0)
        s.paragraph_format.space_after = Pt(12)

    def section(self, text: str) -> None:
        self.sections += 1
        n = self.sections
        number = (NUMERALS[n - 1] if n <= len(NUMERALS) else str(n)) + "、" if self.lang == "zh" else f"{n}. "
        self.doc.add_heading(number + text, level=1)

    def para(self, text: str) -> None:
        self.doc.add_paragraph(text)

    def items(self, lead: str, items: list[str]) -> None:
        self.para(lead)
        for it in items:
            self.para(("· " if self.lang == "en" else "") + it + ("；" if self.lang == "zh" else ""))

    def _caption(self, text: str):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        p = self.doc.add_paragraph(text, style="Caption")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_before = Pt(6)
        p.paragraph_format.space_after = Pt(6)
        return p

    # tables
    def table(self, caption: str, heads: list[str], rows: Cells, totals: frozenset[int] = frozenset()) -> None:
        """A numbered table: caption above, header row shaded and repeated on every page, numbers
        right-aligned, total rows bold."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt

        self.tables += 1
        self._caption(f"{_t('table_label', self.lang).format(n=self.tables)}　{caption}").paragraph_format \
            .keep_with_next = True
        t = self.doc.add_table(rows=1 + len(rows), cols=len(heads))
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        pt = TABLE_PT if len(heads) < WIDE_TABLE else SMALL_TABLE_PT
        widths = column_widths(heads, rows, pt=pt)
        numeric = [any(r[j][1] for r in rows) for j in range(len(heads))]

        def fill(cell, text: str, *, right: bool, bold: bool, head: bool = False) -> None:
            p = cell.paragraphs[0]
            p.paragraph_format.first_line_indent = Pt(0)
            p.paragraph_format.line_spacing = 1.0
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else (
                WD_ALIGN_PARAGRAPH.CENTER if head else WD_ALIGN_PARAGRAPH.LEFT)
            run = p.add_run(text)
            run.font.size = Pt(pt)
            run.font.bold = bold
            if head:
                _set_fonts(run, HEAD_ZH, HEAD_LATIN)
                shade = OxmlElement("w:shd")
                shade.set(qn("w:val"), "clear")
                shade.set(qn("w:color"), "auto")
                shade.set(qn("w:fill"), HEADER_FILL)
                cell._tc.get_or_add_tcPr().append(shade)

        for col, width in zip(t._tbl.tblGrid.gridCol_lst, widths, strict=False):  # what LibreOffice lays out by
            col.w = Cm(width)
        for row in t.rows:  # and Word
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = Cm(width)
        for j, h in enumerate(heads):
            fill(t.rows[0].cells[j], h, right=False, bold=False, head=True)
        trpr = t.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        trpr.append(repeat)
        for i, r in enumerate(rows):
            cells = t.rows[i + 1].cells
            for j, (text, num) in enumerate(r):
                fill(cells[j], text, right=num and numeric[j], bold=i in totals)
        self.doc.add_paragraph().paragraph_format.first_line_indent = Pt(0)

    # figures
    def figure(self, png: Path, caption: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt

        self.figures += 1
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.keep_with_next = True
        p.add_run().add_picture(str(png), width=Cm(picture_width(png)))
        self._caption(f"{_t('figure_label', self.lang).format(n=self.figures)}　{caption}")


def _display(text: str) -> float:
    """Width of a text in half-ems, roughly: a CJK character takes two, a capital letter 1.4."""
    return sum(2 if ord(ch) > 0x2E80 else 1.4 if ch.isupper() else 1 for ch in text)


def column_widths(heads: list[str], rows: Cells, total: float = PICTURE_CM, pt: float = TABLE_PT) -> list[float]:
    """Column widths (cm) adding up to ``total``: every column as wide as its longest cell (its
    header may wrap onto three lines), so that figures, ids and product names never wrap; long
    texts (names) share what is left, and wrap. When even that does not fit, all shrink alike."""
    half_em = pt / 2 / 72 * 2.54  # cm: a Latin letter or digit, half a CJK character
    natural, flexible = [], []
    for j, h in enumerate(heads):
        cells = [_display(r[j][0]) for r in rows if j < len(r)]
        longest = max(cells, default=0)
        numeric = any(r[j][1] for r in rows if j < len(r))
        head = max(_display(h) / 3, max((_display(w) for w in h.split()), default=0) if " " in h else 0)
        natural.append(max(longest, head, 4) * half_em * 1.1 + CELL_PAD_CM)  # 10 % for bold totals
        flexible.append(not numeric and longest > LONG_TEXT)
    fixed = sum(w for w, f in zip(natural, flexible, strict=False) if not f)
    least = [natural[j] if not f else MIN_FLEX * half_em + CELL_PAD_CM for j, f in enumerate(flexible)]
    if sum(natural) <= total or not any(flexible) or fixed + sum(w for w, f in zip(least, flexible, strict=False) if f) > total:
        scale = total / sum(natural)
        return [w * scale for w in natural]
    room = total - fixed
    flex = sum(w for w, f in zip(natural, flexible, strict=False) if f)
    return [w * room / flex if f else w for w, f in zip(natural, flexible, strict=False)]


CELL_PAD_CM = 0.42  # a cell's left and right margins, and a little air
LONG_TEXT = 12  # half-ems: a text column with longer cells may wrap
MIN_FLEX = 8  # half-ems: the least such a column gets (four Chinese characters)


def picture_width(png: Path) -> float:
    """A chart's width on the page (cm): the charts share one scale, the widest filling the text
    width, so their lettering is of one size."""
    import struct

    with open(png, "rb") as f:
        head = f.read(24)
    px = struct.unpack(">I", head[16:20])[0] if head[:8] == b"\x89PNG\r\n\x1a\n" else WIDEST_PX
    return PICTURE_CM * min(px, WIDEST_PX) / WIDEST_PX


WIDEST_PX = 1386  # the widest chart exitopt draws (capacity_paths.png), in pixels


def _headline(w: _Writer, run: Run, lang: str) -> None:
    rows = headline_rows(run, lang)
    shown = {key: text for key, _, text in rows}
    w.section(_t("s_headline", lang))
    sentence = _t("summary", lang).format(**{k: shown.get(k, "") for k in
                                              ("units_exiting", "jobs", "fiscal", "objective", "status")})
    if "gap" in shown:
        sentence += ("" if lang == "zh" else " ") + _t("gap_sentence", lang).format(gap=shown["gap"])
    sentence += ("" if lang == "zh" else " ") + _t("built_sentence", lang).format(
        projects_built=shown.get("projects_built", ""))
    w.para(sentence)
    w.table(_t("t_headline", lang), [_t("figure_col", lang), _t("value_col", lang)],
            [[(label, False), (text, key in HEADLINE_KINDS)] for key, label, text in rows])
    table = exits_table(run, lang)
    if table is not None:
        heads, cells, totals = table
        w.table(_t("t_exits", lang), heads, cells, totals)


def plan_by_year(run: Run, lang: str) -> tuple[list[str], Cells, frozenset[int]] | None:
    """summary.csv as a year × product table of capacity exiting, with the year's workers
    displaced and outlay (the sum of its products' rows), and a total row; None when empty."""
    s = run.summary
    if s.empty:
        return None
    present = set(s["product"].dropna())
    products = [p for p in PRODUCT_ORDER if p in present] + sorted(present - set(PRODUCT_ORDER))
    heads = [labels.header("year", lang)] + [labels.product(p, lang) for p in products] + [
        labels.header("workers_displaced", lang, "summary"), labels.header("outlay", lang, "summary")]
    rows: Cells = []
    for year, g in s.groupby("year", sort=True):
        by = dict(zip(g["product"], g["exits"], strict=True))
        rows.append([(fmt_number(year, "year"), False)]
                    + [(fmt_number(by.get(p), "capacity"), True) for p in products]
                    + [(fmt_number(g["workers_displaced"].sum(), "persons"), True),
                       (fmt_number(g["outlay"].sum(), "money"), True)])
    totals = frozenset({len(rows)})
    rows.append([(labels.text("total", lang), False)]
                + [(fmt_number(s.loc[s["product"] == p, "exits"].sum(), "capacity"), True) for p in products]
                + [(fmt_number(s["workers_displaced"].sum(), "persons"), True),
                   (fmt_number(s["outlay"].sum(), "money"), True)])
    return heads, rows, totals


def _plan(w: _Writer, run: Run, lang: str) -> None:
    w.section(_t("s_plan", lang))
    table = plan_by_year(run, lang)
    if table is None:
        w.para(labels.text("none", lang))
        return
    w.para(_t("plan_note", lang))
    w.table(_t("t_plan", lang), *table)


def _units(w: _Writer, run: Run, lang: str) -> None:
    w.section(_t("s_units", lang))
    tables = plan_tables(run, lang)
    if not tables:
        w.para(labels.text("none", lang))
        return
    w.para(labels.text("plan_note", lang))
    for sector, heads, rows, totals in tables:
        w.table(_t("t_units", lang).format(sector=labels.sector(sector, lang)), heads, rows, totals)


def _binding(w: _Writer, run: Run, lang: str) -> None:
    w.section(_t("s_binding", lang))
    groups = binding_rules(run)
    table = binding_table(groups, lang)
    if table is None:
        w.para(labels.text("binding_none", lang))
    else:
        w.para(labels.text("binding_note", lang))
        w.table(_t("t_binding", lang), *table)
    if groups["required"]:
        w.items(labels.text("required_exits", lang), required_items(groups, lang))
    if groups["idle"]:
        w.items(labels.text("nothing_to_do", lang), idle_items(groups, lang))


def _charts(w: _Writer, charts: list[Chart], folder: Path, lang: str, note: str | None) -> None:
    if not charts:
        return
    w.section(_t("s_charts", lang))
    if note:
        w.para(note)
    for ch in charts:
        w.figure(Path(folder) / ch.file, ch.title)


def _regret(w: _Writer, run: Run, lang: str) -> None:
    """A robust run's regret by case (its chart is among the charts)."""
    if run.regret is None:
        return
    from .regret import table_cells, word

    w.section(word("section", lang))
    w.para(word("note", lang).format(first=str(run.regret["case"].iloc[0])))
    heads, cells = table_cells(run.regret, lang)
    w.table(word("t_regret", lang), heads, cells)


def _signed(x: float, kind: str) -> str:
    text = fmt_number(abs(x), kind)
    if _blank(x) or text == fmt_number(0.0, kind):
        return text
    return ("+" if x > 0 else "−") + text


def _plan_words(year: Any, mode: object, lang: str, merge_year: Any = None) -> str:
    if str(mode) == "merge" and not _blank(merge_year):
        return f"{int(merge_year)}年{labels.mode(mode, lang)}" if lang == "zh" else f"{int(merge_year)} merge"
    if _blank(year):
        return _t("stays", lang)
    if lang == "zh":
        return f"{int(year)}年{labels.mode(mode, lang)}"
    return f"{int(year)} {labels.mode(mode, lang)}".strip()


def _chinese_names(comp: Comparison) -> dict[str, str]:
    """Unit id → Chinese name, from either run's schedule (as the plan tables name units in Chinese)."""
    out: dict[str, str] = {}
    for run in (comp.a, comp.b):
        if "name_zh" not in run.schedule.columns:
            continue
        for uid, zh in zip(run.schedule["unit_id"], run.schedule["name_zh"], strict=True):
            if not _blank(zh) and str(zh).strip():
                out.setdefault(uid, str(zh))
    return out


def _comparison(w: _Writer, comp: Comparison, lang: str) -> None:
    """What differs from the compared run (A) to this plan (B)."""
    w.section(_t("s_compare", lang))
    other = comp.a
    w.para(_t("compared_with", lang).format(other=other.title(lang), folder=run_folder_name(other),
                                            status=labels.status(other.record.get("status"), lang)))
    kinds = {"objective": "decimal1", "jobs": "persons", "fiscal": "decimal1", "units_exiting": "count"}
    rows = [[(labels.text(f.figure, lang), False), (fmt_number(f.a, kinds[f.figure]), True),
             (fmt_number(f.b, kinds[f.figure]), True), (_signed(f.change, kinds[f.figure]), True)]
            for f in comp.figures.itertuples()]
    w.table(_t("t_cmp_figures", lang), [_t("figure_col", lang), _t("other_col", lang), _t("this_col", lang),
                                        _t("change_col", lang)], rows)
    if comp.same:
        w.para(_t("same_plan", lang))
        return
    if comp.units.empty:
        w.para(_t("units_same", lang))
    else:
        heads = [labels.header("unit_id", lang), labels.header("name", lang), labels.header("product", lang),
                 labels.header("capacity", lang), _t("other_col", lang), _t("this_col", lang), _t("change_col", lang)]
        names = _chinese_names(comp) if lang == "zh" else {}
        rows = [[(str(u.unit_id), False), (names.get(u.unit_id) or str(u.name), False),
                 (labels.product(u.product, lang), False),
                 (fmt_number(u.capacity, "capacity"), True),
                 (_plan_words(u.year_a, u.mode_a, lang, u.merge_year_a), False),
                 (_plan_words(u.year_b, u.mode_b, lang, u.merge_year_b), False), (_pick(CHANGES[u.change], lang), False)]
                for u in comp.units.itertuples()]
        w.table(_t("t_cmp_units", lang), heads, rows)
    if comp.rules.empty:
        w.para(_t("rules_same", lang))
    else:
        heads = [labels.header(c, lang) for c in ("rule", "name", "year", "product")] + [_t("change_col", lang)]
        names = comp.b.names
        names.rules = {**comp.a.names.rules, **names.rules}  # a rule may bind in the compared run only
        rows = [[(labels.rule(r.rule, lang), False), (names.rule(r.rule, r.name, lang, product=r.product), False),
                 ("" if _blank(r.year) else str(int(r.year)), False), (labels.product(r.product, lang), False),
                 (_t("binds_other" if r.binding_a else "binds_this", lang), False)]
                for r in comp.rules.itertuples()]
        w.table(_t("t_cmp_rules", lang), heads, rows)


def write_docx(run: Run, charts: list[Chart], chart_folder: Path, path: Path, lang: str,
               note: str | None = None, comparison: Comparison | None = None) -> Path:
    """Write briefing.docx for ``run`` in ``lang`` at ``path``; ``comparison`` (compared run as A,
    this run as B) adds its last section."""
    w = _Writer(lang)
    status = labels.status(run.record.get("status"), lang)
    w.title(labels.text("title", lang), _t("subtitle", lang).format(scenario=run.title(lang), status=status))
    _headline(w, run, lang)
    _plan(w, run, lang)
    _units(w, run, lang)
    _binding(w, run, lang)
    _charts(w, charts, chart_folder, lang, note)
    _regret(w, run, lang)
    if comparison is not None:
        _comparison(w, comparison, lang)
    w.para(f"{labels.text('source', lang)}: {run_folder_name(run)}")
    w.doc.core_properties.title = f"{labels.text('title', lang)}: {run.title(lang)}"
    w.doc.core_properties.language = "zh-CN" if lang == "zh" else "en-GB"
    w.doc.save(str(path))
    return path
