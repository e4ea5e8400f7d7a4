"""The briefing of a robust run folder (`exitopt report` on what `exitopt robust` wrote): the
regret chart and table in the page, the workbook and the Word report, in Chinese and English;
its figures are those of regret.csv, whose regret is the shared plan's cost less the case's own
optimum as `exitopt check` prices the plan in each case."""

from __future__ import annotations

import base64
import json
import re

import pandas as pd
import pytest

from test_robust import exitopt, sweep_file

BODY = ("[[axes]]\npath = 'targets[name=\"task\"].at_least'\nlabel = \"task\"\nvalues = [60, 110, 150]\n"
        "[robust]\nobjective = \"regret\"\n")


@pytest.fixture(scope="module")
def robust_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("robust_report")
    done = exitopt("robust", sweep_file(tmp, BODY), "--out", tmp / "run", cwd=tmp)
    assert done.returncode == 0, done.stderr
    return tmp / "run"


@pytest.fixture(scope="module")
def reports(robust_run, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("robust_briefings")
    out = {}
    for lang in ("zh", "en"):
        done = exitopt("report", robust_run, "--docx", "--lang", lang, "--out", tmp / lang, cwd=tmp)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        out[lang] = (tmp / lang, done)
    return out


def test_the_folder_has_what_a_briefing_reads(robust_run):
    record = json.loads((robust_run / "run.json").read_text("utf-8"))
    table = pd.read_csv(robust_run / "regret.csv", encoding="utf-8-sig")
    assert (robust_run / "summary.csv").exists()
    # the headline figures are the weighted means over the cases
    assert record["objective"] == pytest.approx((table["weight"] * table["cost"]).sum(), rel=1e-5)
    assert record["jobs"] == pytest.approx((table["weight"] * table["jobs"]).sum(), rel=1e-5)
    assert record["fiscal"] == pytest.approx((table["weight"] * table["fiscal"]).sum(), rel=1e-5)
    summary = pd.read_csv(robust_run / "summary.csv", encoding="utf-8-sig")
    schedule = pd.read_csv(robust_run / "schedule.csv", encoding="utf-8-sig")
    assert summary["exits"].sum() == pytest.approx(schedule.loc[schedule["exit_year"].notna(), "capacity"].sum())


def _cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in body.split("<tr>")[2:]]


@pytest.mark.parametrize("lang, heading, chart", [("zh", "各情形下的后悔值", "统一方案的成本与各情形自身最优、后悔值"),
                                                  ("en", "Regret across the cases",
                                                   "Shared plan's cost against each case's own optimum, and regret")])
def test_the_page_shows_the_regret_chart_and_table(robust_run, reports, lang, heading, chart):
    folder, done = reports[lang]
    html = (folder / "briefing.html").read_text("utf-8")
    assert heading in html
    png = (folder / "regret.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    # the chart is embedded in the page, with its title (English when no Chinese font is installed)
    assert base64.b64encode(png).decode("ascii") in html
    english = "Shared plan&#x27;s cost against each case&#x27;s own optimum, and regret"
    assert f'<img alt="{chart}"' in html.replace("&#x27;", "'") or (lang == "zh" and english in html)
    table = pd.read_csv(robust_run / "regret.csv", encoding="utf-8-sig")
    rows = _cells(html, "regret")
    assert [r[0] for r in rows] == list(table["case"])
    for r, (_, t) in zip(rows, table.iterrows(), strict=False):
        # case, task, weight, cost, own optimum, regret, share
        assert r[3] == f"{t['cost']:,.1f}" and r[4] == f"{t['own_optimum']:,.1f}"
        assert r[5] == f"{t['regret']:,.1f}"
        assert float(r[3].replace(",", "")) - float(r[4].replace(",", "")) == pytest.approx(
            float(r[5].replace(",", "")), abs=0.11)
    worst = _cells(html, "headline")
    shown = " ".join(c for row in worst for c in row)
    assert f"{table['regret'].max():,.1f}" in shown and f"{table['cost'].max():,.1f}" in shown
    assert ("最大后悔值最小" if lang == "zh" else "least worst regret") in shown


@pytest.mark.parametrize("lang, sheet", [("zh", "后悔值"), ("en", "regret")])
def test_the_workbook_has_the_regret_sheet(robust_run, reports, lang, sheet):
    import openpyxl

    folder, _ = reports[lang]
    wb = openpyxl.load_workbook(folder / "briefing.xlsx")
    assert sheet in wb.sheetnames
    ws = wb[sheet]
    rows = list(ws.iter_rows(values_only=True))
    table = pd.read_csv(robust_run / "regret.csv", encoding="utf-8-sig")
    assert [r[0] for r in rows[1:]] == list(table["case"])
    heads = list(rows[0])
    i_cost, i_own, i_regret = (heads.index(h) for h in (
        ("统一方案成本", "本情形最优", "后悔值") if lang == "zh" else ("Shared plan's cost", "Own optimum", "Regret")))
    for r, (_, t) in zip(rows[1:], table.iterrows(), strict=False):
        assert r[i_cost] == pytest.approx(t["cost"]) and r[i_own] == pytest.approx(t["own_optimum"])
        assert r[i_regret] == pytest.approx(r[i_cost] - r[i_own], abs=1e-6)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_word_report_has_the_regret_figure_and_table(robust_run, reports, lang):
    import docx

    folder, _ = reports[lang]
    doc = docx.Document(str(folder / "briefing.docx"))
    charts = sorted(p.name for p in folder.glob("*.png"))
    assert "regret.png" in charts
    assert len(doc.inline_shapes) == len(charts)
    blobs = {rel.target_part.blob for rel in doc.part.rels.values() if "image" in rel.reltype}
    assert (folder / "regret.png").read_bytes() in blobs
    table = pd.read_csv(robust_run / "regret.csv", encoding="utf-8-sig")
    last = doc.tables[-1]
    assert [row.cells[0].text for row in last.rows[1:]] == list(table["case"])
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert ("各情形下的后悔值" if lang == "zh" else "Regret across the cases") in texts


def test_a_garbled_regret_table_is_named(robust_run, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(robust_run, bad)
    table = (bad / "regret.csv").read_text("utf-8-sig").splitlines()
    cells = table[2].split(",")
    cells[table[0].split(",").index("regret")] = "inf"
    table[2] = ",".join(cells)
    (bad / "regret.csv").write_text("\n".join(table) + "\n", encoding="utf-8")
    done = exitopt("report", bad, "--out", tmp_path / "out", cwd=tmp_path)
    text = " ".join(done.stderr.split())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "regret.csv" in text and "row 3, column regret" in text and "'inf'" in text
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "out").exists()
