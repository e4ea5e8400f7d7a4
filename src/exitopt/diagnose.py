"""Why no plan exists: relax every policy row with a penalised slack and see which must give.

HiGHS's own infeasibility tools cover LPs only. Here each policy row of the MIP (targets,
replacement, concentration, utilisation and supply, required packages, mandatory exits,
caps) gets its slack freed; the objective becomes the sum of slacks, each divided by the
row's natural size (so a 10 万吨 shortfall on a 1,000 target weighs like a 1 % shortfall on a
share). The rows left with slack are the rules that must give, and their achieved values
are what the rules can reach at best together.

Candidate projects are decisions too: with its replacement row relaxed, the search could
approve them without indicators and use their capacity to ease a supply floor, then blame
replacement for projects nobody asked for. When that happens the search runs again with every
candidate left unapproved, and the message says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from . import highs
from .inputs import Instance
from .model.base import value_of
from .model.exit_model import ExitModel

TOL = 1e-6


@dataclass
class Give:
    rule: str
    name: str
    year: int | None
    product: str | None
    sense: str
    required: float
    reachable: float
    unit: str

    def sentence(self) -> str:
        what = f"{self.rule} '{self.name}'" + (f" in {self.year}" if self.year is not None else "")
        if self.unit == "share":
            req, got = f"{self.required:.1%}", f"{self.reachable:.1%}"
        else:
            req, got = f"{self.required:,.1f} {self.unit}", f"{self.reachable:,.1f} {self.unit}"
        if self.sense == ">=":
            return f"{what} can reach at most {got} under the other rules (required at least {req})"
        if self.sense == "<=":
            return f"{what} cannot get below {got} under the other rules (required at most {req})"
        return f"{what} can only reach {got} (required exactly {req})"


@dataclass
class Diagnosis:
    gives: list[Give]
    status: str
    note: str = ""

    def message(self) -> str:
        if not self.gives and self.status != "optimal":
            return ("No plan meets every rule, and the search for the rules that must give stopped before it "
                    f"found an answer (HiGHS: {self.status}). Raise [solver] time_limit in the scenario and run "
                    "again, or loosen the rules you suspect.")
        if not self.gives:
            return ("No plan meets every rule, and relaxing the policy rules does not help: the conflict is "
                    "in the packages or exit windows themselves (a package member that is protected, or "
                    "members with no common exit year). Check those rules in the scenario.")
        lines = [f"No plan meets every rule. {len(self.gives)} rule(s) must give:"]
        lines += [f"  - {g.sentence()}" for g in self.gives]
        if self.status != "optimal":
            lines.append("  (found at the time limit: a smaller change may exist; raise [solver] time_limit to "
                         "be sure)")
        if self.note:
            lines.append(f"  ({self.note})")
        return "\n".join(lines)


def diagnose(m: ExitModel, inst: Instance) -> Diagnosis:
    """Free the slacks of every policy row, minimise their weighted sum, report the rows that give.

    Searched again with candidate projects unapproved when the first answer relaxes replacement
    while approving candidates (see the module's docstring).
    """
    diag = _relax(m, inst)
    candidates = [m.a[j] for j in m.J if not m.a[j].fixed]
    approved = [a for a in candidates if (a.value or 0.0) > 0.5]
    if not approved or not any(g.rule == "replacement" for g in diag.gives):
        return diag
    for a in candidates:
        a.fix(0)
    try:
        again = _relax(m, inst)
    finally:
        for a in candidates:
            a.unfix()
    if not again.gives:
        return diag
    again.note = ("searched with every candidate new-capacity project left unapproved: approving one needs "
                  "replacement indicators")
    return again


def _relax(m: ExitModel, inst: Instance) -> Diagnosis:
    """One search: every policy row's slack freed, their weighted sum minimised."""
    for r in m.rows:
        r.slack_up.unfix()
        r.slack_down.unfix()
    m.cost.deactivate()
    m.violation = pyo.Objective(expr=sum((r.slack_up + r.slack_down) / r.scale for r in m.rows))
    try:
        outcome = highs.solve(m, inst.scenario.solver, warm=False)
        gives = []
        if outcome.has_solution:
            for r in m.rows:
                s = (r.slack_up.value or 0.0) + (r.slack_down.value or 0.0)
                if s > TOL * r.scale:
                    gives.append(Give(r.rule, r.name, r.year, r.product, r.sense, value_of(r.required),
                                      value_of(r.lhs), r.unit))
        return Diagnosis(gives, outcome.status)
    finally:
        m.del_component(m.violation)
        m.cost.activate()
        for r in m.rows:
            r.slack_up.fix(0)
            r.slack_down.fix(0)
