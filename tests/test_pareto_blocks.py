"""The frontier by blocks (docs/model.md#pareto) against the whole model and brute force.

Random tiny instances of two or three independent blocks (coal mines, clinker lines, cement
grinding units; a target each; three planning years, so 4 choices per unit). Every plan of each
block is priced below from model.md's formulas alone; the whole's plans are every combination.
Checked, per instance: that the blocks' frontiers combined are exactly the nondominated set of
all plans; that each point of ``frontier`` by blocks has the brute-force least outlay for its ε
(the ends lexicographic); that the whole-model method (the blocks switched off) finds the same
points. Some instances add a worker cap per year over all blocks, which the blocks keep only
as a relaxation: a point whose combination breaks it is solved whole, and brute force (which
applies the cap) must still agree.
"""

from __future__ import annotations

import itertools
import random

import pytest

import exitopt.pareto_blocks as pb
from exitopt.blocks import product_blocks, sub_instance
from exitopt.check import check_plan, read_plan
from exitopt.engine import quiet
from exitopt.pareto import frontier

YEARS = (2016, 2017, 2018)
ATTRITION = 0.1
DISCOUNT = 0.05
TOL = 1e-6
#: block -> (product, sector)
BLOCKS = {"coal": ("coal", "coal"), "clinker": ("clinker", "cement"), "cement": ("cement", "cement")}


def draw(seed: int) -> dict:
    rnd = random.Random(seed)
    names = ["coal", "clinker"] + (["cement"] if rnd.random() < 0.5 else [])
    blocks = {}
    for b in names:
        n = rnd.randint(2, 3) if len(names) == 3 else rnd.randint(2, 4)
        units = {f"{b[:2].upper()}{i}": (rnd.choice([10, 20, 30, 40, 60, 80, 100]), float(rnd.randint(0, 50)))
                 for i in range(n)}
        blocks[b] = {"units": units, "need": rnd.randint(1, n - 1), "exit_cost": float(rnd.randint(0, 4))}
    if "cement" in blocks:  # clinker and cement share a sector: one exit cost for both
        blocks["cement"]["exit_cost"] = blocks["clinker"]["exit_cost"]
    cap = rnd.choice([None, None, 80.0, 120.0]) if seed % 3 == 0 else None
    return {"blocks": blocks, "cap": cap}


def block_plans(block: dict) -> list[tuple[float, float, tuple]]:
    """(jobs, fiscal, exit years) of every plan of one block that meets its target, from model.md."""
    out = []
    for years in itertools.product((None, *YEARS), repeat=len(block["units"])):
        if sum(y is not None for y in years) < block["need"]:
            continue
        jobs = fiscal = 0.0
        for (workers, loss), year in zip(block["units"].values(), years, strict=True):
            if year is not None:
                jobs += workers * (1 - ATTRITION) ** (year - 2016)
                fiscal += block["exit_cost"] * 100 * (1 + DISCOUNT) ** -(year - 2016)
            fiscal += sum(loss * (1 + DISCOUNT) ** -(y - 2016) for y in YEARS if year is None or y < year)
        out.append((jobs, fiscal, years))
    return out


def yearly_workers(spec: dict, years_by_block: list[tuple]) -> list[float]:
    out = [0.0 for _ in YEARS]
    for block, years in zip(spec["blocks"].values(), years_by_block, strict=True):
        for (workers, _), year in zip(block["units"].values(), years, strict=True):
            if year is not None:
                out[YEARS.index(year)] += workers * (1 - ATTRITION) ** (year - 2016)
    return out


def every_plan(spec: dict) -> list[tuple[float, float]]:
    """(jobs, fiscal) of every plan of the whole that meets every rule (the worker cap too)."""
    lists = [block_plans(b) for b in spec["blocks"].values()]
    out = []
    for combo in itertools.product(*lists):
        if spec["cap"] is not None and max(yearly_workers(spec, [c[2] for c in combo])) > spec["cap"] + 1e-9:
            continue
        out.append((sum(c[0] for c in combo), sum(c[1] for c in combo)))
    return out


def nondominated(plans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for j, f in sorted(plans):
        if out and f >= out[-1][1] - TOL:
            continue
        out.append((j, f))
    return out


def flat(points: list[tuple[float, float]]) -> list[float]:
    return [v for point in points for v in point]


def instance(spec: dict, make_instance, tmp_path):
    units, sectors, targets = [], {}, []
    for b, block in spec["blocks"].items():
        product, sector = BLOCKS[b]
        units += [dict(unit_id=u, product=product, capacity=100.0, workers=w, loss_making=loss > 0,
                       subsidised_loss=loss) for u, (w, loss) in block["units"].items()]
        sectors.setdefault(sector, {"exit_cost_per_capacity": {"close": block["exit_cost"]}})
        targets.append({"name": f"{b} cut", "product": product, "by": 2018, "at_least": 100.0 * block["need"]})
    scen = {"attrition": ATTRITION, "last_year": 2018,
            "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0, "discount_rate": DISCOUNT},
            "sectors": sectors, "targets": targets}
    if spec["cap"] is not None:
        scen["caps"] = {"workers": [{"name": "labour market", "per_year": spec["cap"]}]}
    return make_instance(tmp_path, units=units, scenario=scen)


SEEDS = list(range(24))


@pytest.mark.parametrize("seed", SEEDS)
def test_frontier_by_blocks_is_the_brute_force_and_whole_model_frontier(seed, make_instance, tmp_path, monkeypatch):
    spec = draw(seed)
    inst = instance(spec, make_instance, tmp_path)
    assert len(product_blocks(inst)) == len(spec["blocks"])
    every = every_plan(spec)
    if spec["cap"] is None:  # the blocks' frontiers combined are the whole's nondominated set
        fronts = pb.block_frontiers(inst, None, quiet)
        assert all(f.complete for f in fronts)
        sums = pb.combine([[(p.jobs, p.fiscal) for p in f.points] for f in fronts])
        assert flat([(j, f) for j, f, _ in sums]) == pytest.approx(flat(nondominated(every)), abs=1e-6)
    points = 5
    by_blocks = frontier(inst, points=points)
    assert by_blocks.complete
    pts = [(p.jobs, p.fiscal) for p in by_blocks.points]
    first, last = pts[0], pts[-1]
    lowest = min(j for j, _ in every)
    assert first == pytest.approx((lowest, min(f for j, f in every if j <= lowest + TOL)), abs=1e-6)
    cheapest = min(f for _, f in every)
    assert last == pytest.approx((min(j for j, f in every if f <= cheapest + TOL), cheapest), abs=1e-6)
    if len(pts) > 1:
        for k in range(1, points - 1):  # interior point k: the least outlay among plans with jobs ≤ ε_k
            eps = first[0] + (last[0] - first[0]) * k / (points - 1)
            best = min(f for j, f in every if j <= eps + 1e-6)
            assert any(abs(f - best) < 1e-6 and j <= eps + 1e-6 for j, f in pts), (k, eps, best, pts)
    for i, p in enumerate(by_blocks.points):  # every point is a plan the independent checker accepts
        path = tmp_path / f"point_{i}.csv"
        p.schedule.to_csv(path, index=False)
        checked = check_plan(inst, read_plan(path, inst))
        assert checked.ok, checked.violations
        assert (checked.jobs, checked.fiscal) == pytest.approx((p.jobs, p.fiscal), rel=1e-6, abs=1e-6)
    monkeypatch.setattr(pb, "block_frontiers", lambda *a, **k: None)  # the whole-model method
    whole = frontier(inst, points=points)
    assert "combined" not in whole.points[0].outcome.message
    assert flat([(p.jobs, p.fiscal) for p in whole.points]) == pytest.approx(flat(pts), abs=1e-6)


def test_the_draws_are_not_vacuous():
    """Most blocks have a frontier of more than one point, and some caps cut plans off."""
    long = capped = 0
    for seed in SEEDS:
        spec = draw(seed)
        long += sum(len(nondominated([(j, f) for j, f, _ in block_plans(b)])) > 2 for b in spec["blocks"].values())
        if spec["cap"] is not None:
            free = dict(spec, cap=None)
            capped += len(every_plan(spec)) < len(every_plan(free))
    assert long >= len(SEEDS)
    assert capped >= 2


def test_a_block_frontier_is_its_own_brute_force_frontier(make_instance, tmp_path):
    spec = {"blocks": {"coal": {"units": {"A": (100, 50.0), "B": (80, 40.0), "C": (60, 25.0), "D": (40, 10.0)},
                                "need": 2, "exit_cost": 2.0},
                       "clinker": {"units": {"K1": (70, 30.0), "K2": (30, 5.0)}, "need": 1, "exit_cost": 1.0}},
            "cap": None}
    inst = instance(spec, make_instance, tmp_path)
    coal = pb.block_frontier(sub_instance(inst, frozenset({"coal"})), None, quiet)
    expected = nondominated([(j, f) for j, f, _ in block_plans(spec["blocks"]["coal"])])
    assert len(expected) > 3
    assert flat([(p.jobs, p.fiscal) for p in coal.points]) == pytest.approx(flat(expected), abs=1e-6)
    assert coal.complete and coal.solves == 4 + len(expected) - 1  # two ends of two solves, one step per point
