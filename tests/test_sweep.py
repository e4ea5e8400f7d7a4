"""Sensitivity sweeps: the sweep file, the cases it makes, and runs on processes and on Dask.

The sweeps run on a tiny scenario written here: six coal mines, a coal target, costs per
displaced worker and per 万吨 closed, 2016–2017. Its optimum for any target, attrition and
cost is found by brute force over every unit's choice (stay, exit 2016, exit 2017), priced
with the formula of model.md written out again below, independent of exitopt's model.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import end_group
from exitopt.cli import app
from exitopt.errors import InputError
from exitopt.sweep import read_sweep, run_sweep
from exitopt.sweep.plots import pick_units
from exitopt.sweep.spec import apply, latin_hypercube

# unit_id: (capacity 万吨/yr, workers)
MINES = {"A": (100, 10), "B": (150, 30), "C": (200, 25), "D": (50, 4), "E": (120, 9), "F": (80, 12)}
RESETTLE = 2.0  # 万元 per displaced worker
CLOSE = 0.5  # 万元 per 万吨/yr closed

SCENARIO = f"""
name = "tiny"
units = "units.csv"
first_year = 2016
last_year = 2017
attrition = 0.1
[objective]
jobs_weight = 1.0
fiscal_weight = 1.0
[sectors.coal]
resettlement_per_worker = {RESETTLE}
exit_cost_per_capacity = {{ close = {CLOSE} }}
[[targets]]
name = "coal task"
product = "coal"
by = 2017
at_least = 300.0
[solver]
rel_gap = 0.0
threads = 1
"""

SWEEP = """
base = "scenario.toml"
[[axes]]
path = 'targets[name="coal task"].at_least'
label = "target"
values = [{targets}]
[[axes]]
path = "attrition"
values = [0.0, 0.2]
[[variants]]
name = "exits by 2016"
set = {{ 'targets[name="coal task"].by' = 2016 }}
[[variants]]
name = "dearer closure"
set = {{ "sectors.coal.exit_cost_per_capacity.close" = 2.0 }}
"""

DETERMINISTIC = ["case", "variant", "target", "attrition", "status", "exits_coal", "projects_built"]


def write_tiny(folder: Path, targets: str = "100, 300, 500, 800") -> Path:
    """The tiny scenario and a sweep over it (4 targets × 2 attritions × 3 variants = 24 cases)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [dict(unit_id=u, name=f"mine {u}", sector="coal", kind="coal_mine", product="coal", capacity=c,
                 firm=f"firm {u}", region="R1", workers=w, source="synthetic") for u, (c, w) in MINES.items()]
    pd.DataFrame(rows).to_csv(folder / "units.csv", index=False)
    (folder / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    path = folder / "sweep.toml"
    path.write_text(SWEEP.format(targets=targets), encoding="utf-8")
    return path


def brute_force(target: float, by: int, attrition: float, close: float) -> float | None:
    """Cheapest plan by enumeration (None when no plan reaches the target)."""
    best = None
    for choice in itertools.product((None, 2016, 2017), repeat=len(MINES)):
        counted = sum(c for (c, _), y in zip(MINES.values(), choice, strict=False) if y is not None and y <= by)
        if counted < target - 1e-9:
            continue
        cost = 0.0
        for (c, w), y in zip(MINES.values(), choice, strict=False):
            if y is None:
                continue
            displaced = w * (1 - attrition) ** (y - 2016)
            cost += displaced + RESETTLE * displaced + close * c  # jobs + fiscal, both weights 1
        best = cost if best is None else min(best, cost)
    return best


def read_cases(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "cases.csv", encoding="utf-8-sig")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The 24-case tiny sweep run once on 2 local processes (with --long)."""
    folder = tmp_path_factory.mktemp("sweep")
    path = write_tiny(folder)
    rep = run_sweep(path, out=folder / "run", workers=2, long=True, progress=False)
    return path, folder / "run", rep


# ---- the sweep file -------------------------------------------------------------------------------


def test_cases_cross_axes_and_variants_and_leave_the_base_untouched(tmp_path):
    sweep = read_sweep(write_tiny(tmp_path))
    assert len(sweep.cases) == 4 * 2 * 3
    assert [c.variant for c in sweep.cases[:8]] == ["baseline"] * 8
    assert len({c.id for c in sweep.cases}) == 24
    assert {(c.variant, c.values["target"], c.values["attrition"]) for c in sweep.cases} == {
        (v, t, a) for v in ("baseline", "exits by 2016", "dearer closure") for t in (100, 300, 500, 800)
        for a in (0.0, 0.2)}
    before = sweep.base.model_dump()
    last = apply(sweep.base, sweep.cases[-1])
    assert last.targets[0].at_least == 800 and last.attrition == 0.2
    assert last.sectors["coal"].exit_cost_per_capacity["close"] == 2.0
    assert sweep.base.model_dump() == before  # the base scenario is never edited in place


def test_zip_range_and_latin_hypercube(tmp_path):
    write_tiny(tmp_path)
    (tmp_path / "zip.toml").write_text(
        'base = "scenario.toml"\ncombine = "zip"\n'
        '[[axes]]\npath = "attrition"\nrange = { start = 0.0, stop = 0.3, step = 0.1 }\n'
        '[[axes]]\npath = "objective.jobs_weight"\nvalues = [1, 2, 3, 4]\n', encoding="utf-8")
    zipped = read_sweep(tmp_path / "zip.toml").cases
    assert [(c.values["attrition"], c.values["objective.jobs_weight"]) for c in zipped] == [
        (0.0, 1.0), (0.1, 2.0), (0.2, 3.0), (0.3, 4.0)]
    (tmp_path / "lhs.toml").write_text(
        'base = "scenario.toml"\nsamples = 8\nseed = 3\n'
        '[[axes]]\npath = "attrition"\nsample = { low = 0.0, high = 0.4 }\n'
        '[[axes]]\npath = "caps.budget.2017"\nsample = { low = 100, high = 900 }\n', encoding="utf-8")
    lhs = read_sweep(tmp_path / "lhs.toml").cases
    assert len(lhs) == 8
    for name, lo, hi in (("attrition", 0.0, 0.4), ("caps.budget.2017", 100, 900)):
        strata = sorted(int((c.values[name] - lo) / (hi - lo) * 8) for c in lhs)
        assert strata == list(range(8))  # one point in each eighth of the range
    assert latin_hypercube(5, [(0, 1)], 7) == latin_hypercube(5, [(0, 1)], 7)
    assert apply(read_sweep(tmp_path / "lhs.toml").base, lhs[0]).caps.budget[2017] == lhs[0].values["caps.budget.2017"]


@pytest.mark.parametrize("path, fragment", [
    ('targets[name="no such target"].at_least', "no item with name"),
    ("objective.fiscal_wieght", "no key 'fiscal_wieght'"),
    ("concentration[0].share", "there is no item 0"),
    ('targets[0].name', "not a number"),
])
def test_bad_axis_path_is_an_input_error_naming_the_path(tmp_path, path, fragment):
    write_tiny(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(f"base = \"scenario.toml\"\n[[axes]]\npath = '{path}'\nvalues = [1.0]\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_sweep(bad)
    assert path in str(e.value) and fragment in str(e.value)
    r = CliRunner().invoke(app, ["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_a_variant_that_does_not_fit_the_tables_stops_before_any_solve(tmp_path):
    write_tiny(tmp_path)
    bad = tmp_path / "bad_variant.toml"
    bad.write_text('base = "scenario.toml"\n[[variants]]\nname = "approve a project"\n'
                   'set = { "new_capacity.approve" = ["NEW-X"] }\n', encoding="utf-8")
    r = CliRunner().invoke(app, ["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "approve a project" in r.output
    assert not (tmp_path / "o").exists()


# ---- running --------------------------------------------------------------------------------------


def test_every_case_matches_brute_force_and_infeasible_cases_are_recorded(local_run):
    _, out, rep = local_run
    cases = read_cases(out)
    assert len(cases) == 24 and rep.counts == {"optimal": 18, "infeasible": 6}
    for r in cases.itertuples():
        by = 2016 if r.variant == "exits by 2016" else 2017
        close = 2.0 if r.variant == "dearer closure" else CLOSE
        best = brute_force(r.target, by, r.attrition, close)
        if best is None:
            assert r.status == "infeasible"
            assert "coal task" in r.diagnosis and pd.isna(r.objective)
        else:
            assert r.status == "optimal"
            assert r.objective == pytest.approx(best, rel=1e-9)
            assert r.exits_coal >= r.target


def test_long_table_and_pictures(local_run):
    _, out, _ = local_run
    long = pd.read_csv(out / "units_long.csv", encoding="utf-8-sig")
    assert len(long) == 24 * len(MINES)
    cases = read_cases(out).set_index("case")
    got = long.dropna(subset=["exit_year"]).merge(
        pd.DataFrame({"unit_id": list(MINES), "cap": [c for c, _ in MINES.values()]}), on="unit_id")
    assert got.groupby("case")["cap"].sum().to_dict() == cases["exits_coal"].dropna().to_dict()
    assert (out / "cases.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    for name in ("response.png", "tornado.png", "unit_frequency.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
    freq = pd.read_csv(out / "unit_frequency.csv", encoding="utf-8-sig")
    exiting = long.dropna(subset=["exit_year"]).groupby("unit_id").size()
    assert freq.set_index("unit_id")["cases_exiting"].to_dict() == {u: int(exiting.get(u, 0)) for u in MINES}


def test_the_frequency_chart_keeps_room_for_marginal_units():
    n = 60
    freq = pd.DataFrame({"unit_id": [f"U{i:02d}" for i in range(n)], "capacity": [10.0] * n,
                         "cases_exiting": [10] * 50 + [5] * 8 + [3, 0],
                         "cases_forced": [0] * 45 + [10] * 5 + [0] * 10})
    freq["exit_share"] = freq["cases_exiting"] / 10
    picked = pick_units(freq, top=20)
    assert len(picked) == 20
    assert set(picked["unit_id"]) >= {f"U{i:02d}" for i in range(50, 59)}  # all 9 marginal units
    assert not set(picked["unit_id"]) & ({f"U{i:02d}" for i in range(45, 50)} | {"U59"})  # forced; never exits
    assert list(picked["exit_share"]) == sorted(picked["exit_share"], reverse=True)


def test_the_same_sweep_twice_gives_the_same_cases(local_run, tmp_path):
    path, out, _ = local_run
    run_sweep(path, out=tmp_path / "again", workers=1, progress=False)
    a, b = read_cases(out), read_cases(tmp_path / "again")
    pd.testing.assert_frame_equal(a[DETERMINISTIC], b[DETERMINISTIC])
    assert a["objective"].fillna(-1).tolist() == pytest.approx(b["objective"].fillna(-1).tolist(), rel=1e-9)


def test_a_folder_in_use_is_refused_and_resume_refuses_another_sweep_file(local_run, tmp_path):
    path, out, _ = local_run
    r = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out)])
    assert r.exit_code == 5
    other = path.with_name("other.toml")
    other.write_text(path.read_text(encoding="utf-8").replace("0.2]", "0.3]"), encoding="utf-8")
    before = (out / "cases.csv").read_bytes()
    r = CliRunner().invoke(app, ["sweep", str(other), "--out", str(out), "--resume"])
    assert r.exit_code == 2 and "different sweep file" in r.output
    assert (out / "cases.csv").read_bytes() == before


def _ledger_count(ledger: Path) -> int:
    if not ledger.exists():
        return 0
    try:
        with sqlite3.connect(ledger, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def _hold_ledger(ledger: Path) -> sqlite3.Connection | None:
    """The ledger's write lock (a connection inside BEGIN IMMEDIATE), or None while the ledger
    and its table of cases are not there yet."""
    if not ledger.exists():
        return None
    conn = sqlite3.connect(ledger, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT COUNT(*) FROM cases")
    except sqlite3.OperationalError:  # the table is not there yet
        conn.close()
        return None
    return conn


def _count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]


def test_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    """A sweep killed part-way (SIGKILL) resumes to the result of a sweep never stopped. The
    killed run's solver is a stand-in that answers twelve jobs as HiGHS would and then never
    answers (1–2 jobs a case): the sweep records some cases and then cannot go on, so it is
    killed while it runs, with cases left, however fast or slow the machine."""
    path = write_tiny(tmp_path, targets="100, 150, 200, 250, 300, 350, 400, 450, 500, 800")  # 60 cases
    with (path.parent / "scenario.toml").open("a", encoding="utf-8") as f:
        f.write("time_limit = 3600.0\n")  # in [solver]: the job never answered is not ended meanwhile
    out = tmp_path / "killed"
    jobs = tmp_path / "jobs.log"
    cmd = [sys.executable, "-c", "from exitopt.cli import main; main()", "sweep", str(path), "--out", str(out),
           "--workers", "1"]
    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "EXITOPT_HIGHS_WORKER": "stand_ins:answers_a_budget_of_jobs", "STAND_IN_JOBS": str(jobs),
           "STAND_IN_BUDGET": "12", "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=env)
    held = None
    try:
        deadline = time.monotonic() + 600  # only so that a sweep that is broken cannot hang the suite
        while True:
            # once the stand-in holds a job, the sweep can go no further; the ledger's write lock,
            # held while counting, makes the count read the count at the kill
            stuck = jobs.exists() and "held" in jobs.read_text("utf-8")
            held = _hold_ledger(out / "ledger.sqlite") if stuck else None
            counted = _count(held) if held is not None else 0
            if counted >= 3:
                break
            if held is not None:
                held.execute("COMMIT")
                held.close()
                held = None
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the sweep recorded no 3 cases"
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if held is not None:
            held.execute("COMMIT")
            held.close()
        end_group(proc)  # and its worker processes
    interrupted = _ledger_count(out / "ledger.sqlite")
    assert interrupted == counted and 3 <= interrupted <= 12  # twelve jobs answered: twelve cases at most
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({interrupted} already in the ledger)" in resumed.stdout

    with sqlite3.connect(out / "ledger.sqlite") as conn:
        ids = [r[0] for r in conn.execute("SELECT case_id FROM cases")]
        dup_units = conn.execute("SELECT COUNT(*) FROM (SELECT case_id, unit_id FROM unit_exits "
                                 "GROUP BY case_id, unit_id HAVING COUNT(*) > 1)").fetchone()[0]
    assert sorted(ids) == [c.id for c in read_sweep(path).cases] and dup_units == 0

    run_sweep(path, out=tmp_path / "whole", workers=2, progress=False)
    a, b = read_cases(out), read_cases(tmp_path / "whole")
    pd.testing.assert_frame_equal(a[DETERMINISTIC], b[DETERMINISTIC])
    assert a["objective"].fillna(-1).tolist() == pytest.approx(b["objective"].fillna(-1).tolist(), rel=1e-9)


def test_sweep_on_a_dask_cluster_gives_the_local_result(local_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    path, out, _ = local_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        r = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "dask"),
                                     "--scheduler", cluster.scheduler_address])
    assert r.exit_code == 0, r.output
    a, b = read_cases(out), read_cases(tmp_path / "dask")
    pd.testing.assert_frame_equal(a[DETERMINISTIC], b[DETERMINISTIC])
    assert a["objective"].fillna(-1).tolist() == pytest.approx(b["objective"].fillna(-1).tolist(), rel=1e-9)
    meta = dict(sqlite3.connect(tmp_path / "dask" / "ledger.sqlite").execute("SELECT key, value FROM meta"))
    assert json.loads(meta["axes"]) == ["target", "attrition"]


def test_a_misspelt_key_of_the_sweep_file_is_named_with_its_block_and_the_key_meant(tmp_path):
    write_tiny(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "scenario.toml"\n[[axes]]\npath = "objective.fiscal_weight"\nvalues = [1.0]\n'
                   '[[axes]]\npath = "objective.jobs_weight"\nvaluez = [1.0]\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_sweep(bad)
    assert "axes #2.valuez: unknown key; did you mean 'values'?" in str(e.value)


# ---- a case without a plan ------------------------------------------------------------------------


def test_a_case_without_a_plan_has_empty_figures_and_stays_out_of_pictures_and_frequencies(tmp_path):
    """A variant whose time limit passes before any plan: status limit, no objective, no exits (empty
    cells, never 0), its wall time and a diagnosis that says so; the frequencies count the solved
    cases only."""
    path = write_tiny(tmp_path, targets="100, 300")
    path.write_text(path.read_text(encoding="utf-8") + '\n[[variants]]\nname = "no time"\n'
                    'set = { "solver.time_limit" = 1e-6 }\n', encoding="utf-8")
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-c", "from exitopt.cli import main; main()", "sweep", str(path), "--out",
                        str(out), "--workers", "1", "--long"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "4 case(s) reached the time limit without any plan" in r.stdout
    raw = pd.read_csv(out / "cases.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    none = raw[raw["variant"] == "no time"]
    assert len(none) == 4 and (none["status"] == "limit").all()
    for col in ("objective", "jobs", "fiscal", "gap", "bound", "exits_coal"):
        assert (none[col] == "").all(), col  # empty, not 0.0
    for seconds, diagnosis in zip(none["seconds"].astype(float), none["diagnosis"], strict=True):
        assert diagnosis.startswith("no plan: the time limit of 1e-06 s was reached after ") and seconds > 0
    solved = raw[(raw["status"] == "optimal")]
    assert len(solved) == 12 and (solved["exits_coal"].astype(float) > 0).all()
    freq = pd.read_csv(out / "unit_frequency.csv", encoding="utf-8-sig")
    assert freq["cases_exiting"].max() <= len(solved)
    assert freq["exit_share"].tolist() == pytest.approx((freq["cases_exiting"] / len(solved)).tolist())
    long = pd.read_csv(out / "units_long.csv", encoding="utf-8-sig")
    assert long.loc[long["case"].isin(none["case"]), "exit_year"].isna().all()
    assert (out / "response.png").is_file() and (out / "tornado.png").is_file()


def test_plots_and_tables_take_a_case_without_a_plan_as_one(tmp_path):
    """Read back from the ledger (where a missing figure is NULL, read as NaN), a case with status limit
    and no objective has no exits and is not among the solved cases."""
    from exitopt.inputs import load
    from exitopt.sweep.export import cases_table, export
    from exitopt.sweep.ledger import open_ledger

    path = write_tiny(tmp_path, targets="300")
    sweep = read_sweep(path)
    ledger = open_ledger(tmp_path)
    try:
        solved, none = sweep.cases[0], sweep.cases[1]
        ledger.record(solved.id, solved.index, solved.variant, solved.values,
                      {"status": "optimal", "objective": 10.0, "jobs": 4.0, "fiscal": 6.0, "gap": 0.0, "bound": 10.0,
                       "exits": {"coal": {"2016": 300.0}}, "units": [("C", 2016, "close", False)], "seconds": 1.0})
        ledger.record(none.id, none.index, none.variant, none.values,
                      {"status": "limit", "diagnosis": "no plan", "seconds": 123.0})
        table = cases_table(sweep, ledger.cases(), ["coal"]).set_index("case")
        assert table.loc[solved.id, "exits_coal"] == 300.0
        assert pd.isna(table.loc[none.id, "exits_coal"]) and table.loc[none.id, "seconds"] == 123.0
        written = export(tmp_path, sweep, load(sweep.base_path), ledger)
    finally:
        ledger.close()
    assert "response.png" in written
    freq = pd.read_csv(tmp_path / "unit_frequency.csv", encoding="utf-8-sig").set_index("unit_id")
    assert freq.loc["C", "exit_share"] == 1.0  # one solved case, in which C exits


def test_a_case_without_a_plan_reports_the_time_the_case_took(tmp_path, monkeypatch):
    """The first block takes 1.5 s, the later searches end without a plan in no time: the diagnosis
    gives the case's time, not the last search's."""
    import re

    from conftest import write_scenario
    from exitopt import highs
    from exitopt.sweep import runner

    base = write_scenario(tmp_path, [dict(unit_id="A", workers=10), dict(unit_id="B", workers=20),
                                     dict(unit_id="K", product="clinker", workers=5)],
                          {"targets": [{"name": "coal", "product": "coal", "by": 2017, "at_least": 100.0},
                                       {"name": "clinker", "product": "clinker", "by": 2017, "at_least": 100.0}],
                           "sectors": {"coal": {"resettlement_per_worker": 2.0},
                                       "cement": {"resettlement_per_worker": 2.0}}})
    highs._drop_worker()
    monkeypatch.setattr(highs, "WORKER_MAIN", "stand_ins:slow_search_then_no_plan")
    monkeypatch.setattr(runner, "_BLOCKS", {})
    try:
        result = runner.solve_case(runner.Task("c0001", str(base), "key", (), 0, 30.0))
    finally:
        highs._drop_worker()
    assert result["status"] == "limit" and "objective" not in result and result["seconds"] >= 1.5
    said = float(re.search(r"reached after (\d+) s", result["diagnosis"]).group(1))
    assert abs(said - result["seconds"]) <= 1.0
