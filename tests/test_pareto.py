"""The jobs–fiscal frontier on a tiny instance, against every plan enumerated by hand.

Six coal mines of 100 万吨/yr, a target of 300 by 2018, three planning years: 4^6 = 4,096
plans, each priced below with the formula of model.md (no exitopt code), so the frontier's end
points, its ε-constraint points and their efficiency are checked against brute force.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from typer.testing import CliRunner

from exitopt.check import check_plan, read_plan
from exitopt.cli import app
from exitopt.pareto import differences, dominated_by, frontier, knee_index, short_label

YEARS = (2016, 2017, 2018)
ATTRITION = 0.1
DISCOUNT = 0.05
EXIT_COST = 2.0  # 万元 per 万吨/yr closed
#: unit -> (workers, subsidised loss 万元/yr)
MINES = {"A": (100, 50.0), "B": (80, 40.0), "C": (60, 25.0), "D": (40, 10.0), "E": (20, 0.0), "F": (10, 0.0)}
TOL = 1e-6


def trade_off_instance(make_instance, tmp_path, **scenario):
    units = [dict(unit_id=u, capacity=100.0, workers=w, loss_making=loss > 0, subsidised_loss=loss)
             for u, (w, loss) in MINES.items()]
    scen = {"attrition": ATTRITION,
            "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0, "discount_rate": DISCOUNT},
            "sectors": {"coal": {"exit_cost_per_capacity": {"close": EXIT_COST}}},
            "targets": [{"name": "coal 300", "product": "coal", "by": 2018, "at_least": 300.0}]}
    scen.update(scenario)
    return make_instance(tmp_path, units=units, scenario={**scen, "last_year": 2018})


def price(plan: dict[str, int | None]) -> tuple[float, float]:
    """(jobs, fiscal) of a plan {unit: exit year or None}, straight from model.md."""
    jobs = fiscal = 0.0
    for u, year in plan.items():
        workers, loss = MINES[u]
        if year is not None:
            jobs += workers * (1 - ATTRITION) ** (year - 2016)
            fiscal += EXIT_COST * 100 * (1 + DISCOUNT) ** -(year - 2016)
        for y in YEARS:
            if year is None or y < year:
                fiscal += loss * (1 + DISCOUNT) ** -(y - 2016)
    return jobs, fiscal


@pytest.fixture(scope="module")
def every_plan() -> list[tuple[float, float]]:
    """(jobs, fiscal) of every plan that meets the target."""
    out = []
    for years in itertools.product((None, *YEARS), repeat=len(MINES)):
        if sum(y is not None for y in years) * 100 >= 300:
            out.append(price(dict(zip(MINES, years, strict=False))))
    return out


def lexmin(plans, first: int) -> tuple[float, float]:
    """Lexicographic optimum: minimise component ``first``, then the other."""
    best = min(p[first] for p in plans)
    tied = [p for p in plans if p[first] <= best + TOL]
    return min(tied, key=lambda p: p[1 - first])


def test_end_points_are_the_lexicographic_optima(make_instance, tmp_path, every_plan):
    front = frontier(trade_off_instance(make_instance, tmp_path), points=5)
    first, last = front.points[0], front.points[-1]
    assert (first.jobs, first.fiscal) == pytest.approx(lexmin(every_plan, 0), abs=1e-6)
    assert (last.jobs, last.fiscal) == pytest.approx(lexmin(every_plan, 1), abs=1e-6)


def test_points_are_efficient_monotone_and_meet_their_epsilon(make_instance, tmp_path, every_plan):
    inst = trade_off_instance(make_instance, tmp_path)
    front = frontier(inst, points=6)
    pts = [(p.jobs, p.fiscal) for p in front.points]
    assert len(pts) == 6
    for (j0, f0), (j1, f1) in zip(pts, pts[1:], strict=False):
        assert j1 >= j0 - TOL and f1 <= f0 + TOL  # more jobs lost, never more outlay
    for j, f in pts:  # no enumerated plan beats a point on both counts
        assert not any(pj <= j + TOL and pf <= f + TOL and (pj < j - 1e-4 or pf < f - 1e-4) for pj, pf in every_plan)
    lo, hi = pts[0][0], pts[-1][0]
    for k in range(1, 5):  # interior point k: least outlay among plans with jobs ≤ ε_k
        eps = lo + (hi - lo) * k / 5
        best = min(f for j, f in every_plan if j <= eps + 1e-6)
        assert any(abs(f - best) < 1e-6 and j <= eps + 1e-6 for j, f in pts)


def test_objective_column_is_at_the_scenario_weights(make_instance, tmp_path):
    inst = trade_off_instance(make_instance, tmp_path, objective={"jobs_weight": 3.0, "fiscal_weight": 0.5,
                                                                   "discount_rate": DISCOUNT})
    front = frontier(inst, points=3)
    t = front.table
    assert list(t["point"]) == [0, 1, 2]
    assert t["objective"].tolist() == pytest.approx((3.0 * t["jobs"] + 0.5 * t["fiscal"]).tolist())


def test_one_point_when_no_trade_off(make_instance, tmp_path):
    # no workers: jobs are 0 for every plan, so both ends are the same plan
    units = [dict(unit_id=u, workers=0, loss_making=loss > 0, subsidised_loss=loss) for u, (_, loss) in MINES.items()]
    inst = make_instance(tmp_path, units=units, scenario={
        "sectors": {"coal": {"exit_cost_per_capacity": {"close": EXIT_COST}}},
        "targets": [{"name": "coal 300", "product": "coal", "by": 2018, "at_least": 300.0}]})
    front = frontier(inst, points=5)
    assert len(front.points) == 1
    assert front.points[0].jobs == pytest.approx(0.0)


def test_knee_is_the_point_farthest_from_the_chord():
    assert knee_index([0, 1, 10], [10, 2, 0]) == 1
    assert knee_index([0, 5, 8, 10], [10, 3, 1, 0]) == 1
    assert knee_index([0, 1, 2], [2, 1, 0]) is None  # on the chord
    assert knee_index([0, 1], [1, 0]) is None


def test_dominated_points_are_flagged(make_instance, tmp_path):
    front = frontier(trade_off_instance(make_instance, tmp_path), points=3)
    assert [dominated_by(front.points, i) for i in range(3)] == [None, None, None]
    worse = front.points[1]
    worse.jobs, worse.fiscal = front.points[0].jobs + 1.0, front.points[0].fiscal  # as if a solve stopped early
    assert dominated_by(front.points, 1) == 0


def test_differences_and_labels():
    before = {"A": (2016, "close"), "B": (2017, "close"), "C": (2016, "close")}
    after = {"A": (2016, "close"), "B": (2018, "close"), "D": (2016, "close")}
    d = differences(before, after)
    assert d == {"in": ["D"], "out": ["C"], "moved": ["B"]}
    assert short_label(d) == "in 1, out 1, moved 1"
    assert short_label({"in": ["D"], "out": ["C"], "moved": []}) == "in D, out C"
    assert short_label({"in": [], "out": [], "moved": []}) == "same plan"


def test_cli_writes_checkable_plans_and_a_chart(make_instance, tmp_path):
    inst = trade_off_instance(make_instance, tmp_path / "in")
    out = tmp_path / "front"
    res = CliRunner().invoke(app, ["pareto", str(inst.scenario_path), "--points", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    raw = (out / "frontier.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out / "frontier.csv")
    assert len(table) == 4 and table["knee"].sum() <= 1
    assert not table["label"].str.startswith("'").any()  # labels are plain text, not neutralised formulas
    assert table["dominated_by"].isna().all()
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for _, row in table.iterrows():
        plan = read_plan(out / row["plan"], inst)
        checked = check_plan(inst, plan)
        assert checked.ok, checked.violations
        assert checked.jobs == pytest.approx(row["jobs"], rel=1e-6)
        assert checked.fiscal == pytest.approx(row["fiscal"], rel=1e-6)
    # a second run into the same folder needs --force, and leaves the folder as it was
    again = CliRunner().invoke(app, ["pareto", str(inst.scenario_path), "--points", "4", "--out", str(out)])
    assert again.exit_code == 5
    assert len(pd.read_csv(out / "frontier.csv")) == 4


def test_cli_infeasible_scenario_exits_3(make_instance, tmp_path):
    inst = trade_off_instance(make_instance, tmp_path, targets=[
        {"name": "too much", "product": "coal", "by": 2018, "at_least": 700.0}])
    res = CliRunner().invoke(app, ["pareto", str(inst.scenario_path), "--out", str(tmp_path / "f")])
    assert res.exit_code == 3
    assert "too much" in res.output
    assert not (tmp_path / "f").exists()


#: clinker line -> (workers, subsidised loss 万元/yr): a second block, with a target of its own
LINES = {"K1": (70, 30.0), "K2": (30, 5.0), "K3": (50, 0.0)}
CEMENT_EXIT_COST = 1.0


def two_block_instance(make_instance, tmp_path):
    units = [dict(unit_id=u, capacity=100.0, workers=w, loss_making=loss > 0, subsidised_loss=loss)
             for u, (w, loss) in MINES.items()]
    units += [dict(unit_id=u, product="clinker", capacity=100.0, workers=w, loss_making=loss > 0,
                   subsidised_loss=loss) for u, (w, loss) in LINES.items()]
    scen = {"attrition": ATTRITION, "last_year": 2018,
            "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0, "discount_rate": DISCOUNT},
            "sectors": {"coal": {"exit_cost_per_capacity": {"close": EXIT_COST}},
                        "cement": {"exit_cost_per_capacity": {"close": CEMENT_EXIT_COST}}},
            "targets": [{"name": "coal 300", "product": "coal", "by": 2018, "at_least": 300.0},
                        {"name": "clinker 100", "product": "clinker", "by": 2018, "at_least": 100.0}]}
    return make_instance(tmp_path, units=units, scenario=scen)


def block_plans(units: dict, exit_cost: float, need: int) -> list[tuple[float, float]]:
    """(jobs, fiscal) of every plan of one block that exits at least ``need`` units, from model.md."""
    out = []
    for years in itertools.product((None, *YEARS), repeat=len(units)):
        if sum(y is not None for y in years) < need:
            continue
        jobs = fiscal = 0.0
        for (workers, loss), year in zip(units.values(), years, strict=False):
            if year is not None:
                jobs += workers * (1 - ATTRITION) ** (year - 2016)
                fiscal += exit_cost * 100 * (1 + DISCOUNT) ** -(year - 2016)
            fiscal += sum(loss * (1 + DISCOUNT) ** -(y - 2016) for y in YEARS if year is None or y < year)
        out.append((jobs, fiscal))
    return out


def test_end_points_of_independent_blocks_are_the_whole_lexicographic_optima(make_instance, tmp_path):
    coal, clinker = block_plans(MINES, EXIT_COST, 3), block_plans(LINES, CEMENT_EXIT_COST, 1)
    every = [(j1 + j2, f1 + f2) for j1, f1 in coal for j2, f2 in clinker]
    front = frontier(two_block_instance(make_instance, tmp_path), points=3)
    first, last = front.points[0], front.points[-1]
    assert "independent blocks" in first.outcome.message  # solved block by block
    assert (first.jobs, first.fiscal) == pytest.approx(lexmin(every, 0), abs=1e-6)
    assert (last.jobs, last.fiscal) == pytest.approx(lexmin(every, 1), abs=1e-6)
    middle = front.points[1]  # the ε-point couples the blocks: least outlay with jobs ≤ ε
    eps = (first.jobs + last.jobs) / 2
    assert middle.fiscal == pytest.approx(min(f for j, f in every if j <= eps + 1e-6), abs=1e-6)


@pytest.mark.parametrize("jobs, fiscal", [
    ([14_520, 14_610, 14_800, 15_350, 15_420], [191_000, 176_500, 168_000, 160_200, 159_600]),  # 3 and 4 close
    ([100, 101, 102, 103, 104], [50, 40, 30, 20, 10]),  # a straight, steep line
    ([0, 5_000, 10_000, 15_000, 20_000], [9, 8.9, 8.8, 8.7, 8.6]),  # a flat one
])
def test_frontier_labels_cover_no_other_point_and_stay_in_the_figure(jobs, fiscal):
    from matplotlib import pyplot as plt

    from exitopt.pareto import frontier_figure, point_label

    labels = ["fewest jobs lost", "+COAL-S016 −COAL-S101", "+STEEL-S03-BF1 +2 more",
              "−CEM-S22 moved CEM-S07", "+COAL-S121 (least outlay)"]
    table = pd.DataFrame({"point": range(5), "jobs": jobs, "fiscal": fiscal, "label": labels,
                          "knee": [False, False, True, False, False]})
    fig = frontier_figure(table, "frontier")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        marks = ax.transData.transform(list(zip(jobs, fiscal, strict=False)))
        radius = 5 * fig.dpi / 72  # the marker's size in pixels
        texts = [t for t in ax.texts]
        assert [t.get_text().split(": ", 1)[1] for t in texts] == [point_label(lab) for lab in labels]
        whole = fig.bbox
        for i, t in enumerate(texts):
            box = t.get_window_extent(renderer)
            assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1, i
            for j, (x, y) in enumerate(marks):
                near = box.x0 - radius < x < box.x1 + radius and box.y0 - radius < y < box.y1 + radius
                assert not near, f"label of point {i} covers point {j}"
            for j, other in enumerate(texts[:i]):
                assert not box.overlaps(other.get_window_extent(renderer)), f"labels {j} and {i} overlap"
    finally:
        plt.close(fig)
