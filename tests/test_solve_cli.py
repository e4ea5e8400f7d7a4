"""``exitopt solve`` end to end: the run folder, its encoding, refusals, and infeasible plans explained."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.cli import app

GANSU = Path(__file__).resolve().parents[1] / "models" / "gansu_2016.toml"

FILES = {"schedule.csv", "summary.csv", "constraints.csv", "new_capacity.csv", "run.json"}
BOM = b"\xef\xbb\xbf"


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    """Message text with line breaks and repeated spaces folded (the console may wrap)."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def tiny(tmp_path, scenario_file) -> Path:
    # A (100 万吨, 10 workers, name that Excel would run), B (60, 5, name starting with '-'),
    # C (50, 4); at least 110 counted by 2017 → B and C exit, 9 displaced, objective 9.
    units = [dict(unit_id="A", capacity=100, workers=10, name='=HYPERLINK("http://x","A")'),
             dict(unit_id="B", capacity=60, workers=5, name="-1+2 mine"),
             dict(unit_id="C", capacity=50, workers=4, name="@C mine")]
    scen = {"targets": [dict(name="coal 110", product="coal", by=2017, at_least=110.0)]}
    return scenario_file(tmp_path / "in", units, scen)


def test_solve_writes_the_run_folder(tiny, tmp_path):
    out = tmp_path / "run"
    res = run("solve", tiny, "--out", out)
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == FILES
    for name in FILES - {"run.json"}:
        assert (out / name).read_bytes().startswith(BOM), name
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "optimal"
    assert record["objective"] == pytest.approx(9)
    sched = pd.read_csv(out / "schedule.csv", encoding="utf-8-sig").set_index("unit_id")
    assert sched.at["A", "name"] == '\'=HYPERLINK("http://x","A")'
    assert sched.at["B", "name"] == "'-1+2 mine"
    assert sched.at["C", "name"] == "'@C mine"
    assert sched["exit_year"].notna().to_dict() == {"A": False, "B": True, "C": True}
    assert "written to" in res.stdout


def test_non_empty_out_folder_is_refused_then_replaced_with_force(tiny, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("an earlier run", encoding="utf-8")
    res = run("solve", tiny, "--out", out)
    assert res.exit_code == 5
    assert "--force" in flat(res.stderr)
    assert "Traceback" not in res.output
    assert {p.name for p in out.iterdir()} == {"old.txt"}
    res = run("solve", tiny, "--out", out, "--force")
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == FILES
    # nothing left behind next to it (temporary folders are renamed or removed)
    assert {p.name for p in tmp_path.iterdir()} == {"in", "run"}


@pytest.fixture
def over_target(tmp_path, scenario_file) -> Path:
    # 300 万吨 of coal in all, a target of 500: the target must give, and can reach 300.
    units = [dict(unit_id=u, workers=1) for u in "ABC"]
    scen = {"targets": [dict(name="coal 500", product="coal", by=2018, at_least=500.0)]}
    return scenario_file(tmp_path / "in", units, scen)


def test_infeasible_exits_3_names_the_rule_and_leaves_no_folder(over_target, tmp_path):
    out = tmp_path / "run"
    res = run("solve", over_target, "--out", out)
    assert res.exit_code == 3
    msg = flat(res.stderr)
    assert "target 'coal 500'" in msg
    assert "can reach at most 300.0 万吨/yr" in msg
    assert "required at least 500.0 万吨/yr" in msg
    assert "Traceback" not in res.output
    assert not out.exists()
    assert {p.name for p in tmp_path.iterdir()} == {"in"}


def test_failed_run_with_force_keeps_the_earlier_folder(over_target, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("an earlier run", encoding="utf-8")
    res = run("solve", over_target, "--out", out, "--force")
    assert res.exit_code == 3
    assert {p.name for p in out.iterdir()} == {"old.txt"}
    assert {p.name for p in tmp_path.iterdir()} == {"in", "run"}


def test_impossible_concentration_says_what_share_is_reachable(tmp_path, scenario_file):
    # Four clinker groups of 100 each, none may exit: the top group holds 25 %, 90 % is asked.
    units = [dict(unit_id=f"K{i}", product="clinker", group=f"G{i}") for i in range(4)]
    scen = {"protected": [dict(name="all kept", where={})],
            "concentration": [dict(name="top 1", product="clinker", top=1, share=0.9, years=[2017])]}
    res = run("solve", scenario_file(tmp_path / "in", units, scen), "--out", tmp_path / "run")
    assert res.exit_code == 3
    msg = flat(res.stderr)
    assert "concentration 'top 1' in 2017 can reach at most 25.0%" in msg
    assert "required at least 90.0%" in msg
    assert not (tmp_path / "run").exists()


def test_bad_input_exits_2_without_a_folder(tmp_path, scenario_file):
    path = scenario_file(tmp_path / "in", [dict(unit_id="A")], {"targets": [dict(name="x", product="coal", by=2030,
                                                                                  at_least=1.0)]})
    res = run("solve", path, "--out", tmp_path / "run")
    assert res.exit_code == 2
    assert "2030" in flat(res.stderr)
    assert not (tmp_path / "run").exists()


def test_gansu_coal_target_of_6000_is_explained(tmp_path, monkeypatch):
    from conftest import to_toml
    from exitopt import diagnose
    from exitopt.inputs import load

    data = tomllib.loads(GANSU.read_text(encoding="utf-8"))
    for key in ("units", "projects"):
        data[key] = (GANSU.parent / data[key]).resolve()
    (target,) = [t for t in data["targets"] if t["product"] == "coal"]
    met = target["at_least"]  # the baseline meets it
    target["at_least"] = 6000.0
    path = tmp_path / "gansu_6000.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    inst = load(path)
    # the diagnosis the command prints, kept as it is made
    made = []
    message = diagnose.Diagnosis.message
    monkeypatch.setattr(diagnose.Diagnosis, "message", lambda self: made.append(self) or message(self))
    res = run("solve", path, "--out", tmp_path / "run")
    assert res.exit_code == 3, res.output
    assert not (tmp_path / "run").exists()
    diag = made[-1]
    msg = flat(res.stderr)
    assert all(g.sentence() in msg for g in diag.gives)
    gives = {(g.rule, g.name, g.year): g for g in diag.gives}
    give = gives[("target", target["name"], target["by"])]
    assert (give.sense, give.required) == (">=", 6000.0)
    reach = give.reachable
    # at most the coal the plan may retire at all: the mines no protected rule keeps
    coal = inst.units[inst.units["product"] == "coal"]
    kept = pd.concat([r.where.mask(coal) for r in inst.scenario.protected], axis=1).any(axis=1)
    assert kept.any()
    assert met <= reach <= coal.loc[~kept, "capacity"].sum() < 6000
    # no coal project is approved, so replacement has nothing to give; with no new mine the coal
    # left in the target's year (at least the supply floor, or what the diagnosis says it falls
    # to) caps the cut
    assert not [g for g in diag.gives if g.rule == "replacement"]
    (supply,) = [u for u in inst.scenario.utilisation if u.product == "coal" and u.reserve is not None]
    floor = supply.demand[target["by"]] * (1 + supply.reserve)
    relaxed = [g for g in diag.gives if g.rule == "supply" and g.name == supply.name and g.year == target["by"]]
    if relaxed:
        floor = relaxed[0].reachable
    assert reach <= coal["capacity"].sum() - floor + 1e-6


def test_at_most_target_below_a_mandatory_exit(tmp_path, scenario_file):
    # A (100 万吨) must exit by 2017, but at most 80 may be counted by 2018. Giving on the cap
    # costs 20 / 80 of it, on the mandatory exit the whole rule: the cap gives, by 20.
    units = [dict(unit_id="A", workers=1), dict(unit_id="B", workers=1)]
    scen = {"mandatory": [dict(name="A goes", by=2017, where={"units": ["A"]})],
            "targets": [dict(name="at most 80", product="coal", by=2018, at_most=80.0)]}
    res = run("solve", scenario_file(tmp_path / "in", units, scen), "--out", tmp_path / "run")
    assert res.exit_code == 3
    msg = flat(res.stderr)
    assert "1 rule(s) must give" in msg
    assert ("target 'at most 80' in 2018 cannot get below 100.0 万吨/yr under the other rules "
            "(required at most 80.0 万吨/yr)") in msg


def test_diagnosis_that_stopped_early_says_so():
    from exitopt.diagnose import Diagnosis, Give

    assert "time_limit" in Diagnosis([], "limit").message()
    give = Give("target", "coal 500", 2018, "coal", ">=", 500.0, 300.0, "万吨/yr")
    text = Diagnosis([give], "limit").message()
    assert "can reach at most 300.0 万吨/yr" in text and "time limit" in text
    assert "time limit" not in Diagnosis([give], "optimal").message()


def test_checker_accepts_the_run_it_wrote(tiny, tmp_path):
    from exitopt.check import check_plan, format_report, read_plan, read_project_approvals
    from exitopt.inputs import load

    out = tmp_path / "run"
    assert run("solve", tiny, "--out", out).exit_code == 0
    res = run("check", tiny, out / "schedule.csv", "--projects", out / "new_capacity.csv")
    assert res.exit_code == 0, res.output
    # the command prints the checker's report of the files, which prices the plan as solve did
    inst = load(tiny)
    checked = check_plan(inst, read_plan(out / "schedule.csv", inst),
                         read_project_approvals(out / "new_capacity.csv", inst))
    assert checked.ok
    assert format_report(checked) in res.stdout
    solved = json.loads((out / "run.json").read_text(encoding="utf-8"))["objective"]
    assert checked.objective == pytest.approx(solved) == pytest.approx(9.0)  # B and C: 5 + 4 displaced


def test_the_installed_command(over_target, tmp_path):
    """The console entry point itself (not the test runner): exit codes reach the shell."""
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "from exitopt.cli import main; main()", "solve", str(over_target),
           "--out", str(tmp_path / "run")]
    done = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 3
    assert "target 'coal 500'" in flat(done.stderr)
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_diagnosis_does_not_approve_candidates_without_indicators(tmp_path, scenario_file):
    # A and B (100 each); at least 100 counted by 2018, and at least 150 left in 2018: one rule must
    # give. Candidate mines P (100) and Q (1,000) could lift the floor, but need 1.2 × their
    # capacity as indicators, which the target cannot spare. Relaxing replacement instead of the
    # floor would blame a rule for projects nobody asked for; the floor gives: 100 left of 150.
    units = [dict(unit_id="A", workers=1), dict(unit_id="B", workers=1)]
    scen = {"targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)],
            "replacement": [dict(product="coal", ratio=1.2)],
            "utilisation": [dict(name="coal supply", product="coal", demand={2018: 150.0}, reserve=0.0)]}
    projects = [dict(project_id="P", capacity=100, year=2018), dict(project_id="Q", capacity=1000, year=2018)]
    res = run("solve", scenario_file(tmp_path / "in", units, scen, projects), "--out", tmp_path / "run")
    assert res.exit_code == 3
    msg = flat(res.stderr)
    assert "replacement" not in msg.split("(searched")[0]
    assert ("supply 'coal supply' in 2018 can reach at most 100.0 万吨/yr under the other rules "
            "(required at least 150.0 万吨/yr)") in msg
    assert "candidate new-capacity project left unapproved" in msg
