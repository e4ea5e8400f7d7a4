"""Each rule family of model.md, and the cost, on tiny instances whose optimum is worked out by hand.

Every test writes the arithmetic of its optimum, asserts the objective and the schedule the
MIP returns, and shows the rule binds: the optimum moves when the rule is taken away, and/or
its constraints.csv row is binding. Gaps are 0 (conftest's default scenario).

Unless a test says otherwise: coal mines of 100 万吨/yr, no sector costs, jobs_weight 1, so
the objective is the number of displaced workers; attrition 0.
"""

from __future__ import annotations

import math

import pytest

from exitopt.errors import InfeasibleError
from exitopt.inputs import bind
from exitopt.scenario import Caps, WorkerCap
from exitopt.selection import Selection
from exitopt.solve import solve_instance

approx = pytest.approx


# --- helpers ------------------------------------------------------------------------------------


def solve(inst):
    return solve_instance(inst)


def variant(inst, **update):
    """The same tables under a scenario with ``update`` applied (shared data untouched)."""
    return bind(inst.scenario.model_copy(update=update), inst.units, inst.projects, files=inst.files)


def exits(res) -> dict[str, tuple[int, str]]:
    """unit_id -> (exit year, mode) for units that exit."""
    s = res.schedule[res.schedule["exit_year"].notna()]
    return {u: (int(y), m) for u, y, m in zip(s["unit_id"], s["exit_year"], s["mode"], strict=True)}


def srow(res, unit_id: str):
    return res.schedule.set_index("unit_id").loc[unit_id]


def crow(res, rule: str, year: int | None = None, sense: str | None = None, name: str | None = None):
    c = res.constraints
    m = c["rule"] == rule
    if year is not None:
        m &= c["year"] == year
    if sense is not None:
        m &= c["sense"] == sense
    if name is not None:
        m &= c["name"] == name
    rows = c[m]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --- rule 1: targets ------------------------------------------------------------------------------


def test_target_at_least(tmp_path, make_instance):
    # A 100 万吨 / 10 workers, B 60 / 5, C 50 / 4; at least 110 counted by 2017.
    # {A} = 100 < 110; {B, C} = 110 for 5 + 4 = 9; {A, C} = 14; {A, B} = 15 → B and C, 9.
    units = [dict(unit_id="A", capacity=100, workers=10), dict(unit_id="B", capacity=60, workers=5),
             dict(unit_id="C", capacity=50, workers=4)]
    target = dict(name="coal 110", product="coal", by=2017, at_least=110.0)
    inst = make_instance(tmp_path, units, {"targets": [target]})
    res = solve(inst)
    assert res.objective == approx(9)
    assert set(exits(res)) == {"B", "C"}
    assert all(y <= 2017 for y, _ in exits(res).values())
    row = crow(res, "target")
    assert row["achieved"] == approx(110) and row["binding"]
    assert solve(variant(inst, targets=[])).objective == approx(0)


def test_target_at_most(tmp_path, make_instance):
    # Award 1 万元 per 万吨 counted, jobs weight 1: exit of A = 10 − 100 = −90, B = 5 − 60 = −55,
    # C = 4 − 50 = −46. Free: all three, −191. At most 150 by 2018: {A, B} = 160 is out;
    # {A, C} = 150 → −136 beats {B, C} = −101 and {A} = −90.
    units = [dict(unit_id="A", capacity=100, workers=10), dict(unit_id="B", capacity=60, workers=5),
             dict(unit_id="C", capacity=50, workers=4)]
    scen = {"sectors": {"coal": {"award_per_capacity": 1.0}},
            "targets": [dict(name="at most 150", product="coal", by=2018, at_most=150.0)]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(-136)
    assert set(exits(res)) == {"A", "C"}
    row = crow(res, "target", sense="at most")
    assert row["achieved"] == approx(150) and row["binding"]
    assert solve(variant(inst, targets=[])).objective == approx(-191)


def test_target_counts_only_exits_by_its_year(tmp_path, make_instance):
    # At most 0 counted by 2017 leaves 2018 open: all three exit in 2018, still −191.
    units = [dict(unit_id="A", capacity=100, workers=10), dict(unit_id="B", capacity=60, workers=5),
             dict(unit_id="C", capacity=50, workers=4)]
    scen = {"sectors": {"coal": {"award_per_capacity": 1.0}},
            "targets": [dict(name="none before 2018", product="coal", by=2017, at_most=0.0)]}
    res = solve(make_instance(tmp_path, units, scen))
    assert res.objective == approx(-191)
    assert exits(res) == {"A": (2018, "close"), "B": (2018, "close"), "C": (2018, "close")}


def test_target_with_a_selection(tmp_path, make_instance):
    # At least 100 from region R2 only: A (R1, 1 worker) does not count; B + C = 110 for 9.
    units = [dict(unit_id="A", capacity=100, workers=1), dict(unit_id="B", capacity=60, workers=5, region="R2"),
             dict(unit_id="C", capacity=50, workers=4, region="R2")]
    target = dict(name="R2", product="coal", by=2018, at_least=100.0, where={"all": [["region", "==", "R2"]]})
    inst = make_instance(tmp_path, units, {"targets": [target]})
    res = solve(inst)
    assert res.objective == approx(9)
    assert set(exits(res)) == {"B", "C"}
    # without the selection A alone does it for 1
    everywhere = inst.scenario.targets[0].model_copy(update={"where": Selection()})
    res2 = solve(variant(inst, targets=[everywhere]))
    assert res2.objective == approx(1) and set(exits(res2)) == {"A"}


# --- rule 2: replacement ------------------------------------------------------------------------


def test_indicator_split_is_not_counted(tmp_path, make_instance):
    # Approved project of 50 in 2018, ratio 1.2 → 60 万吨 of indicators by 2018; the indicator
    # part counts toward no target, so the target of 100 needs 160 retired:
    # A 100 / 10 + B 60 / 10 = 160 → 20 (A alone: 100 − 60 = 40 counted, short).
    # C 200 / 100 would do alone but costs 100.
    units = [dict(unit_id="A", capacity=100, workers=10), dict(unit_id="B", capacity=60, workers=10),
             dict(unit_id="C", capacity=200, workers=100)]
    scen = {"targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)],
            "replacement": [dict(product="coal", ratio=1.2)]}
    projects = [dict(project_id="P", capacity=50, year=2018, status="approved")]
    inst = make_instance(tmp_path, units, scen, projects)
    res = solve(inst)
    assert res.objective == approx(20)
    assert set(exits(res)) == {"A", "B"}
    s = res.schedule.set_index("unit_id")
    assert s.loc[["A", "B"], "indicator"].sum() == approx(60)
    assert s.loc[["A", "B"], "counted"].sum() == approx(100)
    assert crow(res, "replacement", year=2018)["binding"]
    assert crow(res, "target")["binding"]
    # without the replacement rule A alone meets the target
    assert solve(variant(inst, replacement=[])).objective == approx(10)


def test_ineligible_units_give_no_indicator(tmp_path, make_instance):
    # Need 60 indicators (project 50 × 1.2) and 100 counted by 2018.
    # A 40 / 1 eligible, B 130 / 10 ineligible, C 130 / 12 eligible.
    # {A, B}: only A's 40 can be an indicator → short of 60. {A, C}: 170 retired, 60 from C,
    # 110 counted → 13. {B, C}: 22. If B were eligible {A, B} would do for 11.
    units = [dict(unit_id="A", capacity=40, workers=1),
             dict(unit_id="B", capacity=130, workers=10, indicator_eligible=False),
             dict(unit_id="C", capacity=130, workers=12)]
    scen = {"targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)],
            "replacement": [dict(product="coal", ratio=1.2)]}
    projects = [dict(project_id="P", capacity=50, year=2018, status="approved")]
    inst = make_instance(tmp_path, units, scen, projects)
    res = solve(inst)
    assert res.objective == approx(13)
    assert set(exits(res)) == {"A", "C"}
    # 60 ≤ indicators ≤ 70 (170 retired, 100 must count); B's exit would give none
    ind = srow(res, "A")["indicator"] + srow(res, "C")["indicator"]
    assert 60 - 1e-6 <= ind <= 70 + 1e-6
    units2 = inst.units.copy()
    units2["indicator_eligible"] = True
    res2 = solve(bind(inst.scenario, units2, inst.projects))
    assert res2.objective == approx(11) and set(exits(res2)) == {"A", "B"}


def test_indicator_part_earns_no_award(tmp_path, make_instance):
    # Approved project 50 in 2016, ratio 1.2 → 60 indicators retired in 2016.
    # A and B: 100 万吨, no workers; exit cost 3 万元/万吨, award 2 万元/万吨 × ladder 1.4 (2016)
    # on the counted part only. One unit exits in 2016:
    #   outlay = 3 × 100 − 2 × 1.4 × (100 − 60) = 300 − 112 = 188.
    # (Were the award paid on all 100 it would be 20.) Splitting the 60 over both units costs
    # 600 − 2.8 × 140 = 208. Any exit without indicator: 300 − 280 = 20 (2016) or
    # 300 − 200 = 100 (2017, 2018) > 0: the other unit stays.
    units = [dict(unit_id="A"), dict(unit_id="B")]
    scen = {"ladder": {2016: 1.4}, "replacement": [dict(product="coal", ratio=1.2)],
            "sectors": {"coal": {"award_per_capacity": 2.0, "exit_cost_per_capacity": {"close": 3.0}}}}
    projects = [dict(project_id="P", capacity=50, year=2016, status="approved")]
    inst = make_instance(tmp_path, units, scen, projects)
    res = solve(inst)
    assert res.objective == approx(188)
    ex = exits(res)
    assert len(ex) == 1 and list(ex.values()) == [(2016, "close")]
    u = srow(res, next(iter(ex)))
    assert u["indicator"] == approx(60)
    assert u["counted"] == approx(40)
    assert u["award"] == approx(112)
    assert u["outlay"] == approx(188)
    assert res.fiscal == approx(188)


def test_candidate_project_approved_only_when_needed(tmp_path, make_instance):
    # A (100 / 1 worker) must exit in 2016; award 1 万元 per 万吨 counted.
    # Candidate P: 60 in 2017, ratio 1.2 → 72 indicators, taken from A's exit (A's counted part
    # falls to 28). No floor: P is not worth it: A exits with full award, 1 − 100 = −99.
    # Supply floor 150 in 2018: B alone leaves 100, so P must come: 1 − (100 − 72) = −27.
    units = [dict(unit_id="A", workers=1), dict(unit_id="B", workers=1000)]
    scen = {"sectors": {"coal": {"award_per_capacity": 1.0}},
            "replacement": [dict(product="coal", ratio=1.2)],
            "mandatory": [dict(name="A goes", by=2016, where={"units": ["A"]})],
            "utilisation": [dict(name="coal supply", product="coal", demand={2018: 150.0}, reserve=0.0)]}
    projects = [dict(project_id="P", capacity=60, year=2017, status="candidate")]
    inst = make_instance(tmp_path, units, scen, projects)
    res = solve(inst)
    assert res.objective == approx(-27)
    assert exits(res) == {"A": (2016, "close")}
    assert res.new_capacity.set_index("project_id").at["P", "built"]
    assert srow(res, "A")["indicator"] == approx(72)
    free = solve(variant(inst, utilisation=[]))
    assert free.objective == approx(-99)
    assert not free.new_capacity.set_index("project_id").at["P", "built"]


def test_surplus_indicators_cannot_dodge_an_at_most_target(tmp_path, make_instance):
    # A and B: 100 万吨, no workers; award 5 万元 per 万吨 counted; at most 100 counted by 2018.
    # Approved project of 10 in 2016 at 1.2 → exactly 12 万吨 of indicators are used.
    # Were surplus indicators allowed, both would retire with 100 declared as "indicators":
    # counted 100, award 500 → −500. With only the 12 used: both retiring counts 188 > 100, so
    # one retires in 2016 (it must give the 12 by then): counted 88, award 5 × 88 = 440 → −440.
    units = [dict(unit_id="A"), dict(unit_id="B")]
    scen = {"sectors": {"coal": {"award_per_capacity": 5.0}},
            "targets": [dict(name="coal at most 100", product="coal", by=2018, at_most=100.0)],
            "replacement": [dict(product="coal", ratio=1.2)]}
    projects = [dict(project_id="P", capacity=10, year=2016, status="approved")]
    inst = make_instance(tmp_path, units, scen, projects)
    res = solve(inst)
    assert res.objective == approx(-440)
    assert len(exits(res)) == 1
    assert res.schedule["indicator"].sum() == approx(12)


# --- rule 3: concentration ----------------------------------------------------------------------


def test_concentration_model_chooses_the_top_k(tmp_path, make_instance):
    # Clinker groups: G1 = G1a 60 + G1b 40 (1 worker each), G2 = 90 (100), G3 = 80 (100), G4 = 30 (5).
    # Top-1 group must hold ≥ 50 % in 2018. Start: G1 100 / 300 = 33 %.
    # Keeping G1 on top needs ≥ 100 of the others gone: G3 + G4 or G2 + G4 = 105.
    # Retiring G1 whole and G4 (7) leaves 170 with G2 on top at 90 / 170 = 52.9 % ✓.
    # Cheaper sets fail: {G1a, G1b} 90/200 = 45 %; {G1a, G4} 90/210; {G1b, G4} 90/230.
    # So 7, and the top group changes from G1 to G2 because of the exits.
    units = [dict(unit_id="G1a", product="clinker", capacity=60, workers=1, group="G1"),
             dict(unit_id="G1b", product="clinker", capacity=40, workers=1, group="G1"),
             dict(unit_id="G2", product="clinker", capacity=90, workers=100, group="G2"),
             dict(unit_id="G3", product="clinker", capacity=80, workers=100, group="G3"),
             dict(unit_id="G4", product="clinker", capacity=30, workers=5, group="G4")]
    rule = dict(name="top 1", product="clinker", by="group", top=1, share=0.5, years=[2018])
    inst = make_instance(tmp_path, units, {"concentration": [rule]})
    res = solve(inst)
    assert res.objective == approx(7)
    assert set(exits(res)) == {"G1a", "G1b", "G4"}
    row = crow(res, "concentration", year=2018)
    assert row["achieved"] == approx(90 / 170)
    s = res.summary
    assert s.loc[(s["product"] == "clinker") & (s["year"] == 2018), "concentration"].iloc[0] == approx(90 / 170)
    assert solve(variant(inst, concentration=[])).objective == approx(0)


def test_concentration_by_firm_binding(tmp_path, make_instance):
    # Top 2 firms must hold ≥ 75 % in 2017: A 100 (50 workers), B 100 (50), C 30 (3), D 20 (1).
    # Start 200 / 250 = 80 % ✓: nothing needs to go. Now ask 90 %: 200 / R ≥ 0.9 → R ≤ 222.2:
    # retire ≥ 27.8 of C, D: C (3) → 200 / 220 = 90.9 %; D alone → 200/230 = 87 % ✗. So 3.
    units = [dict(unit_id="A", product="clinker", workers=50), dict(unit_id="B", product="clinker", workers=50),
             dict(unit_id="C", product="clinker", capacity=30, workers=3),
             dict(unit_id="D", product="clinker", capacity=20, workers=1)]
    rule = dict(name="top 2", product="clinker", by="firm", top=2, share=0.75, years=[2017])
    inst = make_instance(tmp_path, units, {"concentration": [rule]})
    assert solve(inst).objective == approx(0)
    strict = inst.scenario.concentration[0].model_copy(update={"share": 0.9})
    res = solve(variant(inst, concentration=[strict]))
    assert res.objective == approx(3)
    assert set(exits(res)) == {"C"} and exits(res)["C"][0] <= 2017


# --- rule 4: utilisation and supply -------------------------------------------------------------


def test_utilisation_cap(tmp_path, make_instance):
    # Demand 160 in 2017 at ≥ 80 % utilisation → at most 200 left. A 150 / 10, B 30 / 3, C 50 / 4:
    # 230 → retire ≥ 30 by 2017: B (3) leaves exactly 200; C (4). So B, 3, and the row binds.
    units = [dict(unit_id="A", capacity=150, workers=10), dict(unit_id="B", capacity=30, workers=3),
             dict(unit_id="C", capacity=50, workers=4)]
    rule = dict(name="coal use", product="coal", demand={2017: 160.0}, min_utilisation=0.8)
    inst = make_instance(tmp_path, units, {"utilisation": [rule]})
    res = solve(inst)
    assert res.objective == approx(3)
    assert set(exits(res)) == {"B"} and exits(res)["B"][0] <= 2017
    row = crow(res, "utilisation", year=2017)
    assert row["achieved"] == approx(200) and row["required"] == approx(200) and row["binding"]
    s = res.summary
    assert s.loc[(s["product"] == "coal") & (s["year"] == 2017), "utilisation"].iloc[0] == approx(0.8)
    assert solve(variant(inst, utilisation=[])).objective == approx(0)


def test_supply_floor(tmp_path, make_instance):
    # Target ≥ 100 by 2018. A 130 / 1, B 60 / 5, C 50 / 6 (240 in all).
    # Free: A, 1. Floor: demand 100 × 1.3 = 130 left in 2018 → at most 110 retired: A is out;
    # B + C = 110 for 11, leaving exactly 130.
    units = [dict(unit_id="A", capacity=130, workers=1), dict(unit_id="B", capacity=60, workers=5),
             dict(unit_id="C", capacity=50, workers=6)]
    scen = {"targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)],
            "utilisation": [dict(name="supply", product="coal", demand={2018: 100.0}, reserve=0.3)]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(11)
    assert set(exits(res)) == {"B", "C"}
    row = crow(res, "supply", year=2018)
    assert row["achieved"] == approx(130) and row["binding"]
    free = solve(variant(inst, utilisation=[]))
    assert free.objective == approx(1) and set(exits(free)) == {"A"}


# --- rule 5: packages ---------------------------------------------------------------------------


def test_package_all_or_nothing(tmp_path, make_instance):
    # Target ≥ 100. P1 100 / 1 and P2 50 / 10 exit together or not at all; Q 100 / 5.
    # Free: P1 alone, 1. Package: P1 + P2 = 11 > Q = 5 → Q, and both members stay.
    units = [dict(unit_id="P1", workers=1), dict(unit_id="P2", capacity=50, workers=10),
             dict(unit_id="Q", workers=5)]
    scen = {"targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)],
            "packages": [dict(name="pair", close={"units": ["P1", "P2"]})]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(5)
    assert set(exits(res)) == {"Q"}
    free = solve(variant(inst, packages=[]))
    assert free.objective == approx(1) and set(exits(free)) == {"P1"}
    # make Q dear: the package goes whole, in one year
    units2 = inst.units.copy()
    units2.loc["Q", "workers"] = 50
    res2 = solve(bind(inst.scenario, units2, inst.projects))
    assert res2.objective == approx(11)
    ex = exits(res2)
    assert set(ex) == {"P1", "P2"} and ex["P1"][0] == ex["P2"][0]


def test_required_package_same_year_and_listed_modes(tmp_path, make_instance):
    # Attrition 50 %/yr; P1 closes (8 workers), P2 relocates (8 workers, relocatable); coal keeps
    # 50 % of staff on closure, none on relocation, so closing P2 would be cheaper, and 2018
    # cheapest of all years. Required by 2017, same year, listed modes:
    #   2017: P1 8 × 0.5 × 0.5 = 2, P2 8 × 0.5 × 1 = 4 → 6;  2016: 4 + 8 = 12.
    # Without the package nothing need exit (0); free P2 would close in 2018: 8 × .25 × .5 = 1.
    units = [dict(unit_id="P1", workers=8), dict(unit_id="P2", workers=8, relocatable=True)]
    scen = {"attrition": 0.5,
            "sectors": {"coal": {"redeployed_share": {"close": 0.5, "relocate": 0.0}}},
            "packages": [dict(name="JISCO-like", close={"units": ["P1"]}, relocate={"units": ["P2"]},
                              required=True, by=2017)]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(6)
    assert exits(res) == {"P1": (2017, "close"), "P2": (2017, "relocate")}
    assert srow(res, "P2")["workers_displaced"] == approx(4)
    assert srow(res, "P1")["reason"].startswith("package")
    assert crow(res, "package")["binding"]
    assert solve(variant(inst, packages=[])).objective == approx(0)
    # the members' windows meet only in 2016 → the package goes then: 12
    units2 = inst.units.copy()
    units2.at["P1", "allowed_years"] = frozenset({2016, 2018})
    units2.at["P2", "allowed_years"] = frozenset({2016, 2017})
    res2 = solve(bind(inst.scenario, units2, inst.projects))
    assert res2.objective == approx(12)
    assert exits(res2) == {"P1": (2016, "close"), "P2": (2016, "relocate")}


# --- rule 6: mandatory ---------------------------------------------------------------------------


def test_mandatory_by_a_year(tmp_path, make_instance):
    # Attrition 50 %: A (8 workers, major accident) must exit by 2017: 2016 → 8, 2017 → 4 → 4.
    # B (same size, no accident) stays. Without the rule: 0.
    units = [dict(unit_id="A", workers=8, accident="major", accident_year=2015), dict(unit_id="B", workers=8)]
    scen = {"attrition": 0.5,
            "mandatory": [dict(name="accident mines", by=2017,
                               where={"all": [["accident", "in", ["major", "extraordinary"]]]})]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(4)
    assert exits(res) == {"A": (2017, "close")}
    assert srow(res, "A")["reason"] == "mandatory: accident mines"
    assert crow(res, "mandatory")["binding"]
    assert solve(variant(inst, mandatory=[])).objective == approx(0)


# --- rule 7: protected ---------------------------------------------------------------------------


def test_protected_unit_stays(tmp_path, make_instance):
    # Target ≥ 100: A (1 worker) would do; A is protected → B (5).
    units = [dict(unit_id="A", workers=1), dict(unit_id="B", workers=5)]
    scen = {"targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)],
            "protected": [dict(name="keep A", where={"units": ["A"]})]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(5)
    assert set(exits(res)) == {"B"}
    assert srow(res, "A")["reason"] == "protected: keep A"
    assert (res.constraints["rule"] == "protected").sum() == 1
    free = solve(variant(inst, protected=[]))
    assert free.objective == approx(1) and set(exits(free)) == {"A"}


def test_protected_and_mandatory_is_infeasible(tmp_path, make_instance):
    units = [dict(unit_id="A", workers=1)]
    scen = {"mandatory": [dict(name="A goes", by=2018, where={"units": ["A"]})],
            "protected": [dict(name="keep A", where={"units": ["A"]})]}
    with pytest.raises(InfeasibleError) as e:
        solve(make_instance(tmp_path, units, scen))
    assert "A goes" in str(e.value)


# --- rule 8: windows -----------------------------------------------------------------------------


def test_table_window(tmp_path, make_instance):
    # Target ≥ 100 by 2017: A (1 worker) may exit only in 2018 (unit table) → B (5) by 2017.
    units = [dict(unit_id="A", workers=1, exit_years="2018"), dict(unit_id="B", workers=5)]
    scen = {"targets": [dict(name="coal 100", product="coal", by=2017, at_least=100.0)]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(5)
    assert set(exits(res)) == {"B"} and exits(res)["B"][0] <= 2017
    units2 = inst.units.copy()
    units2["allowed_years"] = None
    assert solve(bind(inst.scenario, units2, inst.projects)).objective == approx(1)


def test_scenario_window_meets_table_window(tmp_path, make_instance):
    # Attrition 50 %, A (8 workers) mandatory by 2018: free it goes in 2018 for 2.
    # Table 2016–2017 ∩ scenario window {2017, 2018} = {2017} → 8 × 0.5 = 4.
    units = [dict(unit_id="A", workers=8, exit_years="2016-2017")]
    scen = {"attrition": 0.5,
            "mandatory": [dict(name="A goes", by=2018, where={"units": ["A"]})],
            "windows": [dict(name="late", where={"units": ["A"]}, years=[2017, 2018])]}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(4)
    assert exits(res) == {"A": (2017, "close")}
    assert (res.constraints["rule"] == "window").sum() == 1
    # window alone (table open): 2018, 2
    units2 = inst.units.copy()
    units2["allowed_years"] = None
    assert solve(bind(inst.scenario, units2, inst.projects)).objective == approx(2)
    # table alone: 2017 (the table's last year), 4; neither: 2
    assert solve(variant(inst, windows=[])).objective == approx(4)
    assert solve(bind(inst.scenario.model_copy(update={"windows": []}), units2, inst.projects)).objective \
        == approx(2)


# --- rule 12: caps --------------------------------------------------------------------------------


def test_budget_cap(tmp_path, make_instance):
    # A and B (100 万吨, 8 workers) must exit by 2017; attrition 50 %; exit cost 1 万元/万吨.
    # Free: both in 2017: jobs 4 + 4, outlay 100 + 100 → 208.
    # Budget 2017 ≤ 100: one goes in 2016: jobs 8 + 4, outlay 200 → 212; 2017's budget binds.
    units = [dict(unit_id="A", workers=8), dict(unit_id="B", workers=8)]
    scen = {"attrition": 0.5, "sectors": {"coal": {"exit_cost_per_capacity": {"close": 1.0}}},
            "mandatory": [dict(name="both", by=2017, where={})],
            "caps": {"budget": {2017: 100.0}}}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(212)
    assert sorted(y for y, _ in exits(res).values()) == [2016, 2017]
    row = crow(res, "budget", year=2017)
    assert row["achieved"] == approx(100) and row["binding"]
    assert solve(variant(inst, caps=Caps())).objective == approx(208)


def test_worker_cap_per_region(tmp_path, make_instance):
    # A (8 workers) and B (4), region R1, must exit by 2017; attrition 50 %.
    # Free: both 2017, 4 + 2 = 6 displaced in R1 that year. Cap 5 a year in R1:
    # both 2017 = 6 ✗; A 2016 = 8 ✗; A 2017 (4) + B 2016 (4) ✓ → 8.
    # A cap on region R2 alone changes nothing (6).
    units = [dict(unit_id="A", workers=8), dict(unit_id="B", workers=4), dict(unit_id="C", region="R2")]
    scen = {"attrition": 0.5,
            "mandatory": [dict(name="A and B", by=2017, where={"units": ["A", "B"]})],
            "caps": {"workers": [dict(name="labour", regions=["R1"], per_year=5.0)]}}
    inst = make_instance(tmp_path, units, scen)
    res = solve(inst)
    assert res.objective == approx(8)
    assert exits(res) == {"A": (2017, "close"), "B": (2016, "close")}
    other = Caps(workers=[WorkerCap(name="labour", regions=["R2"], per_year=5.0)])
    assert solve(variant(inst, caps=other)).objective == approx(6)
    every = Caps(workers=[WorkerCap(name="labour", per_year=5.0)])
    assert solve(variant(inst, caps=every)).objective == approx(8)


# --- the cost -------------------------------------------------------------------------------------


def cost_scenario() -> dict:
    return {
        "attrition": 0.1,
        "ladder": {2016: 1.1, 2017: 1.0, 2018: 0.9},
        "objective": {"jobs_weight": 2.0, "fiscal_weight": 1.0, "discount_rate": 0.05},
        "sectors": {
            "coal": {"resettlement_per_worker": 3.0, "exit_cost_per_capacity": {"close": 4.0, "relocate": 1.0},
                     "redeployed_share": {"close": 0.2, "relocate": 0.5}, "award_per_capacity": 6.0},
            "cement": {"exit_cost_per_capacity": {"close": 5.0}},
        },
        "mandatory": [dict(name="A and B", by=2018, where={"units": ["A", "B"]})],
    }


def test_cost_by_hand(tmp_path, make_instance):
    # Attrition 10 %/yr, ladder 1.1 / 1.0 / 0.9, discount 5 %, jobs weight 2, fiscal weight 1.
    # A: coal 50 万吨, 100 workers, may exit only in 2017 (t = 1), close:
    #    D = 100 × 0.9 × (1 − 0.2) = 72;  outlay = 3 × 72 + 4 × 50 − 6 × 1.0 × 50 = 116 (2017)
    # B: coal 40 万吨, 50 workers, relocatable, only 2018 (t = 2):
    #    close:    D = 50 × 0.81 × 0.8 = 32.4;  outlay = 97.2 + 160 − 6 × 0.9 × 40 = 41.2
    #              → 2 × 32.4 + 41.2 / 1.05² = 64.8 + 37.3696 = 102.17
    #    relocate: D = 50 × 0.81 × 0.5 = 20.25; outlay = 60.75 + 40 − 216 = −115.25
    #              → 40.5 − 104.5351 = −64.035   → relocate.
    # C: clinker 2 万吨, loss-making 8 万元 a year, no workers; close costs 5 × 2 = 10:
    #    stay: 8 + 8/1.05 + 8/1.1025 = 22.875; exit 2016: 10; 2017: 8 + 10/1.05 = 17.52;
    #    2018: 8 + 7.619 + 9.070 = 24.69 → exits in 2016.
    units = [dict(unit_id="A", capacity=50, workers=100, exit_years="2017"),
             dict(unit_id="B", capacity=40, workers=50, relocatable=True, exit_years="2018"),
             dict(unit_id="C", product="clinker", capacity=2, loss_making=True, subsidised_loss=8.0)]
    inst = make_instance(tmp_path, units, cost_scenario())
    res = solve(inst)
    jobs = 72 + 20.25
    fiscal = 116 / 1.05 + (-115.25) / 1.05**2 + 10
    assert exits(res) == {"A": (2017, "close"), "B": (2018, "relocate"), "C": (2016, "close")}
    assert res.jobs == approx(jobs)
    assert res.fiscal == approx(fiscal)
    assert res.objective == approx(2 * jobs + fiscal)
    s = res.schedule.set_index("unit_id")
    assert s.at["A", "workers_displaced"] == approx(72)
    assert s.at["A", "outlay"] == approx(116)
    assert s.at["A", "award"] == approx(300)
    assert s.at["B", "workers_displaced"] == approx(20.25)
    assert s.at["B", "outlay"] == approx(-115.25)
    assert s.at["B", "award"] == approx(216)
    assert s.at["C", "outlay"] == approx(10) and s.at["C", "losses_paid"] == approx(0)
    # yearly outlay in the summary, undiscounted: 2016 C 10, 2017 A 116, 2018 B −115.25
    outlay = res.summary.groupby("year")["outlay"].sum()
    assert outlay.to_dict() == approx({2016: 10.0, 2017: 116.0, 2018: -115.25})

    # Redeployed share and exit cost by mode bind: with B not relocatable it closes,
    # and the objective rises by 102.17 − (−64.035).
    units2 = inst.units.copy()
    units2.at["B", "relocatable"] = False
    res2 = solve(bind(inst.scenario, units2, inst.projects))
    b_close = 2 * 32.4 + 41.2 / 1.05**2
    b_reloc = 2 * 20.25 - 115.25 / 1.05**2
    assert res2.objective == approx(res.objective + b_close - b_reloc)
    assert exits(res2)["B"] == (2018, "close")


def test_subsidised_losses_are_paid_while_running(tmp_path, make_instance):
    # Same as above but C makes no loss: exiting costs 10, staying 0 → C stays, and the
    # objective drops by 10 (its exit outlay); with the loss C pays nothing while exited.
    units = [dict(unit_id="A", capacity=50, workers=100, exit_years="2017"),
             dict(unit_id="B", capacity=40, workers=50, relocatable=True, exit_years="2018"),
             dict(unit_id="C", product="clinker", capacity=2, loss_making=True, subsidised_loss=8.0)]
    inst = make_instance(tmp_path, units, cost_scenario())
    with_loss = solve(inst).objective
    units2 = inst.units.copy()
    units2.at["C", "loss_making"] = False
    res = solve(bind(inst.scenario, units2, inst.projects))
    assert "C" not in exits(res)
    assert res.objective == approx(with_loss - 10)
    # A window of 2017 only: pay 2016's loss, then exit: 8 + 10/1.05 = 17.52 < 22.875 (stay).
    units3 = inst.units.copy()
    units3.at["C", "allowed_years"] = frozenset({2017})
    res3 = solve(bind(inst.scenario, units3, inst.projects))
    assert exits(res3)["C"] == (2017, "close")
    assert srow(res3, "C")["losses_paid"] == approx(8)
    assert res3.objective == approx(with_loss - 10 + 8 + 10 / 1.05)
    # 2018 only: 8 + 7.619 + 10/1.05² = 24.69 > 8 + 8/1.05 + 8/1.05² = 22.875 → stays, pays 3 years.
    units3.at["C", "allowed_years"] = frozenset({2018})
    res4 = solve(bind(inst.scenario, units3, inst.projects))
    assert "C" not in exits(res4)
    assert srow(res4, "C")["losses_paid"] == approx(24)
    assert res4.objective == approx(with_loss - 10 + 8 + 8 / 1.05 + 8 / 1.05**2)


@pytest.mark.parametrize("jobs_weight, fiscal_weight, chosen", [(1.0, 0.0, "A"), (0.0, 1.0, "B"), (10.0, 1.0, "A")])
def test_weights_decide_the_trade_off(tmp_path, make_instance, jobs_weight, fiscal_weight, chosen):
    # Target ≥ 100; exit cost 1 万元 per 万吨. A: 150 万吨, 10 workers; B: 100 万吨, 20 workers.
    # Weighted cost A = 10 w_j + 150 w_f, B = 20 w_j + 100 w_f:
    #   (1, 0): 10 vs 20 → A;  (0, 1): 150 vs 100 → B;  (10, 1): 250 vs 300 → A.
    units = [dict(unit_id="A", capacity=150, workers=10), dict(unit_id="B", capacity=100, workers=20)]
    scen = {"objective": {"jobs_weight": jobs_weight, "fiscal_weight": fiscal_weight},
            "sectors": {"coal": {"exit_cost_per_capacity": {"close": 1.0}}},
            "targets": [dict(name="coal 100", product="coal", by=2018, at_least=100.0)]}
    res = solve(make_instance(tmp_path, units, scen))
    cost = {"A": 10 * jobs_weight + 150 * fiscal_weight, "B": 20 * jobs_weight + 100 * fiscal_weight}
    assert res.objective == approx(cost[chosen])
    assert set(exits(res)) == {chosen}
    assert res.jobs == approx({"A": 10, "B": 20}[chosen])
    assert res.fiscal == approx({"A": 150, "B": 100}[chosen])


# --- edge cases the brute force ran into ------------------------------------------------------------


def test_rules_on_a_product_with_nothing_left(tmp_path, make_instance):
    # Every clinker line must go in 2016; a top-1 share on clinker in 2016 then divides 0 by 0,
    # and a utilisation cap on coal, of which there is none, holds at 0 ≤ 20.
    units = [dict(unit_id=x, product="clinker", workers=1) for x in "ABC"]
    scen = {"mandatory": [dict(name="all", by=2016, where={})],
            "concentration": [dict(name="top", product="clinker", top=1, share=0.5, years=[2016])],
            "utilisation": [dict(name="coal", product="coal", demand={2017: 10.0}, min_utilisation=0.5)]}
    res = solve(make_instance(tmp_path, units, scen))
    assert res.objective == approx(3)
    assert exits(res) == {u: (2016, "close") for u in "ABC"}
    assert crow(res, "utilisation")["achieved"] == approx(0)
    assert math.isnan(crow(res, "concentration")["achieved"])


def test_empty_indicator_eligible_cell_means_eligible(tmp_path, make_instance):
    # The column defaults to true; an empty cell must not silently make a unit ineligible.
    # Approved project 50 in 2016 needs 60 indicators: A (empty cell) is the only unit.
    inst = make_instance(tmp_path, [dict(unit_id="A", workers=1)],
                         {"replacement": [dict(product="coal", ratio=1.2)]},
                         [dict(project_id="P", capacity=50, year=2016, status="approved")])
    text = (tmp_path / "units.csv").read_text(encoding="utf-8")
    assert "indicator_eligible" not in text
    (tmp_path / "units.csv").write_text(text.replace("\n", ",indicator_eligible\n", 1).replace(
        "synthetic\n", "synthetic,\n"), encoding="utf-8")
    from exitopt.inputs import load

    inst = load(tmp_path / "scenario.toml")
    assert bool(inst.units.at["A", "indicator_eligible"])
    res = solve(inst)
    assert res.objective == approx(1)
    assert exits(res) == {"A": (2016, "close")} and srow(res, "A")["indicator"] == approx(60)
