"""The one place exitopt talks to HiGHS, under a wall clock that exitopt keeps itself.

How a solve runs
    Pyomo's ``pyomo.contrib.solver`` HiGHS interface hands the model to an in-process
    ``highspy.Highs`` object (:class:`Compiled`) and keeps it in step with later changes of
    bounds, fixed variables, parameters, rows and objectives; that object is never run here.
    Its arrays go to a worker process (:mod:`exitopt.highs_worker`), which solves them and
    streams back every improving plan. The worker is started once per process and reused.

The time limit
    One :class:`Deadline` covers a whole command: loading, building, every block and re-solve,
    the diagnosis and the duals (:func:`limit` sets it for a block of code). HiGHS gets the time
    that is left as its own ``time_limit``; an interrupt callback stops it where it still calls
    back; and where it does neither (HiGHS has loops that never look at the clock), the worker
    is ended :data:`GRACE` seconds after the deadline and the last plan it streamed is used.

HiGHS keeps one thread setting per process; every solve of one process passes the same
``threads``.
"""

from __future__ import annotations

import atexit
import contextvars
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyomo.core as pyo
from pyomo.contrib.solver.solvers.highs import Highs as PyomoHighs

# ``pyomo.core`` and the HiGHS interface class directly, rather than ``pyomo.environ`` and the
# solver factory: loading every solver plugin of Pyomo adds about 0.3 s to each command.
from .errors import ExitoptError, LimitReached
from .scenario import Solver

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

#: seconds past the deadline before a worker that has not returned is ended
GRACE = 2.0


# --------------------------------------------------------------------------------------------
# The wall clock of a command


class Deadline:
    """A wall-clock end shared by every stage of one command (None: no limit)."""

    def __init__(self, seconds: float | None, *, started: float | None = None) -> None:
        self.seconds = seconds
        self.started = time.time() if started is None else started
        self.end = None if seconds is None else self.started + seconds

    def left(self) -> float:
        """Seconds left (inf without a limit; 0 once passed)."""
        return math.inf if self.end is None else max(self.end - time.time(), 0.0)

    def expired(self) -> bool:
        return self.end is not None and time.time() >= self.end

    def check(self, doing: str) -> None:
        """Raise :class:`LimitReached` when the deadline has passed."""
        if self.expired():
            raise LimitReached(
                f"the time limit of {self.seconds:g} s passed while {doing}, before any plan was found. Raise "
                f"[solver] time_limit in the scenario (or --time-limit), or loosen the rules.")

    def share(self, weight: float, weights_left: float) -> float | None:
        """Seconds for a step of ``weight`` when the steps still to come (this one included)
        weigh ``weights_left``: its part of the time left, and what it leaves goes to the later
        ones (None without a limit)."""
        return None if self.end is None else self.left() * weight / weights_left

    def within(self, seconds: float | None) -> Deadline:
        """This deadline, or a nearer one ``seconds`` from now."""
        if seconds is None:
            return self
        other = Deadline(seconds)
        return other if self.end is None or (other.end is not None and other.end < self.end) else self


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("exitopt_deadline", default=None)


@contextmanager
def limit(seconds: float | None, *, started: float | None = None) -> Iterator[Deadline]:
    """Every solve inside the block draws on one wall clock of ``seconds`` (from ``started``).

    An enclosing limit that ends sooner stays in force.
    """
    d = Deadline(seconds, started=started)
    outer = _current.get()
    if outer is not None and outer.end is not None and (d.end is None or outer.end < d.end):
        d = outer
    token = _current.set(d)
    try:
        yield d
    finally:
        _current.reset(token)


def deadline(time_limit: float | None = None, settings: Solver | None = None) -> Deadline:
    """The deadline in force: the command's, cut to ``time_limit`` seconds from now when given;
    without a command's, ``time_limit`` or the scenario's own limit from now."""
    d = _current.get()
    if d is None:
        seconds = time_limit if time_limit is not None else (settings.time_limit if settings else None)
        return Deadline(seconds)
    return d.within(time_limit)


# --------------------------------------------------------------------------------------------
# Outcomes


@dataclass
class Outcome:
    """What a solve ended with."""

    status: str  # optimal | limit | infeasible | unbounded | error
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float  # the whole call: handing the model to HiGHS, solving, reading the status
    message: str = ""
    solver_seconds: float | None = None  # HiGHS's own run time (presolve, search), when known


def gap(obj: float | None, bound: float | None) -> float | None:
    """Relative gap between an objective and a bound (None when either is unknown)."""
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    return abs(obj - bound) / max(abs(obj), 1e-9) if obj else abs(obj - bound)


def require_plan(outcome: Outcome) -> None:
    """Raise when a solve that was not infeasible still ended without any plan."""
    if outcome.has_solution:
        return
    if outcome.status == "limit":
        d = _current.get()  # the command's clock: the time it ran, not only this last solve's
        seconds = time.time() - d.started if d is not None else outcome.seconds
        raise LimitReached(
            f"the time limit was reached after {seconds:.0f} s without any plan. "
            f"Raise [solver] time_limit in the scenario (or --time-limit), or loosen the rules."
        )
    raise ExitoptError(f"HiGHS stopped without a plan ({outcome.message}).")


# --------------------------------------------------------------------------------------------
# A model as HiGHS sees it


class Compiled:
    """A Pyomo model handed to an in-process HiGHS model once, then kept in step by updates."""

    def __init__(self, m: pyo.ConcreteModel) -> None:
        self.model = m
        self.opt = PyomoHighs()
        self.opt.set_instance(m)
        self._columns: list | None = None

    def refresh(self) -> None:
        """Carry the model's changes since the last call (bounds, fixings, rows, objective) over."""
        self.opt.update()
        self._columns = None

    @property
    def columns(self) -> list:
        """The Pyomo variable of each column, in column order."""
        if self._columns is None:
            n = len(self.opt._pyomo_var_to_solver_var_map)
            cols = [None] * n
            for vid, i in self.opt._pyomo_var_to_solver_var_map.items():
                cols[i] = self.opt._vars[vid][0]
            self._columns = cols
        return self._columns

    def row_of(self, con) -> int | None:
        return self.opt._pyomo_con_to_solver_con_map.get(con)

    def arrays(self) -> dict:
        """The model as plain arrays (column-wise matrix), for the worker."""
        import highspy

        h = self.opt._solver_model
        lp = h.getLp()
        a = lp.a_matrix_
        start = np.array(a.start_, dtype=np.int32)
        index = np.array(a.index_, dtype=np.int32)
        value = np.array(a.value_, dtype=np.float64)
        if a.format_ != highspy.MatrixFormat.kColwise:
            start, index, value = colwise(lp.num_row_, lp.num_col_, start, index, value)
        integrality = np.array([int(t) for t in lp.integrality_], dtype=np.int64) if len(lp.integrality_) else \
            np.zeros(lp.num_col_, dtype=np.int64)
        return {
            "col_cost": np.array(lp.col_cost_, dtype=np.float64),
            "col_lower": np.array(lp.col_lower_, dtype=np.float64),
            "col_upper": np.array(lp.col_upper_, dtype=np.float64),
            "row_lower": np.array(lp.row_lower_, dtype=np.float64),
            "row_upper": np.array(lp.row_upper_, dtype=np.float64),
            "a_start": start,
            "a_index": index,
            "a_value": value,
            "integer": integrality == int(highspy.HighsVarType.kInteger),
            "offset": float(lp.offset_),
            "maximize": lp.sense_ == highspy.ObjSense.kMaximize,
        }

    def load(self, values: np.ndarray) -> None:
        """Put column values into the Pyomo variables (fixed ones keep theirs)."""
        for v, x in zip(self.columns, values, strict=False):
            if v is not None and not v.fixed:
                v.set_value(float(x), skip_validation=True)

    def start(self, arrays: dict) -> tuple[np.ndarray, np.ndarray] | None:
        """A MIP start from the model's current values of its integer columns; None unless every
        free one has a value (HiGHS would spend its time completing a partial start first)."""
        idx, vals = [], []
        for i in np.flatnonzero(arrays["integer"]):
            lo, hi = arrays["col_lower"][i], arrays["col_upper"][i]
            v = self.columns[i]
            if v is None or v.value is None:
                if lo != hi:
                    return None
                continue
            idx.append(i)
            vals.append(min(max(round(v.value), lo), hi))
        return (np.array(idx, dtype=np.int32), np.array(vals, dtype=np.float64)) if idx else None


def colwise(n_rows: int, n_cols: int, start: np.ndarray, index: np.ndarray,
            value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A row-wise sparse matrix (row starts, column indices, values) turned column-wise."""
    rows = np.repeat(np.arange(n_rows, dtype=np.int32), np.diff(start))
    order = np.lexsort((rows, index))
    counts = np.bincount(index, minlength=n_cols)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int32), rows[order], value[order]


def compiled(m: pyo.ConcreteModel, *, refresh: bool = True) -> Compiled:
    """The model's :class:`Compiled` form, made on first use and refreshed on every later one
    (``refresh=False``: as last handed to HiGHS, for a caller that changed nothing since)."""
    c = getattr(m, "_exitopt_compiled", None)
    if c is None or c.model is not m:
        c = Compiled(m)
        object.__setattr__(m, "_exitopt_compiled", c)
    elif refresh:
        c.refresh()
    return c


# --------------------------------------------------------------------------------------------
# The worker process


class _Worker:
    """A HiGHS worker: a process of its own (``python -c``, so that it neither imports the
    caller's main script nor needs a non-daemonic parent), joined over a local socket.

    The process starts at once; it joins in the background (:meth:`ready` waits for that), so
    that it loads HiGHS while the caller builds its model."""

    def __init__(self) -> None:
        from multiprocessing.connection import Listener

        key = os.urandom(16)
        self.listener = Listener(("127.0.0.1", 0), authkey=key)
        host, port = self.listener.address
        module, function = WORKER_MAIN.split(":")
        code = f"from {module} import {function} as f; f({host!r}, {port}, {key.hex()!r})"
        env = dict(os.environ)  # the worker imports what this process imports, from the same places
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.conn: Connection | None = None
        try:
            self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, env=env)
        except OSError:
            self.listener.close()
            raise
        self._joined = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name="exitopt-highs-accept").start()

    def _accept(self) -> None:
        from multiprocessing import AuthenticationError

        from .highs_worker import no_delay

        try:
            conn = self.listener.accept()
            no_delay(conn)
            self.conn = conn
        except (OSError, EOFError, AuthenticationError):
            pass  # ended before it joined
        finally:
            self._joined.set()

    def ready(self, wait: float) -> bool:
        """Whether the worker has joined and runs, waiting at most ``wait`` seconds for it to
        join; one that did not is ended."""
        self._joined.wait(wait)
        if self.conn is None or not self.alive():
            self.end()
            return False
        return True

    def alive(self) -> bool:
        return self.process.poll() is None

    def end(self) -> None:
        """End the worker at once (it may be deep inside HiGHS, or still starting) and reap it."""
        try:
            self.process.kill()
            self.process.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.listener.close()
        if self.conn is not None:
            self.conn.close()

    def close(self) -> None:
        """End the worker when the process exits: at once, without waiting for it to wind down
        (it holds nothing that needs keeping; a worker whose parent is gone ends itself)."""
        self.end()


#: "module:function" a worker process runs, given (host, port, key); a test may name a stand-in,
#: here or, for a command run as a process of its own (and its workers), in EXITOPT_HIGHS_WORKER
WORKER_MAIN = os.environ.get("EXITOPT_HIGHS_WORKER") or "exitopt.highs_worker:main"
_worker: _Worker | None = None


def prestart() -> None:
    """Start the worker, so that it is ready when the first solve comes (a command calls this
    once its files are read and found valid, before it builds the model). Whatever ends the
    command, the worker is ended with it (:func:`_close_worker`)."""
    global _worker
    if _worker is not None:
        return
    try:
        _worker = _Worker()
    except OSError:
        pass  # the first solve starts one itself


def _get_worker(d: Deadline) -> _Worker | None:
    """The process's worker, started on first use; None when none started before the deadline."""
    global _worker
    wait = max(d.left() + GRACE, 1.0) if d.end is not None else 60.0
    if _worker is not None and not _worker.ready(wait):
        _worker = None
    if _worker is None:
        w = _Worker()
        if not w.ready(wait):
            return None
        _worker = w
    return _worker


def _drop_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.end()
        _worker = None


@atexit.register
def _close_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


def _killed(best: tuple | None) -> dict:
    """The result of a job the worker was ended in (or never started), with its last plan."""
    return {"status": "killed", "has_solution": best is not None, "objective": best[0] if best else None,
            "bound": best[1] if best else None, "values": best[2] if best else None, "duals": None,
            "run_time": None}


def _run(job: dict, d: Deadline) -> dict:
    """Run ``job`` in the worker and wait for it, at most until the deadline plus :data:`GRACE`.

    Returns the worker's result; when the worker had to be ended, a result with status
    ``"killed"`` and the last incumbent it streamed (if any).
    """
    w = _get_worker(d)
    if w is None or w.conn is None:  # a worker handed out has joined (its conn is set)
        return _killed(None)
    best: tuple[float, float, np.ndarray] | None = None
    try:
        w.conn.send(job)
        hard_end = None if d.end is None else d.end + GRACE
        while True:
            wait = 0.5 if hard_end is None else min(0.5, max(hard_end - time.time(), 0.0))
            if w.conn.poll(wait):
                kind, *rest = w.conn.recv()
                if kind == "incumbent":
                    best = (rest[0], rest[1], rest[2])
                    continue
                if kind == "failed":
                    raise ExitoptError(f"HiGHS failed: {rest[0]}")
                return rest[0]
            if hard_end is not None and time.time() >= hard_end:
                _drop_worker()
                return _killed(best)
            if not w.alive():
                _drop_worker()
                raise ExitoptError("the HiGHS worker process ended unexpectedly (out of memory?).")
    except (KeyboardInterrupt, EOFError, BrokenPipeError, ConnectionResetError):
        _drop_worker()
        raise


def _options(settings: Solver, mip: bool) -> dict:
    opts: dict[str, float] = {"threads": int(settings.threads), "random_seed": 0}
    if mip:
        opts["mip_rel_gap"] = float(settings.rel_gap)
    return opts


def _status(result: dict) -> tuple[str, str]:
    """(exitopt status, message) of a worker result."""
    import highspy

    if result["status"] == "killed":
        return "limit", "stopped by exitopt at the time limit (the solver did not return by itself)"
    ms = highspy.HighsModelStatus(result["model_status"])
    S = highspy.HighsModelStatus
    if ms == S.kOptimal:
        return "optimal", "optimal"
    if ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return "infeasible", result["status"]
    if ms == S.kUnbounded:
        return "unbounded", result["status"]
    if ms in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit):
        return "limit", result["status"]
    return "error", result["status"]


# --------------------------------------------------------------------------------------------
# Solving


def solve(m: pyo.ConcreteModel, settings: Solver, *, time_limit: float | None = None,
          warm: bool = True, grace: bool = False, abs_gap: float | None = None) -> Outcome:
    """Solve ``m`` within the deadline in force; load the plan into it when there is one.

    With ``warm``, the model's current values of its integer variables (the last plan read into
    it) are handed to HiGHS as a MIP start. With ``grace``, the solve may run up to
    :data:`GRACE` seconds past the deadline: for the check of a plan already found, so that the
    clock running out does not throw the plan away. ``abs_gap``: HiGHS may also stop when its
    bound is within this much of the plan's objective (for an objective that takes whole values
    only, anything below 1 still proves the optimum).
    """
    d = deadline(time_limit, settings)
    if grace and d.end is not None:
        d = Deadline(max(d.left(), GRACE))
    start = time.perf_counter()
    d.check("handing the model to the solver")
    c = compiled(m)
    arrays = c.arrays()
    mip = bool(arrays["integer"].any())
    options = _options(settings, mip)
    if mip and abs_gap is not None:
        options["mip_abs_gap"] = float(abs_gap)
    job = {"arrays": arrays, "options": options, "end": d.end,
           "start": c.start(arrays) if (warm and mip) else None}
    result = _run(job, d)
    seconds = time.perf_counter() - start
    status, message = _status(result)
    has = bool(result["has_solution"])
    if has:
        c.load(result["values"])
    obj = result["objective"] if has else None
    bound = result["bound"]
    if bound is not None and not math.isfinite(bound):
        bound = None
    if status == "optimal" and bound is None:
        bound = obj
    return Outcome(status, has, obj, bound, gap(obj, bound), seconds, message, result["run_time"])


def lp_duals(m: pyo.ConcreteModel, settings: Solver, cons: list) -> dict:
    """Duals of ``cons`` in the LP left when every integer decision is fixed at its value
    ({} when the deadline leaves no time, or the LP does not solve)."""
    d = deadline(None, settings)
    if d.expired():
        return {}
    # the model as last solved: since then only integer decisions were fixed or freed, and every
    # integer column is fixed at its value here anyway
    c = compiled(m, refresh=False)
    arrays = dict(c.arrays())
    ints = np.flatnonzero(arrays["integer"])
    lo, hi = arrays["col_lower"].copy(), arrays["col_upper"].copy()
    for i in ints:
        v = c.columns[i]
        val = round(v.value) if v is not None and v.value is not None else 0.0
        lo[i] = hi[i] = val
    arrays.update(col_lower=lo, col_upper=hi, integer=np.zeros_like(arrays["integer"]))
    result = _run({"arrays": arrays, "options": _options(settings, False), "end": d.end, "start": None}, d)
    if _status(result)[0] != "optimal" or result["duals"] is None:
        return {}
    out = {}
    for con in cons:
        row = c.row_of(con)
        if row is not None:
            out[con] = float(result["duals"][row])
    return out
