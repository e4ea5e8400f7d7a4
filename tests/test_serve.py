"""`exitopt serve`: the JSON API on a tiny scenario, and the page in headless Chromium on Gansu.

The tiny scenario has three coal mines of 100 万吨/yr with 10, 20 and 30 workers and a coal target
of 100 by 2018; with no other cost, the objective is the number of workers displaced, so the
optimum exits M1 (10), keeping M1 exits M2 (20) and a target of 200 exits M1 and M2 (30) — by hand.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from exitopt.serve import solving
from exitopt.serve.server import App, Server, serve_in_thread, start, stop, wait_for_baseline

TINY_UNITS = [dict(unit_id="M1", workers=10), dict(unit_id="M2", workers=20), dict(unit_id="M3", workers=30)]
TINY_SCENARIO = {"targets": [{"name": "coal 100", "product": "coal", "by": 2018, "at_least": 100.0}]}
TARGET = 'targets[name="coal 100"].at_least'


SESSION_TOKEN = re.compile(rb'<meta name="exitopt-session-token" content="([^"]+)">')


class Client:
    """A browser stand-in: its own cookies (so its own session), JSON in and out. Like the page, it
    opens the page first (``open``: its session and the token written into it) and sends that token
    with every change."""

    def __init__(self, base_url: str, headers: dict | None = None, *, open: bool = True) -> None:
        self.base = base_url.split("?")[0].rstrip("/")
        self.headers = headers or {}
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token: str | None = None
        if open:
            self.open()

    def open(self) -> bytes:
        status, raw, _ = self.request("/")
        assert status == 200, raw
        self.token = SESSION_TOKEN.search(raw).group(1).decode()
        return raw

    @property
    def cookie(self) -> str:
        return next(c.value for c in self.jar if c.name == "exitopt_session")

    def request(self, path: str, body: dict | None = None) -> tuple[int, bytes, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=dict(self.headers))
        if data is not None:
            req.add_header("Content-Type", "application/json")
            if self.token is not None:
                req.add_header("X-Exitopt-Session-Token", self.token)
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def json(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        status, raw, _ = self.request(path, body)
        return status, json.loads(raw)

    def settle(self, timeout: float = 60) -> dict:
        """The session's state once no solve runs."""
        deadline = time.monotonic() + timeout
        while True:
            _, st = self.json("/api/state")
            if st["running"] is None or time.monotonic() > deadline:
                return st
            time.sleep(0.1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from conftest import write_scenario

    folder = tmp_path_factory.mktemp("tiny")
    path = write_scenario(folder, TINY_UNITS, TINY_SCENARIO)
    server = start(path, port=0)
    serve_in_thread(server)
    yield server
    stop(server)


def _raw_get(server: Server, path: str, host: str | None = None, cookie: str | None = None) -> int:
    """GET with the path sent exactly as written (no client-side clean-up of '..')."""
    h, p = server.server_address[:2]
    conn = http.client.HTTPConnection(h, p, timeout=30)
    conn.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        conn.putheader("Host", host)
    if cookie is not None:
        conn.putheader("Cookie", f"exitopt_session={cookie}")
    conn.endheaders()
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status


def test_baseline_pin_and_number_change_the_plan_and_the_change_is_reported(tiny):
    c = Client(tiny.url)
    st = c.settle()
    assert [p["id"] for p in st["plans"]] == [1]
    assert st["plans"][0]["objective"] == pytest.approx(10.0, abs=1e-6)  # M1 exits: 10 workers

    status, st = c.json("/api/solve", {"pins": [{"unit": "M1", "action": "keep"}], "values": {}, "parent": 1})
    assert status == 202 and st["running"] is not None
    st = c.settle()
    assert st["error"] is None
    assert [p["id"] for p in st["plans"]] == [1, 2]
    assert st["plans"][1]["objective"] == pytest.approx(20.0, abs=1e-6)  # M2 instead
    _, plan = c.json("/api/plans/2")
    exits = {u["unit_id"]: u["exit_year"] for u in plan["units"]}
    assert exits["M1"] is None and exits["M2"] is not None and exits["M3"] is None
    assert plan["pins"] == [{"unit": "M1", "action": "keep", "year": None}]

    _, cmp = c.json("/api/compare/1/2")
    changes = {u["unit_id"]: u["change"] for u in cmp["units"]}
    assert changes == {"M1": "exits only in A", "M2": "exits only in B"}
    fig = {f["figure"]: f["change"] for f in cmp["figures"]}
    assert fig["objective"] == pytest.approx(10.0, abs=1e-6) and fig["jobs"] == pytest.approx(10.0, abs=1e-6)

    status, st = c.json("/api/solve", {"pins": [], "values": {TARGET: 200}, "parent": 1})
    assert status == 202
    st = c.settle()
    assert st["plans"][2]["objective"] == pytest.approx(30.0, abs=1e-6)  # M1 and M2
    assert st["plans"][2]["values"] == {TARGET: 200}


def test_bad_requests_are_refused_with_a_plain_message(tiny):
    c = Client(tiny.url)
    c.settle()
    status, body = c.json("/api/solve", {"values": {"targets[name=\"nope\"].at_least": 5}})
    assert status == 400 and "nope" in body["error"]
    status, body = c.json("/api/solve", {"pins": [{"unit": "XX", "action": "keep"}]})
    assert status == 400 and "XX" in body["error"] and "not in the unit table" in body["error"]
    status, body = c.json("/api/solve", {"values": {TARGET: -5}})
    assert status == 400 and "invalid" in body["error"]
    assert c.settle()["running"] is None  # nothing was started


def test_a_change_that_leaves_no_plan_reports_the_diagnosis_and_keeps_the_plans(tiny):
    c = Client(tiny.url)
    c.settle()
    status, _ = c.json("/api/solve", {"values": {TARGET: 400}})  # 300 万吨/yr exist in all
    assert status == 202
    st = c.settle()
    assert [p["id"] for p in st["plans"]] == [1]
    assert "coal 100" in st["error"]  # the diagnosis names the rule that cannot be met


def test_a_scenario_without_a_plan_still_opens_and_says_why(tmp_path):
    from conftest import write_scenario

    targets = [{"name": "coal 400", "product": "coal", "by": 2018, "at_least": 400.0}]  # 300 exist
    server = start(write_scenario(tmp_path, TINY_UNITS, {"targets": targets}), port=0)
    serve_in_thread(server)
    try:
        assert "coal 400" in wait_for_baseline(server)
        c = Client(server.url)
        st = c.settle()
        assert st["plans"] == [] and "coal 400" in st["error"]
        c.json("/api/solve", {"values": {'targets[name="coal 400"].at_least': 250}})
        st = c.settle()
        assert [p["objective"] for p in st["plans"]] == [pytest.approx(60.0, abs=1e-6)]  # all three: 10+20+30
    finally:
        stop(server)


def test_two_sessions_do_not_see_each_other(tiny):
    a, b = Client(tiny.url), Client(tiny.url)
    a.settle()
    b.settle()
    a.json("/api/solve", {"pins": [{"unit": "M1", "action": "keep"}], "values": {}})
    st_a = a.settle()
    st_b = b.settle()
    assert len(st_a["plans"]) == 2 and len(st_b["plans"]) == 1
    assert b.json("/api/plans/2")[0] == 404
    assert b.request("/api/download/2/run.zip")[0] == 404
    assert b.json("/api/compare/1/2")[0] == 404
    assert a.json("/api/plans/2")[0] == 200
    sessions = tiny.app.sessions.values()
    assert len({s.folder for s in sessions}) == len(sessions)  # one folder each


def test_run_folder_downloads_as_a_zip(tiny):
    c = Client(tiny.url)
    c.settle()
    status, raw, headers = c.request("/api/download/1/run.zip")
    assert status == 200 and headers["Content-Type"] == "application/zip", raw
    names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
    assert {Path(n).name for n in names} >= {"schedule.csv", "summary.csv", "constraints.csv", "run.json"}
    record = json.loads(zipfile.ZipFile(io.BytesIO(raw)).read(next(n for n in names if n.endswith("run.json"))))
    assert record["objective"] == pytest.approx(10.0, abs=1e-6)


@pytest.mark.parametrize("path", [
    "/static/../server.py", "/static/..%2fserver.py", "/static/%2e%2e/%2e%2e/scenario.toml", "/../scenario.toml",
    "/static/units.csv", "/api/download/1/schedule.csv", "/api/download/1/..%2f..%2fscenario.toml",
    "/api/download/1/../../../scenario.toml", "/etc/passwd", "/api/download/1/run.zip?lang=../../x",
])
def test_no_file_outside_the_page_and_the_downloads_is_served(tiny, path):
    c = Client(tiny.url)
    c.settle()
    assert _raw_get(tiny, path, cookie=c.cookie) in (400, 404)


def test_the_page_and_its_files_are_served(tiny):
    c = Client(tiny.url)
    status, raw, headers = c.request("/")
    assert status == 200 and b"/static/app.js" in raw
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for name in ("app.js", "app.css"):
        assert c.request(f"/static/{name}")[0] == 200


def test_a_local_server_refuses_requests_for_another_host_name(tiny):
    assert _raw_get(tiny, "/api/setup", host="attacker.example:80") == 403
    assert _raw_get(tiny, "/api/setup", host=f"localhost:{tiny.server_address[1]}") == 200


def test_cancel_ends_a_solve_and_leaves_no_plan(tiny):
    c = Client(tiny.url)
    c.settle()
    tiny.app.test_delay = 60.0  # the solve process waits a minute before it starts
    try:
        c.json("/api/solve", {"pins": [{"unit": "M1", "action": "keep"}]})
        _, st = c.json("/api/state")
        assert st["running"] is not None
        s = next(s for s in tiny.app.sessions.values() if s.job is not None)
        proc, folder = s.job.proc, s.job.folder
        started = time.monotonic()
        status, body = c.json("/api/cancel", {})
        assert status == 200 and body["cancelled"] is True and body["running"] is None
        assert time.monotonic() - started < 10
        assert not proc.is_alive()
        assert not folder.exists()
        assert [p["id"] for p in c.json("/api/state")[1]["plans"]] == [1]
        assert c.json("/api/cancel", {})[1]["cancelled"] is False  # nothing left to cancel
    finally:
        tiny.app.test_delay = 0.0


def test_served_to_the_network_every_request_needs_the_token(tiny):
    base = solving.Base.load(Path(tiny.app.base.path))
    app = App(base, token="s3cret-token", local=False)
    server = Server(app, "127.0.0.1", 0)  # bound locally, but behaving as when served to others
    serve_in_thread(server)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        for path in ("/", "/api/setup", "/api/state", "/static/app.js", "/api/download/1/run.zip"):
            assert Client(url, open=False).request(path)[0] == 401
        assert Client(url, {"X-Exitopt-Token": "wrong"}, open=False).request("/api/setup")[0] == 401
        assert Client(url, {"X-Exitopt-Token": "s3cret-token"}, open=False).request("/api/setup")[0] == 200
        browser = Client(url, open=False)
        assert browser.request("/?token=s3cret-token")[0] == 200
        assert browser.request("/static/app.js")[0] == 200  # the cookie set with the page carries the token
        assert _raw_get(server, "/api/setup", host="192.0.2.7:8765") == 401  # any host name, but a token
    finally:
        stop(server)


def test_serve_command_refuses_a_bad_scenario(tmp_path):
    from typer.testing import CliRunner

    from exitopt.cli import app

    result = CliRunner().invoke(app, ["serve", str(tmp_path / "missing.toml"), "--no-open", "--port", "0"])
    assert result.exit_code == 2
    assert "missing.toml" in result.output and "Traceback" not in result.output


def test_adjustable_numbers_are_listed_from_the_scenario_and_apply():
    from conftest import GANSU
    from exitopt.inputs import load

    inst = load(GANSU)
    nums = {a.path: a for a in solving.adjustable(inst.scenario)}
    assert nums['targets[name="coal exit 1,000"].at_least'].value == 1000.0
    assert nums['replacement[product="clinker"].ratio'].value == 1.25
    assert nums['concentration[name="cement concentration 85 %"].share'].value == 0.85
    assert nums["caps.budget.2018"].value is None  # not set in the file: offered, empty
    assert nums["objective.jobs_weight"].value == 10.0
    assert not any(p.startswith(("solver", "packages", "mandatory", "first_year")) for p in nums)
    # every listed number set to its own value, and the budgets (unset) to 1e9: only the budgets change
    values = {p: a.value for p, a in nums.items() if a.value is not None}
    values.update({f"caps.budget.{y}": 1e9 for y in inst.scenario.years})
    changed = solving.variant(inst, [], values)
    assert changed.scenario == inst.scenario.model_copy(update={"caps": changed.scenario.caps})
    assert changed.scenario.caps.budget == {y: 1e9 for y in inst.scenario.years}


# ---- the page in a real browser --------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def checked_objective(inst, folder: Path) -> float:
    """The objective at which the plan checker prices the plan of a run folder (which it must accept)."""
    from exitopt.check import check_plan, read_plan, read_project_approvals

    checked = check_plan(inst, read_plan(folder / "schedule.csv", inst),
                         read_project_approvals(folder / "new_capacity.csv", inst))
    assert checked.ok, [v.message for v in checked.violations]
    return checked.objective


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_page_in_chromium_pin_solve_download_cancel(tmp_path):
    from openpyxl import load_workbook
    from playwright.sync_api import expect, sync_playwright

    from conftest import GANSU
    from exitopt.engine import Pin, apply
    from exitopt.inputs import load

    server = start(GANSU, port=0)
    serve_in_thread(server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(accept_downloads=True, viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            page.wait_for_selector("#fig-objective", timeout=120_000)
            page.click("#lang-en")  # once the page is set up: its buttons answer from then on
            page.wait_for_selector('html[lang="en"]')
            base_objective = float(page.text_content("#fig-objective").replace(",", ""))
            # the page shows, to 0.1, the objective at which the plan checker prices the plan it holds
            (session,) = server.app.sessions.values()
            inst = load(GANSU)
            assert base_objective == pytest.approx(checked_objective(inst, session.plans[0].folder), abs=0.051)

            # pin a chosen mine to stay, from the units table, and solve
            page.fill("#search", "COAL-S018")
            assert page.text_content('tr[data-unit="COAL-S018"] td:nth-child(8)').strip() == "2016"
            page.click('button[data-unit="COAL-S018"]')
            page.select_option('select[data-unit="COAL-S018"]', "keep:")
            assert "COAL-S018" in page.text_content("#draft")
            page.click("#solve")
            page.wait_for_selector("#progress:not([hidden])")
            page.wait_for_selector('#plans li[data-plan="2"]', timeout=120_000)
            page.wait_for_selector("#changed-units")
            new_objective = float(page.text_content("#fig-objective").replace(",", ""))
            # the new plan keeps COAL-S018: a plan of the scenario with that unit protected
            pinned = apply(inst, [Pin("COAL-S018", "keep")])
            assert new_objective == pytest.approx(checked_objective(pinned, session.plans[1].folder), abs=0.051)
            assert new_objective > base_objective  # a pin can only cost
            change = page.text_content('td[data-fig="objective"]')
            assert change.startswith("+") and float(change[1:].replace(",", "")) == pytest.approx(
                new_objective - base_objective, abs=0.11)
            assert "COAL-S018" in page.text_content("#changed-units")
            assert page.text_content('tr[data-unit="COAL-S018"] td:nth-child(8)').strip() == ""

            # download the workbook of the new plan
            with page.expect_download() as dl:
                page.click("#dl-xlsx")
            saved = tmp_path / "plan2.xlsx"
            dl.value.save_as(saved)
            wb = load_workbook(saved, read_only=True)
            assert "overview" in wb.sheetnames and "schedule" in wb.sheetnames

            # a long solve shows its seconds and can be cancelled
            server.app.test_delay = 60.0
            page.fill('input[data-path="targets[name=\\"coal exit 1,000\\"].at_least"]', "1100")
            page.dispatch_event('input[data-path="targets[name=\\"coal exit 1,000\\"].at_least"]', "change")
            page.click("#solve")
            page.wait_for_selector("#progress:not([hidden])")
            expect(page.locator("#progress-text")).to_have_text(re.compile(r"[1-9][.0-9]* s"), timeout=15_000)
            page.click("#cancel")
            page.wait_for_selector("#progress", state="hidden", timeout=15_000)
            assert page.locator("#plans li").count() == 2
            assert not page.is_disabled("#solve")
            assert errors == []
            browser.close()
    finally:
        stop(server)
        shutil.rmtree(tmp_path, ignore_errors=True)


# ---- what the page is told: the moves of each unit, the rules that bind, the baseline's time ---------

ALL_PINS = [("keep", None), ("exit", None)] + [(a, y) for a in ("exit", "keep") for y in (2016, 2017, 2018)]


def offered(moves: dict, unit: str, years: list[int]) -> set[tuple[str, int | None]]:
    """The pins the page's menu offers a unit, by the rule the page follows (static/app.js pinOptions):
    keep when the unit may stay, exit in each year it may exit in, keep through a year when it
    could still exit after it."""
    m = moves.get(unit, {"years": years, "keep": True})
    out = {("keep", None)} if m["keep"] else set()
    if m["years"]:
        out.add(("exit", None))
    out |= {("exit", y) for y in m["years"]}
    out |= {("keep", y) for y in years[:-1] if any(x > y for x in m["years"])}
    return out


def test_the_page_is_told_which_pins_each_unit_can_take(tmp_path):
    from conftest import write_scenario
    from exitopt.errors import ExitoptError, InputError
    from exitopt.pins import Pin
    from exitopt.solve import solve_instance

    units = [dict(unit_id="FREE"), dict(unit_id="PROT"), dict(unit_id="MAND"),
             dict(unit_id="LATE", exit_years="2017-2018"), dict(unit_id="P1"), dict(unit_id="P2", exit_years="2016;2018")]
    scenario = {"protected": [{"name": "kept", "where": {"all": [["unit_id", "==", "PROT"]]}}],
                "mandatory": [{"name": "must go", "by": 2017, "where": {"all": [["unit_id", "==", "MAND"]]}}],
                "packages": [{"name": "pair", "required": True, "by": 2018,
                              "close": {"all": [["unit_id", "startswith", "P"], ["unit_id", "!=", "PROT"]]}}]}
    base = solving.Base.load(write_scenario(tmp_path, units, scenario))
    moves = base.moves()
    years = base.inst.scenario.years
    assert "FREE" not in moves  # free in every year: nothing to say
    assert moves["PROT"] == {"years": [], "keep": True, "why": [["protected", "kept", None]]}
    assert moves["MAND"] == {"years": [2016, 2017], "keep": False, "why": [["mandatory", "must go", 2017]]}
    assert moves["LATE"] == {"years": [2017, 2018], "keep": True, "why": [["years", None, None]]}
    # a package's members exit together: only in the years every member may, and a required one must
    assert moves["P1"]["years"] == moves["P2"]["years"] == [2016, 2018]
    assert moves["P1"]["keep"] is False and moves["P1"]["why"][0] == ["package_required", "pair", 2018]

    # every pin the menu leaves out is refused: by the check before any solve, or by the solve
    refused_by_solve = []
    for unit in ("FREE", "PROT", "MAND", "LATE"):
        menu = offered(moves, unit, years)
        for action, year in ALL_PINS:
            try:
                base.check([Pin(unit, action, year)], {})
                accepted = True
            except InputError:
                accepted = False
            if (action, year) in menu:
                assert accepted, (unit, action, year)
            elif action == "keep" and year is not None:  # left out: no exit year after it, the same as keep
                assert not any(x > year for x in moves.get(unit, {"years": years})["years"]), (unit, year)
            elif accepted:  # past the check, the solve itself finds no plan
                with pytest.raises(ExitoptError):
                    solve_instance(solving.variant(base.inst, [Pin(unit, action, year)], {}))
                refused_by_solve.append((unit, action, year))
    assert refused_by_solve == [("MAND", "exit", 2018)]  # after its deadline: the check lets it pass
    assert ("exit", None) not in offered(moves, "PROT", years) and ("keep", None) not in offered(moves, "MAND", years)
    assert ("exit", 2016) not in offered(moves, "LATE", years) and ("exit", 2018) not in offered(moves, "MAND", years)


def test_the_moves_reach_the_page_in_its_setup(tiny):
    c = Client(tiny.url)
    _, setup = c.json("/api/setup")
    assert setup["moves"] == tiny.app.base.moves()


def test_rules_with_nothing_to_do_and_exits_required_are_set_apart_from_the_binding_ones():
    import pandas as pd

    from exitopt.serve.views import binding_groups

    rows = [  # rule, name, year, product, required, achieved, binding, marginal_cost, unit
        ("target", "coal 100", 2018, "coal", 100.0, 100.0, True, 0.0, "万吨/yr"),
        ("target", "steel 50", 2018, "crude_steel", 50.0, 50.0, True, 12.5, "万吨/yr"),
        ("replacement", "coal 1.2:1", 2017, "coal", 0.0, 0.0, True, 0.0, "万吨/yr"),
        ("replacement", "coal 1.2:1", 2018, "coal", 0.0, 0.0, True, None, "万吨/yr"),
        ("mandatory", "accidents: M1", 2016, "coal", 1.0, 1.0, True, 0.0, "unit"),
        ("mandatory", "accidents: M2", 2016, "coal", 1.0, 1.0, True, 0.0, "unit"),
        ("target", "cement 10", 2018, "clinker", 10.0, 30.0, False, 0.0, "万吨/yr"),
    ]
    cols = ["rule", "name", "year", "product", "required", "achieved", "binding", "marginal_cost", "unit"]
    c = pd.DataFrame(rows, columns=cols).assign(sense="at least")
    g = binding_groups(c)
    assert [(r["name"], r["priced"]) for r in g["binding"]] == [("coal 100", False), ("steel 50", True)]
    assert g["idle"] == [{"rule": "replacement", "name": "coal 1.2:1", "product": "coal", "years": [2017, 2018],
                          "count": 2}]
    assert g["required"] == [{"rule": "mandatory", "name": "accidents", "product": "coal", "years": [2016],
                              "count": 2}]


def test_the_baseline_lists_the_time_its_solve_took(tmp_path):
    from conftest import write_scenario

    server = start(write_scenario(tmp_path, TINY_UNITS, TINY_SCENARIO), port=0)
    serve_in_thread(server)
    try:
        assert wait_for_baseline(server) is None  # solved ahead of the first visitor, shared after
        c = Client(server.url)
        (plan,) = c.settle()["plans"]
        record = json.loads((server.app.template / "run.json").read_text(encoding="utf-8"))
        assert plan["seconds"] > 0 and plan["seconds"] == round(server.app.template_seconds, 2)
        assert plan["seconds"] >= round(record["seconds"]["solve"], 2)  # the room's wait includes the solve
    finally:
        stop(server)


def _values(page, selector: str, attr: str = "data-value") -> list[float]:
    return [float(v) for v in page.eval_on_selector_all(selector, f"els => els.map(e => e.getAttribute('{attr}'))")]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_page_in_chromium_charts_pin_menus_rules_and_a_narrow_screen(tmp_path):
    from playwright.sync_api import sync_playwright

    from conftest import GANSU
    from exitopt.report import read_run

    server = start(GANSU, port=0)
    serve_in_thread(server)
    shots = tmp_path / "shots"
    shots.mkdir()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.add_init_script("localStorage.setItem('exitopt-lang', 'en')")  # the page opens in English
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            page.wait_for_selector("#chart-exits svg rect", timeout=120_000)
            (session,) = server.app.sessions.values()
            base = read_run(session.plans[0].folder)

            # exits by year and product: one bar piece per product and year, as the schedule sums them,
            # each as tall as its capacity on one scale
            ex = base.exiting.groupby(["product", "exit_year"])["capacity"].sum()
            pieces = page.eval_on_selector_all("#chart-exits rect", "els => els.map(e => [e.dataset.product, "
                                               "Number(e.dataset.year), Number(e.dataset.value), e.getBBox().height])")
            assert {(k, y): v for k, y, v, _ in pieces} == pytest.approx({(k, int(y)): v for (k, y), v in ex.items()})
            scale = {round(h / v, 3) for _, _, v, h in pieces if h > 2}
            assert max(scale) - min(scale) < 0.01 * max(scale)

            # the pin menus offer only what each unit can do
            def menu(unit: str) -> list[str]:
                page.fill("#search", unit)
                page.click(f'button[data-unit="{unit}"]')
                values = page.eval_on_selector_all(f'select[data-unit="{unit}"] option', "os => os.map(o => o.value)")
                return [v for v in values if v != "why"]

            assert menu("COAL-M1839") == ["", "keep:"]  # protected: no exit
            assert "large modern mines kept" in page.text_content('select[data-unit="COAL-M1839"] option.why')
            assert menu("COAL-S009") == ["", "exit:", "exit:2016"]  # must exit by 2016: no keep, no later year
            assert "mines in protected areas" in page.text_content('select[data-unit="COAL-S009"] option.why')
            s007 = menu("COAL-S007")  # exit_years 2018–2020
            assert "keep:" in s007 and "exit:2018" in s007 and not {"exit:2016", "exit:2017"} & set(s007)
            assert menu("COAL-S018")[:3] == ["", "keep:", "exit:"] and "exit:2016" in menu("COAL-S018")
            page.fill("#search", "")

            # the rules that bind: none shows a marginal cost of 0.00; the coal replacement rule, with no
            # new coal capacity, is said to have nothing to replace; the mandatory exits are counted
            marginal = page.eval_on_selector_all("#binding tbody td:nth-child(8)", "ts => ts.map(t => t.textContent)")
            assert marginal and "0.00" not in marginal and set(marginal) == {"not priced"}  # every dual is 0 here
            assert "coal replacement 1.2:1" not in page.text_content("#binding")
            idle = page.text_content("#binding-idle")
            assert "coal replacement 1.2:1" in idle and "nothing to replace: no new capacity" in idle
            c = base.constraints
            n = int(((c["rule"] == "mandatory") & c["name"].str.startswith("mines in protected areas: ")).sum())
            assert f'"mines in protected areas": {n} unit(s)' in page.text_content("#binding-required")

            # the baseline's solve time, not 0.0 s, in this session and in the next one (which shares it)
            seconds = session.plans[0].seconds
            assert seconds > 0.05
            assert page.text_content('#plans li[data-plan="1"] .sub').endswith(f"{seconds:,.1f} s")

            # the headline card's right half: the fiscal outlay split, as the run's figures have it
            card = page.eval_on_selector("#split", "e => e.getBoundingClientRect().toJSON()")
            figs = page.eval_on_selector("#figures", "e => e.getBoundingClientRect().toJSON()")
            assert card["left"] >= figs["right"] and card["height"] > 100  # beside the figures, filled
            assert page.text_content('#split tr[data-split="fiscal"] td:last-child') == f"{base.record['fiscal']:,.1f}"
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots / "baseline_1366.png"))

            # a plan with revenue foregone and stranded value: its split and the change against the baseline
            page.click('#numbers details[data-group="costs"] summary')
            for path, v in (("sectors.coal.revenue_per_capacity", "2"), ("sectors.coal.stranded_per_capacity", "10")):
                page.fill(f'input[data-path="{path}"]', v)
                page.dispatch_event(f'input[data-path="{path}"]', "change")
            page.click("#solve")
            page.wait_for_selector('#plans li[data-plan="2"]', timeout=180_000)
            page.wait_for_selector("#chart-change rect.bar-b")
            new = read_run(session.plans[1].folder)
            rf, sv = new.schedule["revenue_foregone"].sum(), new.schedule["stranded_value"].sum()
            assert rf > 0 and sv > 0
            parts = {k: v for k, v in zip(
                page.eval_on_selector_all('#split rect[data-plan="2"]', "rs => rs.map(r => r.dataset.part)"),
                _values(page, '#split rect[data-plan="2"]'), strict=False)}
            assert parts["revenue_foregone"] == pytest.approx(rf) and parts["stranded_value"] == pytest.approx(sv)
            assert sum(parts.values()) == pytest.approx(new.record["fiscal"])
            shown = page.text_content('#split tr[data-split="revenue_foregone"] td:last-child')
            assert shown.startswith(f"{rf:,.1f} (")
            for plan_id, run in (("1", base), ("2", new)):
                per_product = run.exiting.groupby("product")["capacity"].sum()
                keys = page.eval_on_selector_all(f'#chart-change rect[data-plan="{plan_id}"]',
                                                 "rs => rs.map(r => r.dataset.product)")
                got = dict(zip(keys, _values(page, f'#chart-change rect[data-plan="{plan_id}"]'), strict=False))
                assert {k: v for k, v in got.items() if v} == pytest.approx(per_product.to_dict())
            page.screenshot(path=str(shots / "compared_1366.png"), full_page=True)

            # 390 px wide: nothing runs off the side; the charts fit
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(400)  # the charts are drawn again to the new width
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
            widths = page.eval_on_selector_all("svg.chart", "ss => ss.map(s => s.getBoundingClientRect().right)")
            assert widths and max(widths) <= 390
            page.screenshot(path=str(shots / "compared_390.png"), full_page=True)

            other = browser.new_page(viewport={"width": 390, "height": 844})  # a new session, in Chinese
            other.on("pageerror", lambda e: errors.append(str(e)))
            other.goto(server.url)
            other.wait_for_selector("#chart-exits svg rect", timeout=60_000)
            assert other.text_content('#plans li[data-plan="1"] .sub').endswith(f"{seconds:,.1f} 秒")
            assert other.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
            other.screenshot(path=str(shots / "baseline_390.png"), full_page=True)

            # in Chinese, every rule, number, unit and region reads in Chinese (ids and figures aside),
            # in the new session and in the first page's comparison of its two plans
            from test_chinese import english_words

            ids = set(base.schedule["unit_id"])
            other.click('#numbers details[data-group="costs"] summary')
            for part in ("#binding", "#binding-required", "#binding-idle", "#numbers", "#units", "#scenario"):
                text = other.text_content(part)
                assert text.strip() and not english_words(text, ids), (part, english_words(text, ids).most_common(5))
            # the whole page, but the button that switches to English and the command it names for more points
            page_words = english_words(other.text_content("body"), ids | {"English", "exitopt pareto"})
            assert not page_words, page_words.most_common(5)
            page.click("#lang-zh")
            page.wait_for_selector("#changed-units")
            assert "有何变化" in page.text_content("body")
            for part in ("#changed", "#figures", "#draft"):
                text = page.text_content(part)
                assert not english_words(text, ids), (part, english_words(text, ids).most_common(5))
            page.screenshot(path=str(shots / "compared_zh_390.png"), full_page=True)
            assert errors == []
            browser.close()
    finally:
        stop(server)


# ---- the Chinese page: every rule, number, unit and region in Chinese -----------------------------

ZH_UNITS = [dict(unit_id=f"M{i}", workers=10 * i, name_zh=f"{'一二三'[i - 1]}号矿", region_zh="一区") for i in (1, 2, 3)]
ZH_SCENARIO = {"targets": [{"name": "coal 100", "name_zh": "压减煤炭产能", "product": "coal", "by": 2018,
                            "at_least": 100.0},
                           {"name": "coal count", "product": "coal", "by": 2018, "count_at_most": 2}]}


def test_the_chinese_page_is_told_every_name_in_chinese(tmp_path):
    """The words the page shows in Chinese hold no English word but unit ids: the numbers' labels,
    the rules of the pin menus, the binding rules, the units' regions, and what changed."""
    from conftest import write_scenario
    from test_chinese import CJK, english_words

    server = start(write_scenario(tmp_path / "zh", ZH_UNITS, ZH_SCENARIO), port=0)
    serve_in_thread(server)
    ids = {"M1", "M2", "M3"}
    try:
        c = Client(server.url)
        c.settle()
        _, setup = c.json("/api/setup")
        labels = setup["labels_zh"]
        assert set(labels) == {n["path"] for n in setup["numbers"]}
        assert labels[TARGET] == "压减煤炭产能 · 不少于(万吨/年)"
        assert labels['targets[name="coal count"].count_at_most'] == "煤炭2018年前退出 2 个单位（不多于） · 退出单位数不多于(个)"
        assert not english_words(" ".join(labels.values()) + " ".join(setup["rules_zh"].values()), ids)
        assert english_words(" ".join(n["label"] for n in setup["numbers"]))  # the English labels are English

        _, plan = c.json("/api/plans/1")
        assert [r["name_zh"] for r in plan["binding"]] == ["压减煤炭产能"]
        assert {u["region_zh"] for u in plan["units"]} == {"一区"}
        c.json("/api/solve", {"pins": [], "values": {TARGET: 200}, "parent": 1})
        assert c.settle()["error"] is None
        _, cmp = c.json("/api/compare/1/2")
        assert [(r["name"], r["name_zh"]) for r in cmp["rules"]] == [("coal count", "煤炭2018年前退出 2 个单位（不多于）")]
        assert [(u["unit_id"], u["name_zh"]) for u in cmp["units"]] == [("M2", "二号矿")]
        shown = " ".join(str(x[k]) for x in cmp["rules"] + cmp["units"] for k in ("name_zh", "region_zh") if k in x)
        assert CJK.search(shown) and not english_words(shown, ids)
    finally:
        stop(server)


# ---- the frontier of a plan's changes ------------------------------------------------------------

#: three mines, a target of 100: the one of fewest workers (M1) keeps paying nothing; the loss-making
#: one (M3) saves its subsidised losses when it goes: fewest jobs and least outlay are different plans
FRONTIER_UNITS = [dict(unit_id="M1", workers=10), dict(unit_id="M2", workers=20, loss_making=True, subsidised_loss=4.0),
                  dict(unit_id="M3", workers=40, loss_making=True, subsidised_loss=12.0)]
FRONTIER_SCENARIO = {"last_year": 2018, "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
                     "sectors": {"coal": {"exit_cost_per_capacity": {"close": 0.1}}},
                     "targets": [{"name": "coal 100", "product": "coal", "by": 2018, "at_least": 100.0}]}


def test_the_frontier_of_a_plans_changes_is_that_of_exitopt_pareto(tmp_path):
    """The room's frontier is computed as a solve is (queued, in a solve process) and is the one
    `exitopt pareto` finds for the same changes; no plan is added; bad point counts are refused."""
    from conftest import write_scenario
    from exitopt.engine import Pin, apply
    from exitopt.inputs import load
    from exitopt.pareto import frontier

    path = write_scenario(tmp_path / "f", FRONTIER_UNITS, FRONTIER_SCENARIO)
    server = start(path, port=0)
    serve_in_thread(server)
    try:
        c = Client(server.url)
        st = c.settle()
        assert st["frontier"] is None and len(st["plans"]) == 1
        for bad in (1, 10, 2.5, True, "5"):
            status, body = c.json("/api/solve", {"pins": [], "values": {}, "parent": 1, "frontier": bad})
            assert status == 400 and "frontier: give a whole number of points from 3 to 9" in body["error"]
        pins = [{"unit": "M1", "action": "keep"}]
        status, _ = c.json("/api/solve", {"pins": pins, "values": {}, "parent": 1, "frontier": 3})
        assert status == 202
        st = c.settle(timeout=120)
        assert st["error"] is None and len(st["plans"]) == 1  # a frontier is no plan
        f = st["frontier"]
        assert f["plan"] == 1 and f["pins"] == [{"unit": "M1", "action": "keep", "year": None}]
        own = frontier(apply(load(path), [Pin("M1", "keep")]), 3).table
        got = [(p["jobs"], p["fiscal"]) for p in f["points"]]
        assert [v for p in got for v in p] == pytest.approx([v for p in zip(own["jobs"], own["fiscal"], strict=True) for v in p],
                                                            abs=1e-6)
        # by hand, with M1 kept: the fewest workers when M2 alone exits (20 persons); the least outlay
        # when both loss-making mines go (20 + 40), their losses no longer paid; outlay falls as jobs rise
        assert got[0][0] == pytest.approx(20.0) and got[-1][0] == pytest.approx(60.0)
        assert [p[1] for p in got] == sorted((p[1] for p in got), reverse=True) and got[-1][1] < got[0][1]
        assert sum(bool(p["knee"]) for p in f["points"]) <= 1
    finally:
        stop(server)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_page_in_chromium_draws_the_frontier_it_computes(tmp_path):
    from playwright.sync_api import sync_playwright

    from conftest import write_scenario
    from test_chinese import english_words

    server = start(write_scenario(tmp_path / "f", FRONTIER_UNITS, FRONTIER_SCENARIO), port=0)
    serve_in_thread(server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)  # in Chinese, as the page opens
            page.wait_for_selector("#chart-exits svg rect", timeout=60_000)
            assert page.text_content("#chart-frontier").strip() == "尚未计算前沿。"
            page.click("#frontier-solve")
            page.wait_for_selector("#chart-frontier circle.frontier-point", timeout=120_000)
            (session,) = server.app.sessions.values()
            points = session.frontier["points"]
            drawn = page.eval_on_selector_all("#chart-frontier circle.frontier-point", "cs => cs.map(c => [Number("
                                              "c.dataset.jobs), Number(c.dataset.fiscal), c.cx.baseVal.value, "
                                              "c.cy.baseVal.value])")
            assert [(j, f) for j, f, _, _ in drawn] == [(q["jobs"], q["fiscal"]) for q in points]
            # on the chart's axes: more workers to the right, more outlay higher up (a smaller y)
            for (j1, f1, x1, y1), (j2, f2, x2, y2) in zip(drawn, drawn[1:], strict=False):
                assert (x2 > x1) == (j2 > j1) and (y2 < y1) == (f2 > f1)
            assert page.locator('#chart-frontier polygon.plan-point[data-plan="1"]').count() == 1
            text = page.text_content("#frontier-panel")
            assert "分流职工与财政支出的前沿" in text and not english_words(text, {"M1", "M2", "M3", "exitopt pareto"})
            assert len(session.plans) == 1 and errors == []
            browser.close()
    finally:
        stop(server)
