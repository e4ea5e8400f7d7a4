"""Near-optimal alternatives: within their bound, accepted by the plan checker, distinct, and as far
from the optimum as enumeration says a plan within the bound can be."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.alternatives import alternatives, parse_share
from exitopt.check import check_plan, plan_from_frame, read_plan
from exitopt.cli import app
from exitopt.errors import InputError

YEARS = (2016, 2017, 2018)
EXIT_COST = 2.0
#: unit -> (workers, subsidised loss 万元/yr)
MINES = {"A": (100, 50.0), "B": (80, 40.0), "C": (60, 25.0), "D": (40, 10.0), "E": (20, 0.0), "F": (10, 0.0)}


def mines(make_instance, tmp_path):
    units = [dict(unit_id=u, workers=w, loss_making=loss > 0, subsidised_loss=loss) for u, (w, loss) in MINES.items()]
    return make_instance(tmp_path, units=units, scenario={
        "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
        "sectors": {"coal": {"exit_cost_per_capacity": {"close": EXIT_COST}}},
        "targets": [{"name": "coal 300", "product": "coal", "by": 2018, "at_least": 300.0}]})


def objective(plan: dict[str, int | None]) -> float:
    """Jobs + fiscal of a plan {unit: exit year or None} (no discount, no attrition), by hand."""
    total = 0.0
    for u, year in plan.items():
        workers, loss = MINES[u]
        if year is not None:
            total += workers + EXIT_COST * 100
        total += loss * sum(1 for y in YEARS if year is None or y < year)
    return total


def enumerate_plans() -> list[tuple[frozenset, float]]:
    """(exit set, objective) of every plan meeting the target."""
    out = []
    for years in itertools.product((None, *YEARS), repeat=len(MINES)):
        plan = dict(zip(MINES, years, strict=False))
        if sum(y is not None for y in years) >= 3:
            out.append((frozenset(u for u, y in plan.items() if y is not None), objective(plan)))
    return out


def exit_set(schedule: pd.DataFrame) -> frozenset:
    return frozenset(schedule.loc[schedule["exit_year"].notna(), "unit_id"])


def test_alternatives_are_checked_bounded_distinct_and_farthest(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path)
    plans = enumerate_plans()
    best = min(obj for _, obj in plans)
    alts = alternatives(inst, within=0.05, count=3)
    assert alts.optimum.objective == pytest.approx(best)
    assert alts.bound == pytest.approx(best * 1.05)
    sets = [exit_set(alts.optimum.schedule)]
    for p in alts.plans:
        checked = check_plan(inst, plan_from_frame(p.schedule, inst))
        assert checked.ok, checked.violations
        assert checked.objective == pytest.approx(p.objective)
        assert checked.objective <= alts.bound + 1e-6
        s = exit_set(p.schedule)
        assert all(s != other for other in sets)
        sets.append(s)
    # the first alternative is as far from the optimum as any plan within the bound
    farthest = max(len(s ^ sets[0]) for s, obj in plans if obj <= best * 1.05 + 1e-9)
    assert len(sets[1] ^ sets[0]) == farthest
    # the second maximises its distance to the nearer of the first two
    best_min = max(min(len(s ^ sets[0]), len(s ^ sets[1])) for s, obj in plans
                   if obj <= best * 1.05 + 1e-9 and s not in sets[:2])
    assert min(len(sets[2] ^ sets[0]), len(sets[2] ^ sets[1])) == best_min


def test_search_stops_when_no_distinct_plan_is_left(make_instance, tmp_path):
    # two identical mines, a target of 100: the optimum closes one, the only alternative the other
    units = [dict(unit_id="A", workers=10), dict(unit_id="B", workers=10)]
    inst = make_instance(tmp_path, units=units, scenario={
        "targets": [{"name": "coal 100", "product": "coal", "by": 2018, "at_least": 100.0}]})
    alts = alternatives(inst, within=0.0, count=4)
    assert len(alts.plans) == 1
    assert exit_set(alts.plans[0].schedule) ^ exit_set(alts.optimum.schedule) == {"A", "B"}
    assert alts.counts() == {"always": 0, "some": 2, "never": 0}
    # counting the exit year as a difference: 2 mines × 3 years, all at the same cost
    by_year = alternatives(inst, within=0.0, count=10, by_year=True)
    keys = {frozenset((r.unit_id, int(r.exit_year)) for r in p.schedule.itertuples() if pd.notna(r.exit_year))
            for p in [by_year.optimum, *by_year.plans]}
    assert len(by_year.plans) == 5 and len(keys) == 6


def test_parse_share():
    assert parse_share("2%") == pytest.approx(0.02)
    assert parse_share("0.1") == pytest.approx(0.1)
    for bad in ("abc", "-1%", "nan"):
        with pytest.raises(InputError):
            parse_share(bad)


def test_cli_writes_plans_and_robustness(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path / "in")
    out = tmp_path / "alts"
    res = CliRunner().invoke(app, ["alternatives", str(inst.scenario_path), "--within", "5%", "--count", "3",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "alternatives.csv")
    files = list(table["file"])
    assert files[0] == "optimum.csv" and len(files) == 4
    exits_per_unit = {u: 0 for u in MINES}
    for f in files:
        assert (out / f).read_bytes().startswith(b"\xef\xbb\xbf")
        plan = read_plan(out / f, inst)
        assert check_plan(inst, plan).ok
        for u in plan.units.index[plan.units["exit_year"].notna()]:
            exits_per_unit[u] += 1
    rob = pd.read_csv(out / "robustness.csv").set_index("unit_id")
    assert rob["plans_exiting"].to_dict() == exits_per_unit
    expected = {"always": sum(v == 4 for v in exits_per_unit.values()),
                "some": sum(0 < v < 4 for v in exits_per_unit.values()),
                "never": sum(v == 0 for v in exits_per_unit.values())}
    assert rob["exits"].value_counts().reindex(list(expected), fill_value=0).to_dict() == expected
    assert (f"in all 4 plans: {expected['always']}; in some: {expected['some']}; in none: {expected['never']}"
            in res.output)


def test_cli_bad_share_exits_2(make_instance, tmp_path):
    inst = mines(make_instance, tmp_path)
    res = CliRunner().invoke(app, ["alternatives", str(inst.scenario_path), "--within", "two percent",
                                   "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "--within" in res.output
    assert not (tmp_path / "x").exists()
