"""How fast `exitopt serve` answers on Gansu 2016: page load, a pin, a changed number.

    python benchmarks/bench_serve.py [--runs 3] [--no-browser]

Starts the server on 127.0.0.1 (a free port) the way `exitopt serve` does (the baseline solved
before the first visitor), then:

- page load: in headless Chromium (/usr/bin/chromium), from navigation to the plan's figures on
  screen, for a new visitor (new session); without Chromium, the same requests over HTTP;
- a pin (keep a coal mine the optimum closes by choice; another one each run) and a changed number
  (the coal target 1,000 → 1,100, 1,050, 1,150, …): from pressing solve (POST /api/solve) to the
  new plan and its comparison with the baseline fetched — in the browser, until the
  changed-units table is on screen. Every solve is a new variant, so none is answered from a
  cache, but the solve process keeps its engine: blocks a change does not reach are reused.

It also solves the first pinned variant in this process with a plain `solve_instance` (no
server, no reuse) as a reference.

Goals: page load < 1 s; each re-solve ≤ 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from exitopt.serve.server import serve_in_thread, start, stop, wait_for_baseline  # noqa: E402
from exitopt.serve.solving import parse_pins, variant  # noqa: E402
from exitopt.solve import solve_instance  # noqa: E402

GANSU = ROOT / "models" / "gansu_2016.toml"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TARGET = 'targets[name="coal exit 1,000"].at_least'
#: a new value each time, so that no solve finds its answer cached from an earlier one
TARGETS = (1100, 1050, 1150, 1075, 1125)
class Visitor:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> bytes:
        with self.opener.open(self.url + path, timeout=120) as r:
            return r.read()

    def post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-Exitopt-Session-Token": self.token})
        with self.opener.open(req, timeout=120) as r:
            return json.loads(r.read())

    def load(self) -> None:
        """The page (its session and the token written into it), then what its script asks for."""
        page = self.get("/")
        self.token = re.search(rb'name="exitopt-session-token" content="([^"]+)"', page).group(1).decode()
        for p in ("/static/app.js", "/static/app.css", "/api/setup", "/api/state", "/api/plans/1"):
            self.get(p)

    def resolve(self, body: dict) -> tuple[float, dict]:
        """Seconds from solve to the new plan and its comparison in hand; the plan's summary."""
        n = len(json.loads(self.get("/api/state"))["plans"])
        t0 = time.perf_counter()
        self.post("/api/solve", body)
        while True:
            st = json.loads(self.get("/api/state"))
            if st["running"] is None:
                break
            time.sleep(0.1)
        if st["error"] or len(st["plans"]) != n + 1:
            raise SystemExit(f"solve failed: {st['error']}")
        new = st["plans"][-1]
        self.get(f"/api/plans/{new['id']}")
        self.get(f"/api/compare/1/{new['id']}")
        return time.perf_counter() - t0, new


def _stats(xs: list[float]) -> str:
    return f"best {min(xs):.2f} s, median {statistics.median(xs):.2f} s (n={len(xs)})"


def chosen_units(server) -> list[str]:
    """Coal mines the baseline closes by choice (no rule makes them): pins that change the plan."""
    plan = server.app.template_run.schedule
    ids = plan.loc[(plan["product"] == "coal") & (plan["reason"].str.startswith("chosen")), "unit_id"]
    return sorted(ids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    if args.runs > len(TARGETS):
        raise SystemExit(f"--runs is at most {len(TARGETS)}")

    t0 = time.perf_counter()
    server = start(GANSU, port=0)
    wait_for_baseline(server)
    print(f"server up, baseline solved: {time.perf_counter() - t0:.2f} s")
    serve_in_thread(server)
    units = chosen_units(server)
    try:
        http_load, pins, numbers, parts = [], [], [], []
        for i in range(args.runs):
            v = Visitor(server.url)
            t = time.perf_counter()
            v.load()
            http_load.append(time.perf_counter() - t)
            s, plan = v.resolve({"pins": [{"unit": units[i], "action": "keep"}], "values": {}, "parent": 1})
            pins.append(s)
            parts.append((f"keep {units[i]}", s, plan))
            s, plan = v.resolve({"pins": [], "values": {TARGET: TARGETS[i]}, "parent": 1})
            numbers.append(s)
            parts.append((f"coal target {TARGETS[i]}", s, plan))
        t = time.perf_counter()  # a reference: the first pinned variant solved plainly, in this process
        ref = solve_instance(variant(server.app.base.inst, parse_pins([{"unit": units[0], "action": "keep"}]), {}))
        reference = time.perf_counter() - t
        print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"page load over HTTP (6 requests, new session): {_stats(http_load)}")
        print(f"pin (keep a mine the optimum closes), solve to plan and comparison: {_stats(pins)}")
        print(f"changed number (coal target), solve to plan and comparison: {_stats(numbers)}")
        for what, s, plan in parts:
            print(f"  {what}: {s:.2f} s (solve process {plan['seconds']:.2f} s); objective {plan['objective']:,.1f}, "
                  f"{plan['status']}")
        print(f"reference: keep {units[0]} solved in-process by solve_instance, no server, no reuse: "
              f"{reference:.2f} s, objective {ref.objective:,.1f}")
        if not args.no_browser and CHROMIUM.exists():
            browser_figures(server, args.runs, units[args.runs:])
        elif not args.no_browser:
            print("no /usr/bin/chromium: browser figures skipped")
    finally:
        stop(server)


def browser_figures(server, runs: int, units: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    loads, full, pins = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for i in range(runs):
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})  # a new visitor
            page = ctx.new_page()
            t = time.perf_counter()
            page.goto(server.url)
            page.wait_for_selector("#fig-objective")
            loads.append(time.perf_counter() - t)
            page.wait_for_selector('#units tr[data-unit]')
            full.append(time.perf_counter() - t)
            page.fill("#search", units[i])
            page.click(f'button[data-unit="{units[i]}"]')
            page.select_option(f'select[data-unit="{units[i]}"]', "keep:")
            t = time.perf_counter()
            page.click("#solve")
            page.wait_for_selector("#changed-units", timeout=120_000)
            pins.append(time.perf_counter() - t)
            ctx.close()
        browser.close()
    print(f"page load in Chromium (navigation to figures on screen): {_stats(loads)}")
    print(f"page load in Chromium (navigation to the units table drawn): {_stats(full)}")
    print(f"pin in Chromium (click solve to changed units on screen): {_stats(pins)}")


if __name__ == "__main__":
    main()
