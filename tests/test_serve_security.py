"""`exitopt serve` against everything but its own page: raw sockets that smuggle a request in a body,
stall or flood, requests without the session's cookie or token or from another origin, values the
page does not offer, the caps on sessions and solves, the temporary folder, and — in headless
Chromium — a page on another origin that tries a form, a no-cors fetch and an image flood.

Each test that must see that no solve started counts the solve jobs the server creates.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import exitopt.serve.server as srv
from exitopt.serve import solving
from exitopt.serve.server import App, Server, clean_stale_roots, serve_in_thread, start, stop, wait_for_baseline
from test_serve import TARGET, TINY_SCENARIO, TINY_UNITS, Client

REPLY = re.compile(rb"(?m)^HTTP/1\.[01] (\d{3}) ")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    from conftest import write_scenario

    return write_scenario(tmp_path_factory.mktemp("tiny"), TINY_UNITS, TINY_SCENARIO)


@pytest.fixture(scope="module")
def tiny(scenario):
    server = start(scenario, port=0)
    server.app.socket_timeout = 1.0  # a silent connection is dropped after a second
    assert wait_for_baseline(server) is None  # every later session starts from it, no solve needed
    serve_in_thread(server)
    yield server
    stop(server)


@pytest.fixture
def jobs(monkeypatch) -> list:
    """Every solve job the server starts from now on."""
    started: list = []

    class Counted(solving.Job):
        def __init__(self, *args, **kwargs):
            started.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(srv, "Job", Counted)
    return started


def exchange(server: Server, data: bytes, *, close_write: bool = False) -> bytes:
    """Send raw bytes on one connection; everything the server sends back until it closes."""
    h, p = server.server_address[:2]
    with socket.create_connection((h, p), timeout=30) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = sock.recv(1 << 16)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out


def solve_request(server: Server, c: Client, body: bytes | None = None, *, length: int | None = None,
                  ctype: str = "application/json", extra: str = "") -> bytes:
    """A POST /api/solve that the server takes: the session's cookie and token, JSON."""
    if body is None:
        body = json.dumps({"pins": [{"unit": "M1", "action": "keep"}]}).encode()
    port = server.server_address[1]
    head = (f"POST /api/solve HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\n"
            f"Cookie: exitopt_session={c.cookie}\r\nX-Exitopt-Session-Token: {c.token}\r\n{extra}"
            f"Content-Length: {len(body) if length is None else length}\r\n\r\n")
    return head.encode() + body


def settled(server: Server, c: Client) -> dict:
    st = c.settle()
    assert st["running"] is None
    return st


# ---- what is in a body stays in it ------------------------------------------------------------


def test_a_whole_request_sent_alone_starts_a_solve(tiny, jobs):
    """The request the next tests smuggle is one the server takes when it comes as a request."""
    c = Client(tiny.url)
    settled(tiny, c)
    replies = REPLY.findall(exchange(tiny, solve_request(tiny, c)))
    assert replies == [b"202"] and len(jobs) == 1
    assert [p["id"] for p in settled(tiny, c)["plans"]] == [1, 2]


@pytest.mark.parametrize("outer", ["text/plain POST", "POST without a token", "GET with a body"])
def test_a_request_inside_a_body_is_never_taken_as_the_next_request(tiny, jobs, outer):
    c = Client(tiny.url)
    settled(tiny, c)
    inner = solve_request(tiny, c) * 3
    port = tiny.server_address[1]
    if outer == "text/plain POST":
        data = solve_request(tiny, c, inner, ctype="text/plain")
    elif outer == "POST without a token":
        data = (f"POST /api/solve HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Cookie: exitopt_session={c.cookie}\r\nContent-Length: {len(inner)}\r\n\r\n").encode() + inner
    else:
        data = (f"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: exitopt_session={c.cookie}\r\n"
                f"Content-Length: {len(inner)}\r\n\r\n").encode() + inner
    out = exchange(tiny, data)
    assert len(REPLY.findall(out)) == 1, out
    assert REPLY.findall(out) == ([b"200"] if outer.startswith("GET") else [b"403"])
    assert jobs == []
    assert [p["id"] for p in settled(tiny, c)["plans"]] == [1]


def test_an_oversized_body_is_refused_and_not_read_as_requests(tiny, jobs):
    c = Client(tiny.url)
    settled(tiny, c)
    inner = solve_request(tiny, c)
    body = inner + b" " * (srv.MAX_BODY + 1 - len(inner))
    out = exchange(tiny, solve_request(tiny, c, body))
    assert REPLY.findall(out) == [b"413"], out[:300]
    assert b"at most" in out
    assert jobs == [] and settled(tiny, c)["plans"][-1]["id"] == 1


def test_a_stalled_body_is_dropped_after_the_timeout_and_a_cut_one_never_taken(tiny, jobs):
    c = Client(tiny.url)
    settled(tiny, c)
    # declares 100 bytes, sends 2 and waits: the server closes the connection, unanswered
    assert exchange(tiny, solve_request(tiny, c, b"{}", length=100)) == b""
    # declares 100 bytes, sends 2 and closes: the 2 bytes are not a request
    assert exchange(tiny, solve_request(tiny, c, b"{}", length=100), close_write=True) == b""
    assert jobs == []
    assert settled(tiny, c)["plans"][-1]["id"] == 1


def test_connections_are_bounded_and_silent_ones_dropped(scenario, tmp_path):
    base = solving.Base.load(scenario)
    app = App(base, root=tmp_path / "root", max_connections=4, socket_timeout=1.0)
    server = Server(app, "127.0.0.1", 0)
    serve_in_thread(server)
    h, p = server.server_address[:2]
    socks = []
    try:
        before = threading.active_count()
        for _ in range(4):
            socks.append(socket.create_connection((h, p), timeout=30))
            socks[-1].sendall(b"GET /api/setup HTTP/1.1\r\n")  # and nothing more
        deadline = time.monotonic() + 30
        while threading.active_count() < before + 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        extra = [exchange(server, b"GET /api/setup HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") for _ in range(6)]
        assert all(REPLY.findall(x) == [b"503"] for x in extra), extra
        assert threading.active_count() <= before + 4
        for s in socks:  # each silent one is closed by the server, without an answer
            assert s.recv(1024) == b""
        ok = exchange(server, b"GET /api/setup HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert REPLY.findall(ok) == [b"200"]
    finally:
        for s in socks:
            s.close()
        stop(server)


# ---- JSON, bounded ----------------------------------------------------------------------------


@pytest.mark.parametrize("body, words", [
    (b"[" * 100_000 + b"]" * 100_000, "deep"),
    (b'{"values": {"' + TARGET.replace('"', '\\"').encode() + b'": ' + b"7" * 5000 + b"}}", "5,000 characters"),
    (b'{"values": {"' + TARGET.replace('"', '\\"').encode() + b'": NaN}}', "finite"),
    (b'{"values": {"' + TARGET.replace('"', '\\"').encode() + b'": 1e400}}', "finite"),
    (b'{"pins": "\xff\xfe"}', "not valid JSON"),
    (b'{"pins": [', "not valid JSON"),
])
def test_deep_nesting_and_huge_numbers_get_a_clear_400(tiny, jobs, capfd, body, words):
    c = Client(tiny.url)
    settled(tiny, c)
    out = exchange(tiny, solve_request(tiny, c, body, extra="Connection: close\r\n"))
    assert REPLY.findall(out) == [b"400"], out[:300]
    message = json.loads(out.split(b"\r\n\r\n", 1)[1])["error"]
    assert words in message
    assert jobs == []
    assert "Traceback" not in capfd.readouterr().err


# ---- only the page's own requests change anything ---------------------------------------------


def test_a_change_needs_json_the_cookie_the_session_token_and_this_origin(tiny, jobs):
    c, other = Client(tiny.url), Client(tiny.url)
    settled(tiny, c)
    own = f"http://127.0.0.1:{tiny.server_address[1]}"
    cases = {
        "no token": {"Cookie": f"exitopt_session={c.cookie}", "Content-Type": "application/json"},
        "another session's token": {"Cookie": f"exitopt_session={c.cookie}", "Content-Type": "application/json",
                                    "X-Exitopt-Session-Token": other.token},
        "no cookie": {"Content-Type": "application/json", "X-Exitopt-Session-Token": c.token},
        "text/plain": {"Cookie": f"exitopt_session={c.cookie}", "Content-Type": "text/plain",
                       "X-Exitopt-Session-Token": c.token},
    }
    good = {"Cookie": f"exitopt_session={c.cookie}", "Content-Type": "application/json",
            "X-Exitopt-Session-Token": c.token}
    cases["another origin"] = {**good, "Origin": "http://127.0.0.1:9"}
    cases["Origin null"] = {**good, "Origin": "null"}
    cases["same-site"] = {**good, "Sec-Fetch-Site": "same-site"}
    cases["cross-site"] = {**good, "Sec-Fetch-Site": "cross-site"}
    sessions = len(tiny.app.sessions)
    for what, headers in cases.items():
        status, body = post(tiny, "/api/solve", {"pins": [{"unit": "M1", "action": "keep"}]}, headers)
        assert status == 403, what
        assert "Traceback" not in body["error"] and len(body["error"]) > 30, what
    assert jobs == [] and len(tiny.app.sessions) == sessions  # and no session was made
    for extra in ({}, {"Origin": own, "Sec-Fetch-Site": "same-origin"}):
        status, body = post(tiny, "/api/cancel", {}, {**good, **extra})
        assert status == 200 and body["cancelled"] is False


def post(server: Server, path: str, body: dict, headers: dict) -> tuple[int, dict]:
    import http.client

    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    conn.request("POST", path, json.dumps(body).encode(), headers)
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    return r.status, data


def test_sessions_are_made_only_by_loading_the_page(tiny, monkeypatch):
    import exitopt.report

    built = []
    real = exitopt.report.make_report
    monkeypatch.setattr(exitopt.report, "make_report", lambda *a, **k: built.append(a) or real(*a, **k))
    n = len(tiny.app.sessions)
    bare = Client(tiny.url, open=False)
    for path in ("/api/state", "/api/plans/1", "/api/download/1/briefing.html", "/api/download/1/run.zip"):
        status, raw, _ = bare.request(path)
        assert status == 403 and b"reload the page" in raw, path
    assert bare.request("/api/cancel", {})[0] == 403
    image = Client(tiny.url, {"Sec-Fetch-Dest": "image"}, open=False)
    assert image.request("/")[0] == 403
    assert len(tiny.app.sessions) == n and built == []
    assert not list(bare.jar)  # no cookie was handed out
    Client(tiny.url)
    assert len(tiny.app.sessions) == n + 1


def test_downloads_are_built_once_and_served_from_what_was_written(tiny, monkeypatch):
    import exitopt.report

    built, zipped = [], []
    real_report, real_zip = exitopt.report.make_report, App._write_zip
    monkeypatch.setattr(exitopt.report, "make_report", lambda *a, **k: built.append(a) or real_report(*a, **k))
    monkeypatch.setattr(App, "_write_zip", lambda self, *a: zipped.append(a) or real_zip(self, *a))
    c = Client(tiny.url)
    settled(tiny, c)
    c.json("/api/solve", {"pins": [{"unit": "M2", "action": "keep"}]})
    settled(tiny, c)
    plan = tiny.app.session(c.cookie).plans[1]
    first = c.request("/api/download/2/briefing.html?lang=en")
    again = c.request("/api/download/2/briefing.html?lang=en")
    assert first[0] == again[0] == 200 and first[1] == again[1]
    written = plan.folder.with_name(f"{plan.folder.name}_report_en") / "briefing.html"
    assert written.read_bytes() == first[1]
    assert len(built) == 1
    assert c.request("/api/download/2/run.zip")[1] == c.request("/api/download/2/run.zip")[1]
    assert len(zipped) == 1


def test_a_full_server_refuses_new_sessions_and_never_drops_one_with_plans(scenario, tmp_path):
    base = solving.Base.load(scenario)
    app = App(base, root=tmp_path / "root", max_sessions=3)
    server = Server(app, "127.0.0.1", 0)
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        analysts = []
        for unit in ("M1", "M2"):
            a = Client(url)
            a.settle()
            a.json("/api/solve", {"pins": [{"unit": unit, "action": "keep"}]})
            assert len(a.settle()["plans"]) == 2
            analysts.append(a)
        for _ in range(5):  # visitors that only look: each takes the place of the one before
            Client(url).settle()
        assert len(app.sessions) == 3
        last = Client(url)
        last.settle()
        last.json("/api/solve", {"pins": [{"unit": "M3", "action": "keep"}]})
        assert len(last.settle()["plans"]) == 2
        status, raw, headers = Client(url, open=False).request("/")
        assert status == 503 and "text/html" in headers["Content-Type"] and b"full" in raw
        for a in analysts + [last]:
            assert [p["id"] for p in a.settle()["plans"]] == [1, 2]
    finally:
        stop(server)


# ---- what can be changed ----------------------------------------------------------------------


@pytest.mark.parametrize("body, words", [
    ({"values": {"solver.threads": 2}}, "not one of the numbers"),
    ({"values": {"solver.rel_gap": 0.99}}, "not one of the numbers"),
    ({"values": {"solver.time_limit": 1e6}}, "not one of the numbers"),
    ({"values": {"targets[-1].at_least": 200}}, "not one of the numbers"),
    ({"values": {"targets[3].at_least": 200}}, "not one of the numbers"),
    ({"values": {"targets[0].at_least": 200}}, "not one of the numbers"),  # the page names it by its name
    ({"values": {TARGET: 1e300}}, "finite number"),
    ({"pins": [{"unit": "M1", "action": "keep", "force": True}]}, "unknown key"),
    ({"pins": [{"unit": "M1", "action": "keep"}], "time_limit": 5}, "unknown key"),
    ({"parent": -1}, "parent"),
    ({"parent": 99}, "no plan 99"),
    ({"label": "x" * 81}, "at most 80"),
    ({"pins": [{"unit": "M1", "action": "keep", "year": 1999}]}, "outside the plan"),
])
def test_only_what_the_page_offers_can_be_changed(tiny, jobs, body, words):
    c = Client(tiny.url)
    settled(tiny, c)
    status, reply = c.json("/api/solve", body)
    assert status == 400 and words in reply["error"], reply
    assert jobs == []


def test_solves_wait_in_a_queue_beyond_the_cap(tiny, jobs):
    a, b = Client(tiny.url), Client(tiny.url)
    settled(tiny, a)
    settled(tiny, b)
    tiny.app.max_solving, tiny.app.test_delay = 1, 60.0
    try:
        assert a.json("/api/solve", {"pins": [{"unit": "M1", "action": "keep"}]})[0] == 202
        status, st = b.json("/api/solve", {"pins": [{"unit": "M2", "action": "keep"}]})
        assert status == 202 and st["running"]["stage"] == "queued" and st["running"]["position"] == 1
        assert len(jobs) == 1  # only a's runs
        tiny.app.test_delay = 0.0
        assert a.json("/api/cancel", {})[1]["cancelled"] is True
        st = b.settle()
        assert [p["id"] for p in st["plans"]] == [1, 2] and st["plans"][1]["pins"][0]["unit"] == "M2"
        assert len(jobs) == 2
        # a queued solve can be cancelled before it starts
        tiny.app.test_delay = 60.0
        a.json("/api/solve", {"pins": [{"unit": "M1", "action": "keep"}]})
        _, st = b.json("/api/solve", {"pins": [{"unit": "M3", "action": "keep"}]})
        assert st["running"]["stage"] == "queued"
        assert b.json("/api/cancel", {})[1]["cancelled"] is True
        assert b.json("/api/state")[1]["running"] is None and len(jobs) == 3
        a.json("/api/cancel", {})
    finally:
        tiny.app.max_solving, tiny.app.test_delay = srv.MAX_SOLVING, 0.0


# ---- the temporary folder ---------------------------------------------------------------------


def test_stale_folders_of_dead_servers_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for name, pid in (("exitopt-serve-dead", dead.pid), ("exitopt-serve-alive", alive.pid),
                          ("exitopt-serve-new", None)):
            (tmp_path / name / "s1").mkdir(parents=True)
            if pid is not None:
                (tmp_path / name / "server.pid").write_text(str(pid))
        (tmp_path / "other-folder").mkdir()
        (tmp_path / "other-folder" / "server.pid").write_text(str(dead.pid))
        removed = clean_stale_roots(tmp_path)
        assert removed == [tmp_path / "exitopt-serve-dead"]
        kept = sorted(p.name for p in tmp_path.iterdir())
        assert kept == ["exitopt-serve-alive", "exitopt-serve-new", "other-folder"]
    finally:
        alive.kill()
        alive.wait()


# the console command, in this venv; Ctrl+C reaches it even when the tests run where SIGINT is ignored
ENTRY = [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                               "from exitopt.cli import main; main()"]


def _serve(scenario: Path, temp: Path, until: str = "open http://") -> tuple[subprocess.Popen, Path]:
    """`exitopt serve` as a real process, its temporary folder in ``temp``; waits for the line
    holding ``until`` (by default its address)."""
    env = {**os.environ, "TMPDIR": str(temp), "TEMP": str(temp), "TMP": str(temp), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*ENTRY, "serve", str(scenario), "--no-open", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    guard = threading.Timer(120, proc.kill)  # a server that never says its address does not hang the tests
    guard.start()
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.decode(errors="replace"))
            if until in lines[-1]:
                break
        else:
            raise AssertionError("".join(lines))
    finally:
        guard.cancel()
    roots = [p for p in temp.glob("exitopt-serve-*") if (p / "server.pid").read_text() == str(proc.pid)]
    assert len(roots) == 1, list(temp.iterdir())
    return proc, roots[0]


@pytest.mark.parametrize("how, when", [(signal.SIGINT, "open http://"), (signal.SIGTERM, "open http://"),
                                       (signal.SIGINT, "solving the scenario once")])
def test_the_temporary_folder_goes_on_ctrl_c_and_sigterm(scenario, tmp_path, how, when):
    proc, root = _serve(scenario, tmp_path, when)
    proc.send_signal(how)
    rest = proc.stdout.read().decode(errors="replace")
    proc.wait(60)
    assert not root.exists()
    assert "Traceback" not in rest and "stopped" in rest


def test_a_killed_servers_folder_is_removed_by_the_next_start(scenario, tmp_path):
    proc, root = _serve(scenario, tmp_path)
    proc.kill()
    proc.wait(60)
    proc.stdout.close()
    assert root.exists()  # nothing can clean up after kill -9 ...
    second, root2 = _serve(scenario, tmp_path)
    try:
        assert not root.exists() and root2.exists()  # ... but the next start does
    finally:
        second.send_signal(signal.SIGINT)
        second.stdout.read()
        second.wait(60)
    assert not root2.exists()


# ---- a page on another origin, in a real browser ------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

ATTACK = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>cat pictures</title></head><body>
<iframe name="sink" style="display:none"></iframe>
<form id="f" method="POST" action="TARGET/api/solve" enctype="text/plain" target="sink">
<input type="hidden" name='{"pins": [{"unit": "M3", "action": "exit"}], "label": "' value='"}'>
</form>
<script>
const target = "TARGET";
const smuggled = SMUGGLED;
async function go() {
  document.getElementById("f").submit();
  try {
    await fetch(target + "/api/solve", { method: "POST", mode: "no-cors", credentials: "include",
      headers: { "Content-Type": "text/plain" }, body: smuggled.repeat(8) });
  } catch (e) {}
  const paths = ["/", "/api/state", "/api/download/2/briefing.html"];
  await new Promise((done) => {
    let left = 210;
    for (let i = 0; i < 210; i++) {
      const img = new Image();
      img.onload = img.onerror = () => { if (--left === 0) done(); };
      img.src = target + paths[i % 3] + (i % 3 ? "?n=" : "?") + i;
    }
  });
  document.title = "done";
}
go();
</script></body></html>"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_a_page_on_another_origin_cannot_drive_the_meeting_room(scenario, tmp_path, jobs, monkeypatch):
    from playwright.sync_api import sync_playwright

    import exitopt.report

    built = []
    real = exitopt.report.make_report
    monkeypatch.setattr(exitopt.report, "make_report", lambda *a, **k: built.append(a) or real(*a, **k))
    arrived = {"GET": 0, "POST": 0}
    for method in arrived:
        def counted(self, _real=getattr(srv.Handler, f"do_{method}"), _m=method):  # noqa: B008 (binds each method in turn)
            arrived[_m] += 1
            _real(self)
        monkeypatch.setattr(srv.Handler, f"do_{method}", counted)

    server = start(scenario, port=0)
    serve_in_thread(server)
    port = server.server_address[1]
    target = f"http://127.0.0.1:{port}"
    inner = json.dumps({"pins": [{"unit": "M3", "action": "exit"}]})
    smuggled = (f"POST /api/solve HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(inner)}\r\n\r\n{inner}")
    page_html = ATTACK.replace("TARGET", target).replace("SMUGGLED", json.dumps(smuggled)).encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page_html)))
            self.end_headers()
            self.wfile.write(page_html)

        def log_message(self, *args):
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            context = browser.new_context()
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            page.wait_for_selector("#fig-objective", timeout=60_000)
            page.click('button[data-unit="M1"]')
            page.select_option('select[data-unit="M1"]', "keep:")
            page.click("#solve")
            page.wait_for_selector('#plans li[data-plan="2"]', timeout=60_000)
            (session,) = server.app.sessions.values()
            cookie = next(c["value"] for c in context.cookies() if c["name"] == "exitopt_session")
            assert cookie == session.id
            solves = len(jobs)  # the baseline's and the pin's

            # the same browser opens another site's page: on this computer (same site, the cookie
            # goes along) and under another name (another site, no cookie)
            attacker = context.new_page()
            gets, posts = arrived["GET"], arrived["POST"]
            for origin in (f"http://127.0.0.1:{evil.server_address[1]}", f"http://localhost:{evil.server_address[1]}"):
                attacker.goto(origin + "/")
                attacker.wait_for_function("document.title === 'done'", timeout=60_000)
            deadline = time.monotonic() + 60  # the form's POST may still be on its way
            while arrived["POST"] < posts + 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert arrived["POST"] >= posts + 4 and arrived["GET"] >= gets + 420  # everything reached the server

            assert len(jobs) == solves  # no solve started
            assert list(server.app.sessions) == [session.id]  # no session made, none dropped
            assert [p.id for p in session.plans] == [1, 2] and session.plans[1].pins[0]["unit"] == "M1"
            assert built == []  # no report built
            assert next(c["value"] for c in context.cookies() if c["name"] == "exitopt_session") == cookie

            page.reload()
            page.wait_for_selector('#plans li[data-plan="2"]', timeout=60_000)
            assert page.locator("#plans li").count() == 2
            assert errors == []
            browser.close()
    finally:
        evil.shutdown()
        evil.server_close()
        stop(server)
