"""The robust run folder: regret.csv, insurance.csv, regret.png, each case's scenario and
schedule, run.json, and the lines the command prints."""

from __future__ import annotations

import io
import math
import os
from collections import defaultdict
from pathlib import Path

import pandas as pd

from ..inputs import Instance
from ..toml_text import toml_text
from .problem import OBJECTIVE_TITLES, RobustCase, RobustResult
from .reading import binding_text

# --------------------------------------------------------------------------------------------
# The run folder


def regret_table(result: RobustResult) -> pd.DataFrame:
    """regret.csv: per case, the shared plan's cost, the case's own optimum, regret, what binds."""
    rows = []
    for p in result.plans:
        rc = p.rc
        regret = p.regret
        rows.append({"case": rc.id, "variant": rc.case.variant, **rc.case.values, "weight": rc.weight,
                     "cost": p.cost, "jobs": p.jobs, "fiscal": p.fiscal, "own_optimum": rc.own,
                     "own_status": rc.own_status, "own_source": rc.own_source, "regret": regret,
                     "regret_share": (regret / abs(rc.own) if regret is not None and rc.own else None),
                     "binding": binding_text(p.constraints)})
    return pd.DataFrame(rows)


def insurance_table(result: RobustResult) -> pd.DataFrame:
    """insurance.csv: every unit that exits in the shared plan or in some case's own plan — in
    how many cases' own plans it exits, and whether the shared plan retires it as every plan does
    (``every plan``), beyond what some cases' own plans do (``insurance``), or keeps it."""
    first = result.plans[0].schedule.set_index("unit_id")
    n = len(result.plans)
    counts: dict[str, int] = defaultdict(int)
    for p in result.plans:
        for u in p.rc.own_exits:
            counts[u] += 1
    shared = set(first.index[first["exit_year"].notna()])
    rows = []
    for u in first.index:
        if u not in shared and not counts.get(u):
            continue
        k = counts.get(u, 0)
        role = ("every plan" if u in shared and k == n else "insurance" if u in shared
                else "kept by the shared plan")
        rows.append({"unit_id": u, "name": first.at[u, "name"], "product": first.at[u, "product"],
                     "capacity": first.at[u, "capacity"], "shared_exit_year": first.at[u, "exit_year"],
                     "shared_mode": first.at[u, "mode"], "own_plans_retiring": k, "cases": n, "role": role})
    out = pd.DataFrame(rows)
    if not out.empty:
        order = {"every plan": 0, "insurance": 1, "kept by the shared plan": 2}
        out = out.sort_values(["role", "product", "unit_id"], key=lambda c: c.map(order) if c.name == "role" else c)
    return out.reset_index(drop=True)


def regret_chart(table: pd.DataFrame, title: str) -> bytes:
    """regret.png: the regret of the shared plan in each case (bars), the worst marked."""
    from ..sweep.plots import _pyplot

    plt = _pyplot()
    n = len(table)
    fig, ax = plt.subplots(figsize=(min(max(6.0, 0.18 * n + 3), 16), 3.6))
    vals = table["regret"].fillna(0.0).astype(float)
    worst = vals.max() if n else 0.0
    colours = ["#c0392b" if v >= worst - 1e-9 * max(1.0, abs(worst)) else "#5b7fa6" for v in vals]
    ax.bar(range(n), vals, color=colours)
    ax.set_xticks(range(n))
    ax.set_xticklabels(table["case"], rotation=90 if n > 12 else 0, fontsize=7)
    ax.set_ylabel("regret (objective units)", fontsize=8)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.axhline(0, color="#333", linewidth=0.6)
    ax.set_title(title, fontsize=9)
    buf = io.BytesIO()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return buf.getvalue()


def scenario_toml(inst: Instance, folder: Path, rc: RobustCase) -> str:
    """A case's scenario as a TOML file that ``exitopt check`` reads from ``folder`` (its tables
    named relative to it, or absolute when on another drive)."""
    data = inst.scenario.model_dump(mode="json", exclude_none=True)

    def where(p: str) -> str:
        try:
            return Path(os.path.relpath(p, folder)).as_posix()
        except ValueError:
            return Path(p).as_posix()

    data["units"] = where(data["units"])
    if "projects" in data:
        data["projects"] = where(data["projects"])
    head = (f"# {rc.describe()}, written by exitopt robust; check the shared plan against it:\n#   exitopt check cases/{rc.id}.toml schedule.csv\n")
    return head + toml_text(data)


def files(result: RobustResult, target: Path) -> dict:
    """{relative path: content} of the robust run folder."""
    from ..output import versions
    from ..report.chinese import names_of
    from ..solve import summarise

    problem = result.problem
    first = result.plans[0]
    table = regret_table(result)
    cons = []
    for p in result.plans:
        c = p.constraints.copy()
        c.insert(0, "case", p.rc.id)
        cons.append(c)
    out: dict = {
        "schedule.csv": first.schedule,
        "summary.csv": summarise(first.schedule, result.new_capacity, first.rc.inst),
        "new_capacity.csv": result.new_capacity,
        "regret.csv": table,
        "insurance.csv": insurance_table(result),
        "constraints.csv": pd.concat(cons, ignore_index=True) if cons else pd.DataFrame(),
        "regret.png": regret_chart(table, f"{problem.sweep.name}: regret of the shared plan "
                                          f"({OBJECTIVE_TITLES[problem.objective]})"),
    }
    o = result.outcome
    regrets = [p.regret for p in result.plans if p.regret is not None]  # all, or some own optima unknown
    names = names_of(first.rc.inst)
    names.pop("scenario", None)  # the base scenario's name is not the sweep's
    out["run.json"] = {
        "scenario": problem.sweep.name,
        # the headline figures `exitopt report` reads: the weighted means over the cases
        "objective": float(sum(p.rc.weight * p.cost for p in result.plans)),
        "jobs": float(sum(p.rc.weight * p.jobs for p in result.plans)),
        "fiscal": float(sum(p.rc.weight * p.fiscal for p in result.plans)),
        "sweep": problem.sweep.name,
        "robust_objective": problem.objective,
        "value": result.value,
        "status": o.status,
        "solver_message": o.message,
        "bound": o.bound,
        "gap": o.gap,
        "note": result.note,
        "cases": len(result.plans),
        "expected_cost": float(sum(p.rc.weight * p.cost for p in result.plans)),
        "worst_cost": float(max(p.cost for p in result.plans)),
        "worst_regret": float(max(regrets)) if len(regrets) == len(result.plans) else None,
        "units_exiting": int(first.schedule["exit_year"].notna().sum()),
        "projects_built": [str(j) for j in result.new_capacity.loc[result.new_capacity["built"], "project_id"]]
        if not result.new_capacity.empty else [],
        "seconds": {k: round(v, 3) for k, v in result.timings.items()},
        "versions": versions(),
        "sha256": {**problem.base.hashes(), "sweep": problem.sweep.sha256},
        "names_zh": names,
    }
    cases = Path(target).resolve() / "cases"
    for p in result.plans:
        out[f"cases/{p.rc.id}.toml"] = scenario_toml(p.rc.inst, cases, p.rc)
        out[f"cases/{p.rc.id}_schedule.csv"] = p.schedule
    return out


def lines(result: RobustResult) -> list[str]:
    """A few lines for the terminal."""
    o = result.outcome
    p0 = result.plans
    gap = f", gap {o.gap:.3%}" if o.gap is not None else ""
    worst = max(p0, key=lambda p: p.regret if p.regret is not None else -math.inf)
    out = [f"{OBJECTIVE_TITLES[result.problem.objective]} over {len(p0)} case(s): status {o.status}{gap}; "
           f"value {result.value:,.1f}",
           f"expected cost {sum(p.rc.weight * p.cost for p in p0):,.1f}; worst cost "
           f"{max(p.cost for p in p0):,.1f} ({max(p0, key=lambda p: p.cost).rc.id})"]
    if worst.regret is not None:
        out.append(f"worst regret {worst.regret:,.1f} in {worst.rc.id} (own optimum {worst.rc.own:,.1f})")
    n = int(p0[0].schedule["exit_year"].notna().sum())
    ins = insurance_table(result)
    extra = ins[ins["role"] == "insurance"] if not ins.empty else ins
    held = float(extra["capacity"].sum()) if len(extra) else 0.0
    out.append(f"{n} unit(s) exit in the shared plan; {len(extra)} of them ({held:,.0f} 万吨/yr) as insurance "
               f"(some case's own plan keeps them)")
    exp_own = sum(p.rc.weight * p.rc.own for p in p0 if p.rc.own is not None)
    if all(p.rc.own is not None for p in p0):
        out.append(f"one plan for all costs {sum(p.rc.weight * p.cost for p in p0) - exp_own:,.1f} more in the "
                   f"expected case than each case's own plan")
    if result.note:
        out.append(f"note: {result.note}")
    return out
