"""The jobs-versus-fiscal trade-off: a frontier of real plans, by the ε-constraint method.

Two end points, each lexicographic:

* fewest jobs lost: minimise jobs (persons); then, holding jobs at that optimum, minimise
  fiscal (万元, present value);
* least fiscal outlay: minimise fiscal; then, holding fiscal there, minimise jobs.

"Holding at the optimum" allows the solver's relative gap (``rel_gap``): the first stage knows
its optimum only to within it.

Between them, N − 2 points on an even grid of ε between the two end points' jobs: minimise
``fiscal + η · jobs`` subject to ``jobs ≤ ε``, one solve each, where the tie-break weight η
(万元 per person) is so small that over the whole span of jobs it is worth no more than the
solver's gap on fiscal: jobs only decide between plans whose outlay the solver cannot tell
apart, so that no point is beaten on both counts by another plan. The model is built once
(:func:`exitopt.model.build`); the bounds are mutable parameters changed between solves.

Every point is a whole plan: its schedule is written as ``plans/point_XX.csv``, which
``exitopt check`` reads as it is. ``frontier.csv`` lists the points, with the units that
enter and leave the exit list from one point to the next; ``frontier.png`` draws them and
marks the knee (the point farthest from the chord between the end points, on axes scaled to
0–1).

Every solve goes through :mod:`exitopt.engine` and starts from the plan found last: the
interior points are solved in order of a rising ε, so that the previous point's plan meets the
next point's bound and HiGHS starts with it in hand.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyomo.core as pyo

from .engine import Progress, Solution, put, quiet, raise_infeasible, solve_model, solve_share
from .errors import InputError, LimitReached
from .highs import deadline
from .inputs import Instance
from .model import build
from .model.exit_model import ExitModel
from .output import write_folder

#: slack allowed on a bound fixed at a first stage's optimum, relative to its size
LEX_TOL = 1e-7


# --------------------------------------------------------------------------------------------
# The frontier


@dataclass
class Frontier:
    """The points (ordered by jobs, fewest first), their table, and the knee's position."""

    points: list[Solution]
    table: pd.DataFrame
    knee: int | None
    stopped: bool = False  # the time limit cut the frontier short (points left out, or not proven)

    @property
    def complete(self) -> bool:
        return not self.stopped and all(p.status == "optimal" for p in self.points)

    def render(self):
        """The points as a table for the console (a rich renderable)."""
        t = self.table
        view = pd.DataFrame({
            "point": t["point"],
            "jobs": t["jobs"].map(lambda v: f"{v:,.0f}"),
            "fiscal 万元": t["fiscal"].map(lambda v: f"{v:,.1f}"),
            "objective": t["objective"].map(lambda v: f"{v:,.1f}"),
            "status": t["status"],
            "units exiting": t["units_exiting"],
            "change": t["label"],
            "knee": t["knee"].map(lambda k: "knee" if k else ""),
        })
        from .console import frame_table

        return frame_table(view, wrap=("change",), right=("point", "jobs", "fiscal 万元", "objective", "units exiting"))

    def files(self) -> dict[str, pd.DataFrame]:
        """{relative path: table} of the plans and the frontier table."""
        files: dict[str, pd.DataFrame] = {"frontier.csv": self.table}
        for i, p in enumerate(self.points):
            files.update({f"plans/{k}": v for k, v in p.plan_files(f"point_{i:02d}").items()})
        return files


def _add_bounds(m: ExitModel) -> None:
    """Objectives for jobs and fiscal, and switchable bounds ``jobs ≤ eps``, ``fiscal ≤ phi``."""
    m.cost.deactivate()
    m.min_jobs = pyo.Objective(expr=m.jobs, sense=pyo.minimize)
    m.min_fiscal = pyo.Objective(expr=m.fiscal, sense=pyo.minimize)
    m.eta = pyo.Param(mutable=True, initialize=0.0, within=pyo.NonNegativeReals)  # 万元 per person
    m.min_fiscal_tie = pyo.Objective(expr=m.fiscal + m.eta * m.jobs, sense=pyo.minimize)
    m.min_jobs.deactivate()
    m.min_fiscal.deactivate()
    m.min_fiscal_tie.deactivate()
    m.eps = pyo.Param(mutable=True, initialize=0.0, within=pyo.Reals)  # persons
    m.phi = pyo.Param(mutable=True, initialize=0.0, within=pyo.Reals)  # 万元
    m.jobs_cap = pyo.Constraint(expr=m.jobs <= m.eps)
    m.fiscal_cap = pyo.Constraint(expr=m.fiscal <= m.phi)
    m.jobs_cap.deactivate()
    m.fiscal_cap.deactivate()


def _loose(value: float, rel_gap: float = 0.0) -> float:
    """A bound just above ``value``: the plan that reached it stays feasible, and a first stage
    solved to a relative gap only fixes its optimum to within that gap."""
    return value + max(LEX_TOL, rel_gap) * max(1.0, abs(value))


def _solve(m: ExitModel, inst: Instance, share: float | None, *, whole: bool = False) -> Solution | None:
    """:func:`solve_share` (``whole``: :func:`solve_model` within ``share``), and once more from no
    MIP start when the objective HiGHS reports is not that of the plan it hands back: HiGHS's
    presolve, on a model it solves outright, can return the start as optimal at another plan's
    objective."""
    run = (lambda: solve_model(m, inst, time_limit=share)) if whole else (lambda: solve_share(m, inst, share))
    p = run()
    if p is None or p.outcome.objective is None:
        return p
    active = next(m.component_data_objects(pyo.Objective, active=True))
    value = float(pyo.value(active.expr))
    if abs(value - p.outcome.objective) <= 1e-6 * max(1.0, abs(value)):
        return p
    for v in m.component_data_objects(pyo.Var, active=True, descend_into=True):
        if v.is_integer() and not v.fixed:
            v.set_value(None, skip_validation=True)
    return run()


def _lexicographic(m: ExitModel, inst: Instance, first: str, eps: float | None,
                   time_limit: float | None) -> Solution | None:
    """Minimise ``first`` ('jobs' or 'fiscal'), then the other holding ``first`` at its optimum.

    With ``eps`` given, ``jobs ≤ eps`` holds throughout. The point's outcome is the second
    stage's; its status is 'limit' when either stage stopped at a limit, and its gap the larger.
    Within ``time_limit``, the first stage may take half; the second, which starts from the
    first stage's plan, the rest.
    """
    d = deadline(time_limit)
    objs = {"jobs": m.min_jobs, "fiscal": m.min_fiscal}
    caps = {"jobs": (m.jobs_cap, m.eps), "fiscal": (m.fiscal_cap, m.phi)}
    second = "fiscal" if first == "jobs" else "jobs"
    for c, _ in caps.values():
        c.deactivate()
    if eps is not None:
        m.eps.set_value(_loose(eps))
        m.jobs_cap.activate()
    try:
        objs[first].activate()
        stage1 = _solve(m, inst, d.share(1, 2))
        objs[first].deactivate()
        if stage1 is None:
            return None
        reached = stage1.jobs if first == "jobs" else stage1.fiscal
        cap, param = caps[first]
        param.set_value(_loose(reached, inst.scenario.solver.rel_gap))
        cap.activate()
        objs[second].activate()
        try:
            stage2 = _solve(m, inst, None if d.end is None else max(d.left(), 0.05), whole=True)
        except LimitReached:  # no plan in time at the second stage: the first stage's stands
            stage1.outcome.status = "limit"
            return stage1
        objs[second].deactivate()
    finally:
        for o in objs.values():
            o.deactivate()
        for c, _ in caps.values():
            c.deactivate()
    if stage2 is None:  # numerically the first stage's plan is feasible; keep it
        return stage1
    gaps = [g for g in (stage1.outcome.gap, stage2.outcome.gap) if g is not None]
    stage2.outcome.gap = max(gaps) if gaps else None
    if stage1.status == "limit":
        stage2.outcome.status = "limit"
    return stage2


def _least_outlay_under(m: ExitModel, inst: Instance, eps: float, eta: float,
                        time_limit: float | None) -> Solution | None:
    """Minimise ``fiscal + eta · jobs`` subject to ``jobs ≤ eps``: one solve, jobs as tie-break."""
    m.eps.set_value(_loose(eps))
    m.eta.set_value(eta)
    m.jobs_cap.activate()
    m.min_fiscal_tie.activate()
    try:
        return _solve(m, inst, time_limit)
    finally:
        m.min_fiscal_tie.deactivate()
        m.jobs_cap.deactivate()


def _built(p: Solution) -> list[str]:
    """Project ids of the candidate projects a plan builds (the model's index of ``a``)."""
    n = p.new_capacity
    return [] if n.empty else list(n.loc[n["built"], "project_id"])


def tie_weight(inst: Instance, low: Solution, high: Solution) -> float:
    """万元 per person for the jobs tie-break: over the whole span of jobs on the frontier it is
    worth no more than the solver's gap on fiscal (1e-7 of it when the gap is 0)."""
    span = max(high.jobs - low.jobs, 1.0)
    size = max(abs(low.fiscal), abs(high.fiscal), 1.0)
    return max(inst.scenario.solver.rel_gap, LEX_TOL) * size / span


def frontier(inst: Instance, points: int = 7, *, time_limit: float | None = None,
             progress: Progress = quiet) -> Frontier:
    """Compute ``points`` plans along the jobs–fiscal frontier.

    When the model splits into independent blocks, by the blocks' own frontiers combined
    (:mod:`exitopt.pareto_blocks`); otherwise, and for a point whose combination breaks a rule
    over several blocks, in the whole model: 2 solves per end, 1 per interior point.

    ``time_limit`` (seconds from now) and the deadline in force (:func:`exitopt.highs.limit`)
    bound them all. Under a limit each step takes a share of the time left, an end twice an
    interior point's (it is two solves), and the time a step leaves goes to the later ones: a
    hard end cannot use up the time of the points after it. A step cut short keeps its best plan,
    with status 'limit' and its gap; an interior point with no plan by then is left out, and the
    frontier says so.

    Raises InfeasibleError (with the usual diagnosis) when no plan meets the scenario's rules.
    """
    if points < 2:
        raise InputError("a frontier needs at least 2 points (its two ends).")
    from .pareto_blocks import block_frontiers, combine, merges_of, pick, price

    d = deadline(time_limit)
    fronts = block_frontiers(inst, d.share(9, 10), progress)
    m = build(inst, grace=fronts is not None)  # with the blocks' frontiers in hand, do not lose them
    _add_bounds(m)
    sums = combine([[(p.jobs, p.fiscal) for p in f.points] for f in fronts]) if fronts else []
    # each step's share of the time left: an end takes two solves, an interior point one
    weights = [2, 2] + [1] * (points - 2)

    def share(step: int) -> float | None:
        return d.share(weights[step], sum(weights[step:]))

    def combined(eps: float | None, first: str) -> Solution | None:
        if not sums or fronts is None:
            return None
        if eps is None:
            s = min(sums, key=lambda c: (c[0], c[1])) if first == "jobs" else min(sums, key=lambda c: (c[1], c[0]))
        else:
            s = pick(sums, eps)
        return price(m, inst, fronts, s[2])

    progress("end point: fewest jobs lost")
    low = combined(None, "jobs") or _lexicographic(m, inst, "jobs", None, share(0))
    if low is None:
        raise_infeasible(inst)
    progress("end point: least fiscal outlay")
    try:
        high = combined(None, "fiscal") or _lexicographic(m, inst, "fiscal", None, share(1))
    except LimitReached:  # the fewest-jobs end stands alone
        progress("end point: least fiscal outlay not found within the time limit; left out")
        return Frontier([low], frontier_table(inst, [low], None), None, stopped=True)
    if high is None:  # cannot happen: the same rules as the first end point
        raise_infeasible(inst)
    found = [low]
    stopped = False
    span = high.jobs - low.jobs
    if span > LEX_TOL * max(1.0, abs(high.jobs)):
        eta = tie_weight(inst, low, high)
        start = False
        for k in range(1, points - 1):
            eps = low.jobs + span * k / (points - 1)
            progress(f"point {k} of {points - 2}: jobs ≤ {eps:,.0f} persons")
            p = combined(eps, "fiscal")
            if p is None:
                if fronts:  # the point found last meets this bound: the MIP start
                    put(m, found[-1].exits(), _built(found[-1]), merges_of(found[-1]))
                elif not start:  # meets every interior bound: the first point's MIP start
                    put(m, low.exits(), _built(low))
                    start = True
                try:
                    p = _least_outlay_under(m, inst, eps, eta, share(k + 1))
                except LimitReached:
                    progress(f"point {k}: no plan found within the time limit; left out")
                    stopped = True
                    continue
            if p is not None:
                found.append(p)
        found.append(high)
    found.sort(key=lambda p: (p.jobs, -p.fiscal))
    knee = knee_index([p.jobs for p in found], [p.fiscal for p in found])
    return Frontier(found, frontier_table(inst, found, knee), knee, stopped)


# --------------------------------------------------------------------------------------------
# Reading the frontier


def differences(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> dict[str, list[str]]:
    """Units that join the exit list (in), leave it (out), or exit in another year or mode (moved)."""
    return {
        "in": sorted(set(after) - set(before)),
        "out": sorted(set(before) - set(after)),
        "moved": sorted(u for u in set(before) & set(after) if before[u] != after[u]),
    }


def short_label(diff: dict[str, list[str]], limit: int = 2) -> str:
    """A few words for a chart and a CSV cell: 'in A, out B' for small changes, 'in 3, out 2,
    moved 1' (counts of units) for larger ones. Never starts like a spreadsheet formula."""
    n_in, n_out, n_moved = (len(diff[k]) for k in ("in", "out", "moved"))
    if n_in + n_out + n_moved == 0:
        return "same plan"
    if n_in + n_out <= limit and not n_moved:
        parts = [f"in {u}" for u in diff["in"]] + [f"out {u}" for u in diff["out"]]
    else:
        parts = [f"{word} {n}" for word, n in (("in", n_in), ("out", n_out), ("moved", n_moved)) if n]
    return ", ".join(parts)


def knee_index(jobs: list[float], fiscal: list[float]) -> int | None:
    """The interior point farthest from the chord between the first and last, on 0–1 axes.

    None when there are fewer than 3 points or every point lies on the chord.
    """
    if len(jobs) < 3:
        return None

    def scale(v: list[float]) -> list[float]:
        lo, hi = min(v), max(v)
        return [(x - lo) / (hi - lo) if hi > lo else 0.0 for x in v]

    x, y = scale(jobs), scale(fiscal)
    x0, y0, x1, y1 = x[0], y[0], x[-1], y[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return None
    dist = [abs((x1 - x0) * (y0 - yi) - (x0 - xi) * (y1 - y0)) / length for xi, yi in zip(x, y, strict=False)]
    best = max(range(1, len(x) - 1), key=lambda i: dist[i])
    return best if dist[best] > 1e-9 else None


def _label(i: int, n: int, diff: dict[str, list[str]], first: bool) -> str:
    """The chart label of point i of n: what changed, and which end it is."""
    if first:
        return "fewest jobs lost"
    text = short_label(diff)
    return f"{text} (least outlay)" if i == n - 1 else text


def frontier_table(inst: Instance, points: list[Solution], knee: int | None) -> pd.DataFrame:
    """One row per point: jobs, fiscal, objective at the scenario's weights, and what changed."""
    rows = []
    before: dict[str, tuple[int, str]] | None = None
    for i, p in enumerate(points):
        now = p.exits()
        diff = differences(before, now) if before is not None else {"in": [], "out": [], "moved": []}
        rows.append({
            "point": i,
            "jobs": p.jobs,
            "fiscal": p.fiscal,
            "objective": p.objective,
            "status": p.status,
            "gap": p.outcome.gap,
            "units_exiting": len(now),
            "units_in": "; ".join(diff["in"]),
            "units_out": "; ".join(diff["out"]),
            "units_moved": "; ".join(diff["moved"]),
            "label": _label(i, len(points), diff, before is None),
            "knee": i == knee,
            "dominated_by": dominated_by(points, i),
            "plan": f"plans/point_{i:02d}.csv",
        })
        before = now
    df = pd.DataFrame(rows)
    df["dominated_by"] = df["dominated_by"].astype("Int64")
    return df


def dominated_by(points: list[Solution], i: int) -> int | None:
    """The first other point that displaces no more workers and costs no more than point i, and
    is better on one count (possible only when solves stop at a gap or a limit); else None."""
    p = points[i]
    tol_j, tol_f = 1e-9 * max(1.0, abs(p.jobs)), 1e-9 * max(1.0, abs(p.fiscal))
    for k, q in enumerate(points):
        if k != i and q.jobs <= p.jobs + tol_j and q.fiscal <= p.fiscal + tol_f and (
                q.jobs < p.jobs - tol_j or q.fiscal < p.fiscal - tol_f):
            return k
    return None


FRONTIER_TITLE = "jobs vs fiscal outlay"  # the chart's title after the scenario's name
#: the words of the points' labels (frontier.csv's label) as the chart shows them in Chinese
POINT_WORDS = (("fewest jobs lost", "分流职工最少"), (" (least outlay)", "(财政支出最少)"))


def point_label(label: str) -> str:
    """A point's label on the chart: in Chinese where a Chinese font is installed."""
    from .report.charts import find_cjk_font

    if not find_cjk_font():
        return label
    for en, zh in POINT_WORDS:
        label = label.replace(en, zh)
    return label


def frontier_figure(table: pd.DataFrame, title: str):
    """The frontier drawn on a new figure (the caller closes it): fiscal against jobs, points
    labelled on the outer side of the curve so that no label covers another point, the knee ringed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt, rcParams

    from .report.charts import bilingual, cjk_rc

    rcParams.update(cjk_rc())
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    ax.plot(table["jobs"], table["fiscal"], "-o", color="#1f4e79", markersize=5, linewidth=1.2)
    knee = table[table["knee"]]
    if not knee.empty:
        ax.scatter(knee["jobs"], knee["fiscal"], s=220, facecolors="none", edgecolors="#c00000",
                   linewidths=1.8, zorder=3, label=bilingual("拐点", "knee"))
        ax.legend(loc="lower left", fontsize=8)
    lo_x, hi_x = float(table["jobs"].min()), float(table["jobs"].max())
    lo_y, hi_y = float(table["fiscal"].min()), float(table["fiscal"].max())
    span_x, span_y = (hi_x - lo_x) or max(abs(hi_x), 1.0), (hi_y - lo_y) or max(abs(hi_y), 1.0)
    ax.set_xlim(lo_x - 0.05 * span_x, hi_x + 0.35 * span_x)
    ax.set_ylim(lo_y - 0.08 * span_y, hi_y + 0.15 * span_y)
    ax.set_xlabel(bilingual("分流职工(人)", "displaced workers (persons)"))
    ax.set_ylabel(bilingual("财政支出现值(万元)", "fiscal outlay, present value (10k yuan)"))
    if title.endswith(FRONTIER_TITLE):
        title = title[: -len(FRONTIER_TITLE)] + bilingual("分流职工与财政支出", FRONTIER_TITLE)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    fig.tight_layout()
    _place_labels(fig, ax, table)
    return fig


#: where a point's label may go, in points from the marker (first free one wins): fiscal falls as
#: jobs rise, so up and to the right, away from the origin, is the side free of other points
_LABEL_SPOTS = [(7, 7, "left", "bottom"), (7, -7, "left", "top"), (-7, 7, "right", "bottom"),
                (-7, -7, "right", "top"), (7, 18, "left", "bottom"), (7, -18, "left", "top"),
                (-7, 18, "right", "bottom"), (-7, -18, "right", "top"), (7, 30, "left", "bottom"),
                (7, -30, "left", "top")]


def _place_labels(fig, ax, table: pd.DataFrame) -> None:
    """Label every point at the first spot where its text covers no marker and no earlier label,
    inside the figure (the first spot when none is free)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    marks = ax.transData.transform(list(zip(table["jobs"], table["fiscal"], strict=True)))
    pad = 5 * fig.dpi / 72
    taken: list = []

    def free(box) -> bool:
        inside = (fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
                  and fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1)
        covers = any(box.x0 - pad < x < box.x1 + pad and box.y0 - pad < y < box.y1 + pad for x, y in marks)
        return inside and not covers and not any(box.overlaps(t) for t in taken)

    def label(text: str, r, spot):
        dx, dy, ha, va = spot
        return ax.annotate(text, (r["jobs"], r["fiscal"]), textcoords="offset points", xytext=(dx, dy),
                           ha=ha, va=va, fontsize=7, color="#333333")

    for _, r in table.iterrows():
        text = f"{int(r['point'])}: {point_label(str(r['label']))}"
        for spot in _LABEL_SPOTS:
            note = label(text, r, spot)
            box = note.get_window_extent(renderer)
            if free(box):
                break
            note.remove()
        else:  # no spot is free: the first one
            note = label(text, r, _LABEL_SPOTS[0])
            box = note.get_window_extent(renderer)
        taken.append(box)


def plot_png(table: pd.DataFrame, title: str) -> bytes:
    """The frontier as a PNG (:func:`frontier_figure`)."""
    from matplotlib import pyplot as plt

    fig = frontier_figure(table, title)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------------------------
# Writing


def write_frontier(out: Path, front: Frontier, title: str, *, force: bool) -> Path:
    """frontier.csv, frontier.png and plans/point_XX.csv into ``out``."""
    files: dict[str, pd.DataFrame | bytes] = dict(front.files())
    files["frontier.png"] = plot_png(front.table, title)
    return write_folder(out, files, force=force)
