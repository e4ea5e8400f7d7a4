"""The award as its rules pay it and the award fund (docs/model.md#cost, docs/model.md#award-fund,
docs/model.md#budget), priced by hand on tiny instances, through `exitopt solve` and `exitopt check`
as the analyst runs them."""

from __future__ import annotations

import json
import subprocess

import openpyxl
import pandas as pd
import pytest

from conftest import exitopt, solved
from exitopt.inputs import bind
from exitopt.solve import solve_instance
from exitopt.vocab import PRODUCT_SECTOR


def check(tmp_path, path, plan_rows: str) -> subprocess.CompletedProcess:
    plan = tmp_path / "plan.csv"
    plan.write_text("unit_id,exit_year\n" + plan_rows, encoding="utf-8")
    done = exitopt("check", path, plan)
    assert "Traceback" not in done.out, done.out
    return done


def test_base_and_ladder_parts_by_hand(tmp_path, scenario_file):
    # Coal mine A, 100 万吨/yr, must exit by 2018; closing costs 20 万元 per 万吨 (2,000). Award 10
    # 万元 per 万吨, 80 % base (no year weight), 20 % ladder weighted 1.1 / 1.0 / 0.9:
    # 2016: 10 × 100 × (0.8 + 0.2 × 1.1) = 800 + 220 = 1,020; 2018: 800 + 180 = 980.
    # The optimum exits in 2016: fiscal 2,000 − 1,020 = 980. (One ladder-weighted award, as
    # before, would pay 1,100 in 2016.)
    scen = {"ladder": {"2016": 1.1, "2017": 1.0, "2018": 0.9},
            "sectors": {"coal": {"award_per_capacity": 10.0, "award_base_share": 0.8,
                                 "exit_cost_per_capacity": {"close": 20.0}}},
            "mandatory": [dict(name="A goes", by=2018, where={"units": ["A"]})]}
    path, record, s, summary, _ = solved(tmp_path, scenario_file, [dict(unit_id="A")], scen)
    assert record["fiscal"] == pytest.approx(980.0, rel=1e-9)
    assert s.at["A", "exit_year"] == 2016
    assert s.at["A", "award"] == pytest.approx(1020.0)
    assert (s.at["A", "award_base"], s.at["A", "award_ladder"]) == pytest.approx((800.0, 220.0))
    by_year = summary.set_index("year")
    assert by_year["award_base"].to_dict() == pytest.approx({2016: 800.0, 2017: 0.0, 2018: 0.0})
    assert by_year["award_ladder"].to_dict() == pytest.approx({2016: 220.0, 2017: 0.0, 2018: 0.0})
    # the checker prices a later exit itself: 2018, 2,000 − 980 = 1,020
    done = check(tmp_path, path, "A,2018\n")
    assert done.returncode == 0, done.out
    assert "Fiscal: 1,020.0 万元 (present value)" in done.out


def test_without_a_base_share_the_run_folder_shows_one_award(tmp_path, scenario_file):
    # the defaults: one rate on all counted capacity × the ladder, as before; no split columns
    scen = {"ladder": {"2016": 1.1}, "sectors": {"coal": {"award_per_capacity": 10.0}},
            "mandatory": [dict(name="A goes", by=2016, where={"units": ["A"]})]}
    _, record, s, summary, _ = solved(tmp_path, scenario_file, [dict(unit_id="A")], scen)
    assert record["fiscal"] == pytest.approx(-1100.0, rel=1e-9)
    assert s.at["A", "award"] == pytest.approx(1100.0)
    assert "award_base" not in s.columns and "award_ladder" not in summary.columns


def test_only_the_products_named_earn_the_award(tmp_path, scenario_file):
    # A converter (crude steel) and a rolling mill (rolled steel), 100 万吨/yr each, both must go
    # in 2016. The steel award of 140 per 万吨 is paid on crude steel only: 14,000, not 28,000.
    units = [dict(unit_id="C", product="crude_steel"), dict(unit_id="R", product="rolled_steel")]
    scen = {"sectors": {"steel": {"award_per_capacity": 140.0, "award_products": ["crude_steel"]}},
            "mandatory": [dict(name="both go", by=2016, where={"units": ["C", "R"]})]}
    path, record, s, _, _ = solved(tmp_path, scenario_file, units, scen)
    assert record["fiscal"] == pytest.approx(-14000.0, rel=1e-9)
    assert s.at["C", "award"] == pytest.approx(14000.0) and s.at["R", "award"] == 0.0
    done = check(tmp_path, path, "C,2016\nR,2016\n")
    assert done.returncode == 0 and "Fiscal: -14,000.0 万元" in done.out, done.out


@pytest.mark.parametrize("nonstate, paid", [({"award_nonstate_per_unit": 120.0}, 120.0),
                                             ({"award_nonstate_per_capacity": 2.0}, 100.0),
                                             ({}, 500.0)])
def test_a_non_state_unit_is_paid_its_class_award(tmp_path, scenario_file, nonstate, paid):
    # State mine S (100 万吨/yr) and private mine P (50), both closed in 2016; state rate 10 per
    # 万吨 (S: 1,000). P: a fixed 120 万元 per mine (1.2 million 元), or 2 per 万吨 (100), or,
    # with neither, the state rate (500).
    units = [dict(unit_id="S"), dict(unit_id="P", capacity=50.0, owner="private")]
    scen = {"sectors": {"coal": {"award_per_capacity": 10.0, **nonstate}},
            "mandatory": [dict(name="both go", by=2016, where={"units": ["S", "P"]})]}
    path, record, s, _, _ = solved(tmp_path, scenario_file, units, scen)
    assert s.at["P", "award"] == pytest.approx(paid) and s.at["S", "award"] == pytest.approx(1000.0)
    assert record["fiscal"] == pytest.approx(-(1000.0 + paid), rel=1e-9)
    done = check(tmp_path, path, "S,2016\nP,2016\n")
    assert done.returncode == 0 and f"Fiscal: {-(1000.0 + paid):,.1f} 万元" in done.out, done.out


THREE = [dict(unit_id="A"), dict(unit_id="B"), dict(unit_id="C")]
PAYS = {"coal": {"award_per_capacity": 10.0, "exit_cost_per_capacity": {"close": 5.0}}}


def test_the_fund_over_the_plan_caps_the_awards(tmp_path, scenario_file):
    # Three mines of 100: each exit costs 500 and earns 1,000, so without a fund all three exit
    # (−1,500). A fund of 2,500 pays two awards at most: two exit, fiscal −1,000.
    path, record, s, _, c = solved(tmp_path, scenario_file, THREE, {"sectors": PAYS, "caps": {"award_fund": 2500.0}})
    assert record["fiscal"] == pytest.approx(-1000.0, rel=1e-9)
    assert s["exit_year"].notna().sum() == 2
    row = c[c["rule"] == "award_fund"]
    assert len(row) == 1 and row["achieved"].iloc[0] == pytest.approx(2000.0)
    assert row["required"].iloc[0] == pytest.approx(2500.0)
    done = check(tmp_path, path, "A,2016\nB,2017\nC,2018\n")  # 3,000 of awards
    assert done.returncode == 6 and "award fund" in done.out and "3,000" in done.out, done.out


def test_the_fund_per_year_caps_each_year(tmp_path, scenario_file):
    # As above with the 2016 exits weighted 1.1 (an award of 1,100, net −600) and a fund of 1,200
    # in 2016: one mine exits in 2016, the other two later (net −500 each): fiscal −1,600.
    scen = {"sectors": PAYS, "ladder": {"2016": 1.1}, "caps": {"award_fund_per_year": {"2016": 1200.0}}}
    path, record, s, _, c = solved(tmp_path, scenario_file, THREE, scen)
    assert record["fiscal"] == pytest.approx(-1600.0, rel=1e-9)
    assert (s["exit_year"] == 2016).sum() == 1 and s["exit_year"].notna().all()
    row = c[c["rule"] == "award_fund"]
    assert list(row["year"]) == [2016] and row["achieved"].iloc[0] == pytest.approx(1100.0)
    done = check(tmp_path, path, "A,2016\nB,2016\n")
    assert done.returncode == 6 and "award fund in 2016" in done.out, done.out


@pytest.mark.parametrize("basis, year, fiscal", [("net", 2016, 200.0), ("gross", 2017, 500.0)])
def test_the_budget_caps_outlay_net_or_gross_of_the_award(tmp_path, scenario_file, basis, year, fiscal):
    # Mine A must go by 2017; closing costs 2,000; the award is 15 per 万吨 (1,500), 1.2-weighted
    # in 2016 (1,800). Budget 2016: 1,000. Net of the award 2016 costs 200 ≤ 1,000: A goes in 2016.
    # Gross, 2016 spends 2,000 > 1,000: A goes in 2017, fiscal 2,000 − 1,500 = 500.
    scen = {"ladder": {"2016": 1.2},
            "sectors": {"coal": {"award_per_capacity": 15.0, "exit_cost_per_capacity": {"close": 20.0}}},
            "mandatory": [dict(name="A goes", by=2017, where={"units": ["A"]})],
            "caps": {"budget": {"2016": 1000.0}, "budget_basis": basis}}
    path, record, s, _, _ = solved(tmp_path, scenario_file, [dict(unit_id="A")], scen)
    assert record["fiscal"] == pytest.approx(fiscal, rel=1e-9) and s.at["A", "exit_year"] == year
    done = check(tmp_path, path, "A,2016\n")
    if basis == "net":
        assert done.returncode == 0, done.out
    else:
        assert done.returncode == 6 and "budget in 2016: 2,000" in done.out, done.out


@pytest.mark.parametrize("sector, words", [
    ({"award_nonstate_per_unit": 120.0, "award_nonstate_per_capacity": 2.0}, "both given"),
    ({"award_products": ["crude_steel"]}, "crude_steel is not a product of the coal sector"),
    ({"award_base_share": 1.5}, "award_base_share"),
])
def test_bad_award_figures_are_refused_plainly(tmp_path, scenario_file, sector, words):
    path = scenario_file(tmp_path / "in", [dict(unit_id="A")], {"sectors": {"coal": sector}})
    done = exitopt("solve", path, "--out", tmp_path / "run")
    assert done.returncode == 2 and "Traceback" not in done.out and words in done.out, done.out
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("caps, words", [({"budget_basis": "before"}, "budget_basis"),
                                         ({"award_fund_per_year": {"2030": 5.0}}, "caps.award_fund_per_year"),
                                         ({"award_fund": -1.0}, "award_fund")])
def test_bad_fund_figures_are_refused_plainly(tmp_path, scenario_file, caps, words):
    path = scenario_file(tmp_path / "in", [dict(unit_id="A")], {"caps": caps})
    done = exitopt("solve", path, "--out", tmp_path / "run")
    assert done.returncode == 2 and "Traceback" not in done.out and words in done.out, done.out
    assert not (tmp_path / "run").exists()


def test_the_briefing_names_the_award_parts_and_the_fund(tmp_path, scenario_file):
    # the run of test_base_and_ladder_parts_by_hand with a fund: its briefing, in each language,
    # workbook heads the award's two parts and names the fund's row in its own words
    scen = {"ladder": {"2016": 1.1}, "sectors": {"coal": {"award_per_capacity": 10.0, "award_base_share": 0.8}},
            "mandatory": [dict(name="A goes", by=2016, where={"units": ["A"]})], "caps": {"award_fund": 5000.0}}
    solved(tmp_path, scenario_file, [dict(unit_id="A")], scen)
    for lang, words in (("en", ("Base award (10k yuan)", "Ladder award (10k yuan)", "award fund")),
                        ("zh", ("基础奖补(万元)", "梯级奖补(万元)", "奖补资金总额上限"))):
        done = exitopt("report", tmp_path / "run", "--lang", lang)
        assert done.returncode == 0 and "Traceback" not in done.out, done.out
        book = openpyxl.load_workbook(tmp_path / "run" / f"report_{lang}" / "briefing.xlsx", read_only=True)
        cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                 for v in row if v is not None}
        book.close()
        missing = [w for w in words if not any(w in c for c in cells)]
        assert not missing, missing


def test_the_meeting_room_offers_the_fund_and_sets_it(tmp_path, make_instance):
    from exitopt.serve import solving

    inst = make_instance(tmp_path, [dict(unit_id="A")], {"sectors": {"coal": {"award_products": ["coal"]}}})
    nums = {a.path: a for a in solving.adjustable(inst.scenario)}
    assert nums["caps.award_fund"].value is None and nums["caps.award_fund_per_year.2017"].value is None
    assert nums["sectors.coal.award_base_share"].value == 0.0
    assert "sectors.coal.award_products" not in nums  # a list of products, not a number
    changed = solving.variant(inst, [], {"caps.award_fund": 800.0, "caps.award_fund_per_year.2017": 300.0})
    assert changed.scenario.caps.award_fund == 800.0 and changed.scenario.caps.award_fund_per_year == {2017: 300.0}


def test_indicators_give_up_the_award_of_the_unit_that_yields_them(tmp_path, scenario_file):
    # An approved coal project of 40 万吨/yr in 2016 needs 1.25 × 40 = 50 of indicators. State mine
    # S (100, 10 per 万吨: 1,000) and private mine Q (100, a fixed 120 per mine: 1.2 per 万吨) both
    # close in 2016. The indicators come from Q, which gives up 50 × 1.2 = 60 of its award:
    # awards 1,000 + 60 = 1,060, fiscal −1,060 (from S they would give up 500).
    units = [dict(unit_id="S"), dict(unit_id="Q", owner="private")]
    scen = {"sectors": {"coal": {"award_per_capacity": 10.0, "award_nonstate_per_unit": 120.0}},
            "replacement": [dict(product="coal", ratio=1.25)],
            "mandatory": [dict(name="both go", by=2016, where={"units": ["S", "Q"]})]}
    projects = [dict(project_id="P", capacity=40.0, status="approved")]
    path = scenario_file(tmp_path / "in", units, scen, projects)
    done = exitopt("solve", path, "--out", tmp_path / "run")
    assert done.returncode == 0 and "Traceback" not in done.out, done.out
    record = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    s = pd.read_csv(tmp_path / "run" / "schedule.csv", encoding="utf-8-sig").set_index("unit_id")
    assert record["fiscal"] == pytest.approx(-1060.0, rel=1e-9)
    assert s.at["Q", "indicator"] == pytest.approx(50.0) and s.at["Q", "award"] == pytest.approx(60.0)
    assert s.at["S", "indicator"] == 0.0 and s.at["S", "award"] == pytest.approx(1000.0)
    # the checker allocates the indicators itself (lowest award per 万吨 first) and prices the same
    plan = tmp_path / "plan.csv"
    plan.write_text("unit_id,exit_year\nS,2016\nQ,2016\n", encoding="utf-8")
    done = exitopt("check", path, plan)
    assert done.returncode == 0 and "Fiscal: -1,060.0 万元" in done.out, done.out


def test_validate_names_the_fund(tmp_path, scenario_file):
    path = scenario_file(tmp_path / "in", [dict(unit_id="A")],
                         {"caps": {"award_fund": 2500.0, "award_fund_per_year": {"2016": 900.0}}})
    done = exitopt("validate", path)
    assert done.returncode == 0 and "Traceback" not in done.out, done.out
    assert "award fund: 2,500 万元 over the plan, a limit in 1 year(s)" in done.out


@pytest.mark.slow
def test_gansu_with_the_award_keys_at_their_defaults_solves_as_before(gansu_result):
    """Naming the new award keys at what their defaults mean — no base share, every product of
    the sector, non-state units at the state rate, a net budget, a fund no plan reaches — leaves
    the Gansu optimum and plan as they are. The Gansu scenario sets these keys, so both solves
    start from it with every award key left out (its default) but the rate."""
    inst = gansu_result.inst
    scen = inst.scenario
    unset = {"award_base_share": 0.0, "award_nonstate_per_capacity": None, "award_nonstate_per_unit": None,
             "award_products": None}
    plain = scen.model_copy(update={"sectors": {s: c.model_copy(update=unset) for s, c in scen.sectors.items()}})
    sectors = {s: c.model_copy(update={**unset, "award_nonstate_per_capacity": c.award_per_capacity,
                                       "award_products": [p for p, of in PRODUCT_SECTOR.items() if of == s]})
               for s, c in scen.sectors.items()}
    caps = scen.caps.model_copy(update={"budget_basis": "net", "award_fund": 1e9})

    def solved(s):
        return solve_instance(bind(s, inst.units, inst.projects, files=inst.files, scenario_path=inst.scenario_path))

    before = solved(plain)
    again = solved(plain.model_copy(update={"sectors": sectors, "caps": caps}))
    assert again.objective == pytest.approx(before.objective, rel=1e-9)
    cols = ["unit_id", "exit_year", "mode", "indicator", "outlay", "award"]
    pd.testing.assert_frame_equal(again.schedule[cols], before.schedule[cols])
    assert before.schedule["award"].gt(0).any()  # the award takes part in the plan
