"""What-if pins (honoured, priced by two independent solves, bad pins refused) and the
explanations of chosen exits (margins and swaps worked out by hand)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.check import check_plan, plan_from_frame
from exitopt.cli import app
from exitopt.engine import Engine, Pin, apply
from exitopt.errors import InputError
from exitopt.explain import explain
from exitopt.pins import collect, read_pins, solve_pinned
from exitopt.solve import solve_instance

EXIT_COST = 2.0
#: unit -> (workers, subsidised loss 万元/yr). Exiting in 2016 (the cheapest year: no attrition,
#: no discount, three years of losses saved) costs workers + 200 − 3 × loss:
MINES = {"A": (100, 50.0), "B": (80, 40.0), "C": (60, 25.0), "D": (40, 10.0), "E": (20, 0.0), "F": (10, 0.0)}
EXIT = {u: w + EXIT_COST * 100 - 3 * loss for u, (w, loss) in MINES.items()}  # A 150, B 160, C 185, D 210, E 220, F 210
STAYING_LOSSES = sum(3 * loss for _, loss in MINES.values())


def scenario(**rules) -> dict:
    return {"objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
            "sectors": {"coal": {"exit_cost_per_capacity": {"close": EXIT_COST}}},
            "targets": [{"name": "coal 300", "product": "coal", "by": 2018, "at_least": 300.0}], **rules}


def mines(make_instance, tmp_path, **rules):
    units = [dict(unit_id=u, workers=w, loss_making=loss > 0, subsidised_loss=loss) for u, (w, loss) in MINES.items()]
    return make_instance(tmp_path, units=units, scenario=scenario(**rules))


def exit_years(schedule: pd.DataFrame) -> dict[str, int]:
    s = schedule[schedule["exit_year"].notna()]
    return dict(zip(s["unit_id"], s["exit_year"].astype(int), strict=True))


# --------------------------------------------------------------------------------------------
# Pins


def test_keep_pin_is_honoured_and_priced_by_two_solves(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path / "free")
    run = solve_pinned(Engine(inst), [Pin("A", "keep")])
    assert "A" not in exit_years(run.solution.schedule)
    # the same question asked by hand: a scenario with a protected rule, solved on its own
    by_hand = mines(make_instance, tmp_path / "kept", protected=[{"name": "A kept", "where": {"units": ["A"]}}])
    free, kept = solve_instance(inst), solve_instance(by_hand)
    row = run.costs.set_index("pin").loc["keep A"]
    assert row["cost"] == pytest.approx(kept.objective - free.objective)
    assert row["cost"] == pytest.approx(EXIT["D"] - EXIT["A"])  # D (or F) replaces A
    assert row["jobs_delta"] == pytest.approx(kept.jobs - free.jobs)
    assert run.free_objective == pytest.approx(sum(sorted(EXIT.values())[:3]) + STAYING_LOSSES)


def test_each_pin_priced_against_the_others(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path / "free")
    run = solve_pinned(Engine(inst), [Pin("A", "keep"), Pin("E", "exit", 2017)])
    ex = exit_years(run.solution.schedule)
    assert "A" not in ex and ex["E"] == 2017
    assert check_plan(inst, plan_from_frame(run.solution.schedule, inst)).ok  # a plan of the free scenario
    only_e = mines(make_instance, tmp_path / "e", mandatory=[{"name": "E", "by": 2017, "where": {"units": ["E"]}}],
                   windows=[{"name": "E", "years": [2017], "where": {"units": ["E"]}}])
    only_a = mines(make_instance, tmp_path / "a", protected=[{"name": "A", "where": {"units": ["A"]}}])
    costs = run.costs.set_index("pin")["cost"]
    both = run.solution.objective
    assert costs["keep A"] == pytest.approx(both - solve_instance(only_e).objective)
    assert costs["exit E in 2017"] == pytest.approx(both - solve_instance(only_a).objective)
    assert costs["all pins"] == pytest.approx(both - solve_instance(inst).objective)


def test_keep_through_a_year(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path)
    pinned = apply(inst, [Pin("A", "keep", 2016)])
    assert inst.scenario.windows == []  # the original is untouched
    ex = exit_years(solve_instance(pinned).schedule)
    # not in 2016; in 2017 it costs 100 + 200 − 2 × 50 (two years of losses saved) = 200 < 210 (D or F)
    assert ex.get("A") == 2017
    # kept through 2017 it would cost 100 + 200 − 50 = 250 in 2018: D or F take its place
    assert "A" not in exit_years(solve_instance(apply(inst, [Pin("A", "keep", 2017)])).schedule)


def test_pins_from_options_and_file(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path)
    f = tmp_path / "pins.csv"
    f.write_text("unit_id,action,year\nB,exit,2018\nC,保留,\n", encoding="utf-8-sig")
    pins = collect(inst, ["A"], ["D=2016"], f)
    assert pins == [Pin("A", "keep"), Pin("D", "exit", 2016), Pin("B", "exit", 2018), Pin("C", "keep")]
    f.write_text("unit_id,action\nB,shut\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2 .*'action'"):
        read_pins(f)


@pytest.mark.parametrize("args, words", [
    (["--keep", "ZZ"], "'ZZ'"),
    (["--exit", "A=2030"], "outside the plan"),
    (["--exit", "A=soon"], "not a year"),
    (["--keep", "A", "--exit", "A"], "pinned twice"),
])
def test_bad_pins_exit_2_and_write_nothing(make_instance, tmp_path, args, words):
    inst = mines(make_instance, tmp_path)
    res = CliRunner().invoke(app, ["solve", str(inst.scenario_path), "--out", str(tmp_path / "run"), *args])
    assert res.exit_code == 2, res.output
    assert words in res.output
    assert not (tmp_path / "run").exists()


def test_pin_against_a_scenario_rule_exits_2(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path, protected=[{"name": "A kept", "where": {"units": ["A"]}}])
    res = CliRunner().invoke(app, ["solve", str(inst.scenario_path), "--exit", "A", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "A kept" in res.output


def test_cli_writes_pins_csv(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path / "in")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["solve", str(inst.scenario_path), "--keep", "A", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "pins.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    pins = pd.read_csv(out / "pins.csv").set_index("pin")
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["pins"] == ["keep A"]
    assert "A" not in exit_years(pd.read_csv(out / "schedule.csv"))
    # the same question asked without pins: the free scenario, and one with A protected, each
    # solved by a plain `exitopt solve`
    by_hand = mines(make_instance, tmp_path / "kept", protected=[{"name": "A kept", "where": {"units": ["A"]}}])
    objective = {}
    for name, path in (("free", inst.scenario_path), ("kept", by_hand.scenario_path)):
        plain = CliRunner().invoke(app, ["solve", str(path), "--out", str(tmp_path / f"{name}_run")])
        assert plain.exit_code == 0, plain.output
        record_of = json.loads((tmp_path / f"{name}_run" / "run.json").read_text(encoding="utf-8"))
        objective[name] = record_of["objective"]
    row = pins.loc["keep A"]
    assert row["objective_with_pins"] == pytest.approx(record["objective"]) == pytest.approx(objective["kept"])
    assert row["objective_without"] == pytest.approx(objective["free"])
    assert row["cost"] == pytest.approx(objective["kept"] - objective["free"])
    assert row["cost"] == pytest.approx(EXIT["D"] - EXIT["A"])  # D (or F) replaces A
    assert row["status"] == "optimal"
    # the pinned plan is a plan of the scenario with A protected, priced there at the same objective
    checked = check_plan(by_hand, plan_from_frame(pd.read_csv(out / "schedule.csv"), by_hand))
    assert checked.ok, checked.violations
    assert checked.objective == pytest.approx(row["objective_with_pins"])
    # the console reports the cost that pins.csv holds
    assert f"keep A: costs {row['cost']:+,.1f}" in res.output


def test_gansu_keep_a_chosen_mine(gansu_result):
    inst = gansu_result.inst
    s = gansu_result.schedule
    unit = s.loc[(s["reason"] == "chosen") & (s["product"] == "coal"), "unit_id"].iloc[0]
    pinned = solve_instance(apply(inst, [Pin(unit, "keep")]), with_duals=False)
    assert unit not in exit_years(pinned.schedule)
    checked = check_plan(inst, plan_from_frame(pinned.schedule, inst))
    assert checked.ok, checked.violations
    assert checked.objective == pytest.approx(pinned.objective, rel=1e-6)
    gap = inst.scenario.solver.rel_gap
    assert pinned.objective >= gansu_result.objective * (1 - 2 * gap)  # a pin never makes a plan cheaper


# --------------------------------------------------------------------------------------------
# Explanations


def test_margin_and_swaps_by_hand(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path)
    res = solve_instance(inst)
    ex = explain(res)
    chosen = sorted(EXIT, key=EXIT.get)[:3]  # A, B, C
    assert set(exit_years(res.schedule)) == set(chosen)
    margins = ex.margins
    target = margins[margins["kind"] == "rule margin"]
    assert list(target["rule"]) == ["coal 300"]
    # 5 万吨 more needs a fourth mine: the cheapest left costs 210
    fourth = min(EXIT[u] for u in EXIT if u not in chosen)
    margin = fourth / 5
    assert target["margin_per_wt"].iloc[0] == pytest.approx(margin)
    swaps = margins[margins["kind"].str.startswith("swap")].set_index("unit_id")
    assert set(swaps.index) == set(EXIT)
    dearest = max(EXIT[u] for u in chosen)
    for u, row in swaps.iterrows():
        # each unit pinned the other way, solved again
        expected = fourth - EXIT[u] if u in chosen else EXIT[u] - dearest
        assert row["cost_of_change"] == pytest.approx(expected), u
        assert row["kind"] == ("swap out" if u in chosen else "swap in"), u
        # per 万吨 counted (chosen: in 2016) or at its cheapest exit (not chosen: also 2016)
        assert row["cost_per_wt"] == pytest.approx(EXIT[u] / 100), u
    # each chosen unit's reason states the figures of the margins table (no figure of its own)
    sched = ex.schedule.set_index("unit_id")
    for u in chosen:
        assert sched.at[u, "reason"] == (
            f"chosen: {swaps.at[u, 'cost_per_wt']:.2f} 万元 per 万吨 counted vs {margin:.1f} at the margin of "
            f"'coal 300'; keeping it instead costs {swaps.at[u, 'cost_of_change']:.1f}"), u


def test_slack_target_has_zero_margin_without_a_solve(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path, targets=[{"name": "coal 250", "product": "coal", "by": 2018,
                                                    "at_least": 250.0}])
    ex = explain(solve_instance(inst), near=0)
    row = ex.margins.iloc[0]
    assert row["margin_per_wt"] == 0.0 and row["slack"] == pytest.approx(50.0)
    assert "not binding" in row["status"]
    assert len(ex.margins) == 1


def test_exit_for_concentration_names_the_rule(make_instance, tmp_path):
    # groups of 200, 100 and 100 万吨; the largest must hold 2/3 in 2018: one small line exits
    units = [dict(unit_id=u, product="clinker", capacity=c, group=g, workers=w)
             for u, c, g, w in (("L1", 200.0, "G1", 50), ("L2", 100.0, "G2", 10), ("L3", 100.0, "G3", 20))]
    inst = make_instance(tmp_path, units=units, scenario={
        "concentration": [{"name": "top one", "product": "clinker", "by": "group", "top": 1, "share": 2 / 3,
                           "years": [2018]}]})
    ex = explain(solve_instance(inst), near=0)
    sched = ex.schedule.set_index("unit_id")
    assert pd.isna(sched.at["L1", "exit_year"]) and pd.isna(sched.at["L3", "exit_year"])
    assert sched.at["L2", "reason"] == "chosen: 0.10 万元 per 万吨 counted; needed by the binding 'top one'"


def test_many_pins_are_priced_together_only(make_instance, tmp_path, monkeypatch):
    import exitopt.pins as pins_module

    monkeypatch.setattr(pins_module, "MAX_PRICED", 1)
    inst = mines(make_instance, tmp_path)
    run = solve_pinned(Engine(inst), [Pin("A", "keep"), Pin("B", "keep")])
    assert list(run.costs["pin"]) == ["all pins", "each of the 2 pins"]
    # A and B kept: D and F (210 each) and C (185) exit instead of A (150) and B (160)
    assert run.costs.iloc[0]["cost"] == pytest.approx(2 * EXIT["D"] - EXIT["A"] - EXIT["B"])
    assert pd.isna(run.costs.iloc[1]["cost"])
    assert run.costs.iloc[1]["status"].startswith("not priced one by one")
    assert run.lines()[1] == f"each of the 2 pins: {run.costs.iloc[1]['status']}"


def test_cli_explain_writes_margins_and_reasons(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path / "in")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["solve", str(inst.scenario_path), "--explain", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "margins.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    margins = pd.read_csv(out / "margins.csv")
    (margin,) = margins.loc[margins["kind"] == "rule margin", "margin_per_wt"]
    assert margin == pytest.approx(EXIT["D"] / 5)  # 5 万吨 more: a fourth mine, D or F at 210
    a = margins[(margins["kind"] == "swap out") & (margins["unit_id"] == "A")].iloc[0]
    assert a["cost_per_wt"] == pytest.approx(EXIT["A"] / 100)
    sched = pd.read_csv(out / "schedule.csv").set_index("unit_id")
    assert sched.at["A", "reason"].startswith(
        f"chosen: {a['cost_per_wt']:.2f} 万元 per 万吨 counted vs {margin:.1f} at the margin of 'coal 300'")
    # a plain solve leaves the reason short and writes no margins
    plain = CliRunner().invoke(app, ["solve", str(inst.scenario_path), "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0
    assert not (tmp_path / "plain" / "margins.csv").exists()
    assert pd.read_csv(tmp_path / "plain" / "schedule.csv").set_index("unit_id").at["A", "reason"] == "chosen"
