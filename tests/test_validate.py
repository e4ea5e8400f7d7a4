"""`exitopt validate`: the Gansu scenario passes, and every kind of bad input is refused plainly.

Each bad case starts from a small valid unit table and scenario written into ``tmp_path`` and
breaks one thing. The command must exit with code 2 and one message that names the file and
the row (as Excel numbers it: the header is row 1) or the key, without a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.cli import app
from exitopt.inputs import load

REPO = Path(__file__).resolve().parents[1]
GANSU = REPO / "models" / "gansu_2016.toml"

COLUMNS = [
    "unit_id", "name", "name_zh", "sector", "kind", "product", "capacity", "firm", "group", "region",
    "workers", "owner", "protected_area", "loss_making", "subsidised_loss", "relocatable", "exit_years",
    "source",
]

#: five units, Excel rows 2–6: three coal mines, a blast furnace and a converter
UNITS = [
    ["M1", "Mine one", "一号煤矿", "coal", "coal_mine", "coal", "120", "Firm A", "Group A", "Pingliang",
     "800", "state", "false", "false", "0", "false", "", "synthetic"],
    ["M2", "Mine two", "二号煤矿", "coal", "coal_mine", "coal", "21", "Firm B", "", "Qingyang",
     "400", "private", "true", "true", "150", "false", "", "synthetic"],
    ["M3", "Mine three", "三号煤矿", "coal", "coal_mine", "coal", "9", "Firm C", "", "Baiyin",
     "200", "private", "false", "false", "0", "false", "2017-2018", "synthetic"],
    ["BF1", "Blast furnace one", "一号高炉", "steel", "blast_furnace", "pig_iron", "50", "Steel Co", "Steel Group",
     "Lanzhou", "700", "state", "false", "false", "0", "true", "", "plan"],
    ["CV1", "Converter one", "一号转炉", "steel", "converter", "crude_steel", "50", "Steel Co", "Steel Group",
     "Lanzhou", "600", "state", "false", "false", "0", "true", "", "plan"],
]
ROW = {row[0]: i + 2 for i, row in enumerate(UNITS)}  # unit id -> Excel row

SCENARIO = """\
name = "tiny"
units = "units.csv"
first_year = 2016
last_year = 2018

[[targets]]
name = "coal cut"
product = "coal"
by = 2018
at_least = 20.0

[[packages]]
name = "steel package"
relocate = { units = ["BF1", "CV1"] }

[[mandatory]]
name = "protected mines"
by = 2016
where = { all = [["sector", "==", "coal"], ["protected_area", "==", true]] }
"""

runner = CliRunner()


def units_csv(rows: list[list[str]] | None = None, columns: list[str] | None = None) -> str:
    """The unit table as CSV text (quoted where CSV needs it, as Excel writes it)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns or COLUMNS)
    w.writerows(UNITS if rows is None else rows)
    return buf.getvalue()


def with_cell(unit_id: str, column: str, value: str) -> list[list[str]]:
    """A copy of UNITS with one cell changed."""
    j = COLUMNS.index(column)
    return [[value if (r[0] == unit_id and k == j) else c for k, c in enumerate(r)] for r in UNITS]


def write_case(tmp_path: Path, *, units: str | bytes | None = None, scenario: str | None = None,
               encoding: str = "utf-8", units_name: str = "units.csv") -> Path:
    """Write a scenario and its unit table into tmp_path; return the scenario path."""
    data = units_csv() if units is None else units
    target = tmp_path / units_name
    if isinstance(data, bytes):
        target.write_bytes(data)
    else:
        target.write_bytes(data.encode(encoding))
    path = tmp_path / "scenario.toml"
    path.write_text(scenario if scenario is not None else SCENARIO, encoding="utf-8")
    return path


def validate(path: Path) -> tuple[int, str]:
    """Run `exitopt validate path`; return (exit code, everything printed, on one line)."""
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    text = res.output + (res.stderr if res.stderr_bytes is not None and res.stderr not in res.output else "")
    return res.exit_code, " ".join(text.split())


def refused(path: Path, *words: str) -> str:
    """Assert exit code 2, no traceback, and every word in the message; return the message."""
    code, text = validate(path)
    assert code == 2, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert "error:" in text, text
    for w in words:
        assert w in text, f"{w!r} not in: {text}"
    return text


# ---------------------------------------------------------------------------------------------
# Valid inputs


def test_gansu_validates_and_prints_the_units_summary():
    code, text = validate(GANSU)
    assert code == 0, text
    # Unit counts and capacities straight from the unit table, independent of the command.
    import pandas as pd

    table = pd.read_csv(REPO / "data" / "gansu" / "units.csv")
    coal = table[table["product"] == "coal"]
    assert f"{len(coal)}" in text and f"{coal['capacity'].sum():,.0f}" in text
    assert f"{int(coal['workers'].sum()):,}" in text
    for product in ("coal", "pig_iron", "crude_steel", "rolled_steel", "clinker", "cement"):
        assert product in text
    assert "2016–2020" in text and "valid" in text
    # whole numbers print without a trailing ".0"
    assert not re.search(r"\d\.0\b", text), text


def test_small_case_is_valid(tmp_path):
    code, text = validate(write_case(tmp_path))
    assert code == 0, text
    assert "valid" in text


def test_gbk_csv_from_excel_is_read_with_its_chinese_names(tmp_path):
    path = write_case(tmp_path, encoding="gb18030")
    raw = (tmp_path / "units.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the file really is not UTF-8
    code, text = validate(path)
    assert code == 0, text
    inst = load(path)
    assert inst.units.at["M1", "name_zh"] == "一号煤矿"
    assert inst.units.at["BF1", "name_zh"] == "一号高炉"


def test_gbk_csv_with_characters_outside_gb2312(tmp_path):
    rows = with_cell("M1", "name_zh", "甘肃靖远煤电股份有限责任公司大水头煤矿")
    path = write_case(tmp_path, units=units_csv(rows), encoding="gbk")
    assert load(path).units.at["M1", "name_zh"] == "甘肃靖远煤电股份有限责任公司大水头煤矿"


def test_utf8_bom_csv_is_read(tmp_path):
    path = write_case(tmp_path, encoding="utf-8-sig")
    assert (tmp_path / "units.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    code, text = validate(path)
    assert code == 0, text
    inst = load(path)
    assert "unit_id" in inst.units.columns
    assert list(inst.units.index) == [r[0] for r in UNITS]
    assert inst.units.at["M2", "name_zh"] == "二号煤矿"


def test_thousands_separator_is_read_as_a_number(tmp_path):
    path = write_case(tmp_path, units=units_csv(with_cell("M1", "capacity", "1,200")))
    text = (tmp_path / "units.csv").read_text(encoding="utf-8")
    assert '"1,200"' in text  # quoted, as Excel saves it
    code, out = validate(path)
    assert code == 0, out
    assert load(path).units.at["M1", "capacity"] == 1200.0


def test_decimal_comma_is_refused_not_misread(tmp_path):
    # "1,5" is 1.5 written with a decimal comma, not 15: refuse rather than guess.
    path = write_case(tmp_path, units=units_csv(with_cell("M3", "capacity", "1,5")))
    refused(path, "units.csv", f"row {ROW['M3']}", "capacity", "1,5")


# ---------------------------------------------------------------------------------------------
# Bad scenario files


def test_toml_syntax_error_names_the_line(tmp_path):
    bad = SCENARIO.replace('by = 2018\n', 'by = = 2018\n', 1)
    line = bad.splitlines().index("by = = 2018") + 1
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", f"line {line}")


def test_unknown_top_level_key(tmp_path):
    bad = SCENARIO.replace("[[targets]]", "[[targts]]")
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "targts", "unknown key")


def test_misspelt_key_inside_a_target(tmp_path):
    bad = SCENARIO.replace("at_least = 20.0", "at_leest = 20.0")
    text = refused(write_case(tmp_path, scenario=bad), "scenario.toml", "at_leest", "unknown key")
    assert "coal cut" in text  # the target is named, not only numbered


def test_wrong_type_for_a_number(tmp_path):
    bad = SCENARIO.replace("at_least = 20.0", 'at_least = "lots"')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "at_least", "lots", "number")


def test_last_year_before_first_year(tmp_path):
    bad = SCENARIO.replace("last_year = 2018", "last_year = 2015").replace("by = 2018", "by = 2015")
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "last_year", "2015", "first_year", "2016")


def test_rule_year_outside_the_plan(tmp_path):
    bad = SCENARIO.replace("by = 2016", "by = 2025")
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "protected mines", "2025", "2016–2018")


def test_missing_units_file(tmp_path):
    path = write_case(tmp_path)
    (tmp_path / "units.csv").unlink()
    refused(path, "units.csv", "not found")


def test_package_names_an_unknown_unit(tmp_path):
    bad = SCENARIO.replace('["BF1", "CV1"]', '["BF1", "CV9"]')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "steel package", "CV9")


def test_mandatory_rule_names_an_unknown_unit(tmp_path):
    bad = SCENARIO.replace('where = { all = [["sector", "==", "coal"], ["protected_area", "==", true]] }',
                           'where = { units = ["M9"] }')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "protected mines", "M9")


def test_selection_tests_an_unknown_column(tmp_path):
    bad = SCENARIO.replace('["protected_area", "==", true]', '["protected_aera", "==", true]')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "protected mines", "protected_aera")


def test_ordering_condition_with_text_value(tmp_path):
    bad = SCENARIO.replace('["protected_area", "==", true]', '["capacity", "<", "thirty"]')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "capacity", "thirty", "number")


def test_condition_with_unknown_operator(tmp_path):
    bad = SCENARIO.replace('["protected_area", "==", true]', '["capacity", "=<", 30]')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "=<", "mandatory")


def test_message_keeps_bracketed_text(tmp_path):
    # A condition with two parts: the message's example "[column, operator, value]" must survive.
    bad = SCENARIO.replace('["protected_area", "==", true]', '["protected_area", true]')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "[column, operator, value]")


# ---------------------------------------------------------------------------------------------
# Bad unit tables


def test_duplicate_unit_ids_name_the_rows(tmp_path):
    rows = with_cell("M3", "unit_id", "M1")
    refused(write_case(tmp_path, units=units_csv(rows)), "units.csv", "M1", f"rows {ROW['M1']}, {ROW['M3']}")


@pytest.mark.parametrize("value", ["-5", "0", "abc"])
def test_bad_capacity_names_row_and_column(tmp_path, value):
    path = write_case(tmp_path, units=units_csv(with_cell("M2", "capacity", value)))
    refused(path, "units.csv", f"row {ROW['M2']}", "M2", "capacity", value)


def test_old_excel_workbook_is_refused_with_the_formats_to_save_in(tmp_path):
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # the first bytes of an Excel 97-2003 file
    path = write_case(tmp_path, units=xls, units_name="units.xls",
                      scenario=SCENARIO.replace('"units.csv"', '"units.xls"'))
    refused(path, "units.xls", "97-2003", "xlsx", "CSV")


def test_boolean_column_with_maybe(tmp_path):
    path = write_case(tmp_path, units=units_csv(with_cell("M3", "protected_area", "maybe")))
    refused(path, "units.csv", f"row {ROW['M3']}", "M3", "protected_area", "maybe")


def test_unknown_sector(tmp_path):
    path = write_case(tmp_path, units=units_csv(with_cell("M2", "sector", "oil")))
    refused(path, "units.csv", f"row {ROW['M2']}", "sector", "oil")


def test_unknown_kind(tmp_path):
    path = write_case(tmp_path, units=units_csv(with_cell("CV1", "kind", "furnace")))
    refused(path, "units.csv", f"row {ROW['CV1']}", "kind", "furnace")


def test_kind_product_mismatch(tmp_path):
    path = write_case(tmp_path, units=units_csv(with_cell("BF1", "product", "crude_steel")))
    refused(path, "units.csv", f"row {ROW['BF1']}", "BF1", "blast_furnace", "crude_steel")


def test_missing_required_column(tmp_path):
    cols = [c for c in COLUMNS if c != "workers"]
    rows = [[c for c, name in zip(r, COLUMNS, strict=False) if name != "workers"] for r in UNITS]
    refused(write_case(tmp_path, units=units_csv(rows, cols)), "units.csv", "workers")


def test_bad_exit_years(tmp_path):
    path = write_case(tmp_path, units=units_csv(with_cell("M3", "exit_years", "2017-later")))
    refused(path, "units.csv", f"row {ROW['M3']}", "exit_years", "2017-later")


def test_empty_rows_excel_leaves_at_the_end_are_ignored(tmp_path):
    path = write_case(tmp_path, units=units_csv() + "," * (len(COLUMNS) - 1) + "\r\n" * 2)
    code, text = validate(path)
    assert code == 0, text
    assert list(load(path).units.index) == [r[0] for r in UNITS]


def test_empty_row_in_the_middle_is_named(tmp_path):
    rows = [*UNITS[:2], [""] * len(COLUMNS), *UNITS[2:]]
    refused(write_case(tmp_path, units=units_csv(rows)), "units.csv", "row 4", "unit_id", "empty")


def test_empty_unit_file(tmp_path):
    refused(write_case(tmp_path, units=""), "units.csv", "empty")


def test_semicolon_separated_csv_gets_a_hint(tmp_path):
    path = write_case(tmp_path, units=units_csv().replace(",", ";"))
    refused(path, "units.csv", "semicolons", "comma delimited")


def test_yes_no_column_compared_with_quoted_text(tmp_path):
    bad = SCENARIO.replace('["protected_area", "==", true]', '["protected_area", "==", "true"]')
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "protected mines", "protected_area", "without quotes")


def test_unknown_sector_in_scenario_costs(tmp_path):
    bad = SCENARIO + "\n[sectors.cole]\nresettlement_per_worker = 5.7\n"
    refused(write_case(tmp_path, scenario=bad), "scenario.toml", "sectors.cole", "coal")


PROJECTS = "project_id,name,product,capacity,year,firm,status\r\nP1,New mine,coal,90,2017,Firm A,candidate\r\n"


def with_projects(tmp_path: Path, text: str) -> Path:
    """The small case plus a projects table."""
    (tmp_path / "projects.csv").write_text(text, encoding="utf-8")
    return write_case(tmp_path, scenario=SCENARIO.replace('units = "units.csv"',
                                                          'units = "units.csv"\nprojects = "projects.csv"'))


def test_projects_table_is_read(tmp_path):
    path = with_projects(tmp_path, PROJECTS)
    code, text = validate(path)
    assert code == 0, text
    assert "1 new-capacity project(s), 0 approved" in text


def test_projects_table_bad_capacity_names_row(tmp_path):
    refused(with_projects(tmp_path, PROJECTS.replace(",90,", ",abc,")), "projects.csv", "row 2", "P1", "capacity")


def test_approved_project_outside_the_plan(tmp_path):
    bad = PROJECTS.replace(",2017,", ",2025,").replace("candidate", "approved")
    refused(with_projects(tmp_path, bad), "scenario.toml", "P1", "2025", "2016–2018")


# ---- a negative budget: the year must bring money in ---------------------------------------------

ENTRY = [sys.executable, "-c", "from exitopt.cli import main; main()"]


def cli(*args) -> tuple[int, str]:
    done = subprocess.run([*ENTRY, *(str(a) for a in args)], capture_output=True, text=True, encoding="utf-8",
                          timeout=300)
    return done.returncode, " ".join((done.stdout + " " + done.stderr).split())


def award_case(scenario_file, folder: Path, budget: float) -> Path:
    """Two coal mines whose exit brings in 4 万元 per 万吨 (award 5, cost 1). A (100 万吨) displaces 100
    workers at 10 万元 each in the objective, so it stays unless the budget needs its award; B (50 万吨)
    displaces nobody and exits in 2016 anyway."""
    return scenario_file(folder, [dict(unit_id="A", capacity=100.0, workers=100), dict(unit_id="B", capacity=50.0)],
                         {"first_year": 2016, "last_year": 2017, "objective": {"jobs_weight": 10.0},
                          "sectors": {"coal": {"exit_cost_per_capacity": {"close": 1.0}, "award_per_capacity": 5.0}},
                          "caps": {"budget": {"2016": budget}}})


def test_a_negative_budget_solves_and_the_checker_agrees(scenario_file, tmp_path):
    free = award_case(scenario_file, tmp_path / "free", -100.0)  # B alone brings in 200
    code, text = cli("solve", free, "--out", tmp_path / "free_run")
    assert code == 0 and "Traceback" not in text, text
    schedule = pd.read_csv(tmp_path / "free_run" / "schedule.csv", encoding="utf-8-sig", dtype=str,
                           keep_default_na=False).set_index("unit_id")
    assert schedule.at["B", "exit_year"] == "2016" and schedule.at["A", "exit_year"] == ""

    bound = award_case(scenario_file, tmp_path / "bound", -500.0)  # needs A's 400 too
    code, text = cli("solve", bound, "--out", tmp_path / "run")
    assert code == 0 and "Traceback" not in text, text
    run = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert run["objective"] == pytest.approx(100 * 10.0 - 400 - 200, abs=1e-6)
    schedule = pd.read_csv(tmp_path / "run" / "schedule.csv", encoding="utf-8-sig", dtype=str,
                           keep_default_na=False).set_index("unit_id")
    assert schedule.at["A", "exit_year"] == "2016" == schedule.at["B", "exit_year"]
    code, text = cli("check", bound, tmp_path / "run" / "schedule.csv")
    assert code == 0 and "Traceback" not in text, text

    # the free plan brings in only 200 in 2016: the checker finds the negative budget broken
    code, text = cli("check", bound, tmp_path / "free_run" / "schedule.csv")
    assert code == 6, text
    assert "budget in 2016: -200.0 万元 spent, at most -500.0 allowed" in text, text


def test_a_negative_budget_no_plan_can_meet_is_infeasible(scenario_file, tmp_path):
    code, text = cli("solve", award_case(scenario_file, tmp_path, -700.0), "--out", tmp_path / "run")
    assert code == 3 and "Traceback" not in text, text
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value, words", [
    ("-2000.0", None),
    ("-1e10", None),
    ("-1.5e10", "must be at least -10,000,000,000"),
    ("1e300", "must be at most 10,000,000,000"),
    ("-1e300", "must be at least -10,000,000,000"),
    ("nan", "finite"),
    ("-inf", "finite"),
])
def test_budget_range_is_finite_either_way(tmp_path, value, words):
    path = write_case(tmp_path, scenario=SCENARIO + f"\n[caps]\nbudget = {{ 2017 = {value} }}\n")
    code, text = validate(path)
    if words is None:
        assert code == 0, text
    else:
        assert code == 2 and "caps.budget.2017" in text and words in text and "Traceback" not in text, text
