"""The one place the meeting-room page meets the library: load, change, solve, write.

* :class:`Base` — the scenario loaded once, the numbers an analyst may change (every number of
  the scenario, written as the sweep's paths, :mod:`exitopt.sweep.spec`) and the check of a
  request's pins and numbers before anything is solved.
* :func:`variant` — the scenario with changed numbers (``apply_values``) and pins
  (:func:`exitopt.pins.apply`), a new instance; the base is never edited in place.
* :class:`Job` — one solve in a process of its own (``multiprocessing`` *spawn*, so it behaves
  the same on Windows), writing the run folder with :func:`exitopt.output.write_folder`. The page
  never waits on it, and cancelling ends the process. Solve processes outlive their job: one waits
  with the library imported and an :class:`exitopt.engine.Engine` that remembers earlier solves
  (a pin on a coal mine does not solve the steel and cement blocks again), and another is
  started while a solve runs, so a solve never pays Python's imports.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ExitoptError, InputError
from ..pins import Pin, check_pins
from ..rules import FAMILIES

#: the groups the page lists the numbers in, in this order: the rule families' (in the registry's
#: order), then the objective and the costs
GROUPS = (*dict.fromkeys(f.group for f in FAMILIES if f.group), "objective", "costs")


@dataclass(frozen=True)
class Adjustable:
    """A number of the scenario the page offers to change: its sweep path, group and value now."""

    path: str
    group: str
    label: str
    value: float | None
    description: str
    integer: bool = False

    def as_dict(self) -> dict:
        return {"path": self.path, "group": self.group, "label": self.label, "value": self.value,
                "description": self.description, "integer": self.integer}


def _description(model: Any, key: str) -> str:
    fields = getattr(type(model), "model_fields", {})
    f = fields.get(key)
    return (f.description or "") if f is not None else ""


def adjustable(scenario) -> list[Adjustable]:
    """Every number of ``scenario`` that a sweep could change, grouped, in the file's order.

    Optional numbers that are not set (a target's ``at_most``, a year's budget) are listed with
    no value: giving one sets it. Years, ids and solver settings are left out.
    """
    data = scenario.model_dump()
    out: list[Adjustable] = []

    def add(path: str, group: str, label: str, value: Any, desc: str) -> None:
        if isinstance(value, bool):
            return
        if value is None or isinstance(value, (int, float)):
            out.append(Adjustable(path, group, label, None if value is None else float(value), desc,
                                  isinstance(value, int) and not isinstance(value, bool)))

    for family in FAMILIES:  # what each rule family lets the page change
        for e in family.editable(scenario):
            add(e.path, family.group, e.label, e.value, _description(e.model, e.field))
    for key, value in data["objective"].items():
        add(f"objective.{key}", "objective", key, value, _description(scenario.objective, key))
    add("attrition", "costs", "attrition", data["attrition"], _description(scenario, "attrition"))
    for y in scenario.years:
        add(f"ladder.{y}", "costs", f"ladder {y}", data["ladder"].get(y), _description(scenario, "ladder"))
    for sector, costs in data["sectors"].items():
        model = scenario.sectors[sector]
        for key, value in costs.items():
            if key == "award_products":  # a list of products, not a number
                continue
            if isinstance(value, dict):
                for mode, v in value.items():
                    add(f"sectors.{sector}.{key}.{mode}", "costs", f"{sector} · {key} {mode}", v,
                        _description(model, key))
            else:
                add(f"sectors.{sector}.{key}", "costs", f"{sector} · {key}", value, _description(model, key))
    return out


#: what a pin from the page holds
PIN_KEYS = {"unit", "action", "year"}
#: the largest size of a number from the page (the scenario's own ranges are checked after)
MAX_VALUE = 1e15


def parse_pins(raw: Any) -> list[Pin]:
    """Pins from the page: a list of {unit, action (keep|exit), year (optional)}; InputError otherwise."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError("pins must be a list of {unit, action, year}.")
    pins = []
    for p in raw:
        if not isinstance(p, dict) or not isinstance(p.get("unit"), str) or p.get("action") not in ("keep", "exit"):
            raise InputError(f"pin {str(p)[:200]}: give a unit id and an action, keep or exit.")
        unknown = sorted(str(k)[:40] for k in p if k not in PIN_KEYS)
        if unknown:
            raise InputError(f"pin on {p['unit'][:100]}: unknown key(s) {', '.join(unknown)}; a pin holds unit, "
                             f"action and year.")
        year = p.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise InputError(f"pin on {p['unit'][:100]}: the year {str(year)[:40]} is not a whole year such as 2018.")
        pins.append(Pin(p["unit"], p["action"], year))
    return pins


def parse_values(raw: Any, numbers: list[Adjustable] | None = None) -> dict[str, float | None]:
    """Changed numbers from the page: {path: number or null (unset)}; InputError otherwise.

    With ``numbers`` (the page's list, :func:`adjustable`), only those paths are taken, written
    exactly as listed: no solver setting, year or id, no list index the page does not show; a
    whole number where the scenario has one. Every number is finite and at most MAX_VALUE in size.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError("values must be an object of path: number.")
    offered = {a.path: a for a in numbers} if numbers is not None else None
    out: dict[str, float | None] = {}
    for path, v in raw.items():
        path = str(path)
        shown = path[:200]
        if offered is not None and path not in offered:
            raise InputError(f"{shown}: not one of the numbers the page offers to change (those under \"Numbers "
                             f"you can change\", written as listed there); solver settings, years and ids cannot "
                             f"be changed here.")
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                              or abs(v) > MAX_VALUE):
            raise InputError(f"{shown}: {str(v)[:40]} is not a finite number of at most {MAX_VALUE:g} in size.")
        if v is not None and offered is not None and offered[path].integer and v != int(v):
            raise InputError(f"{shown}: {v} is not a whole number, which this number must be.")
        out[path] = v
    return out


def variant(inst, pins: list[Pin], values: dict[str, float | None]):
    """The instance with ``values`` set (sweep paths) and ``pins`` applied; InputError naming the
    path, the value or the pin at fault."""
    from pydantic import ValidationError

    from ..inputs import bind
    from ..pins import apply
    from ..scenario import format_validation
    from ..sweep.spec import PathError, apply_values

    if values:
        try:
            scen = apply_values(inst.scenario, tuple(values.items()), len(values))
        except PathError as e:
            raise InputError(f"{e}.") from None
        except ValidationError as err:
            raise InputError("the changed numbers make the scenario invalid:\n"
                             + format_validation(err, keys_in="the scenario file")) from None
        inst = bind(scen, inst.units, inst.projects, files=inst.files, scenario_path=inst.scenario_path)
    check_pins(inst, pins, "pin")
    return apply(inst, pins) if pins else inst


def unit_moves(inst) -> dict[str, dict]:
    """The pins each unit can take, from the scenario's rules, for the units that cannot take them all:
    ``{unit_id: {"years": [years it may exit in], "keep": whether it may stay, "why": [[kind, rule,
    year], ...]}}``. A unit may exit only in the years its exit_years column, the windows, the
    protected rules and its package leave (before a mandatory or required deadline); it may not stay
    when a mandatory rule or a required package forces it out. Units free in every year are left out."""
    from ..model.domain import build_domain, package_members, protected_units

    scen = inst.scenario
    years = list(scen.years)
    domain: dict[str, set[int]] = {u: set() for u in inst.units.index}
    for u, y in build_domain(inst):
        domain[u].add(y)
    why: dict[str, list[list]] = {u: [] for u in inst.units.index}
    deadline: dict[str, int] = {}
    protected = protected_units(inst)
    for u, rule in protected.items():
        why[u].append(["protected", rule, None])
    for rule in scen.mandatory:
        for u in inst.select(rule.where):
            deadline[u] = min(deadline.get(u, rule.by), rule.by)
            why[u].append(["mandatory", rule.name, rule.by])
    for pkg in scen.packages:
        members = package_members(inst, pkg)
        for u in members:
            if pkg.required:
                by = pkg.by if pkg.by is not None else scen.last_year
                deadline[u] = min(deadline.get(u, by), by)
            why[u].append(["package_required" if pkg.required else "package", pkg.name,
                           pkg.by if pkg.required else None])
    out = {}
    for u in inst.units.index:
        can = sorted(y for y in domain[u] if u not in deadline or y <= deadline[u])
        if u not in protected and sorted(domain[u]) != years:
            why[u].append(["years", None, None])  # the exit_years column, a window or the package's years
        if can == years and u not in deadline and not why[u]:
            continue
        out[str(u)] = {"years": can, "keep": u not in deadline, "why": why[u]}
    return out


@dataclass
class Base:
    """The scenario, loaded once; the source of every variant the page solves."""

    path: Path
    inst: Any
    numbers: list[Adjustable] = field(default_factory=list)
    #: names this base to the solve processes, which keep an engine for it
    key: str = field(default_factory=lambda: secrets.token_hex(8))

    @classmethod
    def load(cls, path: Path | str) -> Base:
        from ..inputs import load

        inst = load(path)
        return cls(Path(path).resolve(), inst, adjustable(inst.scenario))

    def moves(self) -> dict[str, dict]:
        """The pins each restricted unit can take (:func:`unit_moves`)."""
        return unit_moves(self.inst)

    def check(self, pins: list[Pin], values: dict[str, float | None]) -> None:
        """Raise InputError now, before a process starts, for anything a solve would refuse."""
        variant(self.inst, pins, values)


# ---- the solve process ----------------------------------------------------------------------


def _child(conn) -> None:
    """A solve process: import the library, then solve jobs one after another until told to stop.

    It keeps one :class:`exitopt.engine.Engine` per base scenario, so a later solve reuses what an
    earlier one found (the blocks a change does not reach are not solved again).
    """
    try:
        from ..engine import Engine
        from ..output import write_folder
        from ..solve import solve_instance
    except KeyboardInterrupt:
        return
    engines: dict[str, Engine] = {}
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if job is None:
            return
        try:
            if job.get("delay"):
                conn.send(("stage", "waiting (test delay)"))
                time.sleep(job["delay"])
            conn.send(("stage", "building"))
            inst = variant(job["inst"], job["pins"], job["values"])
            engine = engines.get(job["base"])
            if engine is None:
                engines.clear()  # one base at a time: a server has one scenario
                engine = engines[job["base"]] = Engine(job["inst"])
            if job.get("frontier"):
                from ..highs import limit
                from ..pareto import frontier

                conn.send(("stage", "frontier"))
                # one wall clock for all its solves: the room's time limit per solve (as `exitopt pareto`'s)
                seconds = job["time_limit"] if job["time_limit"] is not None else inst.scenario.solver.time_limit
                with limit(seconds):
                    front = frontier(inst, job["frontier"])
                conn.send(("done", {"frontier": {"points": front.table.to_dict("records"), "stopped": not front.complete}}))
                continue
            conn.send(("stage", "solving"))
            res = solve_instance(inst, time_limit=job["time_limit"], engine=engine)
            files = dict(res.files())
            files["run.json"] = {**files["run.json"], "pins": [p.label for p in job["pins"]],
                                 "changed": job["values"]}
            conn.send(("stage", "writing"))
            write_folder(Path(job["folder"]), files, force=False)
            conn.send(("done", {"status": res.status, "objective": res.objective}))
        except ExitoptError as e:
            conn.send(("error", {"message": str(e), "code": e.exit_code}))
        except Exception as e:  # a fault in exitopt: report it, never a silent hang
            conn.send(("error", {"message": f"internal error: {type(e).__name__}: {e}. This is a fault in "
                                            f"exitopt, not in your scenario.", "code": 1}))


class _Pool:
    """Solve processes waiting for a job, the library imported: the one that solved last first
    (its engine knows the most), and one more started ahead of need while a solve runs."""

    IDLE = 2  # processes kept waiting at most

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[tuple] = []
        self._ctx = mp.get_context("spawn")

    def _start(self) -> tuple:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_child, args=(child,), daemon=True)
        proc.start()
        child.close()
        return proc, parent

    def take(self) -> tuple:
        with self._lock:
            while self._idle:
                proc, conn = self._idle.pop()
                if proc.is_alive():
                    return proc, conn
                conn.close()
        return self._start()

    def give_back(self, proc, conn) -> None:
        """A process that finished its job waits for the next; beyond IDLE, the oldest is ended."""
        with self._lock:
            self._idle.append((proc, conn))
            extra = self._idle[:-self.IDLE]
            del self._idle[:-self.IDLE]
        for p, c in extra:
            _end(p, c)

    def refill(self) -> None:
        """Make sure one process waits (started now if none does)."""
        with self._lock:
            self._idle = [(p, c) for p, c in self._idle if p.is_alive()]
            if not self._idle:
                self._idle.insert(0, self._start())

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for p, c in idle:
            _end(p, c)


def _end(proc, conn) -> None:
    """Ask a waiting solve process to stop; end it if it does not."""
    try:
        conn.send(None)
    except (OSError, ValueError):
        pass
    proc.join(5)
    if proc.is_alive():
        proc.terminate()
        proc.join(5)
    conn.close()


STANDBY = _Pool()


class Job:
    """One solve running in its own process; ``state`` moves from running to done, failed or cancelled.

    ``on_end(job)`` is called once, from the job's watcher thread, when it ends.
    """

    def __init__(self, base: Base, pins: list[Pin], values: dict[str, float | None], folder: Path, *,
                 time_limit: float | None = None, delay: float = 0.0, on_end=None, standby: bool = True,
                 frontier: int | None = None) -> None:
        self.pins, self.values, self.folder = pins, values, Path(folder)
        self.state = "running"
        self.stage = "starting"
        self.error: dict | None = None
        self.outcome: dict | None = None
        self.started = time.monotonic()
        self.ended: float | None = None
        self._on_end = on_end
        self._standby = standby
        self._cancelled = False
        self._lock = threading.Lock()
        self.proc, self.conn = STANDBY.take()
        self.conn.send({"inst": base.inst, "base": base.key, "pins": pins, "values": values,
                        "time_limit": time_limit, "folder": str(self.folder), "delay": delay, "frontier": frontier})
        if standby:  # the next process imports on the other core while this one solves (HiGHS: 1 thread)
            STANDBY.refill()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    @property
    def seconds(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    def _watch(self) -> None:
        state, error, outcome = "failed", None, None
        try:
            while True:
                kind, payload = self.conn.recv()
                if kind == "stage":
                    self.stage = payload
                elif kind == "done":
                    state, outcome = "done", payload
                    break
                else:
                    error = payload
                    break
        except (EOFError, OSError):
            error = {"message": "the solve process ended without a plan.", "code": 1}
            self.proc.join(10)
        with self._lock:
            if self._cancelled:
                state, error, outcome = "cancelled", None, None
            self.state, self.error, self.outcome = state, error, outcome
            self.ended = time.monotonic()
            reuse = not self._cancelled and self.proc.is_alive()
        if reuse:  # it answered and waits for the next job, its engine warm
            STANDBY.give_back(self.proc, self.conn)
        if state != "done":
            shutil.rmtree(self.folder, ignore_errors=True)
        if self._on_end is not None:
            self._on_end(self)
        if self._standby:
            STANDBY.refill()

    def cancel(self) -> None:
        """End the solve process (its HiGHS worker ends itself); the job ends as cancelled and
        leaves no folder."""
        with self._lock:
            if self.state != "running":
                return
            self._cancelled = True
        self.proc.terminate()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job has ended (and ``on_end`` ran); True when it has."""
        self._watcher.join(timeout)
        return not self._watcher.is_alive()
