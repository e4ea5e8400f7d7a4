"""Nothing after a clean message: every refusal of every command, run as the analyst runs it (a
process of its own), prints its message, exits with its code and leaves nothing behind — no
traceback, from the command or from a solver process it may have started, and no process.

Each command runs in a process group of its own; its output is read until every process that
holds it has ended (the command and any child), so a child that writes late is caught too, and
once the command has ended no process of its group may be left (not even a zombie)."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GANSU, write_scenario

REPO = Path(__file__).resolve().parents[1]
#: the command as installed (the console script next to this Python), as the analyst runs it
SCRIPT = Path(sys.executable).with_name("exitopt.exe" if os.name == "nt" else "exitopt")
EXITOPT = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from exitopt.cli import main; main()"]
TINY_UNITS = [dict(unit_id="A", capacity=100, workers=10), dict(unit_id="B", capacity=150, workers=30)]
TINY = {"targets": [{"name": "coal 200", "product": "coal", "by": 2017, "at_least": 200.0}],
        "sectors": {"coal": {"resettlement_per_worker": 2.0}}}


def run(args: list[str], cwd: Path) -> tuple[int, str, bool]:
    """Run ``exitopt args``: (exit code, stdout + stderr, whether a process of its group was left
    once the command ended)."""
    proc = subprocess.Popen([*EXITOPT, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "COLUMNS": "200", "PYTHONWARNINGS": "default"})
    try:
        out, err = proc.communicate(timeout=120)  # until the pipes close: every process holding them gone
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        pytest.fail(f"exitopt {' '.join(args)} did not end in 120 s:\n{err.decode(errors='replace')}")
    try:
        os.killpg(proc.pid, 0)
        left = True
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        left = False
    return proc.returncode, (out + err).decode("utf-8", errors="replace"), left


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Every file a refusal needs, good and bad, in one folder."""
    d = tmp_path_factory.mktemp("refusals")
    gansu = GANSU.read_text(encoding="utf-8").replace('"../data/', f'"{(REPO / "data").as_posix()}/')

    def scenario(name: str, old: str, new: str) -> Path:
        assert re.search(old, gansu, flags=re.M), old
        path = d / name
        path.write_text(re.sub(old, new, gansu, count=1, flags=re.M), encoding="utf-8")
        return path

    f = {"gansu": scenario("gansu.toml", "^", "")}
    f["bad_value"] = scenario("bad_value.toml", r"^attrition = .*", "attrition = -1")
    f["missing_key"] = scenario("missing_key.toml", r'^product = "coal"\n', "")  # the coal target's product
    f["unknown_key"] = scenario("unknown_key.toml", r"^attrition = ", "atrition = ")
    f["not_toml"] = scenario("not_toml.toml", r"^attrition = .*", "attrition = = 3")
    with open(REPO / "data" / "gansu" / "units.csv", encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    col = table[0].index("product")
    with open(d / "units_no_product.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([c for i, c in enumerate(r) if i != col] for r in table)
    f["table_missing_column"] = scenario("table_missing_column.toml", r'^units = .*',
                                         f'units = "{(d / "units_no_product.csv").as_posix()}"')
    f["table_missing_file"] = scenario("table_missing_file.toml", r'^units = .*',
                                       f'units = "{(d / "no_such_units.csv").as_posix()}"')
    f["plan_unknown_unit"] = d / "plan_unknown.csv"
    f["plan_unknown_unit"].write_text("unit_id,exit_year,mode\nNO-SUCH-UNIT,2017,close\n", encoding="utf-8")
    f["plan_bad_year"] = d / "plan_bad_year.csv"
    f["plan_bad_year"].write_text("unit_id,exit_year,mode\nCOAL-M1839,soon,close\n", encoding="utf-8")
    f["plan_empty"] = d / "plan_empty.csv"  # no unit exits: a plan that reads
    f["plan_empty"].write_text("unit_id,exit_year,mode\n", encoding="utf-8")
    f["pins_bad"] = d / "pins_bad.csv"
    f["pins_bad"].write_text("unit_id,action\nCOAL-M1839,demolish\n", encoding="utf-8")
    base = f["gansu"].as_posix()
    f["sweep_misspelt"] = d / "sweep_misspelt.toml"
    f["sweep_misspelt"].write_text(f'base = "{base}"\n[[axes]]\npath = "attrition"\nvaluez = [0.0]\n', "utf-8")
    f["sweep_bad_path"] = d / "sweep_bad_path.toml"
    f["sweep_bad_path"].write_text(f'base = "{base}"\n[[axes]]\npath = "no_such.key"\nvalues = [0.0]\n', "utf-8")
    f["sweep_bad_value"] = d / "sweep_bad_value.toml"
    f["sweep_bad_value"].write_text(f'base = "{base}"\n[[axes]]\npath = "attrition"\nvalues = [-1.0]\n', "utf-8")
    f["sweep_bad_base"] = d / "sweep_bad_base.toml"
    f["sweep_bad_base"].write_text(f'base = "{f["bad_value"].as_posix()}"\n[[axes]]\npath = "attrition"\n'
                                   f"values = [0.0]\n", "utf-8")
    f["sweep_ok"] = d / "sweep_ok.toml"
    f["sweep_ok"].write_text(f'base = "{base}"\n[[axes]]\npath = "attrition"\nvalues = [0.0]\n', "utf-8")
    f["missing"] = d / "no_such_file.toml"
    f["empty_dir"] = d / "empty_run"
    f["empty_dir"].mkdir()
    f["full_dir"] = d / "full"
    f["full_dir"].mkdir()
    (f["full_dir"] / "something.txt").write_text("in the way", encoding="utf-8")
    f["existing_file"] = d / "existing.xlsx"
    f["existing_file"].write_bytes(b"not a workbook")
    # a tiny run, solved as the analyst would (this command starts a solver and ends it), then spoilt
    tiny = write_scenario(d / "tiny", TINY_UNITS, TINY)
    code, text, left = run(["solve", str(tiny), "--out", str(d / "tiny_run")], d)
    assert code == 0 and "Traceback" not in text and not left, text
    f["run"] = d / "tiny_run"
    f["spoilt_run"] = d / "spoilt_run"
    shutil.copytree(f["run"], f["spoilt_run"])
    schedule = f["spoilt_run"] / "schedule.csv"
    lines = schedule.read_text(encoding="utf-8-sig").splitlines()
    cap = lines[0].split(",").index("capacity")
    row = lines[1].split(",")
    row[cap] = "lots"
    schedule.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    f["infeasible"] = write_scenario(d / "infeasible", TINY_UNITS, {
        **TINY, "targets": [{"name": "coal 900", "product": "coal", "by": 2017, "at_least": 900.0}]})
    f["dir"] = d
    f["repo"] = REPO
    return f


# (case id, arguments with {name} standing for a file of the fixture, exit code, words of the message)
CASES = [
    # the command line itself
    ("no-such-command", ["frobnicate"], 2, "No such command"),
    ("root-bad-option", ["--bogus"], 2, "No such option"),
    # validate
    ("validate-bad-value", ["validate", "{bad_value}"], 2, "attrition"),
    ("validate-missing-key", ["validate", "{missing_key}"], 2, "product"),
    ("validate-unknown-key", ["validate", "{unknown_key}"], 2, "atrition"),
    ("validate-not-toml", ["validate", "{not_toml}"], 2, "not_toml.toml"),
    ("validate-missing-file", ["validate", "{missing}"], 2, "no_such_file.toml"),
    ("validate-table-missing-column", ["validate", "{table_missing_column}"], 2, "product"),
    ("validate-table-missing-file", ["validate", "{table_missing_file}"], 2, "no_such_units.csv"),
    ("validate-bad-option", ["validate", "{gansu}", "--bogus"], 2, "No such option"),
    # solve
    ("solve-bad-value", ["solve", "{bad_value}", "--out", "{dir}/o1"], 2, "attrition"),
    ("solve-missing-key", ["solve", "{missing_key}", "--out", "{dir}/o2"], 2, "product"),
    ("solve-missing-file", ["solve", "{missing}", "--out", "{dir}/o3"], 2, "no_such_file.toml"),
    ("solve-table-missing-column", ["solve", "{table_missing_column}", "--out", "{dir}/o4"], 2, "product"),
    ("solve-pin-id-with-equals-signs", ["solve", "{gansu}", "--keep", "A=B=C", "--out", "{dir}/o5"], 2,
     "unit 'A=B=C' (keep A=B=C) is not in the unit table"),
    ("solve-pin-unknown-unit", ["solve", "{gansu}", "--exit", "NO-SUCH-UNIT", "--out", "{dir}/o6"], 2,
     "NO-SUCH-UNIT"),
    ("solve-pins-bad-action", ["solve", "{gansu}", "--pins", "{pins_bad}", "--out", "{dir}/o7"], 2, "demolish"),
    ("solve-pins-missing-file", ["solve", "{gansu}", "--pins", "{dir}/no_pins.csv", "--out", "{dir}/o8"], 2,
     "no_pins.csv"),
    ("solve-bad-time-limit", ["solve", "{gansu}", "--time-limit", "-1", "--out", "{dir}/o9"], 2, "--time-limit"),
    ("solve-time-limit-not-a-number", ["solve", "{gansu}", "--time-limit", "soon"], 2, "--time-limit"),
    ("solve-bad-option", ["solve", "{gansu}", "--bogus"], 2, "No such option"),
    ("solve-folder-in-the-way", ["solve", "{gansu}", "--out", "{full_dir}"], 5, "--force"),
    # check
    ("check-bad-value", ["check", "{bad_value}", "{plan_unknown_unit}"], 2, "attrition"),
    ("check-plan-unknown-unit", ["check", "{gansu}", "{plan_unknown_unit}"], 2, "NO-SUCH-UNIT"),
    ("check-plan-bad-year", ["check", "{gansu}", "{plan_bad_year}"], 2, "soon"),
    ("check-plan-missing-file", ["check", "{gansu}", "{dir}/no_plan.csv"], 2, "no_plan.csv"),
    ("check-projects-missing-file", ["check", "{gansu}", "{plan_empty}", "--projects", "{dir}/no_projects.csv"],
     2, "no_projects.csv"),
    ("check-missing-argument", ["check", "{gansu}"], 2, "Missing argument"),
    # report
    ("report-missing-folder", ["report", "{dir}/no_run"], 2, "no_run"),
    ("report-empty-folder", ["report", "{empty_dir}"], 2, "empty_run"),
    ("report-bad-cell", ["report", "{spoilt_run}", "--out", "{dir}/r1"], 2, "lots"),
    ("report-bad-language", ["report", "{run}", "--lang", "fr", "--out", "{dir}/r2"], 2, "fr"),
    ("report-folder-in-the-way", ["report", "{run}", "--out", "{full_dir}"], 5, "--force"),
    # compare
    ("compare-missing-folder", ["compare", "{run}", "{dir}/no_run"], 2, "no_run"),
    ("compare-bad-cell", ["compare", "{run}", "{spoilt_run}"], 2, "lots"),
    ("compare-missing-argument", ["compare", "{run}"], 2, "Missing argument"),
    # pareto
    ("pareto-bad-value", ["pareto", "{bad_value}", "--out", "{dir}/p1"], 2, "attrition"),
    ("pareto-missing-file", ["pareto", "{missing}", "--out", "{dir}/p2"], 2, "no_such_file.toml"),
    ("pareto-too-few-points", ["pareto", "{gansu}", "--points", "1", "--out", "{dir}/p3"], 2, "--points"),
    ("pareto-folder-in-the-way", ["pareto", "{gansu}", "--out", "{full_dir}"], 5, "--force"),
    # alternatives
    ("alternatives-bad-value", ["alternatives", "{bad_value}", "--out", "{dir}/a1"], 2, "attrition"),
    ("alternatives-missing-key", ["alternatives", "{missing_key}", "--out", "{dir}/a2"], 2, "product"),
    ("alternatives-bad-share", ["alternatives", "{gansu}", "--within", "lots", "--out", "{dir}/a3"], 2, "lots"),
    ("alternatives-bad-count", ["alternatives", "{gansu}", "--count", "0", "--out", "{dir}/a4"], 2, "--count"),
    # sweep
    ("sweep-missing-file", ["sweep", "{dir}/no_sweep.toml", "--out", "{dir}/s1"], 2, "no_sweep.toml"),
    ("sweep-misspelt-key", ["sweep", "{sweep_misspelt}", "--out", "{dir}/s2"], 2, "valuez"),
    ("sweep-bad-path", ["sweep", "{sweep_bad_path}", "--out", "{dir}/s3"], 2, "no_such"),
    ("sweep-bad-value", ["sweep", "{sweep_bad_value}", "--out", "{dir}/s4"], 2, "attrition"),
    ("sweep-bad-base", ["sweep", "{sweep_bad_base}", "--out", "{dir}/s5"], 2, "attrition"),
    ("sweep-no-workers", ["sweep", "{sweep_ok}", "--workers", "0", "--out", "{dir}/s6"], 2, "--workers"),
    ("sweep-folder-in-the-way", ["sweep", "{sweep_ok}", "--out", "{full_dir}"], 5, "full"),
    # serve
    ("serve-bad-value", ["serve", "{bad_value}", "--no-open", "--port", "0"], 2, "attrition"),
    ("serve-missing-file", ["serve", "{missing}", "--no-open", "--port", "0"], 2, "no_such_file.toml"),
    ("serve-bad-port", ["serve", "{gansu}", "--no-open", "--port", "70000"], 2, "--port"),
    ("serve-negative-time-limit", ["serve", "{gansu}", "--no-open", "--port", "0", "--time-limit", "-5"], 2,
     "--time-limit"),
    ("serve-nan-time-limit", ["serve", "{gansu}", "--no-open", "--port", "0", "--time-limit", "nan"], 2,
     "from 0.5 to 1,000,000"),
    ("serve-address-not-here", ["serve", "{gansu}", "--no-open", "--port", "0", "--host", "203.0.113.1"], 2,
     "cannot listen"),
    # robust
    ("robust-missing-file", ["robust", "{missing}", "--out", "{dir}/r1"], 2, "no_such_file.toml"),
    ("robust-bad-objective", ["robust", "{repo}/models/sweeps/robust_2016.toml", "--objective", "best",
                              "--out", "{dir}/r2"], 2, "choose expected, worst or regret"),
    ("robust-bad-time-limit", ["robust", "{repo}/models/sweeps/robust_2016.toml", "--time-limit", "-3",
                               "--out", "{dir}/r3"], 2, "from 0.5 to 1,000,000"),
    # template
    ("template-not-xlsx", ["template", "--out", "{dir}/template.txt"], 5, ".xlsx"),
    ("template-file-in-the-way", ["template", "--out", "{existing_file}"], 5, "--force"),
    ("template-bad-option", ["template", "--bogus"], 2, "No such option"),
]


@pytest.mark.parametrize("args, code, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_refusal_is_one_clean_message_and_nothing_after(files, args, code, words):
    argv = [a.format(**{k: v.as_posix() for k, v in files.items()}) for a in args]
    got, text, left = run(argv, files["dir"])
    flat = " ".join(text.replace("│", " ").split())  # a message in a box: its text, unboxed
    assert got == code, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert "leaked" not in text and "Warning" not in text, text
    assert words in flat, f"{words!r} not in: {text}"
    assert not left, f"a process of exitopt {' '.join(argv)} was left running after it ended"


def test_a_command_that_solves_then_finds_no_plan_ends_its_solver_too(files):
    """Exit 3 after real solves (the diagnosis): the solver process started for them ends with the
    command, silently."""
    code, text, left = run(["solve", files["infeasible"].as_posix(), "--out", (files["dir"] / "i1").as_posix()],
                           files["dir"])
    assert code == 3, text
    assert "Traceback" not in text and "internal error" not in text and "leaked" not in text, text
    assert not left
    assert not (files["dir"] / "i1").exists()


def test_a_refused_command_starts_no_solver(files):
    """A refusal ends before any solver process is started (nothing to end, nothing to print)."""
    probe = ("import sys, runpy\n"
             "import exitopt.highs as highs\n"
             "started = []\n"
             "real = highs._Worker.__init__\n"
             "def counting(self, *a, **k):\n"
             "    started.append(1)\n"
             "    real(self, *a, **k)\n"
             "highs._Worker.__init__ = counting\n"
             "import atexit\n"
             "atexit.register(lambda: print(f'solver processes started: {len(started)}', file=sys.stderr))\n"
             "sys.argv = ['exitopt', *sys.argv[1:]]\n"
             "from exitopt.cli import main\n"
             "main()\n")
    for args in (["solve", files["bad_value"].as_posix()], ["solve", files["gansu"].as_posix(), "--keep", "A=B=C"],
                 ["pareto", files["missing_key"].as_posix()], ["alternatives", files["gansu"].as_posix(), "--within",
                                                               "lots"]):
        r = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120,
                           cwd=files["dir"])
        assert r.returncode == 2, r.stderr
        assert "solver processes started: 0" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr + r.stdout, r.stderr


@pytest.mark.parametrize("when", ["before it joins", "with a job in flight"])
def test_a_solver_process_whose_parent_goes_ends_silently(tmp_path, when):
    """The parent of a solver process ends at once (no clean-up of its own, as when it is
    killed): the solver process ends by itself and prints nothing."""
    job = ("import numpy as np\n"
           "assert w.ready(60)\n"
           "a = {'col_cost': np.array([1.0]), 'col_lower': np.array([0.0]), 'col_upper': np.array([1.0]),\n"
           "     'row_lower': np.zeros(0), 'row_upper': np.zeros(0), 'a_start': np.array([0, 0], dtype=np.int32),\n"
           "     'a_index': np.zeros(0, dtype=np.int32), 'a_value': np.zeros(0), 'integer': np.array([True]),\n"
           "     'offset': 0.0, 'maximize': True}\n"
           "w.conn.send({'arrays': a, 'options': {}, 'end': None, 'start': None})\n")
    code = ("import os\nfrom exitopt import highs\nw = highs._Worker()\n"
            + (job if when == "with a job in flight" else "") + "os._exit(3)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    # run() returns once the output is closed by every process holding it, the solver's too
    assert r.returncode == 3, r.stderr
    assert r.stdout + r.stderr == ""
