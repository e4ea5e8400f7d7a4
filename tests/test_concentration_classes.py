"""Rule 3's classes of interchangeable holders (docs/model.md#concentration) against brute force.

Random tiny clinker instances are drawn with many holders of one shape: lines of a few
capacities only, most a group of their own, some protected (capacity that cannot exit), some
outside their window in a rule's year, a project of the same capacity as the lines, and, in
about half of them, a merger rule whose candidates may move into another group. Each is solved
whole with the classes (:func:`exitopt.rules.concentration.symmetric_holders`, as the
frontier's block solves build it) and with one binary per holder (as every other solve builds
it): both optima must equal the brute-force minimum of tests/test_bruteforce.py, written from
model.md alone, and the plan of each must be one brute force accepts at that price and the
independent checker passes.
"""

from __future__ import annotations

import random

import pytest

from exitopt.check import check_plan, read_plan
from exitopt.errors import InfeasibleError
from exitopt.model import build
from exitopt.rules.concentration import holder_classes, holder_parts, symmetric_holders
from exitopt.solve import solve_instance
from test_bruteforce import FIRST, brute_force, feasible, load_spec, merges_of, plan_of, price


def symmetric_spec(seed: int) -> dict:
    """A tiny clinker scenario whose holders mostly share a shape; a concentration rule that
    matters (a utilisation cap forces exits, the top k must still hold their share)."""
    rnd = random.Random(seed)
    last = FIRST + rnd.randint(0, 1)
    years = list(range(FIRST, last + 1))
    sizes = rnd.choice([[20], [20, 30], [20, 20, 40]])
    n = rnd.randint(5, 6) if len(years) == 1 else rnd.randint(4, 5)
    units = []
    for i in range(n):
        units.append(dict(
            unit_id=f"U{i}", product="clinker", capacity=rnd.choice(sizes),
            workers=rnd.choice([10, 10, 10, 20, rnd.randint(0, 40)]),
            region=rnd.choice(["R1", "R1", "R2"]),
            group=f"G{i}" if rnd.random() < 0.75 else f"G{rnd.randint(0, 1)}",
            relocatable=rnd.random() < 0.2, loss_making=False, subsidised_loss=0,
            exit_years=rnd.choice(["", "", "", str(last)]),
        ))
    total = sum(u["capacity"] for u in units)
    by = rnd.choice(["group", "group", "firm"])
    scen: dict = {
        "first_year": FIRST, "last_year": last,
        "attrition": rnd.choice([0.0, 0.1]),
        "ladder": {y: 1.0 for y in years},
        "objective": {"jobs_weight": rnd.choice([1.0, 10.0]), "fiscal_weight": 1.0, "discount_rate": 0.0},
        "sectors": {"cement": {"resettlement_per_worker": float(rnd.randint(0, 3)),
                               "exit_cost_per_capacity": {"close": float(rnd.randint(0, 5)),
                                                          "relocate": float(rnd.randint(0, 5))},
                               "redeployed_share": {"close": 0.0, "relocate": rnd.choice([0.0, 0.5])},
                               "award_per_capacity": 0.0}},
        "utilisation": [{"name": "cap", "product": "clinker", "min_utilisation": 1.0,
                         "demand": {last: float(round(total * rnd.uniform(0.4, 0.8)))}}],
        "concentration": [{"name": "top", "product": "clinker", "by": by,
                           "top": rnd.randint(1, 3), "share": rnd.choice([0.4, 0.5, 0.6, 0.8]),
                           "years": sorted(rnd.sample(years, rnd.randint(1, len(years))))}],
    }
    ids = [u["unit_id"] for u in units]
    if rnd.random() < 0.4:
        scen["protected"] = [{"name": "kept", "where": {"units": sorted(rnd.sample(ids, 2))}}]
    if rnd.random() < 0.4:
        scen["targets"] = [{"name": "cut", "product": "clinker", "by": last, "count_at_least": rnd.randint(1, 2)}]
    if rnd.random() < 0.5:  # a merger: a candidate's part is a decision, even for a protected unit
        groups = sorted({u["group"] for u in units})
        scen["mergers"] = [{"name": "merge", "where": {"units": sorted(rnd.sample(ids, rnd.randint(1, 2)))},
                            "acquirers": sorted(rnd.sample(groups, rnd.randint(1, 2)))}]
        scen["sectors"]["cement"].update(merge_cost_per_capacity=float(rnd.choice([0, 0.5, 2])),
                                         merge_displaced_share=rnd.choice([0.0, 0.1, 0.3]))
    projects = []
    if rnd.random() < 0.35:
        projects.append(dict(project_id="P1", product="clinker", capacity=rnd.choice(sizes), year=rnd.choice(years),
                             group=rnd.choice(["G0", "G9"]), status=rnd.choice(["approved", "candidate"])))
    return {"units": units, "scenario": scen, "projects": projects}


SEEDS = list(range(40))


def in_classes(inst) -> int:
    """How many holders the model with classes counts through a class rather than a binary."""
    with symmetric_holders():
        m = build(inst)
    return sum(len(gs) for rule in inst.scenario.concentration for y in rule.years
               for _, gs in holder_classes(holder_parts(m, inst, rule.product, rule.by, y)))


@pytest.mark.parametrize("seed", SEEDS)
def test_classes_and_binaries_give_the_brute_force_optimum(seed, tmp_path, make_instance):
    spec = symmetric_spec(seed)
    best = brute_force(spec)
    inst = load_spec(spec, tmp_path, make_instance)
    for on in (True, False):
        with symmetric_holders(on):
            if best is None:
                with pytest.raises(InfeasibleError):
                    solve_instance(inst, with_duals=False, blocks=False)
                continue
            res = solve_instance(inst, with_duals=False, blocks=False)
        assert res.objective == pytest.approx(best, rel=1e-6, abs=1e-6), on
        plan, merges = plan_of(res), (merges_of(res) if "merge_year" in res.schedule else {})
        built = bool(res.new_capacity["built"].any()) if not res.new_capacity.empty else False
        assert feasible(spec, plan, built, merges), (on, plan, merges)
        assert price(spec, plan, merges)[0] == pytest.approx(best, rel=1e-6, abs=1e-6)
        path = tmp_path / f"plan_{on}.csv"
        res.schedule.to_csv(path, index=False)
        approved = set(res.new_capacity.loc[res.new_capacity["built"], "project_id"]) \
            if not res.new_capacity.empty else set()
        checked = check_plan(inst, read_plan(path, inst), approved)
        assert checked.ok, checked.violations


def test_the_instances_put_holders_in_classes_and_bind(tmp_path, make_instance):
    """The draws are not vacuous: most count holders by class, some have mergers that are in a
    class, some have no plan, and in some the concentration rule changes the optimum."""
    classed = merging = infeasible = binding = 0
    for seed in SEEDS:
        spec = symmetric_spec(seed)
        best = brute_force(spec)
        n = in_classes(load_spec(spec, tmp_path / str(seed), make_instance))
        classed += n > 0
        merging += n > 0 and "mergers" in spec["scenario"]
        if best is None:
            infeasible += 1
            continue
        spec["scenario"].pop("concentration")
        free = brute_force(spec)
        binding += free is not None and free < best - 1e-6
    assert classed >= len(SEEDS) // 2
    assert merging >= 5
    assert infeasible >= 1
    assert binding >= 3


def test_a_merge_candidate_is_never_in_a_class_with_capacity_that_cannot_go(tmp_path, make_instance):
    """Two protected lines of 50 in groups of their own: one is a merge candidate (its capacity a
    decision, the merger), the other not (capacity that cannot go). A third protected line of 50,
    not a candidate, shares the second one's shape."""
    units = [dict(unit_id=u, product="clinker", capacity=50.0, workers=10, group=f"G{u}") for u in "ABC"]
    units.append(dict(unit_id="D", product="clinker", capacity=200.0, workers=10, group="GD"))
    scen = {"first_year": 2016, "last_year": 2016,
            "protected": [{"name": "kept", "where": {"units": ["A", "B", "C"]}}],
            "mergers": [{"name": "merge", "where": {"units": ["A"]}, "acquirers": ["GD"]}],
            "concentration": [{"name": "top", "product": "clinker", "by": "group", "top": 1, "share": 0.5,
                               "years": [2016]}]}
    inst = make_instance(tmp_path, units, scen)
    with symmetric_holders():
        m = build(inst)
    held = holder_parts(m, inst, "clinker", "group", 2016)
    assert held["GA"][0] == 0.0 and len(held["GA"][1]) == 1  # the candidate: a part, no fixed capacity
    classes = holder_classes(held)
    assert [(shape, gs) for shape, gs in classes] == [((50.0, None), ["GB", "GC"])]
    assert len(m.concentration_0.n) == 1 and len(m.concentration_0.s) == 2  # GA and GD alone


def test_classes_replace_binaries(tmp_path, make_instance):
    """Ten single-line holders of 60 万吨/yr, two of 45 and one of 300: with classes, the top-k
    choice has two whole-number counts and one binary in place of thirteen binaries, and the
    optimum is the one worked out by hand."""
    units = [dict(unit_id=f"L{i:02d}", product="clinker", capacity=60.0 if i < 10 else 45.0, workers=100 + i,
                  group=f"firm {i}") for i in range(12)]
    units.append(dict(unit_id="BIG", product="clinker", capacity=300.0, workers=900, group="big"))
    scen = {"first_year": 2016, "last_year": 2016, "sectors": {"cement": {"resettlement_per_worker": 1.0}},
            "utilisation": [{"name": "cap", "product": "clinker", "min_utilisation": 1.0, "demand": {2016: 700.0}}],
            "concentration": [{"name": "top 4", "product": "clinker", "by": "group", "top": 4, "share": 0.8,
                               "years": [2016]}]}
    inst = make_instance(tmp_path, units, scen)
    counts, objective = {}, {}
    for on in (True, False):
        with symmetric_holders(on):
            b = build(inst).concentration_0
            counts[on] = (len(b.s), len(b.n))
            res = solve_instance(inst, with_duals=False, blocks=False)
        objective[on] = res.objective
        gone = set(res.schedule.loc[res.schedule["exit_year"].notna(), "unit_id"])
        assert gone == {f"L{i:02d}" for i in range(7)}, on
    assert counts == {True: (1, 2), False: (13, 0)}
    # By hand: 990 万吨/yr, at most 700 may stay, and the top 4 hold 80 % of what stays. With a
    # 60s and b 45s exiting (the 60s with the fewest workers first, 100, 101, …): a = 7, b = 0
    # leaves 570 with the top 4 at 300 + 3 × 60 + 45 = 525 ≥ 456, 721 workers; a = 6 needs b ≥ 1
    # (630 left, top 480 < 504; with b = 1, 585 left, top 480 ≥ 468) and displaces 615 + 110 =
    # 725; a = 5, b = 2 displaces 510 + 221 = 731; fewer exits leave the top 4 short (a = 5,
    # b = 1: 645 left, top 480 < 516), and a = 8 costs 828. Each worker weighs 1 and costs 1 万元
    # of resettlement: 2 × 721.
    assert objective == {True: pytest.approx(1442.0), False: pytest.approx(1442.0)}


def test_whole_models_keep_a_binary_per_holder(tmp_path, make_instance):
    units = [dict(unit_id=f"L{i}", product="clinker", capacity=60.0, workers=10, group=f"G{i}") for i in range(5)]
    scen = {"first_year": 2016, "last_year": 2016,
            "concentration": [{"name": "top", "product": "clinker", "by": "group", "top": 2, "share": 0.4,
                               "years": [2016]}]}
    inst = make_instance(tmp_path, units, scen)
    assert (len(build(inst).concentration_0.s), len(build(inst).concentration_0.n)) == (5, 0)
    with symmetric_holders():
        assert (len(build(inst).concentration_0.s), len(build(inst).concentration_0.n)) == (0, 1)
