"""Coupled solves: a yearly budget or an award fund (and worker caps) tying otherwise independent blocks.

Without a budget, the national model falls apart into blocks that no rule ties together
(:mod:`exitopt.blocks`). A yearly budget row ``outlay[y] ≤ budget[y]`` sums the outlay of
every unit, so it couples every block; a worker cap on a region couples the sectors of that
region. HiGHS, given the whole model, can spend its time in the root node without a good plan.
This module keeps the structure in view instead. Write the whole model as

    min cᵀx   s.t.   x ∈ X = X_1 × … × X_K   (the rows of each block),
                     l_R ≤ A_R x ≤ u_R       (the coupling rows R: budget, cross-block caps).

1. **LP bound and prices.** The LP relaxation (every row, integrality dropped) gives a lower
   bound z_LP ≤ z* and row duals y (HiGHS's convention: reduced costs d = c − Aᵀy; y_r ≤ 0 on
   a row at its upper bound).

2. **Lagrangian bound over the blocks.** For multipliers y_R of the right sign (y_r ≥ 0 only
   where l_r is finite, y_r ≤ 0 only where u_r is finite)

       L(y) = min_{x ∈ X} (c − A_Rᵀ y_R)ᵀ x + Σ_{r ∈ R} y_r · (l_r if y_r > 0 else u_r)  ≤  z*

   (weak duality: for x feasible for the whole, y_r (A_r x − rhs_r) ≥ 0 on each coupling row).
   The inner minimum splits into one MIP per block (the blocks are found from the matrix: the
   columns that rows other than R join). A block solved within a time share gives its dual
   bound β_k ≤ its optimum (or, failing that, its LP bound), so Σ_k β_k + (the columns in no
   row, at their best bound) + Σ y_r·rhs_r is still ≤ z*. The multipliers are the LP duals of
   the coupling rows — the prices of the yearly budget and the caps at the LP optimum — for
   which the blocks' LP bounds add up to z_LP exactly: the blocks' integrality can only raise
   it. A coupling row that lies within one block stays in that block.

   Each block is first solved with its exit decisions that the LP prices out (0 in the LP
   optimum, reduced cost > 0) fixed at 0 — a far smaller MIP, whose plan is a plan of the
   block — and the block's MIP starts from that plan. The blocks' plans together are checked
   against the whole model (integer decisions fixed, a small LP); when they meet the coupling
   rows they are a plan of the whole, an upper bound z̄ ≥ z*.

3. **A plan that meets the budget.** When the blocks' plans break a coupling row, the whole
   model — every rule, the budget included — is solved with the priced-out exit decisions
   fixed at 0; every plan of this restriction is a plan of the whole.

4. **Close the gap.** The whole MIP starts from the best plan (a MIP start) for the time left.

The bound reported is the largest of z_LP, L(y) and HiGHS's own bound of step 4; the plan the
best found. Step 4 is skipped once the gap is within the scenario's ``rel_gap``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import highs
from .inputs import Instance
from .model.exit_model import ExitModel
from .rules import coupling_rows

#: a reduced cost above this (objective units per unit of the variable) prices a column out
PRICED_OUT = 1e-7
#: shares of the time: the blocks of the Lagrangian step (of the time left), a restriction
#: (of its block's time in step 2, of the time left in step 3); the rest goes to step 4
SHARE_RESTRICTED, SHARE_BLOCKS = 0.35, 0.9


def coupled(inst: Instance) -> bool:
    """Whether ``inst`` has a rule no block can keep (a yearly budget, an award fund) and splits
    into blocks once those are set aside (they alone keep :func:`exitopt.blocks.product_blocks`
    from splitting it)."""
    from .blocks import product_blocks, ties

    if not any(t.keeping == "coupling" for t in ties(inst)):
        return False
    return bool(product_blocks(inst, coupling=False))


# --------------------------------------------------------------------------------------------
# Arrays


def _csr(arrays: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise (start, column, value) of the column-wise matrix."""
    start, index, value = arrays["a_start"], arrays["a_index"], arrays["a_value"]
    cols = np.repeat(np.arange(start.size - 1, dtype=np.int32), np.diff(start))
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=arrays["row_lower"].size)
    rstart = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return rstart, cols[order], value[order]


def _components(arrays: dict, rows: np.ndarray, free: np.ndarray, csr) -> np.ndarray:
    """Label of each column: columns joined by a row of ``rows`` share one; -1 for fixed columns."""
    n = free.size
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rstart, rcols, _ = csr
    for r in rows:
        cs = [c for c in rcols[rstart[r]:rstart[r + 1]] if free[c]]
        if len(cs) < 2:
            continue
        a = root(cs[0])
        for c in cs[1:]:
            b = root(c)
            if b != a:
                parent[b] = a
    labels = np.array([root(i) for i in range(n)])
    labels[~free] = -1
    return labels


def _sub(arrays: dict, cols: np.ndarray, rows: np.ndarray, cost: np.ndarray, x_fixed: np.ndarray) -> dict:
    """The model on ``cols`` and ``rows``; fixed columns outside ``cols`` moved to the row bounds."""
    start, index, value = arrays["a_start"], arrays["a_index"], arrays["a_value"]
    nrow = arrays["row_lower"].size
    fixed_act = np.zeros(nrow)
    fixed_cols = np.flatnonzero(x_fixed != 0)
    for j in fixed_cols:
        sl = slice(start[j], start[j + 1])
        np.add.at(fixed_act, index[sl], value[sl] * x_fixed[j])
    row_new = -np.ones(nrow, dtype=np.int64)
    row_new[rows] = np.arange(rows.size)
    s, idx, val = [0], [], []
    for j in cols:
        sl = slice(start[j], start[j + 1])
        keep = row_new[index[sl]] >= 0
        idx.append(row_new[index[sl]][keep])
        val.append(value[sl][keep])
        s.append(s[-1] + int(keep.sum()))
    return {
        "col_cost": cost[cols].astype(np.float64),
        "col_lower": arrays["col_lower"][cols].copy(), "col_upper": arrays["col_upper"][cols].copy(),
        "row_lower": arrays["row_lower"][rows] - fixed_act[rows],
        "row_upper": arrays["row_upper"][rows] - fixed_act[rows],
        "a_start": np.array(s, dtype=np.int32),
        "a_index": (np.concatenate(idx) if idx else np.zeros(0)).astype(np.int32),
        "a_value": (np.concatenate(val) if val else np.zeros(0)).astype(np.float64),
        "integer": arrays["integer"][cols].copy(), "offset": 0.0, "maximize": False,
    }


def _job(arrays: dict, settings, d: highs.Deadline, start=None, mip: bool | None = None) -> dict:
    mip = bool(arrays["integer"].any()) if mip is None else mip
    if not mip:
        arrays = dict(arrays, integer=np.zeros_like(arrays["integer"]))
    return {"arrays": arrays, "options": highs._options(settings, mip), "end": d.end, "start": start}


# --------------------------------------------------------------------------------------------
# The solve


class Coupled:
    """One coupled solve of a built whole model ``m`` (see the module's docstring)."""

    def __init__(self, m: ExitModel, inst: Instance, time_limit: float | None = None) -> None:
        self.m, self.inst, self.settings = m, inst, inst.scenario.solver
        self.d = highs.deadline(time_limit, self.settings)
        self.c = highs.compiled(m)
        self.arrays = self.c.arrays()
        self.integer = self.arrays["integer"]
        self.best: tuple[float, np.ndarray] | None = None  # (objective, column values)
        self.bounds: dict[str, float] = {}  # source -> a lower bound of the optimum
        self.solver_seconds = 0.0
        self.log: list[tuple[float, str, float | None, float | None]] = []  # (time.time(), step, plan, bound)
        self.started = time.perf_counter()
        self._note("model built and handed to HiGHS")
        self.blocks: list[tuple[int, str, float | None, float | None]] = []  # (columns, status, plan, bound)

    # -- bookkeeping

    @property
    def bound(self) -> float | None:
        return max(self.bounds.values()) if self.bounds else None

    def _note(self, step: str) -> None:
        self.log.append((time.time(), step, self.best[0] if self.best else None, self.bound))

    def _offer(self, objective: float | None, values: np.ndarray | None) -> None:
        if objective is not None and values is not None and (self.best is None or objective < self.best[0] - 1e-9):
            self.best = (float(objective), np.array(values, dtype=np.float64))

    def _bound(self, source: str, value: float | None) -> None:
        if value is not None and math.isfinite(value):
            self.bounds[source] = max(self.bounds.get(source, -math.inf), float(value))

    def _gap(self) -> float | None:
        return highs.gap(self.best[0] if self.best else None, self.bound)

    def _closed(self) -> bool:
        g = self._gap()
        return g is not None and g <= self.settings.rel_gap + 1e-12

    def _run(self, job: dict, d: highs.Deadline) -> dict:
        t0 = time.perf_counter()
        result = highs._run(job, d)
        # HiGHS's own run time; a job ended at the deadline has none: its wall time instead
        self.solver_seconds += result.get("run_time") or (time.perf_counter() - t0)
        return result

    # -- steps

    def relaxation(self) -> np.ndarray | None:
        """Step 1: the LP bound; the row duals (None when the LP gives none)."""
        result = self._run(_job(self.arrays, self.settings, self.d, mip=False), self.d)
        status, _ = highs._status(result)
        if status == "infeasible":
            raise _Infeasible
        if status != "optimal" or not result["has_solution"]:
            return None
        self._bound("LP relaxation", result["objective"])
        self.lp_values = result["values"]
        self._note("LP relaxation")
        return result["duals"]

    def priced_out(self, duals: np.ndarray) -> np.ndarray:
        """Exit decisions at 0 in the LP optimum with a positive reduced cost d = c − Aᵀy."""
        a = self.arrays
        reduced = a["col_cost"] - self._transpose_times(duals)
        exits = np.array([v is not None and v.parent_component() is self.m.x for v in self.c.columns])
        return exits & (np.abs(self.lp_values) < 1e-9) & (reduced > PRICED_OUT) & (a["col_lower"] == 0)

    def lagrangian(self, duals: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Step 2: the blocks' MIPs at the LP prices of the coupling rows, each started from the
        plan of its restriction (``out`` fixed at 0); the blocks' plans checked in the whole.
        Returns the columns of ``out`` in blocks whose restriction has a plan."""
        a = self.arrays
        nrow = a["row_lower"].size
        coupling = self._coupling_rows()
        csr = _csr(a)
        fixed = a["col_lower"] == a["col_upper"]
        x_fixed = np.where(fixed, a["col_lower"], 0.0)
        labels = _components(a, np.setdiff1d(np.arange(nrow), coupling), ~fixed, csr)
        # price a coupling row only when it spans blocks (one within a block stays in it)
        rstart, rcols, _ = csr
        spans = [r for r in coupling
                 if len({labels[c] for c in rcols[rstart[r]:rstart[r + 1]] if not fixed[c]}) > 1]
        dual_rows = np.array(spans, dtype=np.int64)
        y = np.zeros(nrow)
        y[dual_rows] = duals[dual_rows]
        y[(y > 0) & ~np.isfinite(a["row_lower"])] = 0.0  # the sign each row allows
        y[(y < 0) & ~np.isfinite(a["row_upper"])] = 0.0
        keep = np.ones(nrow, dtype=bool)
        keep[dual_rows] = False
        cost = a["col_cost"] - self._transpose_times(y)
        const = float(a["offset"]) + float(cost[fixed] @ x_fixed[fixed])
        rhs = np.where(y > 0, a["row_lower"], a["row_upper"])
        const += float(y[dual_rows] @ rhs[dual_rows]) if dual_rows.size else 0.0
        row_label = -np.ones(nrow, dtype=np.int64)  # a kept row goes with the block of its columns
        for r in np.flatnonzero(keep):
            for c in rcols[rstart[r]:rstart[r + 1]]:
                if not fixed[c]:
                    row_label[r] = labels[c]
                    break
        blocks = list(np.unique(labels[~fixed]))
        members = {b: np.flatnonzero(labels == b) for b in blocks}
        has_rows = set(np.unique(row_label[row_label >= 0]).tolist())
        x = x_fixed.copy()
        bound: float | None = const
        big = []
        for b in blocks:
            if b in has_rows or members[b].size > 1:
                big.append(b)
                continue
            j = members[b][0]  # a column in no row: at the bound its cost prefers
            v = a["col_lower"][j] if cost[j] >= 0 else a["col_upper"][j]
            x[j] = v
            bound = None if bound is None or not math.isfinite(v) else bound + cost[j] * v
        big.sort(key=lambda b: members[b].size)
        # the step's time goes to the blocks by size; what a block leaves goes to the next ones
        end = None if self.d.end is None else time.time() + self.d.left() * SHARE_BLOCKS
        usable = np.zeros_like(out)
        complete = True
        for i, b in enumerate(big):
            share = None if end is None else max((end - time.time()) / (len(big) - i), 0.5)
            cols = members[b]
            sub = _sub(a, cols, np.flatnonzero(row_label == b), cost, x_fixed)
            start = None
            if out[cols].any():  # the restriction first, for a plan to start from
                d = self.d if share is None else highs.Deadline(share * SHARE_RESTRICTED)
                upper = sub["col_upper"].copy()
                upper[out[cols]] = 0.0
                restricted = self._run(_job(dict(sub, col_upper=upper), self.settings, d), d)
                if restricted["has_solution"]:
                    ints = np.flatnonzero(sub["integer"])
                    start = (ints.astype(np.int32), np.round(restricted["values"][ints]))
                    usable[cols] = out[cols]
            # the block's LP bound, kept should its MIP give none in time
            lp = self._run(_job(sub, self.settings, self.d, mip=False), self.d)
            if highs._status(lp)[0] == "infeasible":
                raise _Infeasible
            d = self.d if end is None else highs.Deadline(max((end - time.time()) / (len(big) - i), 0.5))
            result = self._run(_job(sub, self.settings, d, start=start), d)
            if highs._status(result)[0] == "infeasible":
                raise _Infeasible
            found = [v for v in (result["bound"], lp["objective"] if highs._status(lp)[0] == "optimal" else None)
                     if v is not None and math.isfinite(v)]
            bound = None if bound is None or not found else bound + max(found)
            if result["has_solution"]:
                x[cols] = result["values"]
            complete = complete and result["has_solution"]
            self.blocks.append((int(cols.size), highs._status(result)[0], result["objective"], max(found) if found else None))
        if bound is not None:
            self._bound("Lagrangian", bound)
        if complete:
            self._check(x)
        self._note(f"Lagrangian bound over {len(big)} blocks, {dual_rows.size} coupling rows priced"
                   + ("" if bound is not None else ": a block gave no bound in time"))
        return usable

    def restricted(self, out: np.ndarray) -> None:
        """Step 3: the whole model with the columns ``out`` fixed at 0, from the best plan."""
        a = self.arrays
        upper = a["col_upper"].copy()
        upper[out] = 0.0
        d = self.d if self.d.end is None else highs.Deadline(max(self.d.left() * SHARE_RESTRICTED, 0.5))
        start = None
        if self.best is not None and not (np.round(self.best[1][out]) != 0).any():
            ints = np.flatnonzero(self.integer)
            start = (ints.astype(np.int32), np.round(self.best[1][ints]))
        result = self._run(_job(dict(a, col_upper=upper), self.settings, d, start=start), d)
        if result["has_solution"]:
            self._offer(result["objective"], result["values"])
        self._note(f"restricted whole MIP, {int(self.integer.sum() - out.sum())} of {int(self.integer.sum())} "
                   f"integer columns free: {highs._status(result)[0]}")

    def _check(self, x: np.ndarray) -> None:
        """Fix the integer decisions of ``x`` in the whole model; offer the plan when it meets every row."""
        a = self.arrays
        lo, hi = a["col_lower"].copy(), a["col_upper"].copy()
        ints = np.flatnonzero(self.integer)
        lo[ints] = hi[ints] = np.clip(np.round(x[ints]), a["col_lower"][ints], a["col_upper"][ints])
        d = self.d if self.d.left() > highs.GRACE else highs.Deadline(highs.GRACE)
        result = self._run(_job(dict(a, col_lower=lo, col_upper=hi), self.settings, d, mip=False), d)
        if highs._status(result)[0] == "optimal" and result["has_solution"]:
            self._offer(result["objective"], result["values"])

    def whole(self) -> highs.Outcome | None:
        """Step 4: the whole MIP from the best plan, for the time left."""
        if self.best is not None:
            self.c.load(self.best[1])
        out = highs.solve(self.m, self.settings, time_limit=None if self.d.end is None else self.d.left())
        self.solver_seconds += out.solver_seconds if out.solver_seconds is not None else out.seconds
        if out.status == "infeasible" and self.best is None:
            raise _Infeasible
        if out.has_solution:
            self._offer(out.objective, np.array([v.value if v is not None and v.value is not None else 0.0
                                                 for v in self.c.columns]))
        if out.bound is not None and (out.status in ("optimal", "limit")):
            self._bound("HiGHS", out.bound)
        self._note("whole MIP from the best plan")
        return out

    # -- helpers

    def _transpose_times(self, y: np.ndarray) -> np.ndarray:
        """Aᵀy, column by column."""
        a = self.arrays
        n = a["col_cost"].size
        cols = np.repeat(np.arange(n), np.diff(a["a_start"]))
        return np.bincount(cols, weights=a["a_value"] * y[a["a_index"]], minlength=n)

    def _coupling_rows(self) -> np.ndarray:
        priced = coupling_rows()  # the rows of the families no block keeps exactly
        rows = [self.c.row_of(r.con) for r in self.m.rows if r.rule in priced]
        return np.array(sorted(i for i in rows if i is not None), dtype=np.int64)

    def run(self) -> highs.Outcome:
        duals = self.relaxation()
        if duals is not None and not self.d.expired():
            out = self.priced_out(duals)
            usable = self.lagrangian(duals, out)
            if self.best is None and not self.d.expired() and usable.any():
                self.restricted(usable)
        last = None
        if not self._closed() and not self.d.expired():
            last = self.whole()
        if self.best is None:
            if last is not None:
                return last
            return highs.Outcome("limit", False, None, self.bound, None, time.perf_counter() - self.started,
                                 "no plan found by the time limit", self.solver_seconds)
        self.c.load(self.best[1])
        g = self._gap()
        status = "optimal" if self._closed() else "limit"
        t0 = time.time() - (time.perf_counter() - self.started)
        message = ("coupled solve: " + "; ".join(f"{step} at {s - t0:.1f} s" for s, step, _, _ in self.log)
                   + f"; bound from {max(self.bounds, key=lambda s: self.bounds[s]) if self.bounds else 'nothing'}")
        return highs.Outcome(status, True, self.best[0], self.bound, g, time.perf_counter() - self.started,
                             message, self.solver_seconds)

    def run_traced(self) -> highs.Outcome:
        """:meth:`run`, with the steps (``trace``) and the blocks (``blocks``) on the outcome."""
        out = self.run()
        out.trace = self.log  # type: ignore[attr-defined]
        out.blocks = self.blocks  # type: ignore[attr-defined]
        return out


class _Infeasible(Exception):
    pass


def solve(m: ExitModel, inst: Instance, *, time_limit: float | None = None) -> highs.Outcome:
    """Solve the whole model ``m`` of a coupled instance; the best plan is loaded into ``m``.

    Returns the outcome with the best plan's objective and the best lower bound found (see the
    module's docstring); status ``infeasible`` when the LP relaxation or the MIP has no plan.
    """
    run = Coupled(m, inst, time_limit)
    try:
        return run.run_traced()
    except _Infeasible:
        return highs.Outcome("infeasible", False, None, None, None, time.perf_counter() - run.started,
                             "infeasible", run.solver_seconds)
