"""The Word briefing (`exitopt report --docx`): read back with python-docx, its headings, numbered
tables and figures, fonts and page; every figure of its tables equals the run's CSV files; the
comparison with another run; bad input refused with nothing written; LibreOffice opens it and
prints it on a reasonable number of pages with the title on the first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import write_scenario
from office import exitopt, needs_office, page_text, pages, to_pdf

CJK = re.compile(r"[\u4e00-\u9fff]")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# Three coal mines; the second run protects the cheapest, so their plans differ (see test_report).
TINY_UNITS = [dict(unit_id="00123", workers=10), dict(unit_id="B", workers=20), dict(unit_id="C", workers=30)]
TINY = {"attrition": 0.5, "objective": {"jobs_weight": 1.0, "fiscal_weight": 0.0},
        "targets": [{"name": "coal cut", "product": "coal", "by": 2018, "at_least": 100.0}],
        "caps": {"workers": [{"name": "labour market", "per_year": 5.0}]}}
PROTECT = {"protected": [{"name": "keep 00123", "where": {"all": [["unit_id", "==", "00123"]]}}]}


@pytest.fixture(scope="module")
def word(gansu_run, tmp_path_factory):
    """briefing.docx of the Gansu run in zh and in en, made by `exitopt report --docx`."""
    work = tmp_path_factory.mktemp("word")
    out = {}
    for lang in ("zh", "en"):
        done = exitopt("report", gansu_run, "--docx", "--lang", lang, "--out", work / lang, cwd=work)
        assert "briefing.docx" in done.stdout
        out[lang] = work / lang / "briefing.docx"
    return out


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("tiny")
    runs = []
    for name, extra in (("a", {}), ("b", PROTECT)):
        scenario = write_scenario(base / name, TINY_UNITS, {**TINY, **extra})
        exitopt("solve", scenario, "--out", base / f"run_{name}", cwd=base)
        runs.append(base / f"run_{name}")
    return tuple(runs)


def _body(doc) -> list:
    """The document's paragraphs and tables in their order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    return [Paragraph(el, doc) if el.tag == f"{W}p" else Table(el, doc)
            for el in doc.element.body if el.tag in (f"{W}p", f"{W}tbl")]


def _tables_by_caption(doc, label: str) -> dict[str, object]:
    """Each table by the caption paragraph just above it ("表3 …")."""
    from docx.table import Table

    out, caption = {}, None
    for block in _body(doc):
        if isinstance(block, Table):
            if caption is not None:
                out[caption] = block
            caption = None
        elif block.text.strip():
            caption = block.text.strip() if block.text.startswith(label) else None
    return out


def _rows(table) -> list[list[str]]:
    return [[c.text for c in r.cells] for r in table.rows]


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)


def _num(text: str) -> float | None:
    return float(text) if text != "" else None


# ---- structure -------------------------------------------------------------------------------

def test_chinese_briefing_has_title_numbered_sections_tables_and_figures(word, gansu_run):
    import docx

    from exitopt.report import labels

    doc = docx.Document(str(word["zh"]))
    paras = doc.paragraphs
    title = next(p for p in paras if p.style.name == "Title")
    assert title.text == labels.text("title", "zh")
    heads = [p.text for p in paras if p.style.name == "Heading 1"]
    assert [h[:2] for h in heads] == [f"{n}、" for n in "一二三四五"], heads
    for words in ("成效", "分年度", "退出单位", "约束", "图表"):
        assert any(words in h for h in heads), words
    # tables numbered 表1 … 表n in order, one caption per table
    captions = [p.text for p in paras if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("表")]
    assert [int(re.match(r"表(\d+)", c).group(1)) for c in tables] == list(range(1, len(doc.tables) + 1))
    # figures 图1 … 图n, one picture each: the charts of the report
    charts = sorted(p.name for p in word["zh"].parent.glob("*.png"))
    figures = [c for c in captions if c.startswith("图")]
    assert [int(re.match(r"图(\d+)", c).group(1)) for c in figures] == list(range(1, len(charts) + 1))
    assert len(doc.inline_shapes) == len(charts) == 4
    # every chart's picture is the report's PNG, byte for byte
    blobs = {r.target_part.blob for r in doc.part.rels.values() if "image" in r.reltype}
    assert blobs == {(word["zh"].parent / c).read_bytes() for c in charts}


def test_page_is_a4_with_fangsong_body_and_heiti_headings(word):
    import docx
    from docx.shared import Cm

    doc = docx.Document(str(word["zh"]))
    sec = doc.sections[0]
    assert abs(sec.page_width - Cm(21.0)) < Cm(0.05) and abs(sec.page_height - Cm(29.7)) < Cm(0.05)

    def east_asia(style: str) -> str | None:
        fonts = doc.styles[style].element.rPr.find(f"{W}rFonts")
        return fonts.get(f"{W}eastAsia")

    assert east_asia("Normal") == "仿宋"
    assert east_asia("Heading 1") == "黑体" and east_asia("Title") == "黑体"
    # the fallbacks in the font table, and a page number in the footer
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    table = next(r.target_part for r in doc.part.rels.values() if r.reltype == RT.FONT_TABLE).blob.decode()
    assert 'w:name="仿宋"><w:altName w:val="FangSong"' in table and 'w:altName w:val="SimHei"' in table
    assert "PAGE" in sec.footer._element.xml


def test_english_briefing_is_english(word):
    import docx

    from exitopt.report import labels

    doc = docx.Document(str(word["en"]))
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert [h.split(".")[0] for h in heads] == ["1", "2", "3", "4", "5"], heads
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions[0].startswith("Table 1") and any(c.startswith("Figure 1") for c in captions)
    assert next(p for p in doc.paragraphs if p.style.name == "Title").text == labels.text("title", "en")
    for text in heads + captions:
        assert not CJK.search(text), text


# ---- figures equal the CSVs -------------------------------------------------------------------

def test_headline_figures_equal_run_json(word, gansu_run):
    import docx

    record = json.loads((gansu_run / "run.json").read_text(encoding="utf-8"))
    doc = docx.Document(str(word["zh"]))
    table = _tables_by_caption(doc, "表")
    head = dict((r[0], r[1]) for r in _rows(next(t for c, t in table.items() if "主要结果" in c))[1:])
    assert head["分流职工合计(人)"] == f"{record['jobs']:,.0f}"
    assert head["财政支出现值(万元)"] == f"{record['fiscal']:,.1f}"
    assert head["目标值(万元当量)"] == f"{record['objective']:,.1f}"
    units = _csv(gansu_run / "schedule.csv")
    assert head["退出单位数"] == str((units["exit_year"] != "").sum())
    # the opening sentence says the same
    opening = next(p.text for p in doc.paragraphs if p.text.startswith("本方案"))
    assert f"{record['jobs']:,.0f}" in opening and f"{record['fiscal']:,.1f}" in opening


def test_every_exiting_unit_and_its_figures_equal_schedule_csv(word, gansu_run):
    import docx

    sched = _csv(gansu_run / "schedule.csv")
    exiting = sched[sched["exit_year"] != ""].set_index("unit_id")
    doc = docx.Document(str(word["zh"]))
    seen = {}
    for caption, t in _tables_by_caption(doc, "表").items():
        if "退出单位" not in caption:
            continue
        rows = _rows(t)
        assert rows[0][:2] == ["退出年份", "单位编号"]
        for r in rows[1:]:
            if r[1] in exiting.index:
                seen[r[1]] = r
    assert set(seen) == set(exiting.index)
    for uid, r in seen.items():
        u = exiting.loc[uid]
        assert r[0] == u["exit_year"]
        assert r[2] == (u["name_zh"] or u["name"])
        assert r[5] == f"{float(u['capacity']):,.1f}", uid
        assert r[6] == f"{float(u['workers_displaced']):,.0f}", uid
        assert r[7] == f"{float(u['outlay']):,.0f}", uid


def test_plan_by_year_and_product_equals_summary_csv(word, gansu_run):
    import docx

    from exitopt.report import labels

    summ = _csv(gansu_run / "summary.csv")
    doc = docx.Document(str(word["zh"]))
    t = next(t for c, t in _tables_by_caption(doc, "表").items() if "分年度、分产品" in c)
    rows = _rows(t)
    heads = rows[0]
    by_name = {labels.product(p, "zh"): p for p in summ["product"].unique()}
    years = sorted(summ["year"].unique())
    assert [r[0] for r in rows[1:-1]] == years
    for r in rows[1:-1]:
        for j, h in enumerate(heads):
            if h in by_name:
                cell = summ[(summ["year"] == r[0]) & (summ["product"] == by_name[h])]["exits"].iloc[0]
                assert r[j] == f"{float(cell):,.1f}", (r[0], h)
        g = summ[summ["year"] == r[0]]
        assert r[-2] == f"{g['workers_displaced'].astype(float).sum():,.0f}"
        assert r[-1] == f"{g['outlay'].astype(float).sum():,.0f}"
    assert rows[-1][0] == labels.text("total", "zh")


def test_binding_rules_table_lists_every_priced_rule_of_the_page(word, gansu_run):
    import docx

    from exitopt.report import read_run
    from exitopt.report.html import binding_rules

    doc = docx.Document(str(word["zh"]))
    t = next(t for c, t in _tables_by_caption(doc, "表").items() if "起约束作用" in c)
    names = [r[1] for r in _rows(t)[1:]]
    run = read_run(gansu_run)
    priced = binding_rules(run)["priced"]
    # named in Chinese: by the scenario's name_zh, which run.json holds by the English name
    assert names == [run.names.rules[e["name"]] for e in priced] and names
    constraints = _csv(gansu_run / "constraints.csv")
    for e in priced:
        # a rule's rows carry its name, or "<name>: <unit>" for one row per unit
        rows = constraints[(constraints["name"] == e["name"]) | constraints["name"].str.startswith(e["name"] + ": ")]
        assert not rows.empty, e["name"]


# ---- comparison, bad input, atomic -----------------------------------------------------------

def test_comparison_with_another_run_lists_the_units_that_differ(tiny_runs, tmp_path):
    import docx

    from exitopt.report import compare_runs

    a, b = tiny_runs
    exitopt("report", b, "--docx", "--compare", a, "--lang", "en", "--out", tmp_path / "rep", cwd=tmp_path)
    doc = docx.Document(str(tmp_path / "rep" / "briefing.docx"))
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads[-1].endswith("What differs from the compared run")
    tables = _tables_by_caption(doc, "Table")
    figures = _rows(next(t for c, t in tables.items() if "Headline figures compared" in c))
    comp = compare_runs(a, b)
    jobs = next(r for r in figures if r[0].startswith("Workers displaced"))
    row = comp.figures.set_index("figure").loc["jobs"]
    assert jobs[1:3] == [f"{row['a']:,.0f}", f"{row['b']:,.0f}"]
    assert jobs[3].lstrip("+−") == f"{abs(row['change']):,.0f}"
    units = _rows(next(t for c, t in tables.items() if "Units whose exit differs" in c))
    assert [r[0] for r in units[1:]] == list(comp.units["unit_id"]) and len(units) > 1
    assert "00123" in [r[0] for r in units[1:]]  # protected in this plan, so its exit changed


def test_compare_without_docx_is_refused_and_writes_nothing(tiny_runs, tmp_path):
    a, b = tiny_runs
    done = exitopt("report", b, "--compare", a, "--out", tmp_path / "rep", cwd=tmp_path, code=2)
    assert "--docx" in done.stderr and not (tmp_path / "rep").exists()


def test_a_bad_compared_run_is_named_and_nothing_is_written(tiny_runs, tmp_path):
    a, b = tiny_runs
    (tmp_path / "empty").mkdir()
    done = exitopt("report", b, "--docx", "--compare", tmp_path / "empty", "--out", tmp_path / "rep",
                   cwd=tmp_path, code=2)
    assert "schedule.csv" in done.stderr and not (tmp_path / "rep").exists()


def test_a_failing_word_briefing_leaves_no_folder(tiny_runs, tmp_path, monkeypatch):
    from exitopt.report import make_report, word

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(word, "write_docx", broken)
    from exitopt.errors import OutputError

    with pytest.raises(OutputError):
        make_report(tiny_runs[0], "zh", tmp_path / "rep", docx=True)
    assert not (tmp_path / "rep").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no staged folder left either


def test_without_docx_the_pack_is_as_before(tiny_runs, tmp_path):
    from exitopt.report import make_report

    rep = make_report(tiny_runs[0], "zh", tmp_path / "rep")
    assert "briefing.docx" not in rep.files and not (tmp_path / "rep" / "briefing.docx").exists()


# ---- LibreOffice --------------------------------------------------------------------------------

@needs_office
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_libreoffice_prints_it_on_a_reasonable_number_of_pages(word, lang, tmp_path):
    from exitopt.report import labels

    pdf = to_pdf(word[lang], tmp_path)
    n = pages(pdf)
    assert 4 <= n <= 25, n
    first = page_text(pdf, 1)
    assert labels.text("title", lang) in first.replace(" ", "") if lang == "zh" else labels.text("title", lang) in first
    # the scenario by its name_zh in Chinese
    scenario = "甘肃省工业领域去产能实施方案(2016年)" if lang == "zh" else "gansu_2016"
    assert scenario in (re.sub(r"\s", "", first) if lang == "zh" else first)
