"""Nonsensical numbers, years, selections, duplicate keys, paths and tables: each one is refused
with exit code 2 and a message naming where it is, before anything is built or solved."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.cli import app

REPO = Path(__file__).resolve().parents[1]
GANSU = REPO / "models" / "gansu_2016.toml"
runner = CliRunner()


def gansu_text() -> str:
    """The Gansu scenario with its table paths made absolute, so a copy can live anywhere."""
    text = GANSU.read_text(encoding="utf-8")
    return text.replace('"../data/', f'"{(REPO / "data").as_posix()}/')


def mutated(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the Gansu scenario with one line changed (the old text must be there)."""
    text = gansu_text()
    assert re.search(old, text, flags=re.M), old
    path = tmp_path / "scenario.toml"
    path.write_text(re.sub(old, new, text, count=1, flags=re.M), encoding="utf-8")
    return path


def validate(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["validate", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, " ".join(res.output.split())


def refused(path: Path | str, *words: str) -> str:
    """Exit code 2, a one-paragraph error (no traceback, no internal error) holding every word."""
    code, text = validate(str(path))
    assert code == 2, text
    assert "Traceback" not in text and "internal error" not in text, text
    for w in words:
        assert w in text, f"{w!r} not in: {text}"
    return text


# ---- numbers of the scenario ---------------------------------------------------------------------

NUMBERS = [
    (r"^ladder = .*", "ladder = { 2016 = nan }", "ladder.2016", "finite"),
    (r"^ladder = .*", "ladder = { 2016 = inf }", "ladder.2016", "finite"),
    (r"^ladder = .*", "ladder = { 2016 = -1.0 }", "ladder.2016", "at least 0"),
    (r"^exit_cost_per_capacity = \{ close = 10.0 \}", "exit_cost_per_capacity = { close = nan }",
     "sectors.coal.exit_cost_per_capacity.close", "finite"),
    (r"^award_per_capacity = 58.4", "award_per_capacity = 1e18", "sectors.coal.award_per_capacity", "at most"),
    (r"^jobs_weight = 10.0", "jobs_weight = 1e18", "objective.jobs_weight", "at most 100,000"),
    (r"^jobs_weight = 10.0", "jobs_weight = inf", "objective.jobs_weight", "finite"),
    (r"^fiscal_weight = 1.0", "fiscal_weight = 1e300", "objective.fiscal_weight", "at most"),
    (r"^at_least = 1000.0", "at_least = inf", "at_least", "finite"),
    (r"^at_least = 1000.0", "at_least = 1e300", "at_least", "at most"),
    (r"^reserve = 0.10", "reserve = inf", "reserve", "finite"),
    (r"^demand = \{ 2020 = 800.0 \}", "demand = { 2020 = nan }", "demand.2020", "finite"),
    (r"^demand = \{ 2020 = 800.0 \}", "demand = { 2020 = inf }", "demand.2020", "finite"),
    (r"^ratio = 1.2", "ratio = inf", "ratio", "finite"),
    (r"^ratio = 1.2", "ratio = 1e9", "ratio", "at most 100"),
    (r"^rel_gap = 1e-4", "rel_gap = inf", "solver.rel_gap", "finite"),
    (r"^rel_gap = 1e-4", "rel_gap = 1.0", "solver.rel_gap", "below 1"),
    (r"^threads = 1$", "threads = 1000000000000000000", "solver.threads", "at most 256"),
    (r"^time_limit = 60", "time_limit = inf", "solver.time_limit", "finite"),
    (r"^attrition = 0.03", "attrition = nan", "attrition", "finite"),
    (r"^\[caps\]", "[caps]\nbudget = { 2018 = nan }", "caps.budget.2018", "finite"),
    (r"^\[caps\]", "[caps]\nbudget = { 2018 = -5e10 }", "caps.budget.2018", "at least -10,000,000,000"),
    (r"^\[caps\]", "[caps]\nbudget = { 2018 = 1e300 }", "caps.budget.2018", "at most 10,000,000,000"),
]


@pytest.mark.parametrize("old, new, where, what", NUMBERS, ids=[n[1].split("\n")[-1] for n in NUMBERS])
def test_non_finite_and_absurd_scenario_numbers_are_refused(tmp_path, old, new, where, what):
    refused(mutated(tmp_path, old, new), where, what)


# ---- years ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, words", [
    (r"^first_year = 2016", "first_year = 0", ("first_year", "at least 1990")),
    (r"^last_year = 2020", "last_year = 1000000", ("last_year", "at most 2100")),
    (r"^last_year = 2020", f"last_year = {2**70}", ("last_year",)),
    (r"^last_year = 2020", "last_year = 2099", ("2016–2099", "at most 50")),
    (r"^by = 2020", "by = 99999999", ("targets #1", "by", "at most 2100")),
    (r"^years = \[2020\]", "years = [2020, -5]", ("concentration", "years", "at least 1990")),
])
def test_years_outside_a_sane_span_are_refused_before_anything_is_built(tmp_path, old, new, words):
    refused(mutated(tmp_path, old, new), *words)


# ---- duplicate keys ------------------------------------------------------------------------------

def test_one_year_written_twice_in_the_ladder_is_refused(tmp_path):
    refused(mutated(tmp_path, r"^ladder = .*", 'ladder = { 2016 = 1.1, "02016" = 5.0 }'),
            "ladder", "year 2016 is given twice")


def test_one_year_written_twice_in_the_budget_is_refused(tmp_path):
    text = refused(mutated(tmp_path, r"^\[caps\]", '[caps]\nbudget = { "2018" = 1e6, "2018.0" = 1.0 }'),
                   "caps.budget")
    assert "2018.0" in text and "not a year" in text


# ---- selections ----------------------------------------------------------------------------------

def _with_selection(scenario_file, tmp_path: Path, condition: list) -> Path:
    units = [dict(unit_id="A", capacity=9.0), dict(unit_id="B", capacity=15.0), dict(unit_id="C")]
    return scenario_file(tmp_path, units, {"mandatory": [dict(name="small", by=2017, where={"all": [condition]})]})


@pytest.mark.parametrize("condition, words", [
    (["capacity", "==", [9, 15]], ("'==' compares with one value", "use 'in'")),
    (["capacity", "!=", [9, 15]], ("'not in'",)),
    (["capacity", "==", {"a": 1}], ("a table",)),
    (["accident", "in", [["major"]]], ("a list",)),
    (["accident", "in", "major"], ("takes a list",)),
    (["capacity", "<", float("nan")], ("finite number",)),
    (["capacity", ">=", float("inf")], ("finite number",)),
    (["capacity", "in", [9, float("nan")]], ("finite number",)),
    (["capacity", "==", "9"], ("holds numbers", "'9'")),
    (["capacity", "startswith", "9"], ("holds numbers",)),
    (["region", "<", 3], ("holds text",)),
    (["region", "==", 3], ("holds text", "quotes")),
    (["unit_id", "startswith", 3], ("looks for text",)),
    (["relocatable", ">", 0], ("yes/no column",)),
    (["allowed_years", "==", "2017"], ("allowed_years", "does not have")),
])
def test_a_condition_whose_value_does_not_fit_its_operator_or_column_is_refused(
        scenario_file, tmp_path, condition, words):
    refused(_with_selection(scenario_file, tmp_path, condition), "mandatory", *words)


def test_fitting_conditions_still_select_what_they_say(scenario_file, tmp_path):
    from exitopt.inputs import load

    inst = load(_with_selection(scenario_file, tmp_path, ["capacity", "in", [9, 15.0]]))
    assert inst.select(inst.scenario.mandatory[0].where) == ["A", "B"]
    inst = load(_with_selection(scenario_file, tmp_path / "b", ["region", "==", "R1"]))
    assert inst.select(inst.scenario.mandatory[0].where) == ["A", "B", "C"]


# ---- tables --------------------------------------------------------------------------------------

@pytest.mark.parametrize("facts, words", [
    (dict(capacity="1e308"), ("row 2 (A), column 'capacity'", "outside what it can mean")),
    (dict(capacity="1e-300"), ("column 'capacity'", "outside")),
    (dict(capacity="inf"), ("column 'capacity'", "not a number")),
    (dict(workers="1e20"), ("column 'workers'", "outside")),
    (dict(subsidised_loss="1e30"), ("column 'subsidised_loss'", "outside")),
    (dict(accident_year="99999999999999999999"), ("column 'accident_year'", "outside")),
    (dict(exit_years="2016-99999999"), ("column 'exit_years'", "99999999 is outside 1990–2100")),
    (dict(exit_years=str(2**70)), ("column 'exit_years'", "outside")),
    (dict(exit_years="0-2017"), ("column 'exit_years'", "year 0 is outside")),
])
def test_absurd_numbers_in_the_unit_table_are_refused(scenario_file, tmp_path, facts, words):
    refused(scenario_file(tmp_path, [dict(unit_id="A", **facts), dict(unit_id="B")]), *words)


def test_a_column_named_twice_in_the_unit_table_is_refused(scenario_file, tmp_path):
    path = scenario_file(tmp_path, [dict(unit_id="A"), dict(unit_id="B")])
    units = tmp_path / "units.csv"
    table = pd.read_csv(units)
    table.insert(len(table.columns), "capacity ", [1.0, 2.0], allow_duplicates=True)  # same name, a space added
    table.to_csv(units, index=False)
    refused(path, "column 'capacity' more than once")
    lines = units.read_text(encoding="utf-8").splitlines()
    units.write_text("\n".join([lines[0].replace("capacity ", "capacity")] + lines[1:]) + "\n", encoding="utf-8")
    refused(path, "column 'capacity' more than once")


def test_a_blank_project_year_names_the_row_and_column(scenario_file, tmp_path):
    path = scenario_file(tmp_path, [dict(unit_id="A")], projects=[dict(project_id="P1"), dict(project_id="P2",
                                                                                              year="")])
    refused(path, "projects.csv", "row 3 (P2), column 'year' is empty")


def test_an_absurd_project_year_is_refused(scenario_file, tmp_path):
    path = scenario_file(tmp_path, [dict(unit_id="A")], projects=[dict(project_id="P1", year="99999999999999999999")])
    refused(path, "row 2 (P1), column 'year'", "outside")


# ---- paths ---------------------------------------------------------------------------------------

def test_a_very_long_path_is_refused_with_a_short_message(tmp_path):
    text = refused(tmp_path / ("x" * 5000 + ".toml"), "too long")
    assert len(text) < 600, text


def test_a_nul_in_a_path_is_refused(scenario_file, tmp_path):
    path = scenario_file(tmp_path, [dict(unit_id="A")])
    path.write_text(path.read_text(encoding="utf-8").replace('"units.csv"', '"units\\u0000.csv"'),
                    encoding="utf-8")
    refused(path, "units\\0.csv", "NUL character")
    refused(f"{tmp_path}/a\0b.toml", "null byte")  # on the command line, the argument parser says so


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_given_as_the_scenario_is_refused(device):
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    refused(device, "not an ordinary file")


def test_a_folder_or_a_device_given_as_a_table_is_refused(scenario_file, tmp_path):
    path = scenario_file(tmp_path, [dict(unit_id="A")])
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"units.csv"', json_str(tmp_path)), encoding="utf-8")
    refused(path, "is a folder, not a CSV file")
    if Path("/dev/zero").exists():
        path.write_text(text.replace('"units.csv"', '"/dev/zero"'), encoding="utf-8")
        refused(path, "/dev/zero", "not an ordinary file")


def json_str(p: Path) -> str:
    import json

    return json.dumps(p.as_posix())


# ---- sweep files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("axis, words", [
    ("range = { start = 0, stop = inf, step = 1 }", ("finite",)),
    ("range = { start = 0, stop = 1e12, step = 0.001 }", ("at most 100,000 cases", "larger step")),
    ("values = [1.0, nan]", ("finite",)),
])
def test_a_sweep_axis_that_is_not_finite_or_makes_countless_cases_is_refused(tmp_path, axis, words):
    from test_sweep import write_tiny

    path = write_tiny(tmp_path / "in")
    text = path.read_text(encoding="utf-8").replace("values = [0.0, 0.2]", axis)
    assert axis in text
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "run"), "--workers", "1"])
    out = " ".join(res.output.split())
    assert res.exit_code == 2, out
    assert "internal error" not in out and all(w in out for w in words), out
    assert not (tmp_path / "run").exists()


def test_a_run_folder_path_too_long_is_an_input_error(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path / ("r" * 5000))])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "is not a folder" in text and "internal error" not in text, text
    assert len(text) < 600, text


# ---- the shape of the TOML itself ----------------------------------------------------------------

ENTRY = [sys.executable, "-c", "from exitopt.cli import main; main()"]


def refused_cli(*args: str | Path, words: tuple[str, ...]) -> str:
    """As :func:`refused`, in a process of its own as the analyst runs it: stdout and stderr whole."""
    done = subprocess.run([*ENTRY, *(str(a) for a in args)], capture_output=True, text=True, encoding="utf-8",
                          timeout=120)
    text = " ".join((done.stdout + " " + done.stderr).split())
    assert done.returncode == 2, text
    assert "Traceback" not in text and "internal error" not in text, text
    for w in words:
        assert w in text, f"{w!r} not in: {text}"
    return text


@pytest.mark.parametrize("new, words", [
    ("[caps]\nbudget = { 2018 = " + "[" * 100_000 + "]" * 100_000 + " }", ("key 'caps.budget'", "nested more than 32")),
    ("[caps]\nbudget = { 2018 = " + "{ a = " * 5_000 + "1" + " }" * 5_000 + " }",
     ("key 'caps.budget'", "nested more than 32")),
    ("[caps]\nbudget = { 2018 = " + "9" * 5_000 + " }", ("key 'caps.budget'", "a number of 5,000 digits")),
    ("[caps]\nbudget = { 2018 = 1" + "_000" * 200 + " }", ("key 'caps.budget'", "a number of 601 digits")),
    ("[caps]\nbudget = { 2018 = 0." + "0" * 4_000 + "1 }", ("key 'caps.budget'", "a number of 4,001 digits")),
])
def test_deep_nesting_and_huge_numbers_are_refused_naming_the_line_and_key(tmp_path, new, words):
    path = mutated(tmp_path, r"^\[caps\]", new)
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("budget = "))
    refused_cli("validate", path, words=(str(path), f"line {line},", *words))


@pytest.mark.parametrize("new", [
    'name = "' + "[" * 100 + "9" * 200 + '"',  # in a string: text, not brackets or a number
    'name = "a \\" ' + "[" * 100 + '"',  # an escaped quote does not end the string
    "name = '''\n" + "{" * 100 + "\n'''",
    'name = """\n' + "[" * 100 + '\\"""' + "9" * 200 + '\n"""',
    'name = "x" # ' + "[" * 100 + "9" * 200,
])
def test_brackets_and_digits_inside_strings_and_comments_are_text(tmp_path, new):
    code, text = validate(str(mutated(tmp_path, r"^name = .*", new)))
    assert code == 0, text


@pytest.mark.parametrize("where", [
    r'where = { units = ["JISCO-YUG2-\\u0000"] }',  # \\ : re.sub writes one
    r'where = { all = [["unit_id", "startswith", "JISCO-YUG2-\\u0007"]] }',
])
def test_a_control_character_in_a_selection_is_refused_naming_the_rule(tmp_path, where):
    path = mutated(tmp_path, r'^where = \{ all = \[\["unit_id", "startswith", "JISCO-YUG2-"\]\] \}', where)
    text = refused_cli("validate", path, words=(str(path), "protected 'Yugang phase 2 kept'", "control character"))
    assert "\0" not in text and "\a" not in text, text
