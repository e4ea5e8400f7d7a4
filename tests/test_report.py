"""The briefing pack (workbook, charts, self-contained HTML) and the comparison of two runs.

A tiny three-mine scenario, solved twice (the second time with the cheapest mine protected),
gives two runs whose differences are known by hand; the Gansu baseline (solved once per session)
gives a full-size pack in Chinese and in English.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from conftest import write_scenario

CHROMIUM = Path(shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium")
CJK = re.compile(r"[\u4e00-\u9fff]")

# Three coal mines of 100 万吨/yr in region R1. Half of a workforce leaves each year, so an exit in
# 2018 displaces a quarter of it: 2.5, 5 and 7.5 persons. The only cost is jobs (1 per person), the
# target asks for 100 万吨 by 2018, and at most 5 displaced workers a year in a region.
TINY_UNITS = [dict(unit_id="00123", workers=10), dict(unit_id="B", workers=20), dict(unit_id="C", workers=30)]
TINY = {"attrition": 0.5, "objective": {"jobs_weight": 1.0, "fiscal_weight": 0.0},
        "targets": [{"name": "coal cut", "product": "coal", "by": 2018, "at_least": 100.0}],
        "caps": {"workers": [{"name": "labour market", "per_year": 5.0}]}}
PROTECT = {"protected": [{"name": "keep 00123", "where": {"all": [["unit_id", "==", "00123"]]}}]}


def _solve_into(folder: Path, scenario: Path) -> Path:
    from exitopt.inputs import load
    from exitopt.output import write_folder
    from exitopt.solve import solve_instance

    return write_folder(folder, solve_instance(load(scenario)).files(), force=False)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """(run A: free choice, run B: mine 00123 protected) as run folders."""
    base = tmp_path_factory.mktemp("tiny")
    a = _solve_into(base / "run_a", write_scenario(base / "a", TINY_UNITS, TINY))
    b = _solve_into(base / "run_b", write_scenario(base / "b", TINY_UNITS, {**TINY, **PROTECT}))
    return a, b


@pytest.fixture(scope="module")
def gansu_packs(gansu_run):
    """The Gansu briefing pack in zh and in en."""
    from exitopt.report import make_report

    return {lang: make_report(gansu_run, lang) for lang in ("zh", "en")}


def _schedule(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "schedule.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


# ---- workbook ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_holds_every_unit_with_translated_headers(gansu_run, gansu_packs, lang):
    import openpyxl

    from exitopt.report import labels

    wb = openpyxl.load_workbook(gansu_packs[lang].folder / "briefing.xlsx")
    names = [labels.sheet(k, lang) for k in ("overview", "schedule", "summary", "constraints", "new_capacity")]
    assert wb.sheetnames == names
    sched = _schedule(gansu_run)
    ws = wb[labels.sheet("schedule", lang)]
    assert ws.max_row == len(sched) + 1
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == sched["unit_id"].tolist()
    headers = [c.value for c in ws[1]]
    # the Chinese sheet names a unit by its Chinese name only, and leaves out firm and group, which
    # the Gansu table names in English only (tests/test_chinese.py)
    shown = [c for c in sched.columns if lang == "en" or c not in ("name", "firm", "group", "acquirer")]
    assert headers == [labels.header(c, lang, "schedule") for c in shown]
    for sheet in names[1:]:
        for h in (c.value for c in wb[sheet][1]):
            assert bool(CJK.search(h)) == (lang == "zh"), (sheet, h)
    cap = "产能(万吨/年)" if lang == "zh" else "Capacity (10 kt/yr)"
    col = headers.index(cap) + 1
    assert ws.cell(2, col).number_format == "#,##0.0"
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
    exiting = sched["exit_year"] != ""
    year_col = headers.index("退出年份" if lang == "zh" else "Exit year") + 1
    assert sum(ws.cell(r, year_col).value is not None for r in range(2, ws.max_row + 1)) == int(exiting.sum())


def test_workbook_keeps_ids_as_text(tiny_runs, tmp_path):
    import openpyxl

    from exitopt.report import make_report

    rep = make_report(tiny_runs[0], "en", tmp_path / "pack")
    ws = openpyxl.load_workbook(rep.folder / "briefing.xlsx")["schedule"]
    ids = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    assert ids == ["00123", "B", "C"]
    assert ws.cell(2, 1).data_type == "s"


# ---- charts and HTML --------------------------------------------------------------------------

def test_charts_are_valid_images(gansu_packs, chinese_font_files):
    from PIL import Image

    for _lang, rep in gansu_packs.items():
        pngs = sorted(p.name for p in rep.folder.glob("*.png"))
        assert pngs == sorted(["exits.png", "capacity_paths.png", "workers_outlay.png", "concentration.png"])
        for name in pngs:
            with Image.open(rep.folder / name) as im:
                im.verify()
            with Image.open(rep.folder / name) as im:
                assert im.format == "PNG" and im.width > 300 and im.height > 200
    # Chinese chart labels need a font that draws Chinese; without one installed the pack says the
    # charts are in English.
    assert (gansu_packs["zh"].note is None) == bool(chinese_font_files)
    assert gansu_packs["en"].note is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_is_self_contained(gansu_packs, lang):
    from PIL import Image

    page = (gansu_packs[lang].folder / "briefing.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<link\b|<script\b|@import|url\(", page, re.I)
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert len(srcs) == len(list(gansu_packs[lang].folder.glob("*.png")))
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            im.verify()
    assert bool(CJK.search(re.sub(r"<[^>]+>", "", page.split("<body>", 1)[1]))) == (lang == "zh")


PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-decoded', imgs.filter(i => i.complete && i.naturalWidth > 0).length);
  const pre = document.createElement('pre');
  pre.id = 'rendered-text';
  pre.textContent = document.body.innerText;
  document.body.appendChild(pre);
});
</script></body>"""


def _render(html: Path, work: Path) -> str:
    """The DOM Chromium builds for ``html``, with a probe recording decoded images and visible text."""
    probe = work / "probe.html"
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", PROBE, 1), encoding="utf-8")
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={work / 'ud'}",
           "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium (Debian package chromium; .ci/run installs it "
                    "where it runs as root)")
def test_html_renders_in_chromium(gansu_run, gansu_packs, tmp_path):
    import json

    folder = gansu_packs["zh"].folder
    dom = _render(folder / "briefing.html", tmp_path)
    n = len(list(folder.glob("*.png")))
    assert f'data-images="{n}"' in dom and f'data-decoded="{n}"' in dom
    shown = unescape(dom.split('<pre id="rendered-text">', 1)[1].split("</pre>", 1)[0])
    record = json.loads((gansu_run / "run.json").read_text(encoding="utf-8"))
    for figure in (f"{record['objective']:,.1f}", f"{record['jobs']:,.0f}", f"{record['fiscal']:,.1f}",
                   f"{record['units_exiting']}", "最优"):
        assert figure in shown
    table = dom.split('<table id="binding">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    names = record["names_zh"]["rules"]  # the Chinese page names each rule by its Chinese name
    assert [unescape(re.findall(r"<td[^>]*>(.*?)</td>", r)[1]) for r in rows] == [
        names[n] for n in _priced_rules(gansu_run)]
    # the plan itself: every exiting unit is on the page, and every sector's table is shown
    sched = _schedule(gansu_run)
    for uid in sched.loc[sched["exit_year"] != "", "unit_id"]:
        assert uid in shown
    assert dom.count('<table class="plan"') == sched.loc[sched["exit_year"] != "", "sector"].nunique() == 3


def _priced_rules(run: Path) -> list[str]:
    """Computed here from constraints.csv, by hand: the rule names (mandatory rows reduced to their
    rule) with a row where achieved equals required within 1e-4 of its size, leaving out rows with
    nothing required and nothing achieved, and whole-unit requirements (mandatory exits, packages)."""
    cons = pd.read_csv(run / "constraints.csv", encoding="utf-8-sig").dropna(subset=["required", "achieved"])
    names = []
    for r in cons.itertuples():
        size = max(abs(r.required), abs(r.achieved), 1.0)
        if abs(r.achieved - r.required) > 1e-4 * size or r.unit in ("unit", "package") or r.rule == "protected":
            continue
        if abs(r.required) < 1e-9 and abs(r.achieved) < 1e-9:
            continue
        # rows named "<rule>: <unit or region>" count under their rule
        names.append(r.name.rsplit(": ", 1)[0] if r.rule in ("works", "workers", "merger") and ": " in r.name
                     else r.name)
    return list(dict.fromkeys(names))


def test_gansu_rules_that_bind_one_line_per_rule(gansu_run, gansu_packs):
    """The cement concentration rule, met at 0.850166 against 0.85 once whole lines merge into the
    large groups, no longer binds; the merger rule's rows (a line exits or merges) do, in
    constraints.csv and in the briefing; the single-mine mandatory rows and the idle coal
    replacement rule are not under "loosening any of them may lower the cost"; a rule priced 0
    reads "not priced"."""
    cons = pd.read_csv(gansu_run / "constraints.csv", encoding="utf-8-sig")
    conc = cons[cons["rule"] == "concentration"].iloc[0]
    assert conc["achieved"] - conc["required"] > 1e-4 and not conc["binding"]
    assert list(_priced_rules(gansu_run)) == ["clinker replacement 1.25:1",
                                              "converters need the blast furnaces of their works",
                                              "blast furnaces need the converters of their works",
                                              "cement consolidation"]
    page = (gansu_packs["en"].folder / "briefing.html").read_text(encoding="utf-8")
    table = page.split('<table id="binding">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    assert re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", body) == [
        "clinker replacement 1.25:1", "converters need the blast furnaces of their works",
        "blast furnaces need the converters of their works", "cement consolidation"]
    assert "mandatory" not in table and "coal replacement" not in table
    assert body.count("not priced") == 4  # every fixed-plan dual of Gansu is 0
    assert "0.00" not in body
    assert "2018–2020 (3 of 3 yr)" in body
    required = page.split('id="required-exits"', 1)[1].split("</ul>", 1)[0]
    n_mandatory = int((cons["rule"] == "mandatory").sum())
    assert n_mandatory == 45 and "JISCO relocation package" in required
    assert sum(int(n) for n in re.findall(r"(\d+) unit\(s\)", required)) == n_mandatory
    idle = page.split('id="idle-rules"', 1)[1].split("</ul>", 1)[0]
    assert "coal replacement 1.2:1" in idle


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_lists_the_plan_by_sector_and_year(gansu_run, gansu_packs, lang):
    from exitopt.report import labels

    page = (gansu_packs[lang].folder / "briefing.html").read_text(encoding="utf-8")
    run = pd.read_csv(gansu_run / "schedule.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    ex = run[run["exit_year"].notna()]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media (max-width" in page and "font-size: clamp(" in page
    for sector, g in ex.groupby("sector"):
        table = page.split(f'<table class="plan" id="plan-{sector}">', 1)[1].split("</table>", 1)[0]
        units = [unescape(u) for u in re.findall(r"<tr><td[^>]*>\d{4}</td><td>([^<]*)</td>", table)]
        assert sorted(units) == sorted(g["unit_id"])  # each exiting unit once, nothing else
        totals = re.findall(r'<tr class="total">(.*?)</tr>', table)
        assert len(totals) == g["exit_year"].nunique()
        cells = [re.findall(r"<td[^>]*>([^<]*)</td>", t) for t in totals]
        # the subtotals add up to the sector's capacity, workers and outlay
        cap = sum(float(c[5].replace(",", "")) for c in cells)
        assert cap == pytest.approx(g["capacity"].sum(), abs=0.05 * len(cells))
        workers = sum(int(c[6].replace(",", "")) for c in cells)
        assert abs(workers - g["workers_displaced"].sum()) <= len(cells)
    modes = {labels.mode(m, lang) for m in ex["mode"]}
    assert all(m in page for m in modes) and len(modes) == 2


def test_footers_name_the_run_folder_not_its_path(tiny_runs, tmp_path):
    import openpyxl

    from exitopt.report import make_report

    rep = make_report(tiny_runs[0], "en", tmp_path / "pack")
    page = (rep.folder / "briefing.html").read_text(encoding="utf-8")
    full = str(Path(tiny_runs[0]).resolve())
    assert full not in page and "Source: run folder: run_a<" in page
    cells = [str(c.value) for row in openpyxl.load_workbook(rep.folder / "briefing.xlsx")["overview"].iter_rows()
             for c in row if c.value is not None]
    assert "run_a" in cells and not any(full in c for c in cells)


# ---- bad run folders and output folders -------------------------------------------------------

@pytest.mark.parametrize("missing", ["schedule.csv", "summary.csv", "constraints.csv", "run.json"])
def test_missing_file_is_named(tiny_runs, tmp_path, missing):
    from typer.testing import CliRunner

    from exitopt.cli import app

    run = tmp_path / "run"
    shutil.copytree(tiny_runs[0], run)
    (run / missing).unlink()
    res = CliRunner().invoke(app, ["report", str(run)])
    assert res.exit_code == 2
    assert missing in res.output and "Traceback" not in res.output
    assert not (run / "report_zh").exists()


def test_garbled_table_is_named(tiny_runs, tmp_path):
    from exitopt.errors import InputError
    from exitopt.report import make_report

    run = tmp_path / "run"
    shutil.copytree(tiny_runs[0], run)
    lines = (run / "schedule.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    cells[lines[0].split(",").index("capacity")] = "lots"
    lines[1] = ",".join(cells)
    (run / "schedule.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    with pytest.raises(InputError, match=r"schedule\.csv.*row 2, column capacity"):
        make_report(run, "en")
    assert not (run / "report_en").exists()


def test_refuses_a_folder_holding_files(tiny_runs, tmp_path):
    from exitopt.errors import OutputError
    from exitopt.report import make_report

    out = tmp_path / "pack"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError):
        make_report(tiny_runs[0], "zh", out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    make_report(tiny_runs[0], "zh", out, force=True)
    assert not (out / "keep.txt").exists() and (out / "briefing.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---- compare ----------------------------------------------------------------------------------

def test_compare_lists_exactly_the_known_differences(tiny_runs, tmp_path):
    from typer.testing import CliRunner

    from exitopt.cli import app
    from exitopt.report import compare_runs

    a, b = tiny_runs
    comp = compare_runs(a, b)
    # Hand-computed: A retires the mine with the fewest workers (00123, 2.5 displaced in 2018);
    # with 00123 protected, B retires mine B (5 displaced in 2018), which fills R1's cap of 5.
    assert comp.units[["unit_id", "change"]].values.tolist() == [["00123", "exits only in A"],
                                                                  ["B", "exits only in B"]]
    assert comp.units["year_a"].tolist()[0] == 2018 and comp.units["year_b"].tolist()[1] == 2018
    fig = comp.figures.set_index("figure")
    assert fig.loc["jobs", "a"] == pytest.approx(2.5) and fig.loc["jobs", "b"] == pytest.approx(5.0)
    assert fig.loc["jobs", "change"] == pytest.approx(2.5)
    assert fig.loc["units_exiting", "change"] == 0
    assert comp.rules[["rule", "year", "change"]].values.tolist() == [["workers", 2018, "binds only in B"]]
    assert compare_runs(a, a).same

    out = tmp_path / "diff.csv"
    res = CliRunner().invoke(app, ["compare", str(a), str(b), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "00123" in res.output and "exits only in B" in res.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert table.loc[table["section"] == "unit", "key"].tolist() == ["00123", "B"]
    assert table.loc[table["section"] == "rule", "change"].tolist() == ["binds only in B"]
    jobs = table[(table["section"] == "figure") & (table["key"] == "jobs")].iloc[0]
    assert float(jobs["change"]) == pytest.approx(2.5)  # a number Excel can add, not protected text
    assert CliRunner().invoke(app, ["compare", str(a), str(b), "--out", str(out)]).exit_code == 5


def test_without_a_chinese_font_charts_fall_back_to_english(tiny_runs, tmp_path, monkeypatch):
    from exitopt.report import charts, labels, make_report

    monkeypatch.setattr(charts, "find_cjk_font", lambda: None)
    rep = make_report(tiny_runs[0], "zh", tmp_path / "pack")
    assert rep.note == labels.text("font_note", "zh")
    page = (rep.folder / "briefing.html").read_text(encoding="utf-8")
    assert rep.note in page
    assert f'alt="{labels.text("chart_exits", "en")}"' in page
    assert len(list(rep.folder.glob("*.png"))) == 3  # no concentration rule, no concentration chart


def test_a_run_without_rules_or_exits(tmp_path):
    from exitopt.report import compare_runs, labels, make_report

    run = _solve_into(tmp_path / "run", write_scenario(tmp_path / "s", TINY_UNITS, {}))
    rep = make_report(run, "en")
    page = (rep.folder / "briefing.html").read_text(encoding="utf-8")
    assert labels.text("binding_none", "en") in page
    assert compare_runs(run, run).same
