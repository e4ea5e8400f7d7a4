"""The HTML briefing as a reader meets it in Chromium, on a meeting-room screen (1366×768) and on a
phone (390 px wide): what matters first comes first, nothing overflows the page, and no table cell
breaks a word or a Chinese term into a line of one character."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = Path(shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium (Debian package chromium; "
                                "`.ci/run` installs it where it runs as root)")

#: for every table cell, the lines its text is drawn on (by the top of each character's box), and
#: the cells one of whose lines holds a single character while the cell has several lines
LAYOUT = """() => {
  const single = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const text = cell.innerText.trim();
    if (text.length < 2) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const lines = new Map();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i++) {
        if (/\\s/.test(node.data[i])) continue;
        const r = document.createRange();
        r.setStart(node, i); r.setEnd(node, i + 1);
        const box = r.getBoundingClientRect();
        if (box.width === 0) continue;
        const top = Math.round(box.top);
        lines.set(top, (lines.get(top) || 0) + 1);
      }
    }
    if (lines.size > 1 && [...lines.values()].some(n => n === 1)) single.push(text);
  }
  const top = sel => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().top + scrollY : null; };
  return {single, overflow: document.scrollingElement.scrollWidth - innerWidth,
          firstChart: top('.charts figure'), firstPlan: top('table.plan'), binding: top('#binding'),
          chartWidth: (document.querySelector('.charts img') || {}).clientWidth || 0,
          height: document.scrollingElement.scrollHeight};
}"""


@pytest.fixture(scope="module")
def pages(gansu_result, tmp_path_factory):
    from exitopt.output import write_folder
    from exitopt.report import make_report

    run = write_folder(tmp_path_factory.mktemp("gansu") / "run", gansu_result.files(), force=False)
    return {lang: make_report(run, lang).folder / "briefing.html" for lang in ("zh", "en")}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_briefing_reads_first_things_first_on_a_wall_screen_and_a_phone(pages, lang, width, height, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(pages[lang].as_uri())
            page.wait_for_load_state("load")
            got = page.evaluate(LAYOUT)
            page.screenshot(path=str(tmp_path / f"briefing_{lang}_{width}.png"), full_page=False)
        finally:
            browser.close()
    assert got["overflow"] <= 0, f"the page is {got['overflow']} px wider than the screen"
    assert not got["single"], f"cells broken into one-character lines: {got['single'][:10]}"
    # the charts and the binding rules come before the long plan tables
    assert got["firstChart"] < got["binding"] < got["firstPlan"]
    if width >= 1000:
        assert got["firstChart"] < 2 * height, f"the first chart starts {got['firstChart']:.0f} px down"
    else:
        assert got["chartWidth"] >= 560, "a chart on a phone keeps a readable size (it scrolls sideways)"
