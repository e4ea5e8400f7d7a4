"""The solve engine: one road from an instance to a plan, re-solves that reuse earlier work.

Optima here are checked against hand computations and against solving the same variant from
scratch in a fresh engine (which shares nothing with the engine under test).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import exitopt.blocks as blocks
from exitopt.engine import Engine, Pin, apply
from exitopt.solve import solve_instance

SRC = Path(__file__).resolve().parents[1] / "src" / "exitopt"

# three coal mines and two clinker lines: two blocks that no rule ties together
UNITS = [dict(unit_id="A", capacity=100, workers=10), dict(unit_id="B", capacity=150, workers=30),
         dict(unit_id="C", capacity=200, workers=25),
         dict(unit_id="K1", product="clinker", capacity=100, workers=5),
         dict(unit_id="K2", product="clinker", capacity=120, workers=40)]
SCENARIO = {"targets": [{"name": "coal 250", "product": "coal", "by": 2017, "at_least": 250.0},
                        {"name": "clinker 100", "product": "clinker", "by": 2017, "at_least": 100.0}],
            "sectors": {"coal": {"resettlement_per_worker": 2.0}, "cement": {"resettlement_per_worker": 2.0}},
            "objective": {"jobs_weight": 0.0, "fiscal_weight": 1.0}}


def test_tools_do_not_import_one_another():
    """solve, pareto, alternatives, pins, explain and diagnose do not import one another."""
    tools = {"pareto", "alternatives", "pins", "explain", "diagnose"}
    for name in tools:
        tree = ast.parse((SRC / f"{name}.py").read_text("utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module}
        assert not imported & (tools | {"solve"}), f"{name}.py imports {imported & (tools | {'solve'})}"


#: what of exitopt.highs runs the solver (rather than reading its clock or its results)
SOLVER_CALLS = {"solve", "lp_duals", "_run"}


def _highs_names_used(path: Path) -> set[str]:
    """The names of exitopt.highs a module uses: imported from it, or read off it as ``highs.x``."""
    tree = ast.parse(path.read_text("utf-8"))
    used = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.level and (n.module or "").split(".")[-1] == "highs":
            used |= {a.name for a in n.names}
        elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "highs":
            used.add(n.attr)
    return used


def test_the_tools_reach_the_solver_through_the_engine():
    """pareto, alternatives, pins and explain call the solver only through the engine (from
    exitopt.highs they take the clock and its type at most). Beside the engine and the blocks, variants and
    decomposition it runs, the solver is called directly only by solve (the duals of the plan's rows), diagnose
    (its search over the rules' slacks) and robust's solving (the plan shared by all the cases)."""
    calling = {p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if _highs_names_used(p) & SOLVER_CALLS}
    assert calling == {"engine.py", "variants.py", "blocks.py", "decompose.py", "solve.py", "diagnose.py",
                       "robust/solving.py"}
    for name in ("pareto", "alternatives", "pins", "explain"):
        assert _highs_names_used(SRC / f"{name}.py") <= {"deadline", "limit", "Deadline"}, name


def test_a_pin_re_solves_only_the_block_it_reaches(make_instance, tmp_path, monkeypatch):
    inst = make_instance(tmp_path, UNITS, SCENARIO)
    solved = []
    real = blocks.solve_block

    def counting(sub, *args, **kwargs):
        solved.append(tuple(sorted(set(sub.units["product"]))))
        return real(sub, *args, **kwargs)

    monkeypatch.setattr(blocks, "solve_block", counting)
    engine = Engine(inst)
    free, _ = engine.solve()
    assert sorted(solved) == [("clinker",), ("coal",)]
    # resettlement 2 万元 per worker, nothing else: the cheapest 250 of coal is A + B (80) or A+C (70)
    # → A and C (35 workers); the cheapest 100 of clinker is K1 (5 workers)
    assert set(free.exits()) == {"A", "C", "K1"}
    assert free.objective == pytest.approx(2.0 * (10 + 25 + 5))
    solved.clear()
    pinned, _ = engine.solve(apply(inst, [Pin("C", "keep")]))
    assert solved == [("coal",)]  # the clinker block is taken from the cache
    assert set(pinned.exits()) == {"A", "B", "K1"}
    fresh = solve_instance(apply(inst, [Pin("C", "keep")]), with_duals=False)  # nothing shared
    assert pinned.objective == pytest.approx(fresh.objective) == pytest.approx(2.0 * (10 + 30 + 5))


def test_a_model_with_nothing_to_decide_gives_the_empty_plan(make_instance, tmp_path):
    inst = make_instance(tmp_path, [dict(unit_id="A", workers=10)],
                         {"protected": [{"name": "keep A", "where": {"units": ["A"]}}]})
    res = solve_instance(inst)
    assert res.status == "optimal"
    assert res.schedule["exit_year"].isna().all()
    assert res.jobs == 0.0


def test_exit_price_by_hand(make_instance, tmp_path):
    from exitopt.model.cost import exit_price

    inst = make_instance(tmp_path, [dict(unit_id="A")], {
        "attrition": 0.1, "ladder": {"2017": 0.5},
        "sectors": {"coal": {"resettlement_per_worker": 3.0, "exit_cost_per_capacity": {"close": 2.0},
                             "award_per_capacity": 4.0, "redeployed_share": {"close": 0.25}}}})
    # 100 workers, 2017 (t = 1): D = 100 · 0.9 · 0.75 = 67.5; 200 万吨 of which 50 are indicators:
    # award = 4 · 0.5 · 150 = 300; outlay = 3 · 67.5 + 2 · 200 − 300 = 302.5
    p = exit_price(inst.scenario, "coal", 100, 200.0, 2017, "close", indicator=50.0)
    assert (p.displaced, p.counted, p.award, p.outlay) == pytest.approx((67.5, 150.0, 300.0, 302.5))
    whole = exit_price(inst.scenario, "coal", 100, 200.0, 2017, "close")  # as the model's coefficient
    assert whole.outlay == pytest.approx(302.5 - 4 * 0.5 * 50)


def test_a_row_wise_matrix_turned_column_wise():
    import numpy as np

    from exitopt.highs import colwise

    # [[1, 0, 2], [0, 3, 4]] row-wise
    start, index, value = colwise(2, 3, np.array([0, 2, 4]), np.array([0, 2, 1, 2]), np.array([1., 2., 3., 4.]))
    assert start.tolist() == [0, 1, 2, 4]  # column 0 holds one entry, column 1 one, column 2 two
    assert index.tolist() == [0, 1, 0, 1] and value.tolist() == [1.0, 3.0, 2.0, 4.0]
