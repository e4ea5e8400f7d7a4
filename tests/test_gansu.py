"""The Gansu 2016 baseline, solved once (conftest's ``gansu_result``): the plan keeps the plan's
rules, computed here from the schedule; the independent checker accepts the written schedule
and prices it at the solve's objective; the objective matches a recorded figure."""

from __future__ import annotations

import pandas as pd
import pytest

from exitopt.output import write_folder

# Recorded by `exitopt solve models/gansu_2016.toml` (rel_gap 1e-4, threads 1, HiGHS 1.16,
# Pyomo 6.10.1) on 2026-11-26: status optimal, objective 179,479.787, bound 179,462.016.
# The optimum lies in [bound, objective] of every run; ties between plans of equal cost make
# only the objective comparable, not the schedule.
RECORDED_OBJECTIVE = 179_479.787
RECORDED_BOUND = 179_462.016


@pytest.fixture(scope="module")
def res(gansu_result):
    return gansu_result


@pytest.fixture(scope="module")
def sched(res) -> pd.DataFrame:
    return res.schedule.set_index("unit_id")


def exited_by(sched: pd.DataFrame, year: int) -> pd.Series:
    return sched["exit_year"].notna() & (sched["exit_year"] <= year)


def left_in(res, sched: pd.DataFrame, product: str, year: int) -> pd.Series:
    """Capacity of a product left in a year, by group: units not exited plus projects built (万吨/yr)."""
    units = sched[(sched["product"] == product) & ~exited_by(sched, year)]
    held = units.groupby("group")["capacity"].sum()
    new = res.new_capacity
    built = new[new["built"] & (new["product"] == product) & (new["year"] <= year)]
    if not built.empty:
        groups = res.inst.projects.loc[built["project_id"], "group"].to_numpy()
        held = held.add(built.assign(group=groups).groupby("group")["capacity"].sum(), fill_value=0.0)
    return held


def test_solved_to_the_gap(res):
    assert res.status == "optimal"
    assert res.outcome.gap <= res.inst.scenario.solver.rel_gap + 1e-12


def test_every_unit_once(res, sched):
    assert res.schedule["unit_id"].is_unique
    assert set(sched.index) == set(res.inst.units.index)
    exits = sched[sched["exit_year"].notna()]
    assert exits["mode"].isin(["close", "relocate"]).all()
    assert exits["exit_year"].between(2016, 2020).all()
    assert (sched.loc[sched["exit_year"].isna(), "mode"] == "").all()


@pytest.mark.parametrize("product, figure", [("coal", 1000.0), ("pig_iron", 200.0), ("crude_steel", 300.0)])
def test_exit_targets_met_with_counted_capacity(sched, product, figure):
    of = (sched["product"] == product) & exited_by(sched, 2020)
    assert sched.loc[of, "counted"].sum() >= figure - 1e-6
    # counted + indicator is the whole capacity of each exiting unit
    assert (sched.loc[of, "counted"] + sched.loc[of, "indicator"]).to_numpy() == pytest.approx(
        sched.loc[of, "capacity"].to_numpy())


def test_jisco_package_whole_in_one_year(sched):
    yig = sched[sched.index.str.startswith("JISCO-YIG-")]
    yug1 = sched[sched.index.str.startswith("JISCO-YUG1-")]
    assert len(yig) >= 4 and len(yug1) >= 4
    both = pd.concat([yig, yug1])
    assert both["exit_year"].notna().all()
    assert both["exit_year"].nunique() == 1
    assert (yig["mode"] == "close").all()
    assert (yug1["mode"] == "relocate").all()


def test_yugang_phase_2_stays(sched):
    yug2 = sched[sched.index.str.startswith("JISCO-YUG2-")]
    assert len(yug2) > 0
    assert yug2["exit_year"].isna().all()


def test_large_modern_state_mines_stay(res, sched):
    u = res.inst.units
    kept = u.index[(u["sector"] == "coal") & (u["capacity"] >= 120) & (u["accident"] == "none")
                   & (u["owner"] == "state")]
    assert len(kept) > 0
    assert sched.loc[kept, "exit_year"].isna().all()


def test_clinker_concentration_and_utilisation_2020(res, sched):
    held = left_in(res, sched, "clinker", 2020)
    total = held.sum()
    assert held.nlargest(10).sum() / total >= 0.85 - 1e-9
    assert 3000.0 / total >= 0.80 - 1e-9


def test_supply_floors(res, sched):
    for y in range(2016, 2021):
        assert left_in(res, sched, "coal", y).sum() >= 4400 * 1.1 - 1e-6
    assert left_in(res, sched, "pig_iron", 2020).sum() >= 800 * 1.1 - 1e-6
    assert left_in(res, sched, "crude_steel", 2020).sum() >= 950 * 1.1 - 1e-6


def test_mandatory_units_exit_by_their_year(res, sched):
    u = res.inst.units
    coal = u["sector"] == "coal"
    recent = u["accident_year"] >= 2013
    rules = {
        2016: coal & (u["protected_area"] | u["backward_class"]),
        2018: coal & ((u["capacity"] < 30) & u["accident"].isin(["major", "extraordinary"]) & recent
                      | (u["capacity"] <= 15) & u["accident"].isin(["large", "major", "extraordinary"]) & recent
                      | u["banned_method"]),
    }
    assert rules[2016].sum() > 0 and rules[2018].sum() > 0
    for year, must in rules.items():
        assert exited_by(sched, year)[must].all(), sched.loc[must & ~exited_by(sched, year)].index.tolist()


def test_labour_market_caps(res, sched):
    capped = set(res.inst.scenario.caps.workers[0].regions)
    exits = sched[sched["exit_year"].notna() & sched["region"].isin(capped)]
    per = exits.groupby(["region", "exit_year"])["workers_displaced"].sum()
    assert per.max() <= 3000 + 1e-6


def test_replacement_indicators_cover_new_clinker(res, sched):
    built = res.new_capacity[res.new_capacity["built"]]
    eligible = res.inst.units["indicator_eligible"]
    assert (sched.loc[~eligible.reindex(sched.index), "indicator"] == 0).all()
    for product, ratio in (("clinker", 1.25), ("coal", 1.2), ("crude_steel", 1.25)):
        for y in range(2016, 2021):
            need = ratio * built.loc[(built["product"] == product) & (built["year"] <= y), "capacity"].sum()
            have = sched.loc[(sched["product"] == product) & exited_by(sched, y), "indicator"].sum()
            assert have >= need - 1e-6, (product, y)


def test_checker_accepts_the_written_schedule(res, tmp_path):
    from exitopt.check import check_plan, read_plan

    folder = write_folder(tmp_path / "run", res.files(), force=False)
    plan = read_plan(folder / "schedule.csv", res.inst)
    built = set(res.new_capacity.loc[res.new_capacity["built"], "project_id"])
    result = check_plan(res.inst, plan, approved_projects=built)
    assert result.ok, [v.message for v in result.violations]
    assert result.objective == pytest.approx(res.objective, rel=1e-6)
    assert result.jobs == pytest.approx(res.jobs, rel=1e-6)
    assert result.fiscal == pytest.approx(res.fiscal, rel=1e-6)


def test_objective_matches_the_recorded_run(res):
    # Both runs bracket the same optimum: [bound, objective] intervals must overlap, and the
    # objectives differ by no more than the two gaps.
    gap = res.inst.scenario.solver.rel_gap
    assert res.objective >= RECORDED_BOUND * (1 - 1e-9)
    assert res.outcome.bound <= RECORDED_OBJECTIVE * (1 + 1e-9)
    assert res.objective == pytest.approx(RECORDED_OBJECTIVE, rel=2 * gap)
