"""Rule 10 — caps per year (docs/model.md#budget, docs/model.md#workers, docs/model.md#award-fund).

    outlay[y] ≤ budget[y]               (万元, undiscounted, award netted, losses included; "net")
    outlay[y] + award[y] ≤ budget[y]    (the outlay before the award; budget_basis = "gross")
    Σ_{u ∈ region r} D[u, y, m] · x[u, y, m] ≤ per_year    for each capped region r and year y
    Σ_y award[y] ≤ award_fund,   award[y] ≤ award_fund_per_year[y]     (万元 the fund pays)
"""

from __future__ import annotations


from ..inputs import Instance
from .base import add_row
from .exit_model import ExitModel


def add_to(m: ExitModel, inst: Instance) -> None:
    caps = inst.scenario.caps
    award = m.award
    gross = caps.budget_basis == "gross"
    for y, budget in sorted(caps.budget.items()):
        lhs = m.outlay[y] + award[y] if gross and y in award else m.outlay[y]
        add_row(m, rule="budget", name="fiscal outlay", year=y, product=None, lhs=lhs, sense="<=",
                rhs=budget, unit="万元")
    regions = sorted(set(inst.units["region"]))
    for cap in caps.workers:
        for r in cap.regions or regions:
            for y in inst.years:
                expr = m.displaced.get((r, y))
                if expr is None:
                    continue
                add_row(m, rule="workers", name=f"{cap.name}: {r}", year=y, product=None, lhs=expr,
                        sense="<=", rhs=cap.per_year, unit="persons")
    if award and caps.award_fund is not None:
        add_row(m, rule="award_fund", name="award fund", year=None, product=None,
                lhs=sum(award.values()), sense="<=", rhs=caps.award_fund, unit="万元")
    for y, fund in sorted(caps.award_fund_per_year.items()):
        if y in award:
            add_row(m, rule="award_fund", name="award fund", year=y, product=None, lhs=award[y], sense="<=",
                    rhs=fund, unit="万元")
