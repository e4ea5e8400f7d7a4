"""Revenue foregone and stranded value (docs/model.md#cost), priced by hand on one- and two-unit
instances, through `exitopt solve` and `exitopt check` as the analyst runs them."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from conftest import exitopt, solved
from exitopt.inputs import bind
from exitopt.solve import solve_instance


def test_revenue_foregone_by_hand(tmp_path, scenario_file):
    # Coal mines A and B, 100 万吨/yr each, no workers, plan 2016–2018, discount 10 %; 100 万吨 must
    # go by 2018. A pays the sector's 2 万元 per 万吨 a year = 200 万元/yr; B's own cell says 50.
    # A unit's contribution is lost from its exit year to 2018: B exiting in 2018 costs
    # 50 / 1.1² = 41.3223; in 2016 it would cost 50 × (1 + 1/1.1 + 1/1.21) = 136.78; A in 2018
    # 200 / 1.21 = 165.29. The optimum: B in 2018, fiscal 41.3223 万元.
    units = [dict(unit_id="A"), dict(unit_id="B", fiscal_contribution=50.0)]
    scen = {"objective": {"discount_rate": 0.1},
            "sectors": {"coal": {"revenue_per_capacity": 2.0}},
            "targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)]}
    path, record, s, summary, _ = solved(tmp_path, scenario_file, units, scen)
    assert record["fiscal"] == pytest.approx(50 / 1.21, rel=1e-9)
    assert s.at["B", "exit_year"] == 2018 and pd.isna(s.at["A", "exit_year"])
    assert s.at["B", "revenue_foregone"] == pytest.approx(50 / 1.21, abs=1e-6)  # the CSV holds 6 decimals
    assert s.at["A", "revenue_foregone"] == 0.0 and s["stranded_value"].eq(0.0).all()
    by_year = summary.set_index("year")
    assert by_year["revenue_foregone"].to_dict() == pytest.approx({2016: 0.0, 2017: 0.0, 2018: 50.0})
    assert by_year["outlay"].to_dict() == pytest.approx({2016: 0.0, 2017: 0.0, 2018: 50.0})
    # the checker, from docs/model.md, prices a plan of its own: A in 2016 (200 × 2.735537 = 547.107)
    plan = tmp_path / "plan.csv"
    plan.write_text("unit_id,exit_year\nA,2016\n", encoding="utf-8")
    done = exitopt("check", path, plan)
    assert done.returncode == 0 and "Traceback" not in done.out, done.out
    assert f"Fiscal: {200 * (1 + 1 / 1.1 + 1 / 1.21):,.1f} 万元 (present value)" in done.out
    assert "of which revenue foregone 547.1 万元" in done.out


def test_stranded_value_by_hand(tmp_path, scenario_file):
    # Coal mine A, 100 万吨/yr, opened 2006, relocatable, must exit in 2016; no discount. Stranded:
    # 3 万元 per 万吨 over a 20-year life, age 10 in 2016: 3 × 100 × (1 − 10/20) = 150 万元.
    # Closing writes off 150. Relocating costs 1 万元 per 万吨 (100) and takes 75 % of the
    # equipment along: 150 × 0.25 = 37.5 written off, 137.5 in all: A relocates.
    # Mine B (50 万吨/yr, no opening year: no age term) and C (its own stranded_value 40) stay.
    units = [dict(unit_id="A", opening_year=2006, relocatable=True), dict(unit_id="B", capacity=50.0),
             dict(unit_id="C", stranded_value=40.0)]
    scen = {"sectors": {"coal": {"stranded_per_capacity": 3.0, "service_life": 20.0,
                                 "relocate_stranded_share_kept": 0.75,
                                 "exit_cost_per_capacity": {"relocate": 1.0}}},
            "mandatory": [dict(name="A goes", by=2016, where={"units": ["A"]})]}
    path, record, s, summary, _ = solved(tmp_path, scenario_file, units, scen)
    assert record["fiscal"] == pytest.approx(137.5, rel=1e-9)
    assert (s.at["A", "exit_year"], s.at["A", "mode"]) == (2016, "relocate")
    assert s.at["A", "stranded_value"] == pytest.approx(37.5) and s.at["A", "outlay"] == pytest.approx(137.5)
    assert summary.set_index("year")["stranded_value"].to_dict() == pytest.approx({2016: 37.5, 2017: 0, 2018: 0})
    # the checker's own pricing of other plans: A closed in 2018 (age 12: 3 × 100 × 0.4 = 120),
    # B closed in 2017 (no age term: 150), C closed in 2016 (its cell: 40) — 310 万元
    plan = tmp_path / "plan.csv"
    plan.write_text("unit_id,exit_year,mode\nA,2018,close\nB,2017,close\nC,2016,close\n", encoding="utf-8")
    done = exitopt("check", path, plan)
    assert "Traceback" not in done.out and "Fiscal: 310.0 万元 (present value)" in done.out, done.out
    assert "of which stranded value written off 310.0 万元" in done.out
    assert done.returncode == 6 and "mandatory" in done.out  # A left after 2016 breaks its rule


def test_a_loss_making_unit_that_pays_is_refused(tmp_path, scenario_file):
    units = [dict(unit_id="A"), dict(unit_id="B", loss_making=True, subsidised_loss=10.0, fiscal_contribution=5.0)]
    path = scenario_file(tmp_path / "in", units, {})
    done = exitopt("validate", path)
    assert done.returncode == 2 and "Traceback" not in done.out
    flat = re.sub(r"\s+", " ", done.out)
    assert "units.csv" in flat and "row 3 (B)" in flat and "loss_making" in flat and "fiscal_contribution" in flat
    assert "clear one of the two" in flat


def test_a_loss_making_unit_pays_nothing_by_default(tmp_path, scenario_file):
    # The sector's 1 万元 per 万吨 a year applies to A only: B is paid for while it runs (10 万元/yr)
    # and pays nothing. Both exit in 2016 (mandatory), no discount: A's 100 × 3 years = 300
    # foregone, B's losses saved: fiscal 300.
    units = [dict(unit_id="A"), dict(unit_id="B", loss_making=True, subsidised_loss=10.0)]
    scen = {"sectors": {"coal": {"revenue_per_capacity": 1.0}},
            "mandatory": [dict(name="both", by=2016, where={"units": ["A", "B"]})]}
    _, record, s, _, _ = solved(tmp_path, scenario_file, units, scen)
    assert record["fiscal"] == pytest.approx(300.0)
    assert s.at["B", "revenue_foregone"] == 0.0 and s.at["A", "revenue_foregone"] == pytest.approx(300.0)


def test_the_budget_counts_both_terms(tmp_path, scenario_file):
    # Mine A must go by 2018; it strands 25 万元 (its cell) and pays 10 万元/yr (its cell); no
    # discount. Exiting in 2018 costs 25 + 10 = 35 in 2018; in 2017, 35 in 2017 and 10 in 2018
    # (45); in 2016, 35 + 10 + 10 = 55. A 2018 budget of 30 holds each term alone but not both:
    # the optimum moves from 2018 (35) to 2017 (45).
    units = [dict(unit_id="A", stranded_value=25.0, fiscal_contribution=10.0)]
    scen = {"targets": [dict(name="one", product="coal", by=2018, count_at_least=1)]}
    _, record, s, summary, _ = solved(tmp_path / "free", scenario_file, units, scen)
    assert s.at["A", "exit_year"] == 2018 and record["fiscal"] == pytest.approx(35.0)
    scen["caps"] = {"budget": {2018: 30.0}}
    _, record, s, summary, _ = solved(tmp_path / "capped", scenario_file, units, scen)
    assert s.at["A", "exit_year"] == 2017 and record["fiscal"] == pytest.approx(45.0)
    assert summary.set_index("year")["outlay"].to_dict() == pytest.approx({2016: 0.0, 2017: 35.0, 2018: 10.0})


@pytest.mark.slow
def test_gansu_with_the_new_figures_at_zero_solves_as_before(gansu_result):
    """Naming every new figure at 0 (with a service life and a relocation share, which scale a
    zero) leaves the Gansu optimum and plan as the scenario without them has them. The Gansu
    scenario gives a coal revenue figure, so both solves start from it with the new keys left out."""
    inst = gansu_result.inst
    scen = inst.scenario
    unset = {"revenue_per_capacity": 0.0, "stranded_per_capacity": 0.0, "service_life": None,
             "relocate_stranded_share_kept": 0.0}
    plain = scen.model_copy(update={"sectors": {s: c.model_copy(update=unset) for s, c in scen.sectors.items()}})
    sectors = {s: c.model_copy(update={**unset, "service_life": 25.0, "relocate_stranded_share_kept": 0.5})
               for s, c in scen.sectors.items()}

    def solved(s):
        return solve_instance(bind(s, inst.units, inst.projects, files=inst.files, scenario_path=inst.scenario_path))

    before = solved(plain)
    again = solved(plain.model_copy(update={"sectors": sectors}))
    assert again.objective == pytest.approx(before.objective, rel=1e-9)
    cols = ["unit_id", "exit_year", "mode", "indicator", "outlay", "revenue_foregone", "stranded_value"]
    pd.testing.assert_frame_equal(again.schedule[cols], before.schedule[cols])
    assert before.schedule[["revenue_foregone", "stranded_value"]].eq(0.0).all().all()
    assert gansu_result.schedule["revenue_foregone"].gt(0).any()  # the scenario's own figure takes part


def test_the_briefing_shows_both_terms_only_when_the_plan_has_them(tmp_path, scenario_file):
    # A must go in 2016, no discount: its 3 万元/yr are foregone for 3 years (9.0) and its own 4 万元
    # of stranded value is written off (4.0). B's run sets neither term: its briefing has no such row.
    units = [dict(unit_id="A", fiscal_contribution=3.0, stranded_value=4.0)]
    scen = {"mandatory": [dict(name="A goes", by=2016, where={"units": ["A"]})]}
    solved(tmp_path / "a", scenario_file, units, scen)
    solved(tmp_path / "b", scenario_file, [dict(unit_id="A")], scen)
    for lang, foregone, stranded in (("en", "of which revenue foregone", "of which stranded value written off"),
                                     ("zh", "其中:减少的财政收入", "其中:搁浅价值核销")):
        for run, shown in (("a", True), ("b", False)):
            done = exitopt("report", tmp_path / run / "run", "--lang", lang)
            assert done.returncode == 0 and "Traceback" not in done.out, done.out
            page = (tmp_path / run / "run" / f"report_{lang}" / "briefing.html").read_text(encoding="utf-8")
            assert (foregone in page) == shown and (stranded in page) == shown
            if shown:
                assert 'data-key="revenue_foregone">9.0<' in page and 'data-key="stranded_value">4.0<' in page


def test_explain_prices_an_exit_with_both_terms(tmp_path, scenario_file):
    # The instance of test_revenue_foregone_by_hand, B also stranding 10 万元 (its cell): B in 2018
    # costs (50 + 10) / 1.21 = 49.59, 0.4959 per 万吨 counted; A's cheapest exit (2018) costs
    # 200 / 1.21 = 165.29, 1.6529 per 万吨: --explain names the first, and re-solves A swapped in.
    units = [dict(unit_id="A"), dict(unit_id="B", fiscal_contribution=50.0, stranded_value=10.0)]
    scen = {"objective": {"discount_rate": 0.1},
            "sectors": {"coal": {"revenue_per_capacity": 2.0}},
            "targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)]}
    path = scenario_file(tmp_path / "in", units, scen)
    done = exitopt("solve", path, "--out", tmp_path / "run", "--explain")
    assert done.returncode == 0 and "Traceback" not in done.out, done.out
    s = pd.read_csv(tmp_path / "run" / "schedule.csv", encoding="utf-8-sig").set_index("unit_id")
    assert s.at["B", "reason"].startswith("chosen: 0.50 万元 per 万吨 counted")
    m = pd.read_csv(tmp_path / "run" / "margins.csv", encoding="utf-8-sig")
    swap = m[(m["kind"] == "swap in") & (m["unit_id"] == "A")]
    assert swap["cost_per_wt"].iloc[0] == pytest.approx(2.0 / 1.21, abs=1e-6)
    assert swap["cost_of_change"].iloc[0] == pytest.approx((200 - 60) / 1.21, abs=1e-6)


@pytest.mark.parametrize("units, scen, words", [
    ([dict(unit_id="A")], {"sectors": {"coal": {"service_life": 0}}}, ["sectors.coal.service_life", "above 0"]),
    ([dict(unit_id="A")], {"sectors": {"coal": {"relocate_stranded_share_kept": 1.5}}},
     ["sectors.coal.relocate_stranded_share_kept", "at most 1"]),
    ([dict(unit_id="A")], {"sectors": {"coal": {"revenue_per_capacity": -1}}},
     ["sectors.coal.revenue_per_capacity", "at least 0"]),
    ([dict(unit_id="A", stranded_value=-5)], {}, ["units.csv", "row 2 (A)", "'stranded_value'", "negative"]),
    ([dict(unit_id="A", opening_year="long ago")], {}, ["units.csv", "row 2 (A)", "'opening_year'", "not a number"]),
])
def test_bad_figures_are_refused_plainly(tmp_path, scenario_file, units, scen, words):
    done = exitopt("validate", scenario_file(tmp_path / "in", units, scen))
    flat = re.sub(r"\s+", " ", done.out)
    assert done.returncode == 2 and "Traceback" not in done.out
    for w in words:
        assert w in flat, (w, flat)
