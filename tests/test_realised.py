"""The realised 2016–2018 coal exits as a scenario (models/gansu_2016_realised.toml).

Solved once here (plus the baseline the session already solves, and the baseline with the
reserve deadline moved to 2018, which the realised scenario only adds rules to). The plan is
judged by ``exitopt check``, the independent checker, and by figures recomputed from its
schedule; the comparison with the baseline is checked against the two schedules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.cli import app
from exitopt.output import write_folder

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "models" / "gansu_2016.toml"
REALISED = ROOT / "models" / "gansu_2016_realised.toml"
UNITS = ROOT / "data" / "gansu" / "units.csv"

# Reported exits (data/gansu/README.md, "Realised coal exits 2016-2018"), 万吨/yr.
REPORTED = {2016: 409.0, 2017: 240.0, 2018: 456.0}
REPORTED_MINES = {2016: 46, 2017: 10, 2018: 21}
NAMED_2017 = {"COAL-HONGHUI4": 60.0, "COAL-CHANGSHANZI": 63.0, "COAL-KAITUO": 45.0,
              "COAL-SHUIMOGOU": 9.0}


def run(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def schedule(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "schedule.csv", encoding="utf-8-sig").set_index("unit_id")


def record(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def realised(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("realised") / "run"
    result = run("solve", REALISED, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def baseline(gansu_result, tmp_path_factory) -> Path:
    return write_folder(tmp_path_factory.mktemp("baseline") / "run", gansu_result.files(), force=False)


@pytest.fixture(scope="module")
def relaxed_scenario(tmp_path_factory) -> Path:
    """The baseline with one change: mines in protected areas must exit by 2018, not 2016.

    The realised scenario is this one with more rules (targets, mandatory exits, windows)."""
    text = BASELINE.read_text(encoding="utf-8")
    rule = 'name = "mines in protected areas"'
    head, tail = text.split(rule)
    assert "by = 2016" in tail.splitlines()[1:3]  # after the rule's name_zh
    tail = tail.replace("by = 2016", "by = 2018", 1)
    text = (head + rule + tail).replace('"../data/', f'"{(ROOT / "data").as_posix()}/')
    path = tmp_path_factory.mktemp("relaxed") / "relaxed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_realised_scenario_validates():
    result = run("validate", REALISED)
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    for name in ("realised coal exits by 2016", "realised coal exits by 2017",
                 "realised coal exits by 2018", "named 2017 exits", "reserve mines in 2018"):
        assert name in text


def test_named_mines_are_reported_rows_of_their_size():
    units = pd.read_csv(UNITS, dtype=str, keep_default_na=False).set_index("unit_id")
    press = units[units["source"] == "press"]
    assert set(press.index) == set(NAMED_2017)
    for uid, cap in NAMED_2017.items():
        assert float(press.loc[uid, "capacity"]) == cap
        assert press.loc[uid, "source_ref"].startswith("Xinhua, Dec 2017")
    coal = units[units["sector"] == "coal"]
    assert round(coal["capacity"].astype(float).sum(), 1) == 6560.0


def test_independent_checker_accepts_the_realised_plan(realised):
    result = run("check", REALISED, realised / "schedule.csv", "--projects", realised / "new_capacity.csv")
    assert result.exit_code == 0, result.output
    assert "meets every rule" in flat(result.output)


def test_plan_meets_each_reported_year(realised):
    s = schedule(realised)
    coal = s[s["sector"] == "coal"]
    assert (coal["indicator"].fillna(0) == 0).all()   # no coal project built: all exits count
    cumulative, mines = 0.0, 0
    for year, figure in REPORTED.items():
        cumulative += figure
        mines += REPORTED_MINES[year]
        gone = coal.loc[coal["exit_year"] <= year, "capacity"].sum()
        assert gone >= cumulative - 1e-6, (year, gone)
        if year < 2018:
            assert gone <= cumulative + 21 + 1e-6, (year, gone)
        assert (coal["exit_year"] <= year).sum() >= mines, year


def test_named_mines_exit_in_2017_and_reserve_mines_in_2018(realised):
    s = schedule(realised)
    for uid in NAMED_2017:
        assert s.loc[uid, "exit_year"] == 2017, uid
    units = pd.read_csv(UNITS, dtype=str, keep_default_na=False).set_index("unit_id")
    reserve = units.index[(units["sector"] == "coal") & (units["protected_area"] == "true")]
    assert len(reserve) >= 8
    assert (s.loc[reserve, "exit_year"] == 2018).all()


def test_yugang_phase_1_is_gone_by_2016_with_the_plans_figures(realised):
    """Yugang phase 1 closed in August 2016 (shared/seed/digest.md); the task counts the plan's
    100 iron and 100 steel (§II.2.(2)), and the package takes the rest of JISCO's cut with it."""
    s = schedule(realised)
    yug1 = s[s.index.str.startswith("JISCO-YUG1-")]
    assert len(yug1) == 4 and (yug1["exit_year"] <= 2016).all()
    for product in ("pig_iron", "crude_steel"):
        assert yug1.loc[yug1["product"] == product, "counted"].sum() >= 100.0 - 1e-6, product
    package = s[s.index.str.startswith(("JISCO-YIG-", "JISCO-YUG1-"))]
    assert package["exit_year"].nunique() == 1


def test_baseline_plan_breaks_the_realised_rules(baseline):
    result = run("check", REALISED, baseline / "schedule.csv", "--projects", baseline / "new_capacity.csv")
    assert result.exit_code == 6, result.output
    text = flat(result.output)
    assert "'realised coal exits by 2017'" in text and "'realised coal exits by 2018'" in text
    assert "by 2016: 33 units exited, 46 required" in text   # the baseline closes 33 mines in 2016
    for uid in NAMED_2017:
        assert f"unit {uid} must exit by 2017" in text


def test_realised_costs_at_least_the_scenario_it_adds_rules_to(realised, relaxed_scenario):
    """More rules cannot make the optimum cheaper: realised ≥ relaxed optimum ≥ relaxed bound."""
    from exitopt.inputs import load
    from exitopt.solve import solve_instance

    relaxed = solve_instance(load(relaxed_scenario))
    assert relaxed.status == "optimal"
    assert record(realised)["objective"] >= relaxed.outcome.bound - 1e-6
    # and the realised plan is a plan of the relaxed scenario, priced the same by the checker
    result = run("check", relaxed_scenario, realised / "schedule.csv",
                 "--projects", realised / "new_capacity.csv")
    assert result.exit_code == 0, result.output


def test_compare_names_the_differences(baseline, realised, tmp_path):
    out = tmp_path / "comparison.csv"
    result = run("compare", baseline, realised, "--out", out)
    assert result.exit_code == 0, result.output
    for uid in NAMED_2017:
        assert uid in result.output
    table = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    figures = table[table["section"] == "figure"].set_index("key")
    a, b = record(baseline), record(realised)
    for key in ("objective", "jobs", "fiscal"):
        assert float(figures.loc[key, "change"]) == pytest.approx(b[key] - a[key], abs=1e-3)
    # units listed = units whose exit year or mode differs, computed from the two schedules
    sa, sb = schedule(baseline), schedule(realised)
    def plan(s):  # a unit's exit, or its merger (year and acquiring group)
        merger = [s[c].astype("string").fillna("") if c in s else "" for c in ("merge_year", "acquirer")]
        return s["exit_year"].fillna(0).astype(int).astype(str) + s["mode"].fillna("") + merger[0] + merger[1]
    differ = set(sa.index[plan(sa) != plan(sb.loc[sa.index])])
    assert set(table.loc[table["section"] == "unit", "key"]) == differ
    assert set(NAMED_2017) <= differ


# --- counts in targets (count_at_least / count_at_most), computed by hand ------------------------
# Three coal mines, one year, only displaced workers cost (1 per person, nobody redeployed):
# A 100 万吨 with 200 workers, B 10 万吨 with 50, C 10 万吨 with 60.

COUNT_UNITS = [dict(unit_id="A", capacity=100.0, workers=200), dict(unit_id="B", capacity=10.0, workers=50),
               dict(unit_id="C", capacity=10.0, workers=60)]


def count_instance(make_instance, tmp_path, **target):
    scenario = {"last_year": 2016, "objective": {"jobs_weight": 1.0, "fiscal_weight": 0.0},
                "targets": [{"name": "t", "product": "coal", "by": 2016, **target}]}
    return make_instance(tmp_path, units=COUNT_UNITS, scenario=scenario)


@pytest.mark.parametrize("target, exits, objective", [
    (dict(at_least=100.0), {"A"}, 200.0),                       # capacity alone: A
    (dict(at_least=100.0, count_at_least=2), {"A", "B"}, 250.0),  # and a second mine: B, cheaper than C
    (dict(count_at_least=2), {"B", "C"}, 110.0),                # two mines, any size: the two cheapest
    (dict(count_at_least=3), {"A", "B", "C"}, 310.0),
    (dict(at_least=20.0), {"B", "C"}, 110.0),                   # two small mines beat A ...
    (dict(at_least=20.0, count_at_most=1), {"A"}, 200.0),       # ... unless one mine is all that may go
])
def test_count_targets_by_hand(make_instance, tmp_path, target, exits, objective):
    from exitopt.solve import solve_instance

    res = solve_instance(count_instance(make_instance, tmp_path, **target))
    s = res.schedule.set_index("unit_id")
    assert set(s.index[s["exit_year"].notna()]) == exits
    assert res.objective == pytest.approx(objective)


def test_count_target_that_cannot_be_met_is_infeasible(make_instance, tmp_path):
    from exitopt.errors import InfeasibleError
    from exitopt.solve import solve_instance

    # at least 110 万吨 needs two mines, at most one is allowed
    with pytest.raises(InfeasibleError):
        solve_instance(count_instance(make_instance, tmp_path, at_least=110.0, count_at_most=1))


def test_checker_counts_exited_units(make_instance, tmp_path):
    from exitopt.check import check_plan, read_plan

    inst = count_instance(make_instance, tmp_path, count_at_least=1, count_at_most=1)
    plan_file = tmp_path / "plan.csv"
    plan_file.write_text("unit_id,exit_year\nA,2016\nB,2016\nC,\n", encoding="utf-8")
    result = check_plan(inst, read_plan(plan_file, inst))
    assert [v.message for v in result.violations] == [
        "coal exit target 't' by 2016: 2 units exited, at most 1 allowed"]
    plan_file.write_text("unit_id,exit_year\nA,\nB,\nC,\n", encoding="utf-8")
    result = check_plan(inst, read_plan(plan_file, inst))
    assert [v.message for v in result.violations] == [
        "coal exit target 't' by 2016: 0 units exited, 1 required"]


@pytest.mark.parametrize("target, words", [
    (dict(count_at_least=3, count_at_most=2), "count_at_most is below count_at_least"),
    (dict(count_at_least=-1), "count_at_least"),
    (dict(), "give at_least, at_most, count_at_least or count_at_most"),
])
def test_bad_count_bounds_are_refused(tmp_path, scenario_file, target, words):
    path = scenario_file(tmp_path, COUNT_UNITS, {"targets": [{"name": "t", "product": "coal", "by": 2016, **target}]})
    result = run("validate", path)
    assert result.exit_code == 2, result.output
    assert words in flat(result.output)
