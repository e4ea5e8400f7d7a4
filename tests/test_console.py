"""What the commands print: any console encoding, any width, a file; help, version and small
messages an analyst meets in the first hour."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.cli import app

GANSU = Path(__file__).resolve().parents[1] / "models" / "gansu_2016.toml"
ENTRY = [sys.executable, "-c", "from exitopt.cli import main; main()"]


def run(*args, **kw):
    return CliRunner().invoke(app, [str(a) for a in args], **kw)


def shell(args: list, encoding: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """The command as a shell runs it with output redirected to a file, in a given console encoding."""
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    env.pop("COLUMNS", None)
    with open(cwd / "log.txt", "wb") as log, open(cwd / "err.txt", "wb") as errs:
        done = subprocess.run(ENTRY + [str(a) for a in args], stdout=log, stderr=errs, env=env, cwd=cwd,
                              timeout=timeout)
    done.stdout = (cwd / "log.txt").read_bytes().decode(encoding)
    done.stderr = (cwd / "err.txt").read_bytes().decode(encoding)
    return done


def refused(*args) -> str:
    """Run a command that must stop with exit code 2 (bad input); its message, spaces folded."""
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
    return re.sub(r"\s+", " ", res.output)


@pytest.fixture
def tiny(tmp_path, scenario_file) -> Path:
    units = [dict(unit_id="A", capacity=100, workers=10, name="Mine with a rather long name of sixty characters ok"),
             dict(unit_id="B", capacity=60, workers=5, name_zh="乙矿"), dict(unit_id="C", capacity=50, workers=4)]
    scen = {"targets": [dict(name="coal 110 万吨", product="coal", by=2017, at_least=110.0)]}
    return scenario_file(tmp_path / "in", units, scen)


def test_gansu_solve_redirected_on_an_english_windows_code_page(tmp_path):
    """PYTHONIOENCODING=cp1252 exitopt solve models/gansu_2016.toml > log.txt: no crash, readable units."""
    done = shell(["solve", GANSU, "--out", tmp_path / "run"], "cp1252", tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert f"fiscal {record['fiscal']:,.1f} 10k yuan (present value)" in done.stdout
    assert f"objective {record['objective']:,.1f}" in done.stdout and "exits, 10 kt/yr (units)" in done.stdout
    assert "?" not in done.stdout.replace("(units)", "")


#: runs several commands through the console entry point in one process, as a shell would one by one
MANY = """
import json, sys
from exitopt.cli import main
codes = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["exitopt"] + args
    try:
        main()
        codes.append(0)
    except SystemExit as e:
        codes.append(e.code or 0)
    print("exit codes:", codes, file=sys.stderr, flush=True)
"""


@pytest.mark.parametrize("encoding, unit", [("cp936", "万元"), ("cp1252", "10k yuan")])
def test_every_command_takes_a_legacy_code_page(tiny, tmp_path, encoding, unit):
    import json

    run_dir = tmp_path / "run 甲"
    steps = [["validate", tiny], ["solve", tiny, "--out", run_dir],
             ["check", tiny, run_dir / "schedule.csv"], ["compare", run_dir, run_dir], ["--help"],
             ["solve", "--help"], ["solve", tmp_path / "missing.toml"]]
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    with open(tmp_path / "log.txt", "wb") as log, open(tmp_path / "err.txt", "wb") as errs:
        subprocess.run([sys.executable, "-c", MANY, json.dumps([[str(a) for a in s] for s in steps])], stdout=log,
                       stderr=errs, env=env, cwd=tmp_path, timeout=300)
    stdout = (tmp_path / "log.txt").read_bytes().decode(encoding)
    stderr = (tmp_path / "err.txt").read_bytes().decode(encoding)
    assert stderr.strip().splitlines()[-1] == "exit codes: [0, 0, 0, 0, 0, 0, 2]", stderr
    assert "Traceback" not in stderr and "UnicodeEncodeError" not in stderr + stdout
    assert f"fiscal 0.0 {unit} (present value)" in stdout and "next: exitopt report" in stdout
    assert "missing.toml: file not found" in stderr
    if encoding == "cp936":
        assert "run 甲" in stdout


def test_solve_headline_keeps_its_phrases_whole(tiny, tmp_path):
    res = run("solve", tiny, "--out", tmp_path / "run", terminal_width=80)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == "status optimal, gap 0.000%; objective 9.0"
    assert lines[1] == "jobs 9 persons displaced; fiscal 0.0 万元 (present value)"
    assert all(len(line) <= 80 for line in lines[:2])
    where = next(i for i, line in enumerate(lines) if line.startswith("written to "))
    assert lines[where + 1].startswith(f"next: exitopt report {tmp_path / 'run'}")


def test_compare_to_a_file_prints_full_columns(tmp_path, scenario_file):
    """compare > file: no column cut to 80 characters ("regio", "Pingl")."""
    long_region = "Pingliang prefecture, Kongtong district"
    units = [dict(unit_id=u, workers=w, region=long_region, name=f"Mine {u} of the long-named coal company")
             for u, w in (("A", 10), ("B", 20))]
    a = tmp_path / "a"
    b = tmp_path / "b"
    base = {"targets": [dict(name="cut", product="coal", by=2016, at_least=100.0)]}
    assert run("solve", scenario_file(tmp_path / "sa", units, base), "--out", a).exit_code == 0
    keep_a = {**base, "protected": [dict(name="keep A", where={"units": ["A"]})]}
    assert run("solve", scenario_file(tmp_path / "sb", units, keep_a), "--out", b).exit_code == 0
    done = shell(["compare", a, b], "utf-8", tmp_path)
    assert done.returncode == 0, done.stderr
    for text in (long_region, "Mine A of the long-named coal company", "Mine B of the long-named coal company",
                 "exits only in A", "exits only in B", "region", str(a), str(b)):
        assert text in done.stdout
    assert "…" not in done.stdout


def test_help_shows_no_python_types_and_version_prints():
    import typer.main

    commands = sorted(typer.main.get_command(app).commands)
    assert {"solve", "template", "serve", "check"} <= set(commands)
    for args in ([], *([c] for c in commands)):
        res = run(*args, "--help", terminal_width=120)
        assert res.exit_code == 0
        assert not re.search(r"<(bool|float|int|path|text|str|list\[str\]|list|choice)( range)?>", res.stdout), \
            (args, res.stdout)
        assert not re.search(r"\{[a-z_]+\}", res.stdout), (args, res.stdout)
    assert "SECONDS" in run("solve", "--help", terminal_width=120).stdout
    from exitopt import __version__

    res = run("--version")
    assert res.exit_code == 0 and res.stdout.strip() == f"exitopt {__version__}"


@pytest.mark.parametrize("command", ["solve", "pareto", "alternatives"])
@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "2e6"])
def test_time_limit_must_be_seconds_above_zero(tiny, tmp_path, command, value):
    text = " ".join(refused(command, tiny, "--out", tmp_path / "x", "--time-limit", value).replace("│", " ").split())
    assert "Invalid value for '--time-limit'" in text and "from 0.5 to 1,000,000" in text
    assert not (tmp_path / "x").exists()


def test_pins_file_is_relative_to_the_current_folder(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = refused("solve", tiny, "--pins", "nofile.csv", "--out", tmp_path / "x")
    assert "relative to the current folder" in text and "relative to the scenario file" not in text


def test_misspelt_key_gets_a_suggestion(tmp_path, scenario_file):
    path = scenario_file(tmp_path, [dict(unit_id="A")],
                         {"targets": [dict(name="cut", product="coal", by=2017, at_leats=10.0)],
                          "objective": {"job_weight": 2.0}})
    text = refused("validate", path)
    assert "at_leats: unknown key; did you mean 'at_least'?" in text
    assert "objective.job_weight: unknown key; did you mean 'jobs_weight'?" in text


def test_semicolon_csv_gets_plain_words(tiny, tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("unit_id;exit_year;mode\nA;2016;close\nB;2017;close,relocate\n", encoding="utf-8")
    text = refused("check", tiny, plan)
    assert "separated by semicolons" in text and "comma delimited" in text
    assert "C error" not in text and "tokenizing" not in text
    units = tiny.parent / "units.csv"
    df = pd.read_csv(units)
    df.loc[0, "name"] = "Mine, north shaft"
    units.write_text(df.to_csv(index=False, sep=";"), encoding="utf-8")
    text = refused("validate", tiny)
    assert "units.csv" in text and "semicolons" in text and "C error" not in text


def test_a_row_with_an_unquoted_comma_is_named(tiny, tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("unit_id,exit_year,mode\nA,2016,close\nB,2017,close,extra\n", encoding="utf-8")
    text = refused("check", tiny, plan)
    assert "line 3 has 4 cells but the header has 3" in text and "C error" not in text


def test_workbook_persons_are_rounded(tmp_path, scenario_file):
    import openpyxl

    from exitopt.report import make_report

    # 7 workers, a third kept each year: an exit in 2017 displaces 7 × 2/3 = 4.666… persons
    path = scenario_file(tmp_path / "in", [dict(unit_id="A", workers=7)],
                         {"attrition": 1 / 3, "first_year": 2016, "last_year": 2017,
                          "targets": [dict(name="cut", product="coal", by=2017, at_least=100.0)],
                          "objective": {"jobs_weight": 1.0}, "windows": [dict(name="late", where={}, years=[2017])]})
    assert run("solve", path, "--out", tmp_path / "run").exit_code == 0
    rep = make_report(tmp_path / "run", "en")
    ws = openpyxl.load_workbook(rep.folder / "briefing.xlsx")["schedule"]
    heads = [c.value for c in ws[1]]
    cell = ws.cell(2, heads.index("Workers displaced (persons)") + 1)
    assert cell.value == pytest.approx(4.7) and cell.number_format == "#,##0"
    page = (rep.folder / "briefing.html").read_text(encoding="utf-8")
    assert ">5<" in page and "4.666" not in page


def test_check_of_a_plan_that_lists_no_unit_says_so_first(tiny, tmp_path):
    """A plan sheet with only its header: a note says every unit stays, and the list is short."""
    plan = tmp_path / "plan.csv"
    plan.write_text("unit_id,exit_year,mode\n", encoding="utf-8")
    done = shell(["check", tiny, plan], "utf-8", tmp_path)
    assert done.returncode == 6  # the plan breaks rules
    err = re.sub(r"\s+", " ", done.stderr)
    assert "lists no unit" in err and "every unit stays" in err and "Traceback" not in err
    assert "breaks the rules" in done.stdout and "Traceback" not in done.stdout
    listed = [line for line in done.stdout.splitlines() if line.startswith("  - ")]
    assert 1 <= len(listed) <= 5


def test_check_and_solve_print_the_same_jobs_figure(tiny, tmp_path):
    """The checker's jobs line uses the words and rounding of the solve's headline."""
    done = shell(["solve", tiny, "--out", tmp_path / "run"], "utf-8", tmp_path)
    assert done.returncode == 0, done.stderr
    jobs = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))["jobs"]
    assert f"jobs {jobs:,.0f} persons displaced" in done.stdout
    checked = shell(["check", tiny, tmp_path / "run" / "schedule.csv"], "utf-8", tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert f"Jobs: {jobs:,.0f} persons displaced" in checked.stdout
