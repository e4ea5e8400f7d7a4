"""The Chinese views are Chinese: no English word in the Chinese briefing (page, workbook, Word
document) of the Gansu baseline and of a tiny scenario, once unit and project ids, numbers, a
short list of product names (HiGHS, exitopt) and file names are taken out; rules, regions, units
and projects named as the scenario and the tables name them in Chinese, or as their facts say
when no Chinese name is given; the run folder's CSV files unchanged by those names; the English
views as they were; charts with thousands separators.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from conftest import write_scenario
from office import exitopt

ROOT = Path(__file__).resolve().parents[1]
GANSU = ROOT / "models" / "gansu_2016.toml"
LATIN = re.compile(r"[A-Za-z]{3,}")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Words a Chinese briefing may keep: the solver's and the program's names, the command the
# binding rules' note points to.
ALLOWED = ("exitopt solve --explain", "HiGHS", "MIP", "exitopt")

# A tiny scenario in which every rule family has a row, only some rules a Chinese name, and the
# unit table Chinese names for its units and regions.
TINY_UNITS = [
    dict(unit_id="A1", name="North mine", name_zh="北矿", region="North", region_zh="北区", workers=10,
         protected_area=True),
    dict(unit_id="A2", name="South mine", name_zh="南矿", region="South", region_zh="南区", workers=20),
    dict(unit_id="A3", name="East mine", name_zh="东矿", region="South", region_zh="南区", workers=30),
    dict(unit_id="A4", name="West mine", name_zh="西矿", region="North", region_zh="北区", workers=40),
]
TINY = {
    "name_zh": "小型测试情景",
    "attrition": 0.1,
    "objective": {"jobs_weight": 1.0, "fiscal_weight": 0.0},
    "targets": [{"name": "coal cut", "name_zh": "压减煤炭产能", "product": "coal", "by": 2018, "at_least": 200.0},
                {"name": "coal count", "product": "coal", "by": 2018, "count_at_most": 3}],
    "mandatory": [{"name": "mines in reserves", "by": 2017,
                   "where": {"all": [["protected_area", "==", True]]}}],
    "protected": [{"name": "keep the west", "where": {"all": [["unit_id", "==", "A4"]]}}],
    "windows": [{"name": "east late", "where": {"all": [["unit_id", "==", "A3"]]}, "years": [2018]}],
    "utilisation": [{"name": "coal supply", "product": "coal", "demand": {"2018": 100.0}, "reserve": 0.1}],
    "caps": {"workers": [{"name": "labour market", "per_year": 100.0}]},
}


def _solve(scenario: Path, out: Path) -> Path:
    exitopt("solve", scenario, "--out", out, cwd=out.parent)
    return out


def _report(run: Path, lang: str) -> Path:
    out = run.parent / f"{run.name}_report_{lang}"
    exitopt("report", run, "--docx", "--lang", lang, "--out", out, cwd=run.parent)
    return out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tiny_zh")
    return _solve(write_scenario(base / "scenario", TINY_UNITS, TINY), base / "run")


@pytest.fixture(scope="module")
def gansu_cli_run(tmp_path_factory) -> Path:
    return _solve(GANSU, tmp_path_factory.mktemp("gansu_zh") / "run")


@pytest.fixture(scope="module")
def runs(tiny_run, gansu_cli_run) -> dict[str, Path]:
    return {"tiny": tiny_run, "gansu": gansu_cli_run}


@pytest.fixture(scope="module")
def reports(runs) -> dict[tuple[str, str], Path]:
    return {(name, lang): _report(run, lang) for name, run in runs.items() for lang in ("zh", "en")}


# ---- the visible text of each view ------------------------------------------------------------

def html_text(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    alts = re.findall(r'alt="([^"]*)"', page)
    return unescape(re.sub(r"<[^>]+>", " ", page) + " " + " ".join(alts))


def xlsx_text(path: Path) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        out.append(ws.title)
        out += [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    return "\n".join(out)


def docx_text(path: Path) -> str:
    import docx

    doc = docx.Document(str(path))
    out = [p.text for p in doc.paragraphs]
    out += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    out += [p.text for s in doc.sections for p in s.header.paragraphs + s.footer.paragraphs]
    return "\n".join(out)


VIEWS = {"briefing.html": html_text, "briefing.xlsx": xlsx_text, "briefing.docx": docx_text}


def ids_of(run: Path) -> set[str]:
    ids = set(pd.read_csv(run / "schedule.csv", dtype=str, encoding="utf-8-sig")["unit_id"])
    new = run / "new_capacity.csv"
    if new.stat().st_size:
        ids |= set(pd.read_csv(new, dtype=str, encoding="utf-8-sig")["project_id"])
    return ids


#: units of measure a Chinese view may write in Latin letters (every other unit is Chinese: 万吨, 万元, 人)
MEASURES = ("%", "kt")


def english_words(text: str, ids: set[str] | frozenset = frozenset()) -> Counter:
    """The Latin words of a Chinese view's text once unit and project ids (``ids``), file names,
    units of measure and the allowed words are taken out: what a Chinese reader would see in
    English. Numbers are not words (the check counts runs of three letters or more)."""
    for word in sorted({*ids, *ALLOWED}, key=len, reverse=True):
        text = text.replace(word, " ")
    text = re.sub(r"\b[\w.-]+\.(csv|png|json|xlsx|html|docx|toml|zip)\b", " ", text)
    text = re.sub(r"\b(" + "|".join(re.escape(m) for m in MEASURES if m.isalpha()) + r")\b", " ", text)
    return Counter(LATIN.findall(text))


def latin_words(text: str, run: Path) -> Counter:
    """The Latin words of a view's text once ids, file names, the run folder's name and the
    allowed words are taken out."""
    return english_words(text, ids_of(run) | {run.name})


def test_the_checker_sees_english_and_passes_ids_numbers_and_units():
    assert english_words("煤矿COAL-S018退出 1,000 万吨（不少于） 12.5% 10 kt", {"COAL-S018"}) == Counter()
    assert english_words("COAL-S018 stays", {"COAL-S018"}) == Counter({"stays": 1})
    assert english_words("规则 coal exit 1,000") == Counter({"coal": 1, "exit": 1})


@pytest.mark.parametrize("case", ["tiny", "gansu"])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_chinese_views_hold_no_english_word(runs, reports, case, view):
    words = latin_words(VIEWS[view](reports[case, "zh"] / view), runs[case])
    assert not words, f"{case} {view} (zh) shows English words: {words.most_common()}"


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_the_check_finds_english_words(runs, reports, view):
    """The English views of the same runs are full of the words the check looks for."""
    assert sum(latin_words(VIEWS[view](reports["tiny", "en"] / view), runs["tiny"]).values()) > 20


# ---- names ------------------------------------------------------------------------------------

def _sheet(report: Path, sheet: str) -> pd.DataFrame:
    return pd.read_excel(report / "briefing.xlsx", sheet_name=sheet, dtype=str).fillna("")


def test_rules_are_named_by_name_zh_or_by_their_facts(tiny_run, reports):
    rules = _sheet(reports["tiny", "zh"], "政策约束")
    cons = pd.read_csv(tiny_run / "constraints.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(rules) == len(cons)
    shown = dict(zip(cons["name"], rules["名称"], strict=False))
    assert shown["coal cut"] == "压减煤炭产能"  # the scenario's name_zh
    assert shown["coal count"] == "煤炭2018年前退出 3 个单位（不多于）"  # built from its facts
    assert shown["coal supply"] == "煤炭供应保障（产能储备10%）"
    assert shown["mines in reserves: A1"] == "第1项（2017年前）：A1"
    assert shown["labour market: North"] == "职工安置上限（每地区每年100人）：北区"
    assert set(rules["规则"]) <= {"退出目标", "供应保障", "强制退出", "保留单位", "退出时间窗", "职工安置上限"}
    assert set(rules["关系"]) <= {"不低于", "不高于", "等于", "仅限"}


def test_regions_and_units_are_named_in_chinese_everywhere(tiny_run, reports):
    sched = pd.read_csv(tiny_run / "schedule.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    exiting = sched[sched["exit_year"] != ""]
    assert len(exiting) >= 2
    book = _sheet(reports["tiny", "zh"], "退出计划")
    assert list(book["单位编号"]) == list(sched["unit_id"])
    assert list(book["中文名称"]) == list(sched["name_zh"])
    assert list(book["地区"]) == [{"North": "北区", "South": "南区"}[r] for r in sched["region"]]
    assert "名称" not in book.columns and "企业" not in book.columns  # English-only columns
    page = html_text(reports["tiny", "zh"] / "briefing.html")
    word = docx_text(reports["tiny", "zh"] / "briefing.docx")
    for _, u in exiting.iterrows():
        for text in (page, word):
            assert u["name_zh"] in text and u["name"] not in text
    assert "小型测试情景" in page and "小型测试情景" in word


def test_english_views_keep_the_run_folder_words(tiny_run, reports):
    cons = pd.read_csv(tiny_run / "constraints.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rules = _sheet(reports["tiny", "en"], "constraints")
    assert list(rules["Name"]) == list(cons["name"]) and list(rules["Rule"]) == list(cons["rule"])
    sched = _sheet(reports["tiny", "en"], "schedule")
    assert list(sched["Region"]) == ["North", "South", "South", "North"]
    assert list(sched["Name"]) == [u["name"] for u in TINY_UNITS]
    page = html_text(reports["tiny", "en"] / "briefing.html")
    assert "tiny" in page and "小型测试情景" not in page


def test_run_folder_files_do_not_change_with_chinese_names(tiny_run, tmp_path):
    """The Chinese names go to run.json only: without them the CSV files are byte for byte the same."""
    plain_units = [{k: v for k, v in u.items() if k not in ("region_zh",)} for u in TINY_UNITS]
    plain = json.loads(json.dumps(TINY))
    plain.pop("name_zh")
    plain["targets"][0].pop("name_zh")
    run = _solve(write_scenario(tmp_path / "scenario", plain_units, plain), tmp_path / "run")
    for name in ("schedule.csv", "summary.csv", "constraints.csv", "new_capacity.csv"):
        assert (run / name).read_bytes() == (tiny_run / name).read_bytes(), name
    names = json.loads((tiny_run / "run.json").read_text(encoding="utf-8"))["names_zh"]
    assert names["scenario"] == "小型测试情景" and names["regions"] == {"North": "北区", "South": "南区"}
    assert "scenario" not in json.loads((run / "run.json").read_text(encoding="utf-8"))["names_zh"]


def test_every_rule_of_the_shipped_scenarios_has_a_chinese_name():
    from exitopt.scenario import parse_scenario, read_toml

    families = ("targets", "replacement", "concentration", "utilisation", "packages", "mandatory", "protected",
                "windows", "fleet")
    for path in sorted((ROOT / "models").glob("*.toml")):
        scen = parse_scenario(read_toml(path))
        missing = [getattr(r, "name", r) for f in families for r in getattr(scen, f) if not r.name_zh]
        missing += [w.name for w in scen.caps.workers if not w.name_zh]
        assert not missing and CJK.search(scen.name_zh or ""), (path.name, missing)


def test_gansu_briefing_uses_the_plans_wording(reports):
    page = html_text(reports["gansu", "zh"] / "briefing.html")
    # the rules that bind in the baseline, by their names in the plan (with mergers the concentration
    # rule is met with room to spare: three lines merge into the large groups)
    for words in ("不具备安全生产条件的小煤矿关闭退出", "水泥熟料减量置换", "国家确定的13类落后小煤矿关闭退出"):
        assert words in page
    book = _sheet(reports["gansu", "zh"], "退出计划")
    assert "合成煤矿S018" in set(book["中文名称"]) and "Pingliang" not in set(book["地区"])
    assert {"平凉市", "庆阳市", "山西省翼城县"} <= set(book["地区"])


def test_rule_names_built_from_facts():
    from exitopt.report.chinese import rule_name_zh
    from exitopt.scenario import Concentration, Replacement, Target, Window

    t = Target(name="t", product="coal", by=2020, at_least=1000.0)
    assert rule_name_zh("targets", t) == "煤炭2020年前退出 1,000 万吨（不少于）"
    t = Target(name="t", product="crude_steel", by=2018, at_least=12.5, at_most=20000.0,
               where={"all": [["region", "==", "Hebei"]]})
    assert rule_name_zh("targets", t) == "河北省粗钢2018年前退出 12.5 万吨（不少于）、20,000 万吨（不多于）"
    assert rule_name_zh("targets", t.model_copy(update={"name_zh": " 河北压减 "})) == "河北压减"
    assert rule_name_zh("replacement", Replacement(product="clinker", ratio=1.25)) == "熟料减量置换 1.25:1"
    c = Concentration(name="c", product="clinker", by="firm", top=5, share=0.655, years=[2020])
    assert rule_name_zh("concentration", c) == "熟料前5家企业产能集中度不低于65.5%"
    w = Window(name="w", where={"units": ["A"]}, years=[2017, 2018])
    assert rule_name_zh("windows", w, number_in_family=2) == "第2项（2017、2018年）"


def test_diagnosis_in_chinese():
    from exitopt.diagnose import Diagnosis, Give
    from exitopt.report.chinese import Names, diagnosis_zh

    names = Names(rules={"coal exit 1,000": "煤炭行业退出产能1000万吨"}, regions={"Pingliang": "平凉市"})
    d = Diagnosis([Give("target", "coal exit 1,000", 2020, "coal", ">=", 1000.0, 812.5, "万吨/yr"),
                   Give("workers", "labour market: Pingliang", 2017, None, "<=", 3000.0, 3400.0, "persons")],
                  "optimal")
    text = diagnosis_zh(d, names)
    assert "须放宽2条规则" in text
    assert "退出目标“煤炭行业退出产能1000万吨”(2020年)在其他规则下最多只能达到812.5万吨/年(要求不低于1,000.0万吨/年)" in text
    assert "“职工安置上限：平凉市”(2017年)在其他规则下无法低于3,400.0人(要求不高于3,000.0人)" in text
    assert not LATIN.findall(text)
    assert "HiGHS" in diagnosis_zh(Diagnosis([], "limit"), names)


# ---- charts -----------------------------------------------------------------------------------

def test_chart_ticks_have_thousands_separators():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from exitopt.report.charts import thousands

    fig, ax = plt.subplots()
    ax.plot([0, 80_000, 160_000], [0, 1_500_000, 3_000_000])
    thousands(ax, "x")
    thousands(ax, "y")
    fig.canvas.draw()
    xs = [t.get_text() for t in ax.get_xticklabels()]
    ys = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)
    assert "160,000" in xs and any(re.fullmatch(r"\d{1,3}(,\d{3})+", y) for y in ys)
    assert not any(re.fullmatch(r"\d{5,}", t) for t in xs + ys)


def test_frontier_chart_labels(chinese_font_files):
    import matplotlib.pyplot as plt

    from exitopt.pareto import frontier_figure

    table = pd.DataFrame({"point": [0, 1, 2], "jobs": [12_000.0, 15_500.0, 21_000.0],
                          "fiscal": [480_000.0, 310_000.0, 160_000.0], "knee": [False, True, False],
                          "label": ["fewest jobs lost", "+COAL-S016", "+COAL-S020 (least outlay)"]})
    fig = frontier_figure(table, "gansu_2016: jobs vs fiscal outlay")
    fig.canvas.draw()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    ticks = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    labels = (ax.get_xlabel(), ax.get_ylabel(), ax.get_title())
    plt.close(fig)
    assert any("," in t for t in ticks) and not any(re.fullmatch(r"\d{5,}", t) for t in ticks)
    if chinese_font_files:
        assert labels[0].startswith("分流职工(人)") and labels[1].startswith("财政支出现值(万元)")
        assert "分流职工与财政支出" in labels[2]
        assert "0: 分流职工最少" in texts and "2: +COAL-S020(财政支出最少)" in texts
    else:
        assert labels[0] == "displaced workers (persons)" and "0: fewest jobs lost" in texts


def test_sweep_charts_are_labelled_in_chinese_with_thousands_separators(monkeypatch, tmp_path, chinese_font_files):
    from types import SimpleNamespace

    from exitopt.sweep import plots

    drawn = []

    def keep(fig, path):  # instead of writing the file: draw it, and keep it to read its labels
        fig.canvas.draw()
        drawn.append(fig)

    monkeypatch.setattr(plots, "_save", keep)
    sweep = SimpleNamespace(name="coal_target", spec=SimpleNamespace(axes=[SimpleNamespace(name="at_least",
                                                                                           sampled=False)]))
    ok = pd.DataFrame({"variant": ["baseline"] * 4, "at_least": [800.0, 1_000.0, 1_200.0, 1_400.0],
                       "jobs": [12_000.0, 15_000.0, 18_500.0, 22_000.0],
                       "fiscal": [90_000.0, 120_000.0, 160_000.0, 210_000.0],
                       "objective": [210_000.0, 270_000.0, 345_000.0, 430_000.0],
                       "exits_coal": [800.0, 1_000.0, 1_200.0, 1_400.0]})
    plots.response(ok, sweep, ["coal"], tmp_path / "response.png")
    plots.tornado(ok, sweep, tmp_path / "tornado.png")
    assert len(drawn) == 2
    response, tornado = (fig.axes for fig in drawn)
    ticks = [t.get_text() for ax in response + tornado for t in ax.get_yticklabels() + ax.get_xticklabels()]
    assert "160,000" in ticks and not any(re.fullmatch(r"-?\d{5,}", t) for t in ticks)
    assert any("1,400" in t for t in (lab.get_text() for lab in tornado[0].get_yticklabels()))
    ylabel = response[0].get_ylabel()
    assert ylabel.startswith("分流职工(人)") if chinese_font_files else ylabel == "jobs (persons displaced)"


def test_scenario_keys_in_words():
    """The keys a person may change beside a figure (the meeting room's numbers) read in Chinese."""
    from exitopt.report import labels
    from exitopt.scenario import Scenario, SectorCosts, Target

    assert labels.key("count_at_most", "zh") == "退出单位数不多于(个)"
    assert labels.key("at_least", "en") == "at least (10 kt/yr)"
    numbers = {k for m in (Target, SectorCosts) for k, f in m.model_fields.items()
               if f.annotation in (float, int, float | None, int | None) or "dict" in str(f.annotation)}
    numbers |= {"attrition", "ladder", "per_year", "ratio", "share", "top", "min_utilisation", "reserve", "demand",
                "budget", "jobs_weight", "fiscal_weight", "discount_rate"} & set(labels.KEYS)
    for k in sorted(numbers - {"by"}):
        assert CJK.search(labels.key(k, "zh")) and not CJK.search(labels.key(k, "en")), k
    assert "attrition" in Scenario.model_fields


# ---- the console in Chinese (--lang zh) -------------------------------------------------------

#: the command the Chinese console names as the next step, to be typed as it is
CONSOLE_ALLOWED = ("exitopt report",)


def _console_words(done, ids: set[str], *paths: Path) -> Counter:
    text = done.stdout + done.stderr
    for p in sorted(map(str, paths), key=len, reverse=True):
        text = text.replace(p, " ")
    return english_words(text, ids | set(CONSOLE_ALLOWED))


def test_commands_print_their_summaries_in_chinese(tmp_path):
    """validate, solve (with a pin, so its price is printed), check and report with --lang zh: no
    English word but unit ids, file names and the command to type next; the same commands in
    English are full of English words."""
    scenario = write_scenario(tmp_path / "scenario", TINY_UNITS, TINY)
    ids = {u["unit_id"] for u in TINY_UNITS}
    for lang in ("zh", "en"):
        out = tmp_path / f"run_{lang}"
        shown = [exitopt("validate", scenario, "--lang", lang, cwd=tmp_path),
                 exitopt("solve", scenario, "--out", out, "--keep", "A2", "--lang", lang, cwd=tmp_path),
                 exitopt("check", scenario, out / "schedule.csv", "--lang", lang, cwd=tmp_path),
                 exitopt("report", out, "--lang", lang, cwd=tmp_path)]
        words = [_console_words(done, ids, out / f"report_{lang}", out, scenario) for done in shown]
        if lang == "zh":
            assert all(not w for w in words), [w.most_common(5) for w in words]
            assert "有效" in shown[0].stdout and "小型测试情景" in shown[0].stdout
            assert "保留 A2：代价" in shown[1].stdout and "分流职工" in shown[1].stdout
            assert shown[2].stdout.startswith("通过：方案满足情景“小型测试情景”的全部规则。")
        else:
            assert all(words) and sum(sum(w.values()) for w in words) > 20, words


def test_gansu_validate_and_check_in_chinese(gansu_cli_run, tmp_path):
    ids = ids_of(gansu_cli_run)
    v = exitopt("validate", GANSU, "--lang", "zh", cwd=tmp_path)
    c = exitopt("check", GANSU, gansu_cli_run / "schedule.csv", "--projects", gansu_cli_run / "new_capacity.csv",
                "--lang", "zh", cwd=tmp_path)
    for done in (v, c):
        assert not _console_words(done, ids, gansu_cli_run, GANSU), _console_words(done, ids).most_common(5)
    recorded = json.loads((ROOT / "tests" / "regression" / "gansu_2016" / "expected.json").read_text(encoding="utf-8"))
    assert "不具备安全生产条件的小煤矿关闭退出" in v.stdout and f"目标值：{recorded['objective']}" in c.stdout


def test_a_language_the_console_does_not_speak_is_refused(tmp_path):
    done = exitopt("validate", GANSU, "--lang", "fr", cwd=tmp_path, code=2)
    assert "give zh (Chinese) or en (English)" in done.stderr
