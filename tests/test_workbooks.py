"""Tables straight from Excel workbooks, the fill-in template, and paths with spaces and Chinese.

Workbooks are written here the way analysts' files look: with openpyxl (Chinese headers and
values, 是/否, numbers typed as text, a merged header cell, formatted empty rows at the end)
and, for a formula with a stored result, with xlsxwriter (openpyxl stores formulas without
results, exactly like a workbook that was never calculated).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from openpyxl.styles import PatternFill
from typer.testing import CliRunner

from conftest import GANSU, to_toml
from exitopt.cli import app
from exitopt.inputs import load
from exitopt.tables import PROJECT_COLUMNS, UNIT_COLUMNS, read_projects, read_units
from exitopt.workbook_input import cell_text, read_sheet, split_sheet, uncalculated

REPO = Path(__file__).resolve().parents[1]

#: three coal mines (Excel rows 2–4). At least 140 万吨 must exit by 2018; jobs are the only
#: cost, so the cheapest set is 乙 and 丙 (80 + 60 万吨, 30 + 40 workers): objective 70.
HEADER = ["unit_id", "name", "name_zh", "sector", "kind", "product", "capacity", "firm", "region", "workers",
          "protected_area", "relocatable", "source", "备注"]
ROWS = [
    ["M1", "Mine one", "一号煤矿", "coal", "coal_mine", "coal", 100, "甲公司", "平凉", 50, "否", "否", "synthetic", "大型"],
    ["M2", "Mine two", "二号煤矿", "coal", "coal_mine", "coal", "80", "乙公司", "庆阳", "30", "否", "是", "synthetic", ""],
    ["M3", "Mine three", "三号煤矿", "coal", "coal_mine", "coal", 60.0, "丙公司", "白银", 40, "是", "否", "synthetic",
     "保护区内"],
]
#: the same table as a CSV file would hold it
CSV_ROWS = [["M1", "Mine one", "一号煤矿", "coal", "coal_mine", "coal", "100", "甲公司", "平凉", "50", "false", "false",
             "synthetic", "大型"],
            ["M2", "Mine two", "二号煤矿", "coal", "coal_mine", "coal", "80", "乙公司", "庆阳", "30", "false", "true",
             "synthetic", ""],
            ["M3", "Mine three", "三号煤矿", "coal", "coal_mine", "coal", "60", "丙公司", "白银", "40", "true", "false",
             "synthetic", "保护区内"]]
OPTIMUM = 70.0


def scenario(units: str, **extra) -> str:
    data = {"name": "三矿", "units": units, "first_year": 2016, "last_year": 2018,
            "targets": [{"name": "煤炭退出", "product": "coal", "by": 2018, "at_least": 140.0}],
            "solver": {"rel_gap": 0.0, "time_limit": 60.0, "threads": 1}}
    data.update(extra)
    return to_toml(data)


def write_book(path: Path, sheets: dict[str, list[list]], *, merged_header: bool = False,
               blank_tail: int = 0, hidden: tuple[str, ...] = ()) -> Path:
    """Write sheets of rows with openpyxl; optionally a merged header cell over a column left
    empty, and formatted empty rows after the table (as Excel leaves them)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if merged_header:
            last = len(rows[0])
            ws.cell(1, last + 1).value = None
            ws.merge_cells(start_row=1, start_column=last, end_row=1, end_column=last + 1)
        fill = PatternFill("solid", fgColor="FFFF00")
        for i in range(blank_tail):
            for j in range(1, len(rows[0]) + 1):
                ws.cell(len(rows) + 1 + i, j).fill = fill
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def solved_objective(scenario_path: Path, out: Path) -> float:
    res = run("solve", scenario_path, "--out", out)
    assert res.exit_code == 0, res.output
    return json.loads((out / "run.json").read_text(encoding="utf-8"))["objective"]


@pytest.fixture
def both(tmp_path) -> tuple[Path, Path]:
    """The three mines as units.csv and as sheet 单位表 of 单位.xlsx (after a hidden first sheet), each
    with its scenario."""
    csv_dir, book_dir = tmp_path / "csv", tmp_path / "book"
    csv_dir.mkdir()
    book_dir.mkdir()
    pd.DataFrame(CSV_ROWS, columns=HEADER).to_csv(csv_dir / "units.csv", index=False, encoding="utf-8-sig")
    (csv_dir / "scenario.toml").write_text(scenario("units.csv"), encoding="utf-8")
    write_book(book_dir / "单位.xlsx", {"封面": [["甘肃省去产能单位表"]], "单位表": [HEADER, *ROWS]},
               merged_header=True, blank_tail=2)
    (book_dir / "scenario.toml").write_text(scenario("单位.xlsx#单位表"), encoding="utf-8")
    return csv_dir / "scenario.toml", book_dir / "scenario.toml"


def test_workbook_gives_the_csv_table_and_the_same_optimum(both, tmp_path):
    csv_scen, book_scen = both
    from_csv, from_book = load(csv_scen), load(book_scen)
    pd.testing.assert_frame_equal(from_csv.units, from_book.units)
    sheet = read_sheet(book_scen.parent / "单位.xlsx#单位表")
    assert sheet.name == "单位表" and sheet.rows == [2, 3, 4]  # the formatted empty rows dropped
    assert list(sheet.frame.columns) == HEADER  # the merged cell's second column had nothing: dropped
    assert from_book.units.loc["M2", "relocatable"] and from_book.units.loc["M3", "protected_area"]  # 是
    assert from_book.units.loc["M2", "capacity"] == 80.0  # typed as text
    assert list(from_book.units["备注"].fillna("")) == ["大型", "", "保护区内"]  # kept, as in CSV
    csv_obj = solved_objective(csv_scen, tmp_path / "run_csv")
    book_obj = solved_objective(book_scen, tmp_path / "run_book")
    assert csv_obj == pytest.approx(OPTIMUM, abs=1e-6)  # by hand: 乙 and 丙 exit, 30 + 40 workers
    assert book_obj == pytest.approx(OPTIMUM, abs=1e-6)
    schedule = pd.read_csv(tmp_path / "run_book" / "schedule.csv", encoding="utf-8-sig")
    assert set(schedule.loc[schedule["exit_year"].notna(), "unit_id"]) == {"M2", "M3"}
    record = json.loads((tmp_path / "run_book" / "run.json").read_text(encoding="utf-8"))
    assert len(record["sha256"]["units"]) == 64  # the workbook's hash, sheet name aside


def test_a_damaged_or_renamed_workbook(tmp_path):
    (tmp_path / "u.xlsx").write_text("unit_id,name\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text(scenario("u.xlsx"), encoding="utf-8")
    res = run("validate", tmp_path / "s.toml")
    assert res.exit_code == 2 and "cannot be read as an Excel workbook" in flat(res.output)
    write_book(tmp_path / "units.csv", {"units": [HEADER, *ROWS]})  # a workbook saved under a CSV name
    assert list(read_units(tmp_path / "units.csv").index) == ["M1", "M2", "M3"]


def test_first_visible_sheet_is_read_without_a_name(tmp_path):
    book = write_book(tmp_path / "u.xlsx", {"old": [["x"]], "units": [HEADER, *ROWS]}, hidden=("old",))
    assert list(read_units(book).index) == ["M1", "M2", "M3"]


def test_unknown_sheet_is_refused_with_the_sheets_it_has(both):
    _, book_scen = both
    book_scen.write_text(scenario("单位.xlsx#units"), encoding="utf-8")
    res = run("validate", book_scen)
    assert res.exit_code == 2
    assert all(s in flat(res.output) for s in ("单位.xlsx", "no sheet named 'units'", "封面", "单位表"))
    assert "Traceback" not in res.output


def test_bad_cell_names_the_excel_row(tmp_path):
    rows = [HEADER, *ROWS]
    rows[3] = [*rows[3]]
    rows[3][6] = "六十"  # M3's capacity, Excel row 4
    book = write_book(tmp_path / "u.xlsx", {"units": rows}, blank_tail=3)
    (tmp_path / "s.toml").write_text(scenario("u.xlsx"), encoding="utf-8")
    res = run("validate", tmp_path / "s.toml")
    assert res.exit_code == 2
    assert "u.xlsx: row 4 (M3), column 'capacity': '六十' is not a number." in flat(res.output)
    assert book.exists()


def test_plan_and_pins_from_workbooks_number_rows_as_excel(both, tmp_path):
    _, book_scen = both
    # a blank row 3 in the middle does not shift the numbering of row 5
    plan = write_book(tmp_path / "plan.xlsx", {"方案": [["unit_id", "exit_year", "mode"], ["M2", "2017", "close"],
                                                         [None, None, None], ["M3", 2018, None],
                                                         ["M1", "2030", None]]})
    res = run("check", book_scen, plan)
    assert res.exit_code == 2
    assert "plan.xlsx: row 5 (unit M1), column 'exit_year': '2030' is outside the plan 2016–2018" in flat(res.output)
    pins = write_book(tmp_path / "pins.xlsx", {"pins": [["unit_id", "action", "year"], ["M1", "keep", None],
                                                       ["M2", "leave", 2017]]})
    res = run("solve", book_scen, "--pins", pins, "--out", tmp_path / "run")
    assert res.exit_code == 2
    assert "pins.xlsx: row 3 (M2), column 'action': 'leave' is neither keep nor exit" in flat(res.output)
    assert not (tmp_path / "run").exists()


def test_a_good_plan_from_a_workbook_is_checked_and_priced(both, tmp_path):
    _, book_scen = both
    plan = write_book(tmp_path / "plan.xlsx", {"plan": [["unit_id", "exit_year", "mode", "indicator"],
                                                        ["M2", 2017, "close", 0], ["M3", "2016", "", ""]]},
                      blank_tail=2)
    res = run("check", book_scen, f"{plan}#plan")
    assert res.exit_code == 0, res.output
    assert "Objective: 70" in res.output


def test_formula_with_a_stored_result_is_read_as_that_value(tmp_path):
    book = xlsxwriter.Workbook(tmp_path / "u.xlsx")
    ws = book.add_worksheet("units")
    ws.write_row(0, 0, HEADER)
    for i, row in enumerate(ROWS, start=1):
        ws.write_row(i, 0, row)
    ws.write_formula(3, 6, "=30*2", None, 60)  # M3's capacity, calculated by Excel as 60
    ws.write_formula(3, 9, "=SUM(J2:J3)-40", None, 40)
    book.close()
    units = read_units(tmp_path / "u.xlsx")
    assert units.loc["M3", "capacity"] == 60.0 and units.loc["M3", "workers"] == 40


def test_formula_never_calculated_is_refused(tmp_path):
    rows = [HEADER, *ROWS]
    rows[3] = [*rows[3]]
    rows[3][6] = "=30*2"  # openpyxl stores the formula without a result
    write_book(tmp_path / "u.xlsx", {"units": rows})
    (tmp_path / "s.toml").write_text(scenario("u.xlsx"), encoding="utf-8")
    res = run("validate", tmp_path / "s.toml")
    assert res.exit_code == 2
    text = flat(res.output)
    assert "u.xlsx: sheet 'units' has formulas that were never calculated (cell G4)" in text
    assert "save it" in text and "Traceback" not in res.output


def test_formulas_without_results_are_found_in_the_sheet_xml():
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def sheet(*cells: str) -> bytes:
        return f'<worksheet {main}><sheetData><row r="2">{"".join(cells)}</row></sheetData></worksheet>'.encode()

    assert uncalculated(sheet('<c r="A2"><v>1</v></c>')) == []
    assert uncalculated(sheet('<c r="A2"><f>1+1</f><v>2</v></c>',  # as Excel stores results
                              '<c r="B2" t="str"><f>IF(A2=2,"",A2)</f><v></v></c>',  # empty text
                              '<c r="C2"><f t="shared" si="0"/><v>3</v></c>')) == []
    assert uncalculated(sheet('<c r="A2"><f>1+1</f><v/></c>',  # as openpyxl writes a formula
                              '<c r="B2"><f>1+2</f></c>', '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')) == ["A2", "B2"]


def test_cells_become_the_text_excel_shows():
    import datetime as dt

    assert [cell_text(v) for v in (None, 120, 120.0, 1.5, True, False, "1,200", " 30 ")] == \
        ["", "120", "120", "1.5", "true", "false", "1,200", " 30 "]
    assert cell_text(dt.datetime(2017, 6, 30)) == "2017-06-30"
    assert cell_text(dt.datetime(2017, 6, 30, 8, 15)) == "2017-06-30 08:15:00"


def test_a_date_in_a_year_column_is_refused_plainly(tmp_path):
    import datetime as dt

    rows = [[*HEADER, "accident", "accident_year"], *[[*r, "none", None] for r in ROWS]]
    rows[1][-2:] = ["major", dt.datetime(2015, 6, 12)]
    write_book(tmp_path / "u.xlsx", {"units": rows})
    with pytest.raises(Exception, match=r"row 2 \(M1\), column 'accident_year': '2015-06-12' is not a number"):
        read_units(tmp_path / "u.xlsx")
    rows[1][-1] = "2015"  # a year typed as text
    write_book(tmp_path / "u.xlsx", {"units": rows})
    assert read_units(tmp_path / "u.xlsx").loc["M1", "accident_year"] == 2015


def test_sheet_paths_split_only_after_a_workbook_name(tmp_path):
    assert split_sheet(tmp_path / "a.xlsx#Sheet 1") == (tmp_path / "a.xlsx", "Sheet 1")
    assert split_sheet(tmp_path / "a#b.csv") == (tmp_path / "a#b.csv", None)
    (tmp_path / "x#y.xlsx").write_bytes(b"")
    assert split_sheet(tmp_path / "x#y.xlsx") == (tmp_path / "x#y.xlsx", None)


# ---- the template -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "模板 template.xlsx"
    res = run("template", "--out", path)
    assert res.exit_code == 0, res.output
    return path


def test_template_sheets_columns_lists_and_header(template):
    sheets = {name: read_sheet(f"{template}#{name}") for name in ("units", "projects", "pins", "plan", "approvals")}
    assert list(sheets["units"].frame.columns) == list(UNIT_COLUMNS)
    assert set(sheets["projects"].frame.columns) == set(PROJECT_COLUMNS) - {"sector"}
    assert list(sheets["pins"].frame.columns) == ["unit_id", "action", "year"]
    assert list(sheets["plan"].frame.columns) == ["unit_id", "exit_year", "mode", "indicator"]
    assert all(s.frame.empty for s in sheets.values())
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[0] == "units" and "说明 instructions" in wb.sheetnames
    ws = wb["units"]
    assert ws.freeze_panes == "B2"
    col = {c.value.split("\n")[0]: c.column_letter for c in ws[1]}
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation
             if dv.type == "list"}
    assert lists[f"{col['sector']}2"] == '"coal,steel,cement"'
    assert lists[f"{col['accident']}2"] == '"none,general,large,major,extraordinary"'
    assert lists[f"{col['relocatable']}2"] == '"true,false,是,否"'
    assert {f"{col[c]}2" for c in ("kind", "product", "owner", "source")} <= set(lists)
    assert "万吨/年" in ws[f"{col['capacity']}1"].value and "万吨/yr" in ws[f"{col['capacity']}1"].comment.text
    assert ws.column_dimensions[col["accident_year"]].number_format == "0"
    text = " ".join(str(c.value) for row in wb["说明 instructions"].iter_rows() for c in row if c.value)
    assert "填写方法" in text and "How to fill in" in text and "#units" in text
    # the steps name the workbook by the name it was written under
    assert f'units = "{template.name}#units"' in text and "模板.xlsx#" not in text and '"template.xlsx#' not in text


def test_template_example_sheets_are_the_gansu_tables_and_solve_alike(template, gansu_result, tmp_path):
    pd.testing.assert_frame_equal(read_units(f"{template}#example_units"), read_units(REPO / "data/gansu/units.csv"))
    # the CSV writes 500.0 where Excel stores 500: the same values, though pandas types them apart
    pd.testing.assert_frame_equal(read_projects(f"{template}#example_projects"),
                                  read_projects(REPO / "data/gansu/projects.csv"), check_dtype=False)
    text = GANSU.read_text(encoding="utf-8")
    text = text.replace('"../data/gansu/units.csv"', json.dumps(f"{template.name}#example_units", ensure_ascii=False))
    text = text.replace('"../data/gansu/projects.csv"',
                        json.dumps(f"{template.name}#example_projects", ensure_ascii=False))
    scen = template.parent / "甘肃 2016.toml"
    scen.write_text(text, encoding="utf-8")
    assert solved_objective(scen, tmp_path / "run") == pytest.approx(gansu_result.objective, rel=1e-9)


def test_template_sheet_saved_as_csv_keeps_its_labelled_header(template, tmp_path):
    ws = openpyxl.load_workbook(template, read_only=True)["example_units"]
    rows = [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]
    assert rows[0][6] == "capacity\n产能 · 万吨/年"
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(tmp_path / "units.csv", index=False, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(read_units(tmp_path / "units.csv"), read_units(REPO / "data/gansu/units.csv"))


def test_filled_template_validates_and_solves(template, tmp_path):
    wb = openpyxl.load_workbook(template)
    ws = wb["units"]
    col = {c.value.split("\n")[0]: c.column for c in ws[1]}
    for i, row in enumerate(CSV_ROWS, start=2):
        for name, value in zip(HEADER, row, strict=False):
            if name in col and value != "":
                ws.cell(i, col[name]).value = value
    wb.save(tmp_path / "filled.xlsx")
    (tmp_path / "s.toml").write_text(scenario("filled.xlsx#units"), encoding="utf-8")
    assert run("validate", tmp_path / "s.toml").exit_code == 0
    assert solved_objective(tmp_path / "s.toml", tmp_path / "run") == pytest.approx(OPTIMUM, abs=1e-6)


def test_template_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"mine")
    res = run("template", "--out", path)
    assert res.exit_code == 5 and "--force" in flat(res.output)
    assert path.read_bytes() == b"mine"
    assert run("template", "--out", path, "--force").exit_code == 0
    assert openpyxl.load_workbook(path, read_only=True).sheetnames[0] == "units"
    assert run("template", "--out", tmp_path / "t.csv").exit_code == 5
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]  # nothing half-written left behind


# ---- paths with spaces and Chinese ----------------------------------------------------------------

def test_paths_with_spaces_and_chinese_work_end_to_end(tmp_path, monkeypatch):
    folder = tmp_path / "甘肃 方案"
    folder.mkdir()
    write_book(folder / "单位 表.xlsx", {"单位表": [HEADER, *ROWS]})
    pd.DataFrame(CSV_ROWS, columns=HEADER).to_csv(folder / "单位 表.csv", index=False)
    for name, units in (("情景.toml", "单位 表.xlsx#单位表"), ("情景 csv.toml", "单位 表.csv")):
        scen = folder / name
        scen.write_text(scenario(units), encoding="utf-8")
        assert run("validate", scen).exit_code == 0
        out = tmp_path / "输出 结果" / scen.stem
        assert solved_objective(scen, out) == pytest.approx(OPTIMUM, abs=1e-6)
        res = run("check", scen, out / "schedule.csv")
        assert res.exit_code == 0, res.output
    res = run("report", out, "--lang", "zh", "--out", tmp_path / "简报 zh")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "简报 zh" / "briefing.html").is_file()
    monkeypatch.chdir(tmp_path)  # relative paths, and the default run folder named after the scenario
    res = run("solve", Path("甘肃 方案") / "情景.toml")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "情景" / "run.json").read_text(encoding="utf-8"))["objective"] == \
        pytest.approx(OPTIMUM, abs=1e-6)


# ---- workbooks that cannot lie or blow up ---------------------------------------------------------

ENTRY = [sys.executable, "-c", "from exitopt.cli import main; main()"]


def cli(*args, timeout: float = 120) -> tuple[int, str]:
    """Run exitopt as the analyst does, in its own process; (exit code, stdout + stderr in one line)."""
    done = subprocess.run([*ENTRY, *(str(a) for a in args)], capture_output=True, text=True, timeout=timeout,
                          encoding="utf-8")
    return done.returncode, flat(done.stdout + " " + done.stderr)


def refused_cli(*args, words: tuple[str, ...]) -> str:
    code, text = cli(*args)
    assert code == 2, text
    assert "Traceback" not in text and "internal error" not in text, text
    for w in words:
        assert w in text, f"{w!r} not in: {text}"
    return text


def rewrite_part(book: Path, out: Path, part: str, change) -> Path:
    """A copy of ``book`` with one part's XML changed by ``change(bytes) -> bytes``."""
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item.filename, change(data) if item.filename == part else data)
    return out


SHEET1 = "xl/worksheets/sheet1.xml"


def three_mines_book(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_book(folder / "plain.xlsx", {"units": [HEADER, *ROWS]})


def with_cell(ref: str, row: int):
    """Add one text cell at ``ref`` (in row ``row``) after the sheet's rows."""
    return lambda xml: xml.replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t>'
                                                    f'</is></c></row></sheetData>'.encode())


def test_rows_beyond_the_stored_extent_are_read(tmp_path):
    book = three_mines_book(tmp_path)
    stale = rewrite_part(book, tmp_path / "stale.xlsx", SHEET1,
                         lambda xml: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:N2"/>', xml))
    assert b'ref="A1:N2"' in zipfile.ZipFile(stale).read(SHEET1)
    assert list(read_units(stale).index) == ["M1", "M2", "M3"]
    (tmp_path / "scenario.toml").write_text(scenario("stale.xlsx"), encoding="utf-8")
    code, text = cli("validate", tmp_path / "scenario.toml")
    assert code == 0 and "Traceback" not in text, text


@pytest.mark.parametrize("ref, row, words", [
    ("XFD1048576", 1048576, ("cell XFD1048576", "at most 100,000 rows")),
    ("XFD5", 5, ("cell XFD5", "at most 1,000 columns")),
    ("ALL99999", 99999, ("cell ALL99999", "more than the 5,000,000 a table may have")),
])
def test_a_value_far_beyond_the_table_is_refused_before_the_cells_are_read(tmp_path, ref, row, words):
    far = rewrite_part(three_mines_book(tmp_path), tmp_path / "far.xlsx", SHEET1, with_cell(ref, row))
    (tmp_path / "scenario.toml").write_text(scenario("far.xlsx"), encoding="utf-8")
    refused_cli("validate", tmp_path / "scenario.toml", words=(str(far), "sheet 'units'", *words))


def declare_size(book: Path, part: str, size: int) -> None:
    """Make the zip directory of ``book`` declare ``size`` bytes unpacked for ``part`` (the data stays)."""
    data = bytearray(book.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        name = bytes(data[at + 46:at + 46 + name_len]).decode()
        if name == part:
            data[at + 24:at + 28] = size.to_bytes(4, "little")
            book.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{part} not in {book}")


def test_a_workbook_declaring_more_than_it_may_unpack_is_refused_before_unpacking(tmp_path):
    book = three_mines_book(tmp_path)
    declare_size(book, SHEET1, 1536 * 2**20)  # 1.5 GiB, as a whitespace-filled sheet declares
    assert zipfile.ZipFile(book).getinfo(SHEET1).file_size == 1536 * 2**20
    (tmp_path / "scenario.toml").write_text(scenario("plain.xlsx"), encoding="utf-8")
    refused_cli("validate", tmp_path / "scenario.toml",
                words=(str(book), "would unpack to 1,536 MB", "more than the 256 MB"))


def test_a_sheet_padded_with_blank_space_is_refused_by_its_packing_ratio(tmp_path):
    book = rewrite_part(three_mines_book(tmp_path), tmp_path / "blank.xlsx", SHEET1,
                        lambda xml: xml.replace(b"</sheetData>", b"</sheetData>" + b" " * (20 * 2**20)))
    info = zipfile.ZipFile(book).getinfo(SHEET1)
    assert info.file_size > 100 * info.compress_size
    (tmp_path / "scenario.toml").write_text(scenario("blank.xlsx"), encoding="utf-8")
    refused_cli("validate", tmp_path / "scenario.toml", words=(str(book), SHEET1, "more than the 100 times"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("name", ["units.xlsx", "units.csv", "units.xlsx#units"])
def test_a_pipe_given_as_the_unit_table_is_refused_without_opening_it(tmp_path, name):
    os.mkfifo(tmp_path / name.split("#")[0])
    (tmp_path / "scenario.toml").write_text(scenario(name), encoding="utf-8")
    refused_cli("validate", tmp_path / "scenario.toml", words=("not an ordinary file",))


@pytest.mark.parametrize("column, value, words", [
    ("unit_id", "M\nX", ("row 3", "column 'unit_id'", "'M\\nX'", "control character")),
    ("firm", "乙\t公司", ("row 3 (M2)", "column 'firm'", "control character '\\t'")),
    ("region", "庆阳\x7f", ("row 3 (M2)", "column 'region'", "U+007F")),
])
def test_control_characters_in_names_are_refused_in_workbooks_and_csv(tmp_path, column, value, words):
    rows = [list(r) for r in ROWS]
    rows[1][HEADER.index(column)] = value
    csv_rows = [list(r) for r in CSV_ROWS]
    csv_rows[1][HEADER.index(column)] = value
    write_book(tmp_path / "units.xlsx", {"units": [HEADER, *rows]})
    pd.DataFrame(csv_rows, columns=HEADER).to_csv(tmp_path / "units.csv", index=False, encoding="utf-8")
    for table in ("units.xlsx", "units.csv"):
        (tmp_path / "scenario.toml").write_text(scenario(table), encoding="utf-8")
        refused_cli("validate", tmp_path / "scenario.toml", words=(table, *words))


def test_a_nul_in_a_unit_id_is_refused_with_its_row(tmp_path):
    lines = [",".join(HEADER), *(",".join(r) for r in CSV_ROWS)]
    lines[2] = lines[2].replace("M2", "M\0" * 300 + "2", 1)
    (tmp_path / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "scenario.toml").write_text(scenario("units.csv"), encoding="utf-8")
    text = refused_cli("validate", tmp_path / "scenario.toml", words=("row 3", "column 'unit_id'", "'\\x00'",
                                                                     "(601 characters)"))
    assert "\0" not in text and len(text) < 600, text


def test_formatted_empty_cells_far_beyond_the_table_are_passed_over(tmp_path):
    book = rewrite_part(three_mines_book(tmp_path), tmp_path / "formatted.xlsx", SHEET1,
                        lambda xml: xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row>'
                                                                 b'</sheetData>'))
    assert list(read_units(book).index) == ["M1", "M2", "M3"]
