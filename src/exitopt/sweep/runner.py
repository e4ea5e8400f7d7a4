"""Run a sweep: every case on local worker processes or a Dask cluster, recorded case by case.

One code path serves both: a ``concurrent.futures.Executor`` — a ``ProcessPoolExecutor`` of N
processes, or ``distributed.Client(address).get_executor()``. Workers solve; only this
process writes the ledger, one transaction per finished case. A case that has no plan
(infeasible, or no plan by its time limit) is recorded with its diagnosis and the sweep goes on.

What a worker reuses between cases: the base instance (scenario, unit and project tables) is
read once per worker process; each case copies the base scenario's data, sets its values,
binds the copy to the same tables and builds its model. Measured on Gansu: build and hand-over
to HiGHS take ≈ 0.15 s against 2–7 s of branch and bound, and HiGHS given the previous case's
plan as a start did not finish sooner, so a case is rebuilt whole rather than patched.

A case's plan does not depend on which cases its worker solved before, on the number of
workers, on a resume or on the order cases are handed out: nothing is carried from one case to
the next but the optima of blocks left exactly as they were (:mod:`exitopt.blocks`), which a
solve of that block finds anew. A case is the plan ``exitopt solve`` finds for its scenario.
"""

from __future__ import annotations

import contextlib
import errno
import json
import multiprocessing
import os
import secrets
import signal
import sqlite3
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EXIT_INTERRUPTED, ExitoptError, InfeasibleError, InputError, LimitReached, OutputError
from ..output import FileLock, is_locked
from .ledger import LEDGER, Ledger, open_ledger
from .spec import Case, Sweep, apply, apply_values, read_sweep

if TYPE_CHECKING:
    from rich.progress import Progress

#: files a sweep writes in its folder (removed by --force before starting over)
OUTPUTS = ("cases.csv", "units_long.csv", "unit_frequency.csv", "response.png", "tornado.png",
           "unit_frequency.png", LEDGER, LEDGER + "-wal", LEDGER + "-shm")


class Interrupted(ExitoptError):
    """The sweep was stopped (Ctrl-C); finished cases are kept in the ledger."""

    exit_code = EXIT_INTERRUPTED


# ---- worker side ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """What a worker needs to solve one case (small and picklable)."""

    case_id: str
    base_path: str
    base_key: str  # hash of the base files: the worker's cache key
    assign: tuple[tuple[str, Any], ...]
    n_axis: int
    time_limit: float | None


_CACHE: dict[str, tuple[Any, dict]] = {}
_LOCK = threading.Lock()  # one case at a time per process (HiGHS output capture is process-wide)


_ENDING = threading.Lock()  # held by the one call of _end_worker that ends this process


def _end_worker(*_args) -> None:
    """End this worker process now, and the HiGHS process it solves in (which would otherwise
    finish its case for nobody): on POSIX the worker leads a process group of its own, and the
    whole group goes at once, a HiGHS process still starting up included.

    Once begun, an end runs to its finish: a second stop (the pool, too, stops workers it sees
    the others of go) neither starts another end nor cuts this one short between giving back a
    lock and telling the resource tracker so (which would leave a "leaked semaphore" warning)."""
    from multiprocessing import util

    from .. import highs

    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if not _ENDING.acquire(blocking=False):
        return  # another end is under way (the parent-watch thread, or a stop that came during this one)
    try:
        highs._drop_worker()
        util._run_finalizers(0)  # type: ignore[attr-defined]  # give back the locks Pyomo made at import (else a "leaked semaphore" warning)
    finally:
        if hasattr(os, "killpg") and os.getpgid(0) == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
        os._exit(1)


def _watch_parent(parent: int) -> None:
    """Worker initialiser: end this worker when the sweep process that started it is gone. Ctrl-C
    is left to the sweep process, which stops the workers itself (a worker that took it would end
    its case with an error instead of being stopped); the stop (SIGTERM) ends its HiGHS process too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _end_worker)
    if hasattr(os, "setpgid"):
        try:
            os.setpgid(0, 0)  # a group of its own: the worker and the HiGHS processes it starts
        except OSError:
            pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                _end_worker()

    threading.Thread(target=watch, daemon=True, name="exitopt-parent-watch").start()


def _base(task: Task):
    """(base Instance, its scenario dumped to a dict), read once per worker process."""
    key = f"{task.base_path}\n{task.base_key}"
    if key not in _CACHE:
        from ..inputs import load

        inst = load(task.base_path)
        _CACHE.clear()
        _CACHE[key] = (inst, inst.scenario.model_dump())
    return _CACHE[key]


#: block fingerprint -> its optimum, kept by each worker process across cases: a case that
#: leaves a block as it was (a coal target leaves clinker alone) does not solve it again
_BLOCKS: dict = {}


def _solve(task: Task, started: float) -> dict:
    """Solve one case (begun at ``started``, a perf_counter reading) and reduce its result to what
    the ledger keeps."""
    from ..highs import limit
    from ..inputs import bind
    from ..solve import solve_instance

    inst, data = _base(task)
    scen = apply_values(inst.scenario, task.assign, task.n_axis, data)
    solver: dict[str, float] = {"threads": 1}
    if task.time_limit is not None:
        solver["time_limit"] = task.time_limit
    scen = scen.model_copy(update={"solver": scen.solver.model_copy(update=solver)})
    case_inst = bind(scen, inst.units, inst.projects, files=inst.files, scenario_path=inst.scenario_path)
    if len(_BLOCKS) > 256:  # a worker keeps the optimum of each block it solved, within reason
        _BLOCKS.clear()
    try:
        with limit(scen.solver.time_limit):  # the whole case, model building included
            res = solve_instance(case_inst, with_duals=False, block_cache=_BLOCKS)
    except LimitReached:
        return {"status": "limit", "diagnosis": no_plan(time.perf_counter() - started, scen.solver.time_limit)}
    o = res.outcome
    s = res.schedule[res.schedule["exit_year"].notna()]
    exits: dict[str, dict[str, float]] = {}
    for (p, y), cap in s.groupby(["product", "exit_year"])["capacity"].sum().items():
        exits.setdefault(str(p), {})[str(int(y))] = float(cap)
    units = [(str(u), int(y), str(md), str(r).startswith("mandatory"))
             for u, y, md, r in zip(s["unit_id"], s["exit_year"], s["mode"], s["reason"], strict=True)]
    nc = res.new_capacity
    built = [str(j) for j in nc.loc[nc["built"], "project_id"]] if not nc.empty else []
    diagnosis = ""
    if o.status == "limit":
        diagnosis = (f"stopped at the time limit; best plan within {o.gap:.2%} of the optimum" if o.gap is not None
                     else "stopped at the time limit; the gap of the best plan is unknown")
    return dict(status=o.status, objective=o.objective, bound=o.bound, gap=o.gap, jobs=res.jobs, fiscal=res.fiscal,
                diagnosis=diagnosis, exits=exits, units=units, projects_built=built)


def no_plan(seconds: float, time_limit: float | None) -> str:
    """The diagnosis of a case that stopped at its time limit without any plan."""
    limit = f" of {time_limit:g} s" if time_limit is not None else ""
    return (f"no plan: the time limit{limit} was reached after {seconds:.0f} s of the case without any plan, so "
            f"the case has no figures. Raise time_limit in the sweep file, or loosen the rules.")


def solve_case(task: Task) -> dict:
    """Worker entry point: solve one case; never raises for a case's own trouble. ``seconds`` is
    the wall time of the case, from reading its values to its last solve."""
    with _LOCK:
        start = time.perf_counter()
        try:
            result = _solve(task, start)
        except InfeasibleError as e:
            result = {"status": "infeasible", "diagnosis": str(e)}
        except LimitReached:
            result = {"status": "limit", "diagnosis": no_plan(time.perf_counter() - start, task.time_limit)}
        except ExitoptError as e:
            result = {"status": "error", "diagnosis": str(e)}
        except Exception as e:  # a fault in exitopt: record it, keep sweeping
            result = {"status": "error", "diagnosis": f"internal error: {type(e).__name__}: {e}"}
        result["seconds"] = time.perf_counter() - start
        return result


# ---- parent side ---------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What a finished (or resumed) sweep did."""

    name: str
    out: Path
    cases: int
    skipped: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)
    elsewhere: int = 0  # cases another sweep running on the same folder was solving
    no_plan: int = 0  # cases that reached their time limit without any plan


def _base_key(hashes: dict[str, str]) -> str:
    return json.dumps(hashes, sort_keys=True)


def _prepare(out: Path, sweep: Sweep, hashes: dict[str, str], *, resume: bool, force: bool) -> Ledger:
    """Check the sweep folder and open its ledger: new, resumed, or started over with --force.

    The ledger's meta is written in the transaction that makes it (:meth:`Ledger.adopt_meta`), so
    a sweep started at the same moment on the same folder finds either no ledger or a whole one.
    """
    if resume and force:
        raise InputError("--resume and --force contradict each other: --resume keeps the finished cases, "
                         "--force throws them away. Give one of them.")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder. Choose another --out.")
    ledger_file = out / LEDGER
    if not ledger_file.exists() and out.is_dir():
        others = [p for p in out.iterdir() if not p.name.startswith((LEDGER, f".{LEDGER}."))]
        if others and resume:
            raise OutputError(f"{out} holds files but no {LEDGER}: it is not a sweep folder to resume. "
                              f"Choose another --out.")
        if others and not force:
            raise OutputError(f"{out} already holds files from an earlier run. Add --resume to finish that sweep, "
                              f"--force to start it over, or choose another --out.")
    elif ledger_file.exists() and not resume:
        if not force:
            raise OutputError(f"{out} already holds files from an earlier run. Add --resume to finish that sweep, "
                              f"--force to start it over, or choose another --out.")
        for name in OUTPUTS:
            p = out / name
            if p.is_file():
                p.unlink()
    from ..output import versions

    try:
        out.mkdir(parents=True, exist_ok=True)
        ledger = open_ledger(out)
    except (OSError, sqlite3.Error) as e:
        raise OutputError(f"cannot write in {out}: {getattr(e, 'strerror', None) or e}. Choose another --out.") \
            from None
    meta = ledger.adopt_meta({
        "sweep_name": sweep.name,
        "sweep_file": str(sweep.path.resolve()),
        "sweep_sha256": sweep.sha256,
        "sweep_text": sweep.path.read_text(encoding="utf-8-sig", errors="replace"),
        "base_scenario": str(sweep.base_path),
        "base_sha256": _base_key(hashes),
        "axes": json.dumps(sweep.axis_names, ensure_ascii=False),
        "cases": str(len(sweep.cases)),
        "versions": json.dumps(versions()),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    if meta.get("sweep_sha256") != sweep.sha256:
        ledger.close()
        raise InputError(
            f"{ledger_file} was made from a different sweep file (or this one was edited since). Resuming "
            f"would mix two sweeps' cases. Run the edited sweep with another --out, or add --force instead of "
            f"--resume to start it over.", file=sweep.path)
    if meta.get("base_sha256") != _base_key(hashes):
        ledger.close()
        raise InputError(
            f"the base scenario or its tables changed since {ledger_file} was started, so finished cases would "
            f"not match new ones. Run with another --out, or --force to start over.", file=sweep.path)
    return ledger


def _owner_lock(out: Path, owner: str) -> Path:
    """The file a running sweep holds locked so that others know its claims are live."""
    return out / f".{LEDGER}.owner-{owner}.lock"


def _disk_full(e: BaseException) -> bool:
    if isinstance(e, OSError):
        return e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    text = str(e).lower()
    return isinstance(e, sqlite3.Error) and ("disk is full" in text or "disk i/o error" in text)


def _check_variants(sweep: Sweep, inst) -> None:
    """Bind the first case of every variant to the tables, so unknown ids fail before any solve."""
    from ..inputs import bind

    seen: set[str] = set()
    for case in sweep.cases:
        if case.variant in seen:
            continue
        seen.add(case.variant)
        try:
            bind(apply(inst.scenario, case), inst.units, inst.projects, files=inst.files,
                 scenario_path=inst.scenario_path)
        except InputError as e:
            raise InputError(f"variant '{case.variant}' does not fit the base scenario's tables: {e}",
                             file=sweep.path) from None


def _executor(workers: int, scheduler: str | None):
    """(executor, closer, description): local processes, or a Dask cluster's executor."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler needs the Dask cluster client, which the plain install leaves out. "
                             "Install it into the same environment with: pip install -e \".[cluster]\" (in the "
                             "exitopt folder), or pip install \"dask[distributed]\" dask-jobqueue; then run the "
                             "sweep again. Without --scheduler the sweep runs on this computer as it is.") from None
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({e}). Check the address "
                             f"(tcp://host:port) and that the cluster is running.") from None
        n = sum(client.nthreads().values())

        def close_client() -> None:
            client.close()

        return client.get_executor(), close_client, f"Dask ({n} thread(s))"
    from concurrent.futures import ProcessPoolExecutor

    ex = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_watch_parent, initargs=(os.getpid(),))

    def close() -> None:
        ex.shutdown(wait=True, cancel_futures=True)

    return ex, close, f"{workers} process(es)"


#: when stderr is not a terminal: a log line after this many cases, or this many seconds
LOG_EVERY_CASES = 5
LOG_EVERY_SECONDS = 30.0


def _clock(seconds: float | None) -> str:
    """0:01:05, or -:--:-- when not known yet."""
    if seconds is None:
        return "-:--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class _Reporter:
    """Progress of a sweep on stderr. On a terminal: a bar that fits the terminal's width (the
    count and the times are never cut; the tally of statuses gives way first). Otherwise (a log
    file, a pipe): one line at the start, one every few cases or 30 s, and one at the end."""

    def __init__(self, enabled: bool, total: int, done: int, label: str, console=None, lang: str = "en") -> None:
        from rich.console import Console

        self.enabled, self.total, self.done, self.label = enabled, total, done, label
        self.words = _words(lang)
        self.console = console or Console(stderr=True, highlight=False)
        self.start_done = done
        self.started = time.monotonic()
        self.counts: dict[str, int] = {}
        self.bar: Progress | None = None
        self.last_log = (done, self.started)

    # -- figures
    def eta(self) -> float | None:
        solved = self.done - self.start_done
        if solved <= 0:
            return None
        return (time.monotonic() - self.started) / solved * (self.total - self.done)

    def line(self) -> str:
        """The progress as one line of plain text (for a log)."""
        tally = _tally(self.counts, self.words)
        eta = self.eta()
        w = self.words
        left = w["left"].format(eta=_clock(eta)) if eta is not None and self.done < self.total else ""
        return (w["done"].format(label=self.label, done=self.done, total=self.total)
                + (w["tally"].format(tally=tally) if tally else "")
                + w["elapsed"].format(clock=_clock(time.monotonic() - self.started)) + left)

    # -- terminal bar
    def _columns(self, width: int):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.table import Column

        count = len(f"{self.total}/{self.total}")
        fixed = count + len(" elapsed 0:00:00") + len(" ETA 0:00:00")
        cols: list[ProgressColumn] = []
        room = width - fixed - 1
        self.label_in_bar = room >= 40 + len(self.label)
        if self.label_in_bar:
            cols.append(TextColumn("{task.description}", table_column=Column(no_wrap=True)))
            room -= len(self.label) + 1
        bar = min(40, max(room - 46, min(10, room // 2)))  # the tally of statuses wants about 45 columns
        if bar >= 5:
            cols.append(BarColumn(bar_width=bar))
            room -= bar + 1
        cols += [MofNCompleteColumn(table_column=Column(no_wrap=True, min_width=count)),
                 TextColumn(self.words["bar_elapsed"]), TimeElapsedColumn(), TextColumn(self.words["bar_eta"]),
                 TimeRemainingColumn()]
        self.tally_room = max(0, room - 1)
        if self.tally_room >= 8:
            cols.append(TextColumn("{task.fields[tally]}", table_column=Column(no_wrap=True)))
        return cols

    def _tally_text(self) -> str:
        t = _tally(self.counts, self.words)
        room = getattr(self, "tally_room", 0)
        return t if len(t) <= room else (t[: max(room - 1, 0)] + "…" if room > 1 else "")

    def __enter__(self) -> _Reporter:
        if not self.enabled:
            return self
        if self.console.is_terminal:
            from rich.progress import Progress

            width = self.console.width
            self.bar = bar = Progress(*self._columns(width), console=self.console, transient=False)
            if not self.label_in_bar:
                self.console.print(self.label, markup=False, soft_wrap=True)
            self.task = bar.add_task(self.label, total=self.total, completed=self.done, tally="")
            bar.start()
        else:
            self._log(force=True)
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        elif self.enabled and exc[0] is None:
            self._log(force=True)

    # -- events
    def _log(self, force: bool = False) -> None:
        cases, at = self.last_log
        now = time.monotonic()
        if force or self.done - cases >= LOG_EVERY_CASES or now - at >= LOG_EVERY_SECONDS:
            self.console.print(self.line(), markup=False, soft_wrap=True, highlight=False)
            self.last_log = (self.done, now)

    def finished(self, status: str) -> None:
        """One more case is done."""
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(self.task, advance=1, tally=self._tally_text())
        else:
            self._log()

    def tick(self) -> None:
        """Called about once a second while cases run: the log's 30-second line."""
        if self.enabled and self.bar is None:
            self._log()

    def stopping(self) -> None:
        """Ctrl-C: say so at once (the bar goes first, so the words stand on their own line)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        print(self.words["stopping"], file=sys.stderr, flush=True)


#: the words of the progress of a sweep, in English (console_zh_runs.SWEEP_PROGRESS: in Chinese)
WORDS = {"done": "{label}: {done}/{total} cases done", "tally": " ({tally})", "elapsed": ", {clock} elapsed",
         "left": ", about {eta} left", "bar_elapsed": "elapsed", "bar_eta": "ETA",
         "stopping": "stopping… (finished cases are kept in the ledger)", "status": {}}


def _words(lang: str) -> dict:
    if lang != "zh":
        return WORDS
    from ..console_zh_runs import SWEEP_PROGRESS

    return SWEEP_PROGRESS


def _tally(counts: dict[str, int], words: dict = WORDS) -> str:
    return " · ".join(f"{words['status'].get(k, k)} {v}" for k, v in sorted(counts.items()) if v)


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """While the pool starts its worker processes: they are born ignoring Ctrl-C (a terminal sends
    it to every process of the command), so that only this process handles it, even while a
    worker is still starting up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _ctrl_c_noted(stop: threading.Event):
    """While cases run, Ctrl-C only sets ``stop``, which the loop that waits for the cases looks
    at a few times a second: a KeyboardInterrupt raised wherever this process happens to be could
    leave a lock of the pool held (its thread would then wait for ever, and so would the end of
    this process) or a case half recorded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_workers(ex: Executor) -> None:
    """End the local worker processes now, with the cases they are solving (those are not in the
    ledger and run again on --resume). A Dask cluster's workers are left to it: its futures are
    cancelled."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    if not procs:
        return
    manager = getattr(ex, "_executor_manager_thread", None)  # shutdown forgets it
    ex.shutdown(wait=False, cancel_futures=True)  # no new case starts; the pool cancels the waiting ones
    for proc in procs:
        try:
            proc.terminate()
        except (OSError, AttributeError):
            continue
    for proc in procs:
        try:
            proc.join(5)  # reaped, not left behind as zombies
        except (OSError, AttributeError, AssertionError):
            continue
    if manager is not None:
        manager.join(5)  # the pool closes its queues once it sees its workers gone


def execute(sweep: Sweep, pending: list[Case], ledger: Ledger, hashes: dict[str, str], ex: Executor, *,
            progress: bool, total_done: int, label: str = "cases", lang: str = "en") -> dict[str, int]:
    """Run ``pending`` cases on ``ex``; record each one in the ledger as it finishes."""
    counts: dict[str, int] = {}
    if not pending:
        return counts
    key = _base_key(hashes)
    report = _Reporter(progress, len(sweep.cases), total_done, label, lang=lang)
    futures: dict = {}
    stop = threading.Event()
    with _ctrl_c_noted(stop):
        try:
            with _workers_ignore_ctrl_c():
                futures = {ex.submit(solve_case, Task(c.id, str(sweep.base_path), key, c.assign, len(c.values),
                                                      sweep.spec.time_limit)): c for c in pending}
            with report:
                waiting = set(futures)
                while waiting and not stop.is_set():
                    done, waiting = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
                    report.tick()
                    for fut in done:
                        case = futures[fut]
                        try:
                            result = fut.result()
                        except Exception as e:  # the worker itself failed (killed, out of memory, lost)
                            if type(e).__name__ == "BrokenProcessPool":
                                raise ExitoptError(
                                    f"a worker process died (out of memory?) while solving; "
                                    f"{len(ledger.finished())} finished case(s) are kept in {ledger.path}. Run "
                                    f"again with --resume (perhaps with fewer --workers).") from None
                            result = {"status": "error", "diagnosis": f"worker failed: {type(e).__name__}: {e}"}
                        ledger.record(case.id, case.index, case.variant, case.values, result)
                        counts[result["status"]] = counts.get(result["status"], 0) + 1
                        report.finished(result["status"])
                if stop.is_set():
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            report.stopping()
            if getattr(ex, "_processes", None):
                _stop_workers(ex)
            else:
                for f in futures:
                    f.cancel()
            raise Interrupted(f"interrupted: {len(ledger.finished())} finished case(s) are kept in {ledger.path}. "
                              f"Run the same command with --resume to finish the sweep.") from None
    return counts


#: orders the cases may be handed to the workers in (each case's plan is the same in every one)
ORDERS = ("file", "reverse", "shuffle")


def ordered(cases: list[Case], order: str) -> list[Case]:
    """``cases`` in the order they are handed to the workers: as the file makes them, reversed,
    or shuffled."""
    if order == "reverse":
        return cases[::-1]
    if order == "shuffle":
        import random

        out = list(cases)
        random.Random(secrets.randbits(64)).shuffle(out)
        return out
    return list(cases)


def run_sweep(sweep_file: Path | str, *, out: Path | str | None = None, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, force: bool = False, long: bool = False,
              progress: bool = True, order: str = "file", lang: str = "en") -> SweepReport:
    """Read a sweep file, run every case not yet in the ledger, and write the tables and pictures.

    Results go to ``out`` (default ``./<sweep name>/``). ``order`` (one of :data:`ORDERS`) is the
    order the cases are handed to the workers; it changes no case's plan, only which finish first.
    ``lang``: the language of the progress shown (en or zh).
    Raises InputError (exit 2) for a bad sweep file or a ledger of another sweep, OutputError
    (exit 5) for a folder in the way.
    """
    from ..inputs import load
    from .export import export, has_plan

    start = time.perf_counter()
    sweep = read_sweep(sweep_file)
    inst = load(sweep.base_path)
    _check_variants(sweep, inst)
    hashes = inst.hashes()
    target = Path(out) if out is not None else Path.cwd() / sweep.name
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}.")
    if order not in ORDERS:
        raise InputError(f"--order must be one of {', '.join(ORDERS)}, got {order!r}.")
    n = workers or max(1, min(os.cpu_count() or 1, len(sweep.cases)))
    # a cluster that cannot be reached fails before any file is made; local processes are started
    # only once the folder is ready (a sweep refused for its folder leaves no process behind)
    ex = close = where = None
    if scheduler:
        ex, close, where = _executor(n, scheduler)
    ledger = lock = None
    owner = secrets.token_hex(8)
    try:
        ledger = _prepare(target, sweep, hashes, resume=resume, force=force)
        if ex is None:
            ex, close, where = _executor(n, None)
        lock = FileLock(_owner_lock(target, owner))
        mine = set(ledger.claim([c.id for c in sweep.cases], owner,
                                alive=lambda other: is_locked(_owner_lock(target, other))))
        elsewhere = ledger.claimed_elsewhere(owner)
        for p in target.glob(f".{LEDGER}.owner-*.lock"):  # left by sweeps that were killed
            if p != lock.path and not is_locked(p):
                p.unlink(missing_ok=True)
        pending = ordered([c for c in sweep.cases if c.id in mine], order)
        label = f"{sweep.name} on {where}"
        if lang == "zh":
            from ..console_zh_runs import sweep_label

            label = sweep_label(sweep.name, str(where))
        execute(sweep, pending, ledger, hashes, ex, progress=progress, total_done=len(sweep.cases) - len(pending),
                label=label, lang=lang)
        recorded = ledger.cases()
        # with no case finished yet (another sweep on this folder holds them all) there is nothing to show
        files = export(target, sweep, inst, ledger, long=long) if len(recorded) else []
        all_counts = recorded["status"].value_counts().to_dict()
        no_plan = sum(1 for st, obj in zip(recorded["status"], recorded["objective"], strict=True)
                      if st == "limit" and not has_plan(st, obj))
    except (OSError, sqlite3.Error) as e:
        if not _disk_full(e):
            raise
        raise OutputError(f"the disk holding {target} is full ({e}). The cases finished so far are kept in "
                          f"{target / LEDGER}; free some space and run the same command with --resume.") from None
    finally:
        if close is not None:
            close()
        if ledger is not None:
            try:
                ledger.release(owner)
            except sqlite3.Error:
                pass  # the claims of a dead owner are taken over by the next run anyway
            ledger.close()
        if lock is not None:
            lock.release()
    return SweepReport(sweep.name, target, len(sweep.cases), len(sweep.cases) - len(pending) - elsewhere,
                       {str(k): int(v) for k, v in all_counts.items()}, time.perf_counter() - start, files,
                       elsewhere, no_plan)


def format_report(rep: SweepReport) -> str:
    """A few lines for the terminal: counts by status, time, where the files are."""
    tally = " · ".join(f"{k} {v}" for k, v in sorted(rep.counts.items()))
    done = f" ({rep.skipped} already in the ledger)" if rep.skipped else ""
    lines = [f"{rep.name}: {rep.cases} case(s){done}: {tally}; {rep.seconds / 60:.1f} min",
             f"written to {rep.out}: {', '.join(rep.files)}"]
    if rep.elsewhere:
        lines.append(f"{rep.elsewhere} case(s) were being solved by another sweep on the same folder; when it ends "
                     f"its tables hold every case.")
    if rep.no_plan:
        lines.append(f"{rep.no_plan} case(s) reached the time limit without any plan: their figures are left empty "
                     f"in cases.csv and they are left out of the pictures (see the diagnosis column).")
    if rep.counts.get("error"):
        lines.append(f"{rep.counts['error']} case(s) failed with an error (see the diagnosis column of cases.csv); "
                     f"--resume runs them again.")
    return "\n".join(lines)
