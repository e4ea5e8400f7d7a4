"""Workbooks that print: every sheet of briefing.xlsx and of the template prints on A4 landscape,
one page wide, with its header row on every page and a page header and footer; LibreOffice's PDF
of the Gansu briefing and of the template keeps every column of a sheet on one page wide."""

from __future__ import annotations

from pathlib import Path

import pytest

from office import exitopt as _exitopt, needs_office, page_text, pages, to_pdf


@pytest.fixture(scope="module")
def briefings(gansu_run, tmp_path_factory):
    """briefing.xlsx of the Gansu run in zh and en, made by `exitopt report`."""
    work = tmp_path_factory.mktemp("briefings")
    out = {}
    for lang in ("zh", "en"):
        _exitopt("report", gansu_run, "--lang", lang, "--out", work / lang, cwd=work)
        out[lang] = work / lang / "briefing.xlsx"
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    work = tmp_path_factory.mktemp("template")
    _exitopt("template", "--out", work / "exitopt_template.xlsx", cwd=work)
    return work / "exitopt_template.xlsx"


def _print_settings(ws) -> dict:
    ps = ws.page_setup
    return dict(orientation=ps.orientation, paper=str(ps.paperSize),
                fit=bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
                wide=1 if ps.fitToWidth is None else int(ps.fitToWidth),  # OOXML's default is 1
                tall=None if ps.fitToHeight is None else int(ps.fitToHeight),
                titles=ws.print_title_rows)


def _assert_prints_well(ws, header_words: list[str], footer_words: list[str]) -> None:
    s = _print_settings(ws)
    assert s["orientation"] == "landscape", (ws.title, s)
    assert s["paper"] == "9", (ws.title, s)  # A4
    assert s["fit"] and s["wide"] == 1 and s["tall"] == 0, (ws.title, s)  # one page wide, any number tall
    assert s["titles"] == "$1:$1", (ws.title, s)  # the header row on every page
    head = ws.oddHeader.left.text + ws.oddHeader.center.text + ws.oddHeader.right.text
    for w in header_words + ["&D"]:  # the print date
        assert w in head, (ws.title, head)
    foot = ws.oddFooter.center.text or ""
    for w in footer_words + ["&P", "&N"]:  # page n of N
        assert w in foot, (ws.title, foot)


@pytest.mark.parametrize("lang, page_word", [("zh", "页"), ("en", "Page")])
def test_every_briefing_sheet_prints_landscape_one_page_wide(briefings, gansu_run, lang, page_word):
    import json

    import openpyxl

    from exitopt.report import labels

    record = json.loads((gansu_run / "run.json").read_text(encoding="utf-8"))
    # the scenario by its Chinese name in Chinese
    scenario = record["names_zh"]["scenario"] if lang == "zh" else record["scenario"]
    wb = openpyxl.load_workbook(briefings[lang])
    assert len(wb.worksheets) == 5
    for ws in wb.worksheets:
        _assert_prints_well(ws, [scenario, labels.text("title", lang)], [page_word])


def test_every_template_sheet_prints_landscape_one_page_wide(template):
    import openpyxl

    wb = openpyxl.load_workbook(template)
    assert len(wb.worksheets) >= 8
    for ws in wb.worksheets:
        _assert_prints_well(ws, ["exitopt"], ["页", "page"])


def test_a_scenario_name_with_an_ampersand_is_printed_as_it_is():
    from exitopt.printing import MAX_HEADER, page_header

    assert page_header("A & B") == "&LA && B&C&A&R&D"
    long = page_header("x" * 400)
    assert len(long) <= MAX_HEADER and long.endswith("…&C&A&R&D")


def _page_of(pdf: Path, words: str) -> int:
    """The first page whose text holds ``words``."""
    for p in range(1, pages(pdf) + 1):
        if words in page_text(pdf, p):
            return p
    raise AssertionError(f"{words!r} is on no page of {pdf}")


@needs_office
def test_the_gansu_briefing_prints_on_few_pages_with_whole_rows(briefings, gansu_run, tmp_path):
    from exitopt.report import labels

    pdf = to_pdf(briefings["zh"], tmp_path)
    n = pages(pdf)
    assert 3 <= n <= 15, n  # 88 pages before the page set-up, one schedule column per page
    # the overview on one page: its first line and its last (the run folder) together
    first = page_text(pdf, 1)
    assert labels.text("title", "zh") in first and labels.text("source", "zh") in first
    # the schedule one page wide: its first page holds the headers of its first and last columns
    import pandas as pd

    cols = list(pd.read_csv(gansu_run / "schedule.csv", nrows=0, encoding="utf-8-sig").columns)
    p = _page_of(pdf, labels.header(cols[0], "zh", "schedule"))
    text = page_text(pdf, p)
    assert labels.header(cols[-1], "zh", "schedule") in text, cols[-1]
    # the page header and footer on every page
    for q in range(1, n + 1):
        t = page_text(pdf, q)
        assert "甘肃省工业领域去产能实施方案" in t and f"第 {q} 页" in t and f"共 {n} 页" in t, (q, t[:300])


@needs_office
def test_the_template_prints_every_column_of_a_sheet_on_its_first_page(template, tmp_path):
    from exitopt.template import SHEETS

    pdf = to_pdf(template, tmp_path)
    n = pages(pdf)
    assert n <= 20, n  # 99 pages before the page set-up
    first = page_text(pdf, 1)  # the units sheet: before, two header cells
    for col in SHEETS["units"]:
        assert col.name in first, col.name
