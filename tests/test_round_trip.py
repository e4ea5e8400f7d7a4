"""A run's own files are valid inputs again: ids that the Excel formula guard prefixed with an
apostrophe when writing (``=U-EQ`` -> ``'=U-EQ``) read back as they were."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.cli import app

runner = CliRunner()


def test_a_solved_schedule_with_formula_like_ids_checks_clean(scenario_file, tmp_path):
    units = [dict(unit_id="=U-EQ", capacity=100.0, workers=10), dict(unit_id="+U-PLUS", capacity=100.0, workers=50),
             dict(unit_id="-U-MINUS", capacity=60.0, workers=40)]
    scen = {"targets": [dict(name="coal task", product="coal", by=2017, at_least=100.0)],
            "sectors": {"coal": {"resettlement_per_worker": 1.0, "exit_cost_per_capacity": {"close": 1.0}}},
            "replacement": [dict(product="coal", ratio=1.2)]}
    projects = [dict(project_id="@NEW-CEM-01", product="coal", capacity=50.0, year=2017, status="approved")]
    path = scenario_file(tmp_path / "in", units, scen, projects)
    run = tmp_path / "run"
    res = runner.invoke(app, ["solve", str(path), "--out", str(run)])
    assert res.exit_code == 0, res.output

    # the guard is there in the files as written (Excel would otherwise run them as formulas)
    schedule = pd.read_csv(run / "schedule.csv", dtype=str, encoding="utf-8-sig")
    assert set(schedule["unit_id"]) == {"'=U-EQ", "'+U-PLUS", "'-U-MINUS"}
    built = pd.read_csv(run / "new_capacity.csv", dtype=str, encoding="utf-8-sig")
    assert list(built["project_id"]) == ["'@NEW-CEM-01"]
    # the approved project needs 60 万吨 of indicators: the 100 万吨 unit gives them, the target is met
    assert schedule.loc[schedule["unit_id"] == "'=U-EQ", "exit_year"].notna().all()

    res = runner.invoke(app, ["check", str(path), str(run / "schedule.csv"),
                              "--projects", str(run / "new_capacity.csv")])
    assert res.exit_code == 0, res.output
    assert "is not in" not in res.output


# ---- every id a unit table can hold comes back exactly ------------------------------------------

import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from hypothesis import (  # noqa: E402
    HealthCheck,
    given,
    settings,
    strategies as st,  # noqa: E402
)

from conftest import write_scenario  # noqa: E402
from exitopt.check.reading import read_plan  # noqa: E402
from exitopt.inputs import load  # noqa: E402
from exitopt.output import neutralise, restore, write_csv  # noqa: E402
from exitopt.pins import from_options, read_pins  # noqa: E402
from exitopt.tables import control_character  # noqa: E402

#: characters that start formulas in Excel or have a meaning to exitopt's readers, and some others
TRICKY = "=+-@'\t\r\n\",; #AaZ0129._中文 \u00a0\u3000"
_chars = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(codec="utf-8"), max_size=8)
#: text as ids come: apostrophes, then perhaps a formula's first character, then anything; or a
#: word some readers take for a missing value
any_text = st.one_of(
    st.builds(lambda q, f, rest: q + f + rest, st.sampled_from(["", "'", "''", "'''", " '"]),
              st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "'"]), _chars),
    st.sampled_from(["nan", "NaN", "NA", "<NA>", "N/A", "#N/A", "NULL", "null", "None", "-nan", "1.0", "TRUE"]),
    _chars,
)


def holdable(text: str) -> bool:
    """What a unit table keeps as an id: stripped, not empty, no control character."""
    return bool(text) and text == text.strip() and control_character(text) is None


ids = st.lists(any_text.filter(holdable), min_size=1, max_size=6, unique=True)


@given(any_text)
def test_the_formula_guard_is_undone_exactly_and_leaves_nothing_excel_would_run(text):
    written = neutralise(text)
    assert restore(written) == text
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_an_id_that_already_starts_with_an_apostrophe_is_guarded_once_more():
    assert neutralise("'=already-quoted") == "''=already-quoted"
    assert restore("''=already-quoted") == "'=already-quoted"
    assert neutralise("'plain") == "'plain" and restore("'plain") == "'plain"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids)
def test_every_id_of_a_unit_table_survives_the_schedule_and_the_pins_files(unit_ids):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inst = load(write_scenario(folder, [dict(unit_id=u) for u in unit_ids]))
        assert list(inst.units.index) == unit_ids

        schedule = pd.DataFrame({"unit_id": unit_ids, "exit_year": [2016] * len(unit_ids),
                                 "mode": ["close"] * len(unit_ids)})
        write_csv(schedule, folder / "schedule.csv")
        plan = read_plan(folder / "schedule.csv", inst).units
        assert list(plan.index) == unit_ids and (plan["exit_year"] == 2016).all()

        write_csv(pd.DataFrame({"unit_id": unit_ids, "action": "keep"}), folder / "pins.csv")
        assert [p.unit for p in read_pins(folder / "pins.csv")] == unit_ids

    # on the command line, ID= names any id, and an id without '=' followed by a number is named as it is
    assert [p.unit for p in from_options(keep=[f"{u}=" for u in unit_ids])] == unit_ids
    assert all(p.year is None for p in from_options(exit_=[f"{u}=" for u in unit_ids]))
    assert [p.unit for p in from_options(keep=[f"{u}=2017" for u in unit_ids])] == unit_ids


ENTRY = [sys.executable, "-c", "from exitopt.cli import main; main()"]


def cli(*args) -> tuple[int, str]:
    done = subprocess.run([*ENTRY, *(str(a) for a in args)], capture_output=True, text=True, encoding="utf-8",
                          timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_ids_with_apostrophes_and_equals_signs_go_through_solve_pins_and_check(scenario_file, tmp_path):
    names = ["'=already-quoted", "''+twice", "A=B", "U=2017", "nan"]
    units = [dict(unit_id=u, capacity=100.0, workers=10 * (i + 1)) for i, u in enumerate(names)]
    scen = {"targets": [dict(name="coal task", product="coal", by=2017, at_least=300.0)]}
    path = scenario_file(tmp_path / "in", units, scen)
    run = tmp_path / "run"
    code, out = cli("solve", path, "--out", run, "--keep", "A=B", "--exit", "U=2017=2016", "--exit", "nan")
    assert code == 0 and "Traceback" not in out, out
    schedule = pd.read_csv(run / "schedule.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert set(schedule["unit_id"]) == {"''=already-quoted", "'''+twice", "A=B", "U=2017", "nan"}
    years = dict(zip(schedule["unit_id"].map(restore), schedule["exit_year"], strict=True))
    # the cheapest 300 万吨 without A=B: U=2017 in 2016 (pinned), nan (pinned) and the cheapest other
    assert years["A=B"] == "" and years["U=2017"] == "2016" and years["nan"] != ""
    assert years["'=already-quoted"] != "" and years["''+twice"] == ""
    code, out = cli("check", path, run / "schedule.csv")
    assert code == 0 and "is not in" not in out and "Traceback" not in out, out
    pins = pd.read_csv(run / "pins.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert {"keep A=B", "exit U=2017 in 2016", "exit nan"} <= set(pins["pin"]), pins


@pytest.mark.parametrize("table", ["plan", "pins"])
def test_a_control_character_in_a_plan_or_pins_id_is_refused_with_its_row(scenario_file, tmp_path, table):
    path = scenario_file(tmp_path / "in", [dict(unit_id="A"), dict(unit_id="B")])
    rows = ("unit_id,exit_year\nA,2016\n\"B\x00\",2017\n" if table == "plan" else
            "unit_id,action\nA,keep\n\"B\x01\",exit\n")
    (tmp_path / "t.csv").write_text(rows, encoding="utf-8")
    args = ["check", path, tmp_path / "t.csv"] if table == "plan" else \
        ["solve", path, "--pins", tmp_path / "t.csv", "--out", tmp_path / "run"]
    code, out = cli(*args)
    text = " ".join(out.split())
    assert code == 2, text
    assert "t.csv: row 3, column 'unit_id'" in text and "control character" in text, text
    assert "\0" not in text and "\x01" not in text and not (tmp_path / "run").exists()
    if table == "plan":  # check starts no solver
        assert "Traceback" not in text, text
