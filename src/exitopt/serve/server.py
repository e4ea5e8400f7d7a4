"""The HTTP server of ``exitopt serve``: the standard library's ThreadingHTTPServer, one static page
and a small JSON API. No web framework: the tool is small, long-lived and must install anywhere.

Endpoints (every one answers JSON unless it sends a file)::

    GET  /                       the page (static/index.html); /static/<file> its script and styles
    GET  /api/setup              scenario name, years, the numbers that can change, the pins each
                                 restricted unit can take, the words (zh/en)
    GET  /api/state              this session's plans, the running or queued solve, last error
    GET  /api/plans/<id>         one plan: figures, exits by sector/product/region, units, binding rules
    GET  /api/compare/<a>/<b>    what changed from plan a to plan b
    POST /api/solve              {pins: [{unit, action, year}], values: {path: number}, parent, label}
    POST /api/cancel             end the running solve (or leave the queue)
    GET  /api/download/<id>/<f>  f = run.zip, briefing.xlsx or briefing.html (?lang=zh|en)

Each browser gets a session (a random id in a cookie) when it loads the page, and only then; a
session sees and changes only its own plans, which live in its own folder under a temporary root.
A session that holds plans of its own is never dropped: when the sessions are at their cap, only
idle ones holding no more than the baseline make room, else a new visitor is told the room is full.

Only the page itself can change anything: a POST must be JSON, carry the session's cookie and the
session's own token in the ``X-Exitopt-Session-Token`` header (written into the page it loaded),
and, when the browser says where it comes from (``Origin``, ``Sec-Fetch-Site``), come from the
server's own origin. Every request body is read in full before the reply, or the connection is
closed after it; bodies, JSON depth and numbers' lengths, connections and their idle time are all
bounded. At most ``max_solving`` solves run at once, server-wide; others wait in a queue.

Bound to a loopback address, the server answers only requests addressed to localhost; bound to any
other address it also needs an access token on every request (``?token=``, the ``X-Exitopt-Token``
header, or the cookie the server sets when the page is first opened with the token). Files are
served only from a fixed list: the page's static files and a plan's three downloads, each made
once from its own run folder and then served from what was written.

Run folders given with ``--plans`` (:meth:`App.add_plan`) are read and copied once at the start and
listed after the baseline in every session, as plans of its own that no request can change.

The temporary root holds a pid file; a later start removes the roots of servers no longer running.
"""

from __future__ import annotations

import atexit
import hmac
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import ExitoptError, InputError
from .solving import STANDBY, Base, Job, parse_pins, parse_values

STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
DOWNLOADS = {"run.zip": "application/zip",
             "briefing.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "briefing.html": "text/html; charset=utf-8"}
SESSION_COOKIE = "exitopt_session"
TOKEN_COOKIE = "exitopt_token"
TOKEN_HEADER = "X-Exitopt-Token"  # the access token of a server open to the network
SESSION_TOKEN_HEADER = "X-Exitopt-Session-Token"  # the session's own token, which only its page knows
SESSION_TOKEN_META = b'<meta name="exitopt-session-token" content="">'
MAX_BODY = 1 << 20
MAX_SESSIONS = 200
MAX_SOLVING = 2  # solves running at once, server-wide (HiGHS uses one thread each)
MAX_CONNECTIONS = 64  # connections served at once; one more is answered 503 and closed
SOCKET_TIMEOUT = 20.0  # seconds a connection may stay silent (request line, headers, body)
MAX_JSON_DEPTH = 8  # the page sends 3 levels: the request, its pins, a pin
MAX_NUMBER_CHARS = 40  # characters of one JSON number
LINGER_BYTES = 4 << 20  # after refusing a body unread: at most this much is read and thrown away
LINGER_SECONDS = 2.0
PID_FILE = "server.pid"
ROOT_PREFIX = "exitopt-serve-"
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
SOLVE_KEYS = {"pins", "values", "parent", "label", "frontier"}
LABEL_CHARS = 80  # the page's plan name box holds at most this many


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def static_files() -> dict[str, bytes]:
    """The page's files, read once from the package: name → bytes."""
    root = resources.files(__package__) / "static"
    return {p.name: p.read_bytes() for p in root.iterdir() if p.is_file() and Path(p.name).suffix in STATIC_TYPES}


# ---- the temporary root ------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would end the process on Windows: ask for its exit code instead
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it runs, as another user
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def clean_stale_roots(temp: Path | None = None) -> list[Path]:
    """Remove the temporary roots (``exitopt-serve-*``) of servers that no longer run: those whose pid
    file names a process that is gone. A root without a pid file is left alone (its server may be
    starting). Returns the roots removed."""
    temp = Path(temp) if temp is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in temp.glob(f"{ROOT_PREFIX}*") if p.is_dir() and not p.is_symlink()]
    except OSError:
        return removed
    for root in candidates:
        try:
            pid = int((root / PID_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        mine = pid == os.getpid() and root.resolve() in _OWN_ROOTS  # (a dead server's pid may be reused)
        if not mine and (pid == os.getpid() or not pid_alive(pid)):
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
    return removed


def make_root() -> Path:
    """A new temporary root with this process's pid file, after removing the stale roots."""
    clean_stale_roots()
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
    _OWN_ROOTS.add(root.resolve())
    (root / PID_FILE).write_text(str(os.getpid()), encoding="ascii")
    return root


_OWN_ROOTS: set[Path] = set()  # the roots this process made (several servers may run in one process)


# ---- JSON, bounded -----------------------------------------------------------------------------


class BadRequest(Exception):
    """A request the server refuses: HTTP status and a one-paragraph message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


_TOKENS = re.compile(rb'[^"\[\]{}]+|"(?:[^"\\]++|\\.)*+"|[\[{]+|[\]}]+')


def json_depth(raw: bytes, limit: int) -> int:
    """How deeply ``raw`` nests arrays and objects, counted without parsing (and so without
    recursion); stops counting above ``limit``. A string left open counts as nothing more."""
    depth = deepest = pos = 0
    n = len(raw)
    while pos < n:
        m = _TOKENS.match(raw, pos)
        if m is None:  # an unterminated string: the parser refuses it
            break
        tok = m.group()
        c = tok[:1]
        if c in b"[{":
            depth += len(tok)
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        elif c in b"]}":
            depth -= len(tok)
        pos = m.end()
    return deepest


def _number(kind):
    def parse(text: str):
        if len(text) > MAX_NUMBER_CHARS:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"a number of {len(text):,} characters: numbers are at most "
                                                     f"{MAX_NUMBER_CHARS} characters long.")
        return kind(text)
    return parse


def _constant(text: str):
    raise BadRequest(HTTPStatus.BAD_REQUEST, f"{text} is not a number JSON allows: give a finite number.")


def read_json(raw: bytes) -> Any:
    """The JSON value of a request body; BadRequest for invalid JSON, nesting deeper than
    MAX_JSON_DEPTH, a number longer than MAX_NUMBER_CHARS, NaN or Infinity."""
    if json_depth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"the request nests arrays or objects more than {MAX_JSON_DEPTH} "
                                                 f"deep: send the page's own request.")
    try:
        return json.loads(raw.decode("utf-8") if raw else "{}", parse_int=_number(int), parse_float=_number(float),
                          parse_constant=_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "the request is not valid JSON (UTF-8).") from None


# ---- plans and sessions ------------------------------------------------------------------------


@dataclass
class Plan:
    """A solved plan of a session: its changes from the scenario and its run folder."""

    id: int
    label: str
    parent: int | None
    pins: list[dict]
    values: dict[str, float | None]
    folder: Path
    seconds: float
    run: Any = None  # exitopt.report.Run, read on first use
    view: dict | None = None  # what /api/plans/<id> sends, made on first use
    given: bool = False  # a run folder given with --plans, shown in every session, never solved here

    def summary(self) -> dict:
        rec = self.read().record
        return {"id": self.id, "label": self.label, "parent": self.parent, "pins": self.pins, "values": self.values,
                "seconds": round(self.seconds, 2), "status": rec.get("status"), "objective": rec.get("objective"),
                "jobs": rec.get("jobs"), "fiscal": rec.get("fiscal"), "units_exiting": rec.get("units_exiting"),
                "given": self.given, "cases": rec.get("cases") if "robust_objective" in rec else None}

    def read(self):
        if self.run is None:
            from ..report import read_run

            self.run = read_run(self.folder)
        return self.run

    @property
    def changed(self) -> bool:
        """Whether the plan is more than the scenario as it stands (pins or changed numbers)."""
        return bool(self.pins or self.values)


@dataclass
class Session:
    """One browser's plans, its running or queued solve and its last error."""

    id: str
    folder: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    plans: list[Plan] = field(default_factory=list)
    job: Job | None = None
    pending: dict | None = None  # a solve waiting in the server's queue: its pins, numbers, folder
    frontier: dict | None = None  # the last jobs–fiscal frontier computed (views.frontier_view)
    job_info: dict = field(default_factory=dict)
    error: str | None = None
    seq: int = 0
    seen: float = field(default_factory=time.monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock)
    settled: threading.Event = field(default_factory=threading.Event)  # set while nothing runs or waits

    def __post_init__(self) -> None:
        self.settled.set()

    def plan(self, plan_id: str | int) -> Plan | None:
        if isinstance(plan_id, bool):
            return None
        try:
            n = int(plan_id)
        except (TypeError, ValueError):
            return None
        return next((p for p in self.plans if p.id == n), None)

    @property
    def busy(self) -> bool:
        return self.job is not None or self.pending is not None

    @property
    def only_baseline(self) -> bool:
        """Holds nothing the analyst made: no plan, or the scenario's own plan alone (with the run
        folders given with --plans)."""
        return (not self.busy and all(p.id == 1 or p.given for p in self.plans)
                and not any(p.changed for p in self.plans))


class SessionsFull(Exception):
    """Every session holds plans of its own: no new one can open."""


class App:
    """The server's state: the loaded scenario, the sessions, where their folders live."""

    def __init__(self, base: Base, *, time_limit: float | None = None, token: str | None = None,
                 local: bool = True, root: Path | None = None, test_delay: float = 0.0,
                 max_sessions: int = MAX_SESSIONS, max_solving: int = MAX_SOLVING,
                 max_connections: int = MAX_CONNECTIONS, socket_timeout: float = SOCKET_TIMEOUT) -> None:
        self.base = base
        self.time_limit = time_limit
        self.token = token
        self.local = local
        self.test_delay = test_delay
        self.max_sessions = max_sessions
        self.max_solving = max_solving
        self.max_connections = max_connections
        self.socket_timeout = socket_timeout
        self.root = Path(root) if root is not None else make_root()
        self._own_root = root is None
        if self._own_root:  # removed however the process ends short of a kill
            atexit.register(self._remove_root)
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.queue: deque[Session] = deque()  # sessions whose solve waits for a free place
        self.solving = 0  # solves running now, at most max_solving
        self.template: Path | None = None  # the baseline's run folder, shared by every session
        self.template_run: Any = None
        self.template_view: dict | None = None
        self.template_seconds = 0.0  # how long the baseline's solve took
        self.static = static_files()
        self._setup: dict | None = None
        self._build_locks: dict[Path, threading.Lock] = {}
        self._closed = False
        self.given: list[Plan] = []  # run folders given with --plans: every session lists them

    def add_plan(self, folder: Path | str) -> Plan:
        """Show a run folder (of `exitopt solve`, or of `exitopt robust` with its regret) in every
        session's plan list, after the baseline. The folder is read now (InputError naming what is
        wrong) and copied into the server's root, so the page shows and downloads what was read."""
        from ..report import read_run
        from .views import plan_view

        source = Path(folder)
        read_run(source)  # names what is wrong before anything is copied
        copy = self.root / f"given{len(self.given) + 1}"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("report_*"))
        run = read_run(copy)
        label = str(run.record.get("scenario") or source.resolve().name)
        plan = Plan(len(self.given) + 2, label, None, [], {}, copy, float(sum(
            v for v in (run.record.get("seconds") or {}).values() if isinstance(v, (int, float)))),
            run=run, view=plan_view(run), given=True)
        self.given.append(plan)
        return plan

    def _list_given(self, s: Session) -> None:
        """Add the given run folders to a session's plans, after its baseline (plan 1)."""
        for g in self.given:
            s.plans.append(Plan(g.id, g.label, None, [], {}, g.folder, g.seconds, run=g.run, view=g.view, given=True))

    # ---- sessions -----------------------------------------------------------------------------

    def new_session(self) -> Session:
        """A new session, with the baseline plan (or its solve queued). SessionsFull when every
        session at the cap holds plans of its own or a solve; an idle one with no more than the
        baseline, the one seen longest ago, makes room otherwise."""
        with self.lock:
            if len(self.sessions) >= self.max_sessions:
                idle = [s for s in self.sessions.values() if s.only_baseline]
                if not idle:
                    raise SessionsFull()
                self._drop(min(idle, key=lambda s: s.seen).id)
            sid = secrets.token_urlsafe(24)
            folder = self.root / f"s{secrets.token_hex(6)}"
            folder.mkdir(parents=True)
            s = Session(sid, folder)
            self.sessions[sid] = s
        if self.template is not None:
            s.seq = 1
            s.plans.append(Plan(1, "baseline", None, [], {}, self.template, self.template_seconds,
                                run=self.template_run, view=self.template_view))
            self._list_given(s)
        else:
            self.solve(s, [], {}, None, "baseline")
        return s

    def _drop(self, sid: str) -> Job | None:
        s = self.sessions.pop(sid, None)
        if s is None:
            return None
        with s.lock:
            s.pending = None
            job = s.job
        try:
            self.queue.remove(s)
        except ValueError:
            pass
        if job is not None:
            job.cancel()
        shutil.rmtree(s.folder, ignore_errors=True)
        return job

    def drop(self, sid: str) -> Job | None:
        """Forget a session: end its solve (returned, to wait for) and remove its folder."""
        with self.lock:
            return self._drop(sid)

    def session(self, sid: str | None) -> Session | None:
        with self.lock:
            s = self.sessions.get(sid) if sid else None
        if s is not None:
            s.seen = time.monotonic()
        return s

    # ---- solving ------------------------------------------------------------------------------

    def solve(self, s: Session, pins_raw: Any, values_raw: Any, parent: Any, label: Any,
              frontier: Any = None) -> None:
        """Queue a solve of the scenario with these pins and numbers (it starts at once when fewer
        than max_solving run); InputError when they are wrong, RuntimeError when the session is
        solving already. With ``frontier`` (a number of points), the jobs–fiscal frontier of those
        changes instead of a plan: it becomes the session's frontier (see views.frontier_view)."""
        from .views import parse_points

        points = parse_points(frontier)
        pins = parse_pins(pins_raw)
        values = parse_values(values_raw, self.base.numbers)
        if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int) or parent < 1):
            raise InputError(f"parent {parent!r}: give the number of one of this session's plans, or null.")
        if label is not None and (not isinstance(label, str) or len(label) > LABEL_CHARS
                                  or any(not c.isprintable() for c in label)):
            raise InputError(f"the plan's name must be text of at most {LABEL_CHARS} printable characters.")
        self.base.check(pins, values)
        with s.lock:
            if s.busy:
                raise RuntimeError("a solve is running already; wait for it or cancel it first.")
            if parent is not None and s.plan(parent) is None:
                raise InputError(f"parent {parent}: this session has no plan {parent}.")
            s.seq += 1
            folder = s.folder / f"run{s.seq:03d}"
            parent_id = parent if parent is not None else (s.plans[-1].id if s.plans else None)
            info = {"label": label or "", "parent": parent_id,
                    "pins": [{"unit": p.unit, "action": p.action, "year": p.year} for p in pins], "values": values}
            if points is not None:
                info["frontier"] = points
            s.error = None
            s.job_info = info
            s.pending = {"pins": pins, "values": values, "folder": folder, "queued": time.monotonic(), "frontier": points}
            s.settled.clear()
        with self.lock:
            self.queue.append(s)
        self._dispatch()

    def _dispatch(self) -> None:
        """Start the queued solves that have a free place, oldest first."""
        while True:
            with self.lock:
                if self._closed or self.solving >= self.max_solving or not self.queue:
                    return
                s = self.queue.popleft()
                self.solving += 1
            started = False
            with s.lock:
                req, s.pending = s.pending, None
                if req is not None:
                    try:
                        s.job = Job(self.base, req["pins"], req["values"], req["folder"], time_limit=self.time_limit,
                                    delay=self.test_delay, on_end=lambda job, s=s: self._ended(s, job),
                                    frontier=req.get("frontier"))
                        started = True
                    except Exception as e:  # no solve process could start: say so, keep serving
                        s.error = f"the solve could not start: {type(e).__name__}: {e}"
                        s.settled.set()
            if not started:
                with self.lock:
                    self.solving -= 1

    def _ended(self, s: Session, job: Job) -> None:
        with s.lock:
            info = s.job_info
            if job.state == "done" and info.get("frontier"):
                from .views import frontier_view

                s.frontier = frontier_view(info, (job.outcome or {}).get("frontier") or {})
            elif job.state == "done":
                n = max((p.id for p in s.plans), default=0) + 1
                label = info["label"] or ("baseline" if n == 1 else "")
                s.plans.append(Plan(n, label, info["parent"], info["pins"], info["values"], job.folder, job.seconds))
                if n == 1 and not info["pins"] and not info["values"] and self.template is None:
                    template = self.root / "baseline"
                    shutil.copytree(job.folder, template, dirs_exist_ok=True)
                    self._share_baseline(s.plans[-1], template)
                if n == 1:
                    self._list_given(s)
            elif job.state == "cancelled":
                s.error = None
            else:
                s.error = (job.error or {}).get("message", "the solve failed.")
            s.job = None
            if s.pending is None:
                s.settled.set()
        with self.lock:
            self.solving -= 1
        self._dispatch()

    def _share_baseline(self, plan: Plan, template: Path) -> None:
        """Keep the baseline (read and its view made once) for every later session: tables never change."""
        from .views import plan_view

        run = plan.read()
        self.template_run, self.template_view = run, plan_view(run)
        self.template_seconds = plan.seconds
        plan.view = self.template_view
        self.template = template

    def cancel(self, s: Session) -> bool:
        """End the session's solve, or take it out of the queue; False when there is none."""
        with s.lock:
            job, queued = s.job, s.pending is not None
            s.pending = None
            if queued:
                s.error = None
                if job is None:
                    s.settled.set()
        if queued:
            with self.lock:
                try:
                    self.queue.remove(s)
                except ValueError:
                    pass
        if job is None:
            return queued
        job.cancel()
        job.wait(30)
        return True

    def wait(self, s: Session, timeout: float | None = None) -> bool:
        """Wait until the session's solve (running or queued) has ended; True when it has."""
        return s.settled.wait(timeout)

    def state(self, s: Session) -> dict:
        with self.lock:  # (never taken while holding a session's lock)
            queue = list(self.queue)
        with s.lock:
            job, pending = s.job, s.pending
            running = None
            if job is not None:
                running = {"stage": job.stage, "seconds": round(job.seconds, 1), **s.job_info}
            elif pending is not None:
                position = next((i for i, x in enumerate(queue) if x is s), 0) + 1
                running = {"stage": "queued", "position": position,
                           "seconds": round(time.monotonic() - pending["queued"], 1), **s.job_info}
            return {"plans": [p.summary() for p in s.plans], "running": running, "error": s.error,
                    "frontier": s.frontier}

    def setup(self) -> dict:
        if self._setup is None:
            from .views import setup_words_zh, words

            scen = self.base.inst.scenario
            units = self.base.inst.units
            self._setup = {
                "scenario": scen.name, "description": scen.description, "file": self.base.path.name,
                "years": scen.years, "numbers": [a.as_dict() for a in self.base.numbers], "words": words(),
                "units": len(units), "time_limit": self.time_limit or scen.solver.time_limit,
                "moves": self.base.moves(), **setup_words_zh(self.base.inst, self.base.numbers),
            }
        return self._setup

    # ---- downloads ----------------------------------------------------------------------------

    def download(self, plan: Plan, name: str, lang: str) -> Path:
        """The file of one of a plan's downloads (DOWNLOADS): made once from its run folder, then
        served from what was written. The baseline's are shared by every session."""
        if name == "run.zip":
            target = plan.folder.with_name(f"{plan.folder.name}_zip")
            path = target / "run.zip"
        else:
            target = plan.folder.with_name(f"{plan.folder.name}_report_{lang}")
            path = target / name
        with self.lock:
            lock = self._build_locks.setdefault(target, threading.Lock())
        with lock:
            if not path.exists():
                if name == "run.zip":
                    self._write_zip(plan, path)
                else:
                    from ..report import make_report

                    make_report(plan.folder, lang, target, force=True)
        return path

    def _write_zip(self, plan: Plan, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        stem = f"{self.base.path.stem}_plan{plan.id}"
        part = path.with_name(path.name + ".part")
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(plan.folder.iterdir()):
                if f.is_file():
                    z.write(f, f"{stem}/{f.name}")
        part.replace(path)

    # ---- the end ------------------------------------------------------------------------------

    def _remove_root(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def close(self) -> None:
        with self.lock:
            self._closed = True
            self.queue.clear()
            jobs = [self._drop(sid) for sid in list(self.sessions)]
        for job in jobs:
            if job is not None:
                job.wait(30)
        STANDBY.close()
        self._remove_root()
        if self._own_root:
            atexit.unregister(self._remove_root)


class Handler(BaseHTTPRequestHandler):
    """One request: check where it comes from and its tokens, find its session, route it."""

    server_version = "exitopt"
    protocol_version = "HTTP/1.1"

    @property
    def app(self) -> App:
        return self.server.app  # type: ignore[attr-defined]

    def setup(self) -> None:
        self.timeout = self.app.socket_timeout  # type: ignore[misc]  # a silent client is dropped, its thread freed
        self._linger = False
        super().setup()

    def finish(self) -> None:
        super().finish()
        if self._linger:  # a body left unread: let the reply reach the client, then drop the body
            try:
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_SECONDS)
                deadline, left = time.monotonic() + LINGER_SECONDS, LINGER_BYTES
                while left > 0 and time.monotonic() < deadline:
                    chunk = self.connection.recv(min(left, 1 << 16))
                    if not chunk:
                        break
                    left -= len(chunk)
            except OSError:
                pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the console shows only the address and errors

    # ---- replies ------------------------------------------------------------------------------

    def _body_pending(self) -> bool:
        """Whether the request declared a body that was not read in full."""
        if getattr(self, "_body_read", False):
            return False
        return bool(self.headers.get("Transfer-Encoding")) or (self.headers.get("Content-Length") or "0").strip() != "0"

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        close = self._body_pending() or getattr(self, "_close", False)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                         "frame-ancestors 'none'; form-action 'none'")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-store")
        for c in self._cookies:
            self.send_header("Set-Cookie", c)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if close:  # never read what follows as another request
            self.send_header("Connection", "close")
            self.close_connection = True
            self._linger = self._body_pending()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"),
                   "application/json; charset=utf-8")

    def _fail(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _refuse(self, status: int, message: str) -> None:
        """A refusal: the reply, then the connection closed."""
        self._close = True
        self._fail(status, message)

    # ---- checks -------------------------------------------------------------------------------

    def _cookie(self, name: str) -> str | None:
        c = SimpleCookie()
        try:
            c.load(self.headers.get("Cookie", ""))
        except Exception:
            return None
        return c[name].value if name in c else None

    def _host_ok(self) -> bool:
        """Loopback only: the Host header names this computer (a page elsewhere cannot rebind to us)."""
        if not self.app.local:
            return True
        host = (self.headers.get("Host") or "").strip()
        if host.startswith("["):
            name = host[1:].split("]")[0]
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name.lower() in LOCAL_NAMES

    def _token_ok(self, query: dict) -> bool:
        token = self.app.token
        if token is None:
            return True
        given = (query.get("token") or [None])[0]
        if given is not None and hmac.compare_digest(given.encode(), token.encode()):
            self._cookies.append(f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
            return True
        for given in (self.headers.get(TOKEN_HEADER), self._cookie(TOKEN_COOKIE)):
            if given and hmac.compare_digest(given.encode(), token.encode()):
                return True
        return False

    def _foreign(self) -> str | None:
        """Why the request comes from another site (its Origin or Sec-Fetch-Site say so), or None."""
        origin = self.headers.get("Origin")
        if origin is not None:
            own = f"http://{(self.headers.get('Host') or '').strip()}"
            if not hmac.compare_digest(origin.strip().lower().encode(), own.lower().encode()):
                return (f"this request comes from another web page ({origin[:100]}); only the page of this server "
                        f"may send it.")
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site.strip().lower() not in ("same-origin", "none"):
            return (f"this request comes from another web page (Sec-Fetch-Site: {site[:40]}); only the page of this "
                    f"server may send it.")
        return None

    def _session(self) -> Session | None:
        return self.app.session(self._cookie(SESSION_COOKIE))

    def _gate(self) -> tuple[list[str], dict] | None:
        """The path's parts and query, or None after refusing the request."""
        self._cookies: list[str] = []
        self._body_read = False
        self._close = False
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if not self._host_ok():
            self._refuse(HTTPStatus.FORBIDDEN, "this server answers only on this computer (localhost).")
            return None
        if not self._token_ok(query):
            self._refuse(HTTPStatus.UNAUTHORIZED, "an access token is needed: open the address that `exitopt serve` "
                                                  "printed, with ?token=… at its end.")
            return None
        parts = [p for p in url.path.split("/") if p]
        return parts, query

    # ---- routes -------------------------------------------------------------------------------

    def do_HEAD(self) -> None:  # noqa: N802 - the base class's name
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        gate = self._gate()
        if gate is None:
            return
        parts, query = gate
        try:
            self._get(parts, query)
        except ExitoptError as e:
            self._fail(HTTPStatus.BAD_REQUEST, str(e))
        except Exception as e:  # a fault in exitopt: say so, keep serving
            self._fail(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(e).__name__}: {e}")

    def _page(self) -> None:
        """The page, with its session's token; a session is made here and nowhere else."""
        dest = self.headers.get("Sec-Fetch-Dest")
        if dest is not None and dest.strip().lower() != "document":  # an <img>, a script, a frame
            self._refuse(HTTPStatus.FORBIDDEN, "the page opens only as a page in the browser's window.")
            return
        s = self._session()
        if s is None:
            try:
                s = self.app.new_session()
            except SessionsFull:
                self._close = True
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, full_page(self.app.max_sessions), STATIC_TYPES[".html"],
                           {"Retry-After": "60"})
                return
            self._cookies.append(f"{SESSION_COOKIE}={s.id}; Path=/; HttpOnly; SameSite=Strict")
        page = self.app.static["index.html"].replace(
            SESSION_TOKEN_META, b'<meta name="exitopt-session-token" content="' + s.token.encode("ascii") + b'">')
        self._send(HTTPStatus.OK, page, STATIC_TYPES[".html"])

    def _get(self, parts: list[str], query: dict) -> None:
        if not parts or parts == ["index.html"]:
            self._page()
            return
        if parts == ["favicon.ico"]:
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            return
        if len(parts) == 2 and parts[0] == "static":
            name = parts[1]
            if name not in self.app.static or name == "index.html":  # only the package's own files, by exact name
                self._fail(HTTPStatus.NOT_FOUND, "no such file.")
                return
            self._send(HTTPStatus.OK, self.app.static[name], STATIC_TYPES[Path(name).suffix])
            return
        if parts[0] != "api":
            self._fail(HTTPStatus.NOT_FOUND, "no such page.")
            return
        foreign = self._foreign()
        if foreign:
            self._refuse(HTTPStatus.FORBIDDEN, foreign)
            return
        route = parts[1:]
        if route == ["setup"]:
            self._json(HTTPStatus.OK, self.app.setup())
            return
        s = self._session()
        if s is None:
            self._refuse(HTTPStatus.FORBIDDEN, NO_SESSION)
            return
        if route == ["state"]:
            self._json(HTTPStatus.OK, self.app.state(s))
        elif len(route) == 2 and route[0] == "plans":
            plan = s.plan(route[1])
            if plan is None:
                self._fail(HTTPStatus.NOT_FOUND, f"this session has no plan {route[1][:20]}.")
                return
            from .views import plan_view

            if plan.view is None:
                plan.view = plan_view(plan.read())
            self._json(HTTPStatus.OK, {**plan.summary(), **plan.view})
        elif len(route) == 3 and route[0] == "compare":
            a, b = s.plan(route[1]), s.plan(route[2])
            if a is None or b is None:
                self._fail(HTTPStatus.NOT_FOUND, "this session has no such plans.")
                return
            from .views import compare_view

            self._json(HTTPStatus.OK, {"a": a.id, "b": b.id, **compare_view(a.read(), b.read())})
        elif len(route) == 3 and route[0] == "download":
            plan, name = s.plan(route[1]), route[2]
            lang = (query.get("lang") or ["zh"])[0]
            if plan is None or name not in DOWNLOADS or lang not in ("zh", "en"):
                self._fail(HTTPStatus.NOT_FOUND, "no such download.")
                return
            body = self.app.download(plan, name, lang).read_bytes()
            stem = f"{self.app.base.path.stem}_plan{plan.id}"
            fname = "run.zip" if name == "run.zip" else f"{Path(name).stem}_{lang}{Path(name).suffix}"
            self._send(HTTPStatus.OK, body, DOWNLOADS[name],
                       {"Content-Disposition": f'attachment; filename="{stem}_{fname}"'})
        else:
            self._fail(HTTPStatus.NOT_FOUND, "no such request.")

    def _read_body(self) -> bytes | None:
        """The whole declared body, or None (the connection then closes unanswered) when it is cut
        short or does not arrive in time. Raises BadRequest for a body that is not read at all."""
        if self.headers.get("Transfer-Encoding"):
            raise BadRequest(HTTPStatus.LENGTH_REQUIRED, "send the request with a Content-Length, not in chunks.")
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit() or len(raw) > 12:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "the request's Content-Length is not a number of bytes.")
        length = int(raw)
        if length > MAX_BODY:
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the request is {length:,} bytes: at most "
                                                                  f"{MAX_BODY:,} are taken.")
        chunks, left = [], length
        deadline = time.monotonic() + self.app.socket_timeout
        try:
            while left > 0:
                if time.monotonic() > deadline:
                    return None
                chunk = self.rfile.read1(min(left, 1 << 16))
                if not chunk:
                    return None
                chunks.append(chunk)
                left -= len(chunk)
        except OSError:  # a timeout or a reset: the client is gone
            return None
        self._body_read = True
        return b"".join(chunks)

    def do_POST(self) -> None:  # noqa: N802
        gate = self._gate()
        if gate is None:
            return
        parts, _ = gate
        try:
            raw = self._read_body()
        except BadRequest as e:
            self._refuse(e.status, str(e))
            return
        if raw is None:  # never answer, never act on a body cut short
            self.close_connection = True
            return
        if parts not in (["api", "solve"], ["api", "cancel"]):
            self._fail(HTTPStatus.NOT_FOUND, "no such request.")
            return
        refusal = self._post_refusal()
        if refusal is not None:
            self._refuse(HTTPStatus.FORBIDDEN, refusal)
            return
        s = self._session()
        if s is None:  # dropped since the check
            self._refuse(HTTPStatus.FORBIDDEN, NO_SESSION)
            return
        try:
            body = read_json(raw)
            if not isinstance(body, dict):
                raise BadRequest(HTTPStatus.BAD_REQUEST, "send a JSON object.")
            allowed = SOLVE_KEYS if parts[1] == "solve" else set()
            unknown = sorted(str(k)[:40] for k in body if k not in allowed)
            if unknown:
                raise BadRequest(HTTPStatus.BAD_REQUEST, f"unknown key(s) {', '.join(unknown)}: a {parts[1]} request "
                                                         f"takes {', '.join(sorted(allowed)) or 'none'}.")
            if parts[1] == "solve":
                self.app.solve(s, body.get("pins"), body.get("values"), body.get("parent"), body.get("label"),
                               body.get("frontier"))
                self._json(HTTPStatus.ACCEPTED, self.app.state(s))
            else:
                cancelled = self.app.cancel(s)
                self._json(HTTPStatus.OK, {"cancelled": cancelled, **self.app.state(s)})
        except BadRequest as e:
            self._fail(e.status, str(e))
        except InputError as e:
            self._fail(HTTPStatus.BAD_REQUEST, str(e))
        except RuntimeError as e:
            self._fail(HTTPStatus.CONFLICT, str(e))
        except Exception as e:
            self._fail(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(e).__name__}: {e}")

    def _post_refusal(self) -> str | None:
        """Why a state-changing request is not the page's own, or None: it must be JSON, come from
        this server's origin, carry the session's cookie and the session's token."""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return "changes are taken only from the page itself, as JSON (Content-Type: application/json)."
        foreign = self._foreign()
        if foreign:
            return foreign
        s = self._session()
        if s is None:
            return NO_SESSION
        given = self.headers.get(SESSION_TOKEN_HEADER) or ""
        if not hmac.compare_digest(given.encode("utf-8", "replace"), s.token.encode()):
            return (f"this request lacks the page's session token ({SESSION_TOKEN_HEADER}); only the page of this "
                    f"server may send it. Reload the page.")
        return None


NO_SESSION = ("this browser has no session on this server (the page was not opened, or the server was restarted): "
              "reload the page.")


def full_page(cap: int) -> bytes:
    """The page a new visitor gets when every session holds plans of its own."""
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>exitopt</title></head><body>"
            "<h1>会商室已满 · The meeting room is full</h1>"
            f"<p>服务器上的 {cap} 个会话都保存着各自的方案,无法再开新会话。请稍后再试,或请运行 exitopt serve 的人"
            "重新启动它(先下载需要的方案)。</p>"
            f"<p>All {cap} sessions this server takes hold plans of their own, so no new one can open. Try again "
            "later, or ask whoever runs <code>exitopt serve</code> to restart it (after downloading the plans "
            "needed).</p></body></html>").encode()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: App, host: str, port: int) -> None:
        self.app = app
        self._slots = threading.BoundedSemaphore(app.max_connections)
        self.started = False  # serve_forever was called, or is about to be in a thread
        super().__init__((host, port), Handler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.started = True
        super().serve_forever(poll_interval)

    def process_request(self, request, client_address) -> None:
        """One thread per connection, at most app.max_connections: one more is told so and closed."""
        if not self._slots.acquire(blocking=False):
            body = b'{"error": "the server is busy with other connections; try again in a moment."}'
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n"
                                b"Retry-After: 5\r\n\r\n" + body)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        """A connection's fault stays with it: no traceback on the console of the meeting room."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ValueError)):
            return
        sys.stderr.write(f"exitopt serve: a request failed ({type(exc).__name__}: {exc}); still serving.\n")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else str(host)
        return f"http://{shown}:{port}/" + (f"?token={self.app.token}" if self.app.token else "")


def start(scenario: Path | str, *, host: str = "127.0.0.1", port: int = 8765, time_limit: float | None = None,
          root: Path | None = None, test_delay: float = 0.0, plans: list[Path] | None = None) -> Server:
    """Load the scenario and bind the server (not yet serving); ``plans`` are run folders every
    session lists after the baseline. InputError for a bad scenario or run folder, or an address
    that cannot be used."""
    base = Base.load(scenario)
    local = is_loopback(host)
    app = App(base, time_limit=time_limit, token=None if local else secrets.token_urlsafe(18), local=local,
              root=root, test_delay=test_delay)
    try:
        for folder in plans or []:
            app.add_plan(folder)
    except BaseException:
        app.close()
        raise
    try:
        server = Server(app, host, port)
    except OSError as e:
        app.close()
        raise InputError(f"cannot listen on {host}:{port} ({e.strerror or e}). Another program may use the "
                         f"port: choose another with --port, or --port 0 for any free one.") from None
    STANDBY.refill()
    return server


def serve_in_thread(server: Server) -> threading.Thread:
    """Serve in a background thread (tests and benchmarks); stop with ``stop(server)``."""
    server.started = True
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return t


def stop(server: Server) -> None:
    """Stop serving, end every solve and remove the sessions' folders (also when serving never
    began: Ctrl+C while the baseline is solved)."""
    if server.started:  # shutdown() waits for serve_forever, which would never come
        server.shutdown()
    server.server_close()
    server.app.close()


def wait_for_baseline(server: Server) -> str | None:
    """Solve the baseline ahead of the first visitor (so the first page shows a plan at once); the
    solve's own time limit bounds the wait. Returns why no baseline plan was found, or None."""
    s = server.app.new_session()
    server.app.wait(s)
    error = s.error
    server.app.drop(s.id)
    return error
