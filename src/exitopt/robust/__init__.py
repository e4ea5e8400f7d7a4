"""One plan for every case of a sweep (docs/model.md#robust).

A sweep gives each case its own best plan. ``exitopt robust SWEEP.toml`` gives one plan — one
exit year and mode per unit, one set of projects built, one split of the retired capacity into
counted capacity and replacement indicators — that meets the rules of every case, and prices it
in each. The model holds every case's own model (:func:`exitopt.model.build`) as a block of one
Pyomo model; the blocks' decisions are tied to one master copy by equalities, their cost and
rows stay their own, and the master minimises

* ``expected``: the weighted mean of the cases' costs (weights from the sweep file's
  ``[robust] weights``, 1 when not given, normalised to sum 1);
* ``worst``: the highest case cost (an epigraph variable above every case's cost);
* ``regret``: the highest cost above the case's own optimum, which comes from the sweep's
  ledger when it holds the case solved to optimality, else from solving the case first.

With ``worst`` and ``regret`` a second solve keeps the first one's optimum and lowers the
expected cost among the plans that reach it, so that the cases that do not set the maximum are
not left at any cost.

The subpackage's modules: :mod:`.problem` (the cases read, weighed, their own optima),
:mod:`.shared` (the shared-plan model and objectives), :mod:`.solving` (by blocks, whole, second
stage, diagnosis), :mod:`.reading` (the plan as each case sees it), :mod:`.folder` (the run
folder and the terminal lines).
"""

from __future__ import annotations

from .folder import files, insurance_table, lines, regret_chart, regret_table, scenario_toml
from .problem import (
                      OBJECTIVE_TITLES,
                      OBJECTIVES,
                      CasePlan,
                      RobustCase,
                      RobustProblem,
                      RobustResult,
                      default_time_limit,
                      ledger_optima,
                      own_optima,
                      read_problem,
)
from .reading import binding_text, read_result, reprice
from .shared import build_shared, case_costs, set_objective, unit_split
from .solving import block_groups, by_blocks, diagnose_shared, solve_problem

__all__ = ["OBJECTIVES", "OBJECTIVE_TITLES", "CasePlan", "RobustCase", "RobustProblem", "RobustResult",
           "binding_text", "block_groups", "build_shared", "by_blocks", "case_costs", "default_time_limit",
           "diagnose_shared", "files", "insurance_table", "ledger_optima", "lines", "own_optima",
           "read_problem", "read_result", "regret_chart", "regret_table", "reprice", "scenario_toml",
           "set_objective", "solve_problem", "unit_split"]
