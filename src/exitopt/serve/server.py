"""The HTTP server of ``exitopt serve``: the standard library's ThreadingHTTPServer, one static page
and a small JSON API. No web framework: the tool is small, long-lived and must install anywhere.

Endpoints (every one answers JSON unless it sends a file)::

    GET  /                       the page (static/index.html); /static/<file> its script and styles
    GET  /api/setup              scenario name, years, the numbers that can change, the words (zh/en)
    GET  /api/state              this session's plans, the running solve (stage, seconds), last error
    GET  /api/plans/<id>         one plan: figures, exits by sector/product/region, units, binding rules
    GET  /api/compare/<a>/<b>    what changed from plan a to plan b
    POST /api/solve              {pins: [{unit, action, year}], values: {path: number}, parent, label}
    POST /api/cancel             end the running solve
    GET  /api/download/<id>/<f>  f = run.zip, briefing.xlsx or briefing.html (?lang=zh|en)

Each browser gets a session (a random id in a cookie); a session sees and changes only its own
plans, which live in its own folder under a temporary root. Bound to a loopback address, the
server answers only requests addressed to localhost; bound to any other address it needs an
access token on every request (``?token=``, the ``X-Exitopt-Token`` header, or the cookie the
server sets when the page is first opened with the token). Files are served only from a fixed
list: the page's static files and a plan's three downloads, made from its own run folder.
"""

from __future__ import annotations

import hmac
import io
import ipaddress
import json
import secrets
import shutil
import tempfile
import threading
import zipfile
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
TOKEN_HEADER = "X-Exitopt-Token"
MAX_BODY = 1 << 20
MAX_SESSIONS = 200
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}


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

    def summary(self) -> dict:
        rec = self.read().record
        return {"id": self.id, "label": self.label, "parent": self.parent, "pins": self.pins, "values": self.values,
                "seconds": round(self.seconds, 2), "status": rec.get("status"), "objective": rec.get("objective"),
                "jobs": rec.get("jobs"), "fiscal": rec.get("fiscal"), "units_exiting": rec.get("units_exiting")}

    def read(self):
        if self.run is None:
            from ..report import read_run

            self.run = read_run(self.folder)
        return self.run


@dataclass
class Session:
    """One browser's plans, its running solve and its last error."""

    id: str
    folder: Path
    plans: list[Plan] = field(default_factory=list)
    job: Job | None = None
    job_info: dict = field(default_factory=dict)
    error: str | None = None
    seq: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def plan(self, plan_id: str | int) -> Plan | None:
        try:
            n = int(plan_id)
        except (TypeError, ValueError):
            return None
        return next((p for p in self.plans if p.id == n), None)


class App:
    """The server's state: the loaded scenario, the sessions, where their folders live."""

    def __init__(self, base: Base, *, time_limit: float | None = None, token: str | None = None,
                 local: bool = True, root: Path | None = None, test_delay: float = 0.0) -> None:
        self.base = base
        self.time_limit = time_limit
        self.token = token
        self.local = local
        self.test_delay = test_delay
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="exitopt-serve-"))
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.template: Path | None = None  # the baseline's run folder, copied into each new session
        self.template_run = self.template_view = None
        self.static = static_files()
        self._setup = None

    # ---- sessions -----------------------------------------------------------------------------

    def new_session(self) -> Session:
        with self.lock:
            if len(self.sessions) >= MAX_SESSIONS:  # forget the oldest idle session
                for sid, s in list(self.sessions.items()):
                    if s.job is None:
                        self.drop(sid)
                        break
            sid = secrets.token_urlsafe(24)
            folder = self.root / f"s{len(self.sessions) + 1:03d}_{secrets.token_hex(4)}"
            folder.mkdir(parents=True)
            s = Session(sid, folder)
            self.sessions[sid] = s
        if self.template is not None:
            target = s.folder / "run001"
            shutil.copytree(self.template, target)
            s.seq = 1
            s.plans.append(Plan(1, "baseline", None, [], {}, target, 0.0, run=self.template_run,
                                view=self.template_view))
        else:
            self.solve(s, [], {}, None, "baseline")
        return s

    def drop(self, sid: str) -> Job | None:
        """Forget a session: end its solve (returned, to wait for) and remove its folder."""
        s = self.sessions.pop(sid, None)
        if s is None:
            return None
        job = s.job
        if job is not None:
            job.cancel()
        shutil.rmtree(s.folder, ignore_errors=True)
        return job

    def session(self, sid: str | None) -> Session | None:
        with self.lock:
            return self.sessions.get(sid) if sid else None

    # ---- solving ------------------------------------------------------------------------------

    def solve(self, s: Session, pins_raw: Any, values_raw: Any, parent: Any, label: Any) -> None:
        """Start a solve of the scenario with these pins and numbers; InputError when they are wrong,
        RuntimeError when the session is solving already."""
        pins = parse_pins(pins_raw)
        values = parse_values(values_raw)
        self.base.check(pins, values)
        with s.lock:
            if s.job is not None:
                raise RuntimeError("a solve is running already; wait for it or cancel it first.")
            s.seq += 1
            folder = s.folder / f"run{s.seq:03d}"
            parent_id = parent if isinstance(parent, int) and s.plan(parent) is not None else (
                s.plans[-1].id if s.plans else None)
            info = {"label": str(label or "")[:80], "parent": parent_id,
                    "pins": [{"unit": p.unit, "action": p.action, "year": p.year} for p in pins], "values": values}
            s.error = None
            s.job_info = info
            s.job = Job(self.base, pins, values, folder, time_limit=self.time_limit, delay=self.test_delay,
                        on_end=lambda job: self._ended(s, job))

    def _ended(self, s: Session, job: Job) -> None:
        with s.lock:
            info = s.job_info
            if job.state == "done":
                n = max((p.id for p in s.plans), default=0) + 1
                label = info["label"] or ("baseline" if n == 1 else "")
                s.plans.append(Plan(n, label, info["parent"], info["pins"], info["values"], job.folder, job.seconds))
                if n == 1 and not info["pins"] and not info["values"] and self.template is None:
                    template = self.root / "baseline"
                    shutil.copytree(job.folder, template, dirs_exist_ok=True)
                    self._share_baseline(s.plans[-1], template)
            elif job.state == "cancelled":
                s.error = None
            else:
                s.error = (job.error or {}).get("message", "the solve failed.")
            s.job = None

    def _share_baseline(self, plan: Plan, template: Path) -> None:
        """Keep the baseline (read and its view made once) for every later session: tables never change."""
        from .views import plan_view

        run = plan.read()
        self.template_run, self.template_view = run, plan_view(run)
        plan.view = self.template_view
        self.template = template

    def cancel(self, s: Session) -> bool:
        with s.lock:
            job = s.job
        if job is None:
            return False
        job.cancel()
        job.wait(30)
        return True

    def state(self, s: Session) -> dict:
        with s.lock:
            job = s.job
            running = None
            if job is not None:
                running = {"stage": job.stage, "seconds": round(job.seconds, 1), **s.job_info}
            return {"plans": [p.summary() for p in s.plans], "running": running, "error": s.error}

    def setup(self) -> dict:
        if self._setup is None:
            from .views import words

            scen = self.base.inst.scenario
            units = self.base.inst.units
            self._setup = {
                "scenario": scen.name, "description": scen.description, "file": self.base.path.name,
                "years": scen.years, "numbers": [a.as_dict() for a in self.base.numbers], "words": words(),
                "units": len(units), "time_limit": self.time_limit or scen.solver.time_limit,
            }
        return self._setup

    # ---- downloads ----------------------------------------------------------------------------

    def download(self, s: Session, plan: Plan, name: str, lang: str) -> bytes:
        """The bytes of one of a plan's downloads (DOWNLOADS), made from its own run folder."""
        if name == "run.zip":
            buf = io.BytesIO()
            stem = f"{self.base.path.stem}_plan{plan.id}"
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(plan.folder.iterdir()):
                    if f.is_file():
                        z.write(f, f"{stem}/{f.name}")
            return buf.getvalue()
        from ..report import make_report

        target = plan.folder.with_name(f"{plan.folder.name}_report_{lang}")
        with s.lock:
            if not (target / name).exists():
                make_report(plan.folder, lang, target, force=True)
        return (target / name).read_bytes()

    def close(self) -> None:
        jobs = [self.drop(sid) for sid in list(self.sessions)]
        for job in jobs:
            if job is not None:
                job.wait(30)
        STANDBY.close()
        shutil.rmtree(self.root, ignore_errors=True)


class Handler(BaseHTTPRequestHandler):
    """One request: check where it comes from and its token, find its session, route it."""

    server_version = "exitopt"
    protocol_version = "HTTP/1.1"

    @property
    def app(self) -> App:
        return self.server.app  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the console shows only the address and errors

    # ---- replies ------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                         "frame-ancestors 'none'")
        self.send_header("Cache-Control", "no-store")
        for c in self._cookies:
            self.send_header("Set-Cookie", c)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"),
                   "application/json; charset=utf-8")

    def _fail(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

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

    def _session(self, create: bool) -> Session | None:
        s = self.app.session(self._cookie(SESSION_COOKIE))
        if s is None and create:
            s = self.app.new_session()
            self._cookies.append(f"{SESSION_COOKIE}={s.id}; Path=/; HttpOnly; SameSite=Strict")
        return s

    def _gate(self) -> tuple[list[str], dict] | None:
        """The path's parts and query, or None after refusing the request."""
        self._cookies: list[str] = []
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if not self._host_ok():
            self._fail(HTTPStatus.FORBIDDEN, "this server answers only on this computer (localhost).")
            return None
        if not self._token_ok(query):
            self._fail(HTTPStatus.UNAUTHORIZED, "an access token is needed: open the address that `exitopt serve` "
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

    def _get(self, parts: list[str], query: dict) -> None:
        if not parts or parts == ["index.html"]:
            self._session(create=True)
            self._send(HTTPStatus.OK, self.app.static["index.html"], STATIC_TYPES[".html"])
            return
        if parts == ["favicon.ico"]:
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            return
        if len(parts) == 2 and parts[0] == "static":
            name = parts[1]
            if name not in self.app.static:  # only the package's own files, by exact name
                self._fail(HTTPStatus.NOT_FOUND, "no such file.")
                return
            self._send(HTTPStatus.OK, self.app.static[name], STATIC_TYPES[Path(name).suffix])
            return
        if parts[0] != "api":
            self._fail(HTTPStatus.NOT_FOUND, "no such page.")
            return
        route = parts[1:]
        if route == ["setup"]:
            self._json(HTTPStatus.OK, self.app.setup())
            return
        s = self._session(create=True)
        if route == ["state"]:
            self._json(HTTPStatus.OK, self.app.state(s))
        elif len(route) == 2 and route[0] == "plans":
            plan = s.plan(route[1])
            if plan is None:
                self._fail(HTTPStatus.NOT_FOUND, f"this session has no plan {route[1]}.")
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
            body = self.app.download(s, plan, name, lang)
            stem = f"{self.app.base.path.stem}_plan{plan.id}"
            fname = "run.zip" if name == "run.zip" else f"{Path(name).stem}_{lang}{Path(name).suffix}"
            self._send(HTTPStatus.OK, body, DOWNLOADS[name],
                       {"Content-Disposition": f'attachment; filename="{stem}_{fname}"'})
        else:
            self._fail(HTTPStatus.NOT_FOUND, "no such request.")

    def do_POST(self) -> None:  # noqa: N802
        gate = self._gate()
        if gate is None:
            return
        parts, _ = gate
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if ctype != "application/json" or not 0 <= length <= MAX_BODY:
            self._fail(HTTPStatus.BAD_REQUEST, "send JSON (Content-Type: application/json), at most 1 MB.")
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._fail(HTTPStatus.BAD_REQUEST, "the request is not valid JSON.")
            return
        if not isinstance(body, dict):
            self._fail(HTTPStatus.BAD_REQUEST, "send a JSON object.")
            return
        s = self._session(create=True)
        try:
            if parts == ["api", "solve"]:
                self.app.solve(s, body.get("pins"), body.get("values"), body.get("parent"), body.get("label"))
                self._json(HTTPStatus.ACCEPTED, self.app.state(s))
            elif parts == ["api", "cancel"]:
                cancelled = self.app.cancel(s)
                self._json(HTTPStatus.OK, {"cancelled": cancelled, **self.app.state(s)})
            else:
                self._fail(HTTPStatus.NOT_FOUND, "no such request.")
        except InputError as e:
            self._fail(HTTPStatus.BAD_REQUEST, str(e))
        except RuntimeError as e:
            self._fail(HTTPStatus.CONFLICT, str(e))
        except Exception as e:
            self._fail(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(e).__name__}: {e}")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: App, host: str, port: int) -> None:
        self.app = app
        super().__init__((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"http://{shown}:{port}/" + (f"?token={self.app.token}" if self.app.token else "")


def start(scenario: Path | str, *, host: str = "127.0.0.1", port: int = 8765, time_limit: float | None = None,
          root: Path | None = None, test_delay: float = 0.0) -> Server:
    """Load the scenario and bind the server (not yet serving). InputError for a bad scenario or
    an address that cannot be used."""
    base = Base.load(scenario)
    local = is_loopback(host)
    app = App(base, time_limit=time_limit, token=None if local else secrets.token_urlsafe(18), local=local,
              root=root, test_delay=test_delay)
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
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return t


def stop(server: Server) -> None:
    """Stop serving, end every solve and remove the sessions' folders."""
    server.shutdown()
    server.server_close()
    server.app.close()


def wait_for_baseline(server: Server) -> str | None:
    """Solve the baseline ahead of the first visitor (so the first page shows a plan at once); the
    solve's own time limit bounds the wait. Returns why no baseline plan was found, or None."""
    s = server.app.new_session()
    job = s.job
    if job is not None:
        job.wait()
    error = s.error
    server.app.drop(s.id)
    return error
