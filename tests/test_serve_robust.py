"""`exitopt serve SCENARIO --plans DIR`: a run folder of `exitopt robust` in every session's plan
list, after the baseline, with its regret by case as regret.csv holds it; the page draws the
regret chart itself (headless Chromium); the session checks stand for these plans as for any."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from exitopt.serve.server import serve_in_thread, start, stop
from test_robust import exitopt, sweep_file
from test_serve import ARGS, CHROMIUM, Client, _raw_get

BODY = ("[[axes]]\npath = 'targets[name=\"task\"].at_least'\nlabel = \"task\"\nvalues = [60, 110, 150]\n"
        "[robust]\nobjective = \"regret\"\n")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve_robust")
    sweep = sweep_file(tmp, BODY)
    done = exitopt("robust", sweep, "--out", tmp / "robust", cwd=tmp)
    assert done.returncode == 0, done.stderr
    server = start(tmp / "scenario.toml", port=0, plans=[tmp / "robust"])
    serve_in_thread(server)
    yield server, tmp / "robust"
    stop(server)


def test_the_robust_folder_is_listed_after_the_baseline_with_its_regret(room):
    server, folder = room
    table = pd.read_csv(folder / "regret.csv", encoding="utf-8-sig")
    for _ in range(2):  # every session lists it
        c = Client(server.url)
        st = c.settle()
        assert [p["id"] for p in st["plans"]] == [1, 2]
        given = st["plans"][1]
        assert given["given"] is True and given["cases"] == 3 and given["label"] == "tiny_sweep"
        record = json.loads((folder / "run.json").read_text("utf-8"))
        assert given["objective"] == pytest.approx(record["objective"])
        status, view = c.json("/api/plans/2")
        assert status == 200
        regret = view["regret"]
        assert regret["objective"] == "regret" and regret["value"] == pytest.approx(table["regret"].max())
        assert [r["case"] for r in regret["cases"]] == list(table["case"])
        for r, (_, t) in zip(regret["cases"], table.iterrows(), strict=False):
            assert r["cost"] == pytest.approx(t["cost"]) and r["own_optimum"] == pytest.approx(t["own_optimum"])
            assert r["regret"] == pytest.approx(r["cost"] - r["own_optimum"], abs=1e-6)
        status, base = c.json("/api/plans/1")
        assert status == 200 and base["regret"] is None


def test_the_robust_plan_downloads_with_its_regret_and_compares(room):
    server, _ = room
    c = Client(server.url)
    c.settle()
    status, raw, _ = c.request("/api/download/2/briefing.html?lang=en")
    assert status == 200 and b"Regret across the cases" in raw and b'id="regret"' in raw
    status, cmp = c.json("/api/compare/1/2")
    assert status == 200 and cmp["a"] == 1 and cmp["b"] == 2


def test_the_robust_plan_is_only_for_a_session_that_opened_the_page(room):
    server, _ = room
    assert _raw_get(server, "/api/plans/2") == 403
    assert _raw_get(server, "/api/download/2/briefing.html") == 403
    c = Client(server.url)
    c.settle()
    assert _raw_get(server, "/api/plans/2", cookie=c.cookie) == 200
    assert _raw_get(server, "/api/plans/3", cookie=c.cookie) == 404
    # a change still needs the session's own token, from the server's own origin
    c.token = None
    status, _ = c.json("/api/solve", {"pins": [], "values": {}, "parent": 2, "label": "x"})
    assert status == 403


def test_a_bad_plans_folder_is_refused_with_a_plain_message(tmp_path):
    from typer.testing import CliRunner

    from conftest import write_scenario
    from exitopt.cli import app
    from test_robust import BASE, MINES

    scenario = write_scenario(tmp_path, MINES, BASE)
    (tmp_path / "notarun").mkdir()
    for folder in (tmp_path / "missing", tmp_path / "notarun"):
        result = CliRunner().invoke(app, ["serve", str(scenario), "--no-open", "--port", "0", "--plans", str(folder)])
        assert result.exit_code == 2, result.output
        assert folder.name in result.output and "Traceback" not in result.output


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_page_in_chromium_draws_the_regret_chart(room):
    from playwright.sync_api import sync_playwright

    server, folder = room
    table = pd.read_csv(folder / "regret.csv", encoding="utf-8-sig")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url)
        page.wait_for_selector("#plans li[data-plan='2']", timeout=60_000)
        page.click("#lang-en")  # once the page is set up: its buttons answer from then on
        page.wait_for_selector('html[lang="en"]')
        assert page.is_hidden("#regret-panel")  # the baseline has no regret
        assert "one plan for 3 cases" in page.text_content("#plans li[data-plan='2']")
        page.click("#plans li[data-plan='2']")
        page.wait_for_selector("#chart-regret rect[data-case]", timeout=30_000)
        bars = page.query_selector_all("#chart-regret rect[data-case]")
        assert [b.get_attribute("data-case") for b in bars] == list(table["case"])
        for b, v in zip(bars, table["regret"], strict=False):
            assert float(b.get_attribute("data-value")) == pytest.approx(v)
        worst = table["regret"].idxmax()
        assert bars[worst].get_attribute("fill") == "#c0392b"
        page.click("#plans li[data-plan='1']")
        page.wait_for_function("document.getElementById('regret-panel').hidden")
        browser.close()
    assert not errors, errors
