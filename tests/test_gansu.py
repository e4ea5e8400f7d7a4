"""The Gansu 2016 baseline, solved once (conftest's ``gansu_result``).

The plan keeps every rule of the scenario it solved: each rule is checked here from the
schedule, its figures read from that scenario and its selections of units worked out by this
file's own code (not by :mod:`exitopt.selection`). The scenario states the figures that the plan
text publishes (checked once, below). The independent checker accepts the written schedule and
prices it at the solve's objective; test_blocks solves the whole model without blocks and finds
the same optimum."""

from __future__ import annotations

import operator

import pandas as pd
import pytest

from conftest import GANSU
from exitopt.output import write_folder
from exitopt.scenario import load_scenario


@pytest.fixture(scope="module")
def res(gansu_result):
    return gansu_result


@pytest.fixture(scope="module")
def scen(res):
    """The scenario the plan was solved for."""
    return res.inst.scenario


@pytest.fixture(scope="module")
def sched(res) -> pd.DataFrame:
    return res.schedule.set_index("unit_id")


_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}


def selected(units: pd.DataFrame, where) -> pd.Series:
    """The units a selection of the scenario picks: among its ``units`` if listed, meeting every
    condition of ``all`` and one of ``any`` if given; worked out here from the conditions."""

    def holds(c) -> pd.Series:
        col = units[c.column]
        if c.op == "in":
            return col.isin(c.value)
        if c.op == "not in":
            return ~col.isin(c.value)
        if c.op == "startswith":
            return col.astype(str).str.startswith(c.value)
        if c.op == "contains":  # a blank cell contains nothing
            return col.fillna("").astype(str).str.contains(c.value, regex=False)
        if c.op in _COMPARE:
            return _COMPARE[c.op](col, c.value).fillna(False).astype(bool)  # a blank cell never matches
        raise AssertionError(f"operator {c.op!r} of the scenario is not worked out by this test")

    m = pd.Series(True, index=units.index)
    if where is None:
        return ~m
    if where.units is not None:
        m &= units.index.isin(where.units)
    for c in where.all:
        m &= holds(c)
    if where.any:
        m &= pd.concat([holds(c) for c in where.any], axis=1).any(axis=1)
    return m


def years(scen) -> range:
    return range(scen.first_year, scen.last_year + 1)


def exited_by(sched: pd.DataFrame, year: int) -> pd.Series:
    return sched["exit_year"].notna() & (sched["exit_year"] <= year)


def left_in(res, sched: pd.DataFrame, product: str, year: int, by: str = "group") -> pd.Series:
    """Capacity of a product left in a year, by holder: units not exited plus projects built (万吨/yr)."""
    units = sched[(sched["product"] == product) & ~exited_by(sched, year)]
    holder = res.inst.units.loc[units.index, by]
    if by == "group" and "merge_year" in units:  # a merged unit is its acquirer's from its merger year
        joined = (units["mode"] == "merge") & (units["merge_year"] <= year)
        holder = holder.where(~joined, units["acquirer"])
    held = res.inst.units.loc[units.index, "capacity"].groupby(holder).sum()
    new = res.new_capacity
    built = new[new["built"] & (new["product"] == product) & (new["year"] <= year)]
    if not built.empty:
        holders = res.inst.projects.loc[built["project_id"], by].to_numpy()
        held = held.add(built.assign(holder=holders).groupby("holder")["capacity"].sum(), fill_value=0.0)
    return held


# --------------------------------------------------------------------------------------------
# The scenario against the plan text


def test_scenario_states_the_published_figures():
    """The figures the plan text (甘肃省工业领域去产能去库存降成本实施方案, 2016) publishes, written
    here from the text, are those of the scenario. Every other test reads them from the scenario."""
    scen = load_scenario(GANSU)
    assert (scen.first_year, scen.last_year) == (2016, 2020)  # §II.1, §II.2: within 3–5 years from 2016
    targets = {t.product: (t.by, t.at_least) for t in scen.targets}
    assert targets == {"coal": (2020, 1000.0),  # §II.1: 退出产能1000万吨
                       "pig_iron": (2020, 200.0),  # §II.2: 压减生铁产能200万吨
                       "crude_steel": (2020, 300.0)}  # §II.2: 粗钢产能300万吨
    # §II.3: 产能集中度达到85%以上, 产能发挥率达到80%以上 by the end of 2020
    assert [(c.product, c.share, c.years) for c in scen.concentration] == [("clinker", 0.85, [2020])]
    assert [(u.product, u.min_utilisation) for u in scen.utilisation if u.min_utilisation is not None] == [
        ("clinker", 0.8)]
    # §II.1.(2): mines below 30 万吨/yr with a major accident, 15 万吨/yr and below with a large one
    sizes = {(c.op, c.value): r.by for r in scen.mandatory for c in r.where.all if c.column == "capacity"}
    assert sizes == {("<", 30): 2018, ("<=", 15): 2018}


# --------------------------------------------------------------------------------------------
# The plan against the scenario


def test_solved_to_the_gap(res, scen):
    assert res.status == "optimal"
    assert res.outcome.gap <= scen.solver.rel_gap + 1e-12


def test_every_unit_once(res, scen, sched):
    assert res.schedule["unit_id"].is_unique
    assert set(sched.index) == set(res.inst.units.index)
    exits = sched[sched["exit_year"].notna()]
    assert exits["mode"].isin(["close", "relocate"]).all()
    assert exits["exit_year"].between(scen.first_year, scen.last_year).all()
    stays = sched[sched["exit_year"].isna()]
    assert stays["mode"].isin(["", "merge"]).all()
    merged = stays[stays["mode"] == "merge"]  # a merger (docs/model.md#mergers): a year and a group, no exit
    assert merged["merge_year"].between(scen.first_year, scen.last_year).all()
    assert (merged["acquirer"] != "").all() and (merged["acquirer"] != merged["group"]).all()


def test_exit_targets_met_with_counted_capacity(res, scen, sched):
    assert scen.targets
    units = res.inst.units.loc[sched.index]
    for t in scen.targets:
        of = (sched["product"] == t.product) & selected(units, t.where) & exited_by(sched, t.by)
        counted = sched.loc[of, "counted"].sum()
        if t.at_least is not None:
            assert counted >= t.at_least - 1e-6, t.name
        if t.at_most is not None:
            assert counted <= t.at_most + 1e-6, t.name
        if t.count_at_least is not None:
            assert of.sum() >= t.count_at_least, t.name
        if t.count_at_most is not None:
            assert of.sum() <= t.count_at_most, t.name
        # counted + indicator is the whole capacity of each exiting unit
        assert (sched.loc[of, "counted"] + sched.loc[of, "indicator"]).to_numpy() == pytest.approx(
            sched.loc[of, "capacity"].to_numpy())


def test_packages_exit_whole_in_one_year(res, scen, sched):
    assert scen.packages
    units = res.inst.units.loc[sched.index]
    for p in scen.packages:
        members = {mode: sched[selected(units, getattr(p, mode))] for mode in ("close", "relocate")}
        both = pd.concat(members.values())
        assert len(both) > 1, p.name
        if p.required:
            assert both["exit_year"].notna().all(), p.name
            assert both["exit_year"].max() <= (p.by or scen.last_year), p.name
        if both["exit_year"].notna().any():
            assert both["exit_year"].notna().all() and both["exit_year"].nunique() == 1, p.name
            for mode, m in members.items():
                assert (m["mode"] == mode).all(), (p.name, mode)


def test_protected_units_stay(res, scen, sched):
    assert scen.protected
    units = res.inst.units.loc[sched.index]
    for r in scen.protected:
        kept = selected(units, r.where)
        assert kept.any(), r.name
        assert sched.loc[kept, "exit_year"].isna().all(), r.name


def test_mandatory_units_exit_by_their_year(res, scen, sched):
    assert scen.mandatory
    units = res.inst.units.loc[sched.index]
    for by in sorted({r.by for r in scen.mandatory}):
        must = pd.concat([selected(units, r.where) for r in scen.mandatory if r.by == by], axis=1).any(axis=1)
        assert must.any(), by
        assert exited_by(sched, by)[must].all(), sched.loc[must & ~exited_by(sched, by)].index.tolist()


def test_concentration(res, scen, sched):
    assert scen.concentration
    for c in scen.concentration:
        for y in c.years:
            held = left_in(res, sched, c.product, y, c.by)
            assert held.nlargest(c.top).sum() / held.sum() >= c.share - 1e-9, (c.name, y)


def test_utilisation_and_supply_floors(res, scen, sched):
    assert scen.utilisation
    for u in scen.utilisation:
        assert u.demand, u.name
        for y, demand in u.demand.items():
            left = left_in(res, sched, u.product, y).sum()
            if u.min_utilisation is not None:
                assert demand / left >= u.min_utilisation - 1e-9, (u.name, y)
            if u.reserve is not None:
                assert left >= demand * (1 + u.reserve) - 1e-6, (u.name, y)


def test_labour_market_caps(res, scen, sched):
    assert scen.caps.workers
    for cap in scen.caps.workers:
        regions = cap.regions if cap.regions is not None else set(sched["region"])
        exits = sched[sched["exit_year"].notna() & sched["region"].isin(regions)]
        per = exits.groupby(["region", "exit_year"])["workers_displaced"].sum()
        assert len(per) and per.max() <= cap.per_year + 1e-6, cap.name


def test_replacement_indicators_cover_new_capacity(res, scen, sched):
    assert scen.replacement
    built = res.new_capacity[res.new_capacity["built"]]
    eligible = res.inst.units["indicator_eligible"]
    assert (sched.loc[~eligible.reindex(sched.index), "indicator"] == 0).all()
    for r in scen.replacement:
        for y in years(scen):
            need = r.ratio * built.loc[(built["product"] == r.product) & (built["year"] <= y), "capacity"].sum()
            have = sched.loc[(sched["product"] == r.product) & exited_by(sched, y), "indicator"].sum()
            assert have >= need - 1e-6, (r.product, y)


# --------------------------------------------------------------------------------------------
# The plan's price


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
