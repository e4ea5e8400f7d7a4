"""The time limit is a promise kept by exitopt itself, whatever the solver does.

``--time-limit`` bounds a whole command. A solver that never returns (a stand-in worker here)
is ended at the limit plus a grace period — shown on a clock that runs one second a reading once
the job that hangs is sent, so that no test depends on the machine's speed; the command exits 4
with the best plan written, or with nothing written when there is none.
"""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import exitopt.highs as highs
from conftest import GANSU, run_with, to_toml
from exitopt.check import check_plan, read_plan, read_project_approvals
from exitopt.cli import app
from exitopt.inputs import load

MINES = [dict(unit_id=u, capacity=c, workers=w) for u, c, w in
         (("A", 100, 10), ("B", 150, 30), ("C", 200, 25), ("D", 50, 4))]
TINY = {"targets": [{"name": "coal 250", "product": "coal", "by": 2017, "at_least": 250.0}],
        "sectors": {"coal": {"resettlement_per_worker": 2.0}}}


@pytest.fixture
def never_returns(monkeypatch):
    """Every solve in this test goes to a worker that takes the job and never answers."""
    highs._drop_worker()
    monkeypatch.setattr(highs, "WORKER_MAIN", "stand_ins:never_returns")
    yield
    highs._drop_worker()


#: seconds before its deadline and the grace that the clock puts the job that hangs
LEAD = 6.0


class RacingClock:
    """The clock exitopt's solver side reads (``exitopt.highs.time``): the real one until a job
    that hangs is sent to the worker (every job, or those ``hangs_on`` picks); then :data:`LEAD`
    seconds before that job's deadline and the grace (the command's, with ``whole_command``), and
    one second later at each reading, however fast or loaded the machine. A limit passes after a
    known number of exitopt's own readings, and nothing else runs out of time (the limits given
    are long)."""

    def __init__(self) -> None:
        self.now: float | None = None  # racing from the first job that hangs on
        self.hangs: list[list] = []  # [deadline plus grace, the clock when its worker was ended]
        self.hangs_on = lambda job, index: True  # a job (and its index among those sent) the worker hangs on
        self.whole_command = False  # a job that hangs takes the command's time with it
        self.sent = 0
        self.deadline = None  # of the job being sent

    def time(self) -> float:
        if self.now is None:
            return time.time()
        self.now += 1.0
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)

    def hung(self, job) -> None:
        index, self.sent = self.sent, self.sent + 1
        if self.hangs_on(job, index):
            d = highs._current.get() if self.whole_command else self.deadline
            hard_end = d.end + highs.GRACE
            self.hangs.append([hard_end, None])
            self.now = max(self.now if self.now is not None else time.time(), hard_end - LEAD)

    def ended(self) -> None:
        if self.hangs and self.hangs[-1][1] is None:
            self.hangs[-1][1] = self.now


@pytest.fixture
def racing_clock(monkeypatch) -> RacingClock:
    clock = RacingClock()
    monkeypatch.setattr(highs, "time", clock)
    get_worker, end = highs._get_worker, highs._Worker.end

    def getting(d):
        clock.deadline = d
        w = get_worker(d)
        if w is not None and not getattr(w.conn, "raced", False):
            send = w.conn.send

            def sending(job):
                send(job)
                if job is not None:
                    clock.hung(job)

            w.conn.send = sending
            w.conn.raced = True
        return w

    def ending(self):
        clock.ended()
        end(self)

    monkeypatch.setattr(highs, "_get_worker", getting)
    monkeypatch.setattr(highs._Worker, "end", ending)
    return clock


def ended_at_the_limit(clock: RacingClock) -> bool:
    """Each worker that hung was ended once the clock passed its limit and the grace, at the first
    look after (two readings a look), and not before."""
    return bool(clock.hangs) and all(e is not None and h <= e <= h + 2.0 for h, e in clock.hangs)


def gansu_variant(folder, edit) -> Path:
    """The Gansu scenario, its tables by absolute path, changed by ``edit(data)``, written to folder."""
    data = tomllib.loads(GANSU.read_text("utf-8"))
    for key in ("units", "projects"):
        data[key] = (GANSU.parent / data[key]).resolve().as_posix()
    edit(data)
    path = folder / "gansu_variant.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["solve"], ["pareto", "--points", "3"], ["alternatives", "--count", "2"],
                                     ["solve", "--keep", "A"], ["solve", "--explain"]])
def test_a_solver_that_never_returns_is_ended_at_the_limit(never_returns, racing_clock, scenario_file, tmp_path,
                                                           command):
    path = scenario_file(tmp_path, MINES, TINY)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, [*command, str(path), "--out", str(out), "--time-limit", "600"])
    assert r.exit_code == 4, r.output
    assert ended_at_the_limit(racing_clock)
    assert "time limit" in r.output
    assert not out.exists()  # no plan was found: nothing written


@pytest.mark.parametrize("stand_in, command, what", [
    ("answers_one_job", ["--keep", "A"], "pins.csv"),  # the pinned plan, then the free optimum hangs
    ("answers_two_jobs", ["--explain"], "margins.csv"),  # the plan and its duals, then a margin hangs
])
def test_re_solves_cut_short_write_the_plan_and_exit_4(monkeypatch, racing_clock, scenario_file, tmp_path, stand_in,
                                                       command, what):
    path = scenario_file(tmp_path, MINES, TINY)
    out = tmp_path / "out"
    answered = {"answers_one_job": 1, "answers_two_jobs": 2}[stand_in]
    racing_clock.hangs_on = lambda job, index: index == answered
    r = run_with(monkeypatch, stand_in, ["solve", str(path), *command, "--out", str(out), "--time-limit", "600"])
    assert r.exit_code == 4, r.output
    assert ended_at_the_limit(racing_clock)
    assert "ran out of time" in " ".join(r.output.split())
    table = pd.read_csv(out / what)
    assert table["status"].str.contains("time limit").any()
    assert json.loads((out / "run.json").read_text("utf-8"))["status"] == "optimal"


def test_blocks_plan_stands_when_the_whole_model_runs_out_of_time(monkeypatch, racing_clock, scenario_file, tmp_path):
    """Blocks solved, their gaps adding up to more than rel_gap: the whole model is solved from
    their plan for a smaller gap; when that runs out of time, the blocks' plan is written (exit 4)."""
    units = MINES + [dict(unit_id="K1", product="clinker", capacity=100, workers=5),
                     dict(unit_id="K2", product="clinker", capacity=120, workers=40)]
    scenario = {**TINY, "targets": TINY["targets"] + [
        {"name": "clinker 100", "product": "clinker", "by": 2017, "at_least": 100.0}],
        "sectors": {**TINY["sectors"], "cement": {"resettlement_per_worker": 2.0}}}
    path = scenario_file(tmp_path, units, scenario)
    out = tmp_path / "out"
    searches = []

    def third_search(job, index):  # the stand-in hangs on the third search
        a = job["arrays"]
        if (a["integer"] & (a["col_lower"] != a["col_upper"])).any():
            searches.append(index)
        return len(searches) == 3 and searches[-1] == index

    racing_clock.hangs_on = third_search
    r = run_with(monkeypatch, "loose_blocks_then_hangs", ["solve", str(path), "--out", str(out),
                                                          "--time-limit", "600"])
    assert r.exit_code == 4, r.output
    assert racing_clock.hangs[0][1] is not None  # the end that hung was ended
    record = json.loads((out / "run.json").read_text("utf-8"))
    assert record["status"] == "limit" and "ran out of time" in record["solver_message"]
    # coal ≥ 250: C and D (29 workers), clinker ≥ 100: K1 (5 workers); each worker costs 1 (jobs
    # weight) + 2 万元 (resettlement, fiscal weight 1); the bound 10 % below
    assert record["objective"] == pytest.approx(3.0 * (25 + 4 + 5))
    assert record["gap"] == pytest.approx(0.1, rel=1e-6)


def test_limit_is_for_the_whole_command_not_each_solve():
    with highs.limit(5.0) as outer:
        with highs.limit(1000.0) as inner:  # a nested limit never extends the command's
            assert inner.end == outer.end
            assert highs.deadline(2.0).end < outer.end  # but a solve may be given less
    assert highs.deadline().end is None  # no limit outside a command


def test_a_step_s_share_is_its_weight_of_the_time_left():
    d = highs.Deadline(100.0)
    assert d.share(2, 5) == pytest.approx(40.0, abs=0.5)  # an end (2) before another end and a point
    assert d.share(1, 1) == pytest.approx(d.left(), abs=0.5)  # the last step takes what is left
    assert highs.Deadline(None).share(1, 3) is None  # no limit, no share


def hard_gansu(folder):
    """Gansu with the coal exit held to 1,000–1,010 and coal supply at 81.5 % use at least, solved to
    a 1e-6 gap: HiGHS finds plans within seconds and does not prove one for minutes (once it did
    not return at all)."""
    def edit(data):
        next(t for t in data["targets"] if t["product"] == "coal")["at_most"] = 1010.0
        next(u for u in data["utilisation"] if u["name"] == "coal supply")["min_utilisation"] = 0.815
        data["solver"]["rel_gap"] = 1e-6

    return gansu_variant(folder, edit)


def test_a_real_instance_at_a_short_limit_writes_its_best_plan_and_gap(monkeypatch, tmp_path):
    # HiGHS on a Gansu variant it takes minutes to prove, stopped at its first plan of every
    # search as if the clock ran out there: the plan written is the best found, with its gap
    path = hard_gansu(tmp_path)
    out = tmp_path / "out"
    r = run_with(monkeypatch, "stops_at_first_plan", ["solve", str(path), "--out", str(out), "--time-limit", "600"])
    assert r.exit_code == 4, r.output
    assert "stopped at the time limit" in r.output
    record = json.loads((out / "run.json").read_text("utf-8"))
    assert record["status"] == "limit"
    assert record["gap"] is not None and record["gap"] > 0
    assert record["bound"] <= record["objective"]
    inst = load(path)
    built = read_project_approvals(out / "new_capacity.csv", inst)  # the plan builds candidate projects
    checked = check_plan(inst, read_plan(out / "schedule.csv", inst), built)
    assert checked.ok, checked.violations  # the plan written meets every rule
    assert checked.objective == pytest.approx(record["objective"], rel=1e-6)
    assert pd.read_csv(out / "schedule.csv")["exit_year"].notna().any()


def test_a_frontier_at_a_short_limit_is_written_with_every_point_checked(monkeypatch, tmp_path):
    # Gansu to a 1e-6 gap (the fewest-jobs end alone takes minutes to prove), every search stopped
    # at its first plan as if its share of the time ran out there: the frontier comes back with a
    # plan at every step, each one checkable. The labour-market caps are left out: with them the
    # least-outlay blocks' first plans together break a joint cap, and the whole model's first
    # plan then displaces fewer workers than the fewest-jobs end's, leaving no span for a point
    def edit(data):
        data["solver"].update(rel_gap=1e-6)
        del data["caps"]

    path = gansu_variant(tmp_path, edit)
    out = tmp_path / "front"
    r = run_with(monkeypatch, "stops_at_first_plan", ["pareto", str(path), "--points", "3", "--out", str(out),
                                                     "--time-limit", "600"])
    assert r.exit_code == 4, r.output
    table = pd.read_csv(out / "frontier.csv", encoding="utf-8-sig")
    assert len(table) == 3 and "limit" in set(table["status"])
    assert table["jobs"].is_monotonic_increasing  # fewest jobs first
    inst = load(path)
    for _, row in table.iterrows():
        plan = out / row["plan"]
        projects = plan.with_name(plan.stem + "_projects.csv")
        built = read_project_approvals(projects, inst) if projects.exists() else None
        checked = check_plan(inst, read_plan(plan, inst), built)
        assert checked.ok, (row["point"], checked.violations)
        assert checked.jobs == pytest.approx(row["jobs"], rel=1e-6)
        assert checked.fiscal == pytest.approx(row["fiscal"], rel=1e-6, abs=1e-3)


def test_a_frontier_whose_second_end_runs_out_of_time_keeps_the_first(monkeypatch, racing_clock, scenario_file,
                                                                      tmp_path):
    # the fewest-jobs end is two solves (workers, then outlay); the third, the least-outlay end,
    # hangs until the limit
    path = scenario_file(tmp_path, MINES, TINY)
    out = tmp_path / "front"
    racing_clock.hangs_on = lambda job, index: index == 2  # the least-outlay end, taking the command's time
    racing_clock.whole_command = True
    r = run_with(monkeypatch, "answers_two_jobs", ["pareto", str(path), "--points", "2", "--out", str(out),
                                                   "--time-limit", "600"])
    assert r.exit_code == 4, r.output
    assert racing_clock.hangs[0][1] is not None  # the end that hung was ended
    table = pd.read_csv(out / "frontier.csv", encoding="utf-8-sig")
    assert list(table["label"]) == ["fewest jobs lost"]
    # 250 万吨 by 2017 with the fewest workers: A and B (10 + 30 = 40) or C and D (25 + 4 = 29): C, D
    assert table["jobs"].iloc[0] == pytest.approx(29)
    inst = load(path)
    checked = check_plan(inst, read_plan(out / table["plan"].iloc[0], inst))
    assert checked.ok and checked.jobs == pytest.approx(29)


def test_alternatives_cut_short_keep_their_plans_and_exit_4(monkeypatch, scenario_file, tmp_path):
    # every search for a far plan comes back as stopped at its share of the time, plan in hand
    path = scenario_file(tmp_path, MINES, TINY)
    out = tmp_path / "alts"
    r = run_with(monkeypatch, "far_plans_unproven", ["alternatives", str(path), "--count", "2", "--within", "100%",
                                                     "--out", str(out), "--time-limit", "30"])
    assert r.exit_code == 4, r.output
    table = pd.read_csv(out / "alternatives.csv", encoding="utf-8-sig")
    assert list(table["status"]) == ["optimal", "limit", "limit"]
    inst = load(path)
    plans = []
    for _, row in table.iterrows():
        plan = read_plan(out / row["file"], inst)
        checked = check_plan(inst, plan)
        assert checked.ok, checked.violations
        assert checked.objective <= row["bound"] + 1e-6  # within the cost bound
        plans.append(frozenset(plan.units.index[plan.units["exit_year"].notna()]))
    assert len(set(plans)) == 3  # each differs from the earlier ones
