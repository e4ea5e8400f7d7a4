"""Mergers (docs/model.md#mergers) on tiny instances worked out by hand, the checker's own test of
merger rows, and bad input refused with exit code 2.

Clinker lines, jobs_weight 1 and fiscal_weight 1 (so the objective is persons + 万元), attrition 0,
and the cement sector's merger figures: 0.02 万元 per 万吨/yr merged, 10 % of the workers displaced.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exitopt.check import check_plan, read_plan
from exitopt.inputs import bind
from exitopt.solve import solve_instance
from test_bad_input import refused_cli

approx = pytest.approx

#: A (group G1) 100 万吨, 10 workers; I1 and I2 independents of 50 万吨, 40 and 60 workers
UNITS = [dict(unit_id="A", product="clinker", capacity=100, workers=10, group="G1", firm="F1"),
         dict(unit_id="I1", product="clinker", capacity=50, workers=40, group="", firm="I1"),
         dict(unit_id="I2", product="clinker", capacity=50, workers=60, group="", firm="I2")]
TOP = dict(name="top 1", product="clinker", by="group", top=1, share=0.6, years=[2017])
MERGE = dict(name="consolidation", where={"all": [["group", "!=", "G1"]]}, acquirers=["G1"], years=[2017])
COSTS = {"cement": {"merge_cost_per_capacity": 0.02, "merge_displaced_share": 0.1}}


def scenario(**more) -> dict:
    return {"sectors": COSTS, "concentration": [TOP], "mergers": [MERGE], **more}


def variant(inst, **update):
    return bind(inst.scenario.model_copy(update=update), inst.units, inst.projects, files=inst.files)


def row(res, unit: str):
    return res.schedule.set_index("unit_id").loc[unit]


def test_a_merger_cheaper_than_a_closure_lifts_the_share(tmp_path, make_instance):
    # Top group must hold ≥ 60 % in 2017. Start: G1 100 / 200 = 50 %.
    # Closing: I1 (40 persons) → 100 / 150 = 66.7 % ✓; I2 costs 60; A alone fails (50 / 100).
    # Merging I1 into G1 in 2017: 150 / 200 = 75 % ✓ at 0.1 × 40 = 4 persons + 0.02 × 50 = 1 万元 = 5;
    # I2 would cost 6 + 1 = 7. So 5, I1 merged, and nothing exits.
    inst = make_instance(tmp_path, UNITS, scenario())
    res = solve_instance(inst)
    assert res.objective == approx(5) and res.jobs == approx(4) and res.fiscal == approx(1)
    assert res.schedule["exit_year"].isna().all()
    i1 = row(res, "I1")
    assert (i1["mode"], i1["merge_year"], i1["acquirer"]) == ("merge", 2017, "G1")
    assert i1["workers_displaced"] == approx(4) and i1["outlay"] == approx(1) and i1["counted"] == 0
    assert row(res, "I2")["mode"] == "" and row(res, "I2")["acquirer"] == ""
    assert list(res.schedule.columns[res.schedule.columns.get_loc("mode"):][:3]) == ["mode", "merge_year", "acquirer"]
    share = res.constraints[res.constraints["rule"] == "concentration"].iloc[0]
    assert share["achieved"] == approx(150 / 200)
    s = res.summary.set_index("year")
    assert s.loc[2017, "concentration"] == approx(0.75) and s.loc[2016, "concentration"] == approx(0.5)
    assert s.loc[2017, "workers_displaced"] == approx(4) and s.loc[2017, "capacity_left"] == approx(200)
    # without the merger rule the closure of I1 is the optimum: 40
    alone = solve_instance(variant(inst, mergers=[]))
    assert alone.objective == approx(40) and row(alone, "I1")["exit_year"] <= 2017
    assert "merge_year" not in alone.schedule.columns and "acquirer" not in alone.schedule.columns
    # the checker prices the schedule on its own, to the same figures
    res.schedule.to_csv(tmp_path / "plan.csv", index=False)
    checked = check_plan(inst, read_plan(tmp_path / "plan.csv", inst))
    assert checked.ok, checked.violations
    assert (checked.jobs, checked.fiscal, checked.objective) == (approx(4), approx(1), approx(5))


def test_a_merged_unit_is_no_exit(tmp_path, make_instance):
    # Only I1 may merge. A target of 50 万吨 of clinker by 2017 counts exits only. Closing A (10)
    # leaves G1 nothing of its own: I1 merged into it holds 50 / 100 = 50 % < 60 %. So a 50 万吨
    # line closes: I1 (40; 100 / 150 = 66.7 % ✓), not I2 (60), nor I2 closed and I1 merged
    # (60 + 5), nor A and I1 (50). So 40, no merger.
    target = dict(name="clinker exit", product="clinker", by=2017, at_least=50)
    inst = make_instance(tmp_path, UNITS, scenario(targets=[target], mergers=[dict(MERGE, where={"units": ["I1"]})]))
    res = solve_instance(inst)
    assert res.objective == approx(40)
    assert row(res, "I1")["mode"] == "close" and (res.schedule["mode"] != "merge").all()
    # by 2018 A may close after the share year: A (10) in 2018 and I1 merged in 2017 (5): 15
    later = inst.scenario.targets[0].model_copy(update={"by": 2018})
    res = solve_instance(variant(inst, targets=[later]))
    assert res.objective == approx(15)
    assert row(res, "A")["exit_year"] == 2018 and row(res, "I1")["mode"] == "merge"
    # a merged unit stays in the capacity: at most 150 万吨 may remain in 2017 (utilisation 1), so a
    # line goes by 2017 whatever merges; as above, I1 closes (40)
    use = dict(name="use", product="clinker", demand={2017: 150.0}, min_utilisation=1.0)
    res = solve_instance(make_instance(tmp_path / "u", UNITS, scenario(
        utilisation=[use], mergers=[dict(MERGE, where={"units": ["I1"]})])))
    assert res.objective == approx(40) and row(res, "I1")["mode"] == "close"


def test_whole_firm_merges_as_one(tmp_path, make_instance):
    # Firm F2 runs two lines of 25 万吨 (20 workers each); with whole_firm both merge, in one year,
    # into G1: 100 + 50 = 150 / 200 = 75 % at 0.1 × 40 + 0.02 × 50 = 5. I2 alone: 7. So 5.
    units = [UNITS[0], dict(unit_id="F2a", product="clinker", capacity=25, workers=20, firm="F2"),
             dict(unit_id="F2b", product="clinker", capacity=25, workers=20, firm="F2"), UNITS[2]]
    merge = dict(MERGE, whole_firm=True)
    res = solve_instance(make_instance(tmp_path, units, scenario(mergers=[merge])))
    assert res.objective == approx(5)
    for u in ("F2a", "F2b"):
        assert (row(res, u)["mode"], row(res, u)["acquirer"]) == ("merge", "G1")
    # one line of F2 alone would not do (125 / 200 = 62.5 % ✓ at 2 + 0.5 = 2.5): whole_firm forbids it
    single = solve_instance(make_instance(tmp_path / "one", units, scenario()))
    assert single.objective == approx(2.5)
    assert (single.schedule["mode"] == "merge").sum() == 1


def checked_plan(tmp_path, inst, rows: list[dict]):
    plan = pd.DataFrame(rows)
    plan.to_csv(tmp_path / "plan.csv", index=False)
    return check_plan(inst, read_plan(tmp_path / "plan.csv", inst))


def test_the_checker_refuses_a_merger_into_a_non_acquirer_or_in_a_wrong_year(tmp_path, make_instance):
    units = [*UNITS, dict(unit_id="B", product="clinker", capacity=10, workers=1, group="G2", firm="F3")]
    inst = make_instance(tmp_path, units, scenario(mergers=[dict(MERGE, where={"units": ["I1", "I2"]})]))
    good = checked_plan(tmp_path, inst, [dict(unit_id="I1", exit_year="", mode="merge", merge_year=2017,
                                              acquirer="G1")])
    assert good.ok, good.violations
    # 150 / 210 = 71.4 % held by G1 in 2017
    assert good.jobs == approx(4) and good.fiscal == approx(1)
    bad = checked_plan(tmp_path, inst, [dict(unit_id="I1", exit_year="", mode="merge", merge_year=2017,
                                             acquirer="G2"),
                                        dict(unit_id="I2", exit_year="", mode="merge", merge_year=2016,
                                             acquirer="G1"),
                                        dict(unit_id="B", exit_year="", mode="merge", merge_year=2017,
                                             acquirer="G1")])
    words = [v.message for v in bad.violations if v.rule == "merger"]
    assert any("I1" in w and "'G2'" in w and "not an acquirer" in w for w in words), words
    assert any("I2" in w and "2016" in w and "allows only 2017" in w for w in words), words
    assert any("B" in w and "no merger rule selects it" in w for w in words), words
    # into G2, I1 leaves G1 at 100 / 210 = 47.6 % in 2017 (I2 merged 2016 counts: 150 / 210): the
    # concentration check reads the acquirers, I2's into G1 from 2016 on
    assert not any(v.rule == "concentration" for v in bad.violations)
    only_g2 = checked_plan(tmp_path, inst, [dict(unit_id="I1", exit_year="", mode="merge", merge_year=2017,
                                                 acquirer="G2")])
    conc = [v for v in only_g2.violations if v.rule == "concentration"]
    assert len(conc) == 1 and conc[0].achieved == approx(100 / 210)


def test_the_checker_refuses_a_split_whole_firm(tmp_path, make_instance):
    units = [UNITS[0], dict(unit_id="F2a", product="clinker", capacity=25, workers=20, firm="F2"),
             dict(unit_id="F2b", product="clinker", capacity=25, workers=20, firm="F2")]
    inst = make_instance(tmp_path, units, scenario(mergers=[dict(MERGE, whole_firm=True)]))
    res = checked_plan(tmp_path, inst, [dict(unit_id="F2a", exit_year="", mode="merge", merge_year=2017,
                                             acquirer="G1")])
    assert [v.rule for v in res.violations] == ["merger"]
    assert "firm 'F2'" in res.violations[0].message


refused = refused_cli  # a bad merger rule, refused in a process of its own as the analyst runs it


@pytest.mark.parametrize("merge, words", [
    (dict(MERGE, acquirers=["Nowhere"]), ("consolidation", "acquirer 'Nowhere'", "not a group of the unit table")),
    (dict(MERGE, years=[2030]), ("merger 'consolidation'", "2030", "outside the plan")),
    (dict(MERGE, where={"units": ["A"]}, acquirers=["G1", "G1"]), ("acquirer 'G1' is named twice",)),
    (dict(MERGE, where={"all": [["capacity", ">", 1000]]}), ("merger 'consolidation' selects no unit",)),
    (dict(MERGE, years=[2017], acquirers=["G1"], wherever=1), ("wherever", "unknown key")),
])
def test_bad_merger_rules_are_refused(tmp_path, scenario_file, merge, words):
    path = scenario_file(tmp_path, UNITS, scenario(mergers=[merge]))
    refused("validate", path, words=words)


def test_a_unit_in_two_merger_rules_is_refused(tmp_path, scenario_file):
    path = scenario_file(tmp_path, UNITS, scenario(mergers=[MERGE, dict(MERGE, name="again")]))
    refused("validate", path, words=("unit I1", "'consolidation' and 'again'"))


@pytest.mark.parametrize("plan, words", [
    (dict(unit_id="I1", exit_year=2017, mode="merge", merge_year=2017, acquirer="G1"),
     ("row 2", "exit_year", "merged unit does not exit")),
    (dict(unit_id="I1", exit_year="", mode="merge", merge_year=2030, acquirer="G1"),
     ("row 2", "merge_year", "2030")),
    (dict(unit_id="I1", exit_year="", mode="merge", merge_year=2017, acquirer=""),
     ("row 2", "acquirer", "name the acquiring group")),
    (dict(unit_id="I1", exit_year="", mode="merge"), ("row 2", "merge_year or acquirer column")),
])
def test_bad_merger_rows_of_a_plan_are_refused(tmp_path, scenario_file, plan, words):
    path = scenario_file(tmp_path, UNITS, scenario())
    pd.DataFrame([plan]).to_csv(tmp_path / "plan.csv", index=False)
    refused("check", path, tmp_path / "plan.csv", words=words)
