"""The Chinese console as an analyst meets it: compare, pareto, alternatives, sweep, robust and
serve with ``--lang zh`` run as processes, their whole stdout and stderr read (in an 80-column
terminal: no line past the edge, no word split, no traceback); and bad input refused in Chinese
with the exit code it has in English. The Chinese text may keep Latin letters only for ids, keys,
column names, paths, file names, options and numbers: what the reader types or looks up."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import write_scenario
from office import exitopt
from test_bad_input import gansu_text
from test_chinese import english_words
from test_robust import sweep_file
from test_terminal_width import ENTRY, _words, assert_fits, in_terminal

ROOT = Path(__file__).resolve().parents[1]
GANSU = ROOT / "models" / "gansu_2016.toml"
CJK = re.compile(r"[\u4e00-\u9fff]")

#: eight mines named in Chinese, of two regions, half labour-light and loss-free, half the reverse
MINES = [dict(unit_id=f"COAL-S{i:03d}", capacity=30 + 10 * i, workers=40 + 7 * i, name=f"Synthetic mine S{i:03d}",
              name_zh=f"合成煤矿S{i:03d}", region="North" if i % 2 else "South", region_zh="北区" if i % 2 else "南区",
              loss_making=i % 2 == 1, subsidised_loss=40.0 * (i % 2 == 1)) for i in range(1, 9)]
SCENARIO = {"name_zh": "八矿情景",
            "targets": [dict(name="coal exit", name_zh="煤炭退出任务", product="coal", by=2018, at_least=200.0)],
            "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
            "sectors": {"coal": {"exit_cost_per_capacity": {"close": 3.0}}}}
IDS = {m["unit_id"] for m in MINES}


def latin_left(text: str, ids: set[str] = frozenset(), *paths: Path) -> dict[str, int]:
    """The Latin words of ``text`` once paths, ids, quoted values and keys (“…”), options (--out),
    TOML tables ([solver]), identifiers with an underscore or a dot (unit_id, ladder.2016,
    README.md) and the words a reader types (exitopt and its commands) are taken out."""
    for p in sorted(map(str, paths), key=len, reverse=True):
        text = text.replace(p, " ")
    text = re.sub(r"“[^”]*”", " ", text)
    text = re.sub(r"--[\w-]+", " ", text)
    text = re.sub(r"\[\w+\]", " ", text)
    text = re.sub(r"[\w.-]*/[\w./-]*", " ", text)  # a path (data/gansu/README.md)
    text = re.sub(r"[\w-]*[_.][\w.-]*", " ", text)
    return dict(english_words(text, set(ids) | TYPED))


#: words the reader types or finds in the files as they are: the program, its commands, the
#: formats, the values a cell or a key takes, and the keys and columns of the tables
TYPED = {"exitopt solve", "exitopt report", "exitopt", "Ctrl+C", "TOML", "UTF-8", "CSV", "NUL", "Excel",
         "Dask", "HiGHS", "http", "nan", "inf", "true", "false", "keep", "exit"}


def _keys() -> set[str]:
    from exitopt.scenario import Scenario
    from exitopt.vocab import PRODUCTS

    header = pd.read_csv(ROOT / "data" / "gansu" / "units.csv", nrows=0).columns
    return set(header) | set(Scenario.model_fields) | set(PRODUCTS)


TYPED |= _keys()


def test_the_check_sees_english_and_passes_what_is_typed():
    assert latin_left("第5行（COAL-M1890），“capacity”列：“abc”不是数字。", {"COAL-M1890"}) == {}
    assert latin_left("ladder.2016：须不小于 0；加 --force 可替换，见 README.md 和 [solver]") == {}
    assert latin_left("（此说明尚无中文）is not a number") == {"not": 1, "number": 1}
    assert latin_left("表中缺少列 workers。") == {}  # a column of the unit table


# ---- the commands' output in an 80-column terminal --------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """The eight-mine scenario, two runs of it (one with pins) and a sweep of three cases."""
    folder = tmp_path_factory.mktemp("zh_console")
    write_scenario(folder / "scen", MINES, SCENARIO)
    for args in (["solve", folder / "scen" / "scenario.toml", "--out", folder / "free"],
                 ["solve", folder / "scen" / "scenario.toml", "--out", folder / "pinned", "--keep", "COAL-S001",
                  "--exit", "COAL-S008=2017"]):
        exitopt(*args, cwd=folder)
    body = ("[[axes]]\npath = 'targets[name=\"task\"].at_least'\nlabel = \"task\"\nvalues = [60, 110, 150]\n"
            "[robust]\nobjective = \"regret\"\n")
    sweep_file(folder / "sweep", body)
    return folder


COMMANDS = {
    "compare": lambda w: ["compare", w / "pinned", w / "free"],
    "pareto": lambda w: ["pareto", w / "scen" / "scenario.toml", "--out", "front", "--points", "4"],
    "alternatives": lambda w: ["alternatives", w / "scen" / "scenario.toml", "--out", "alt", "--count", "3"],
    "sweep": lambda w: ["sweep", w / "sweep" / "sweep.toml", "--out", "swept", "--workers", "1"],
    "robust": lambda w: ["robust", w / "sweep" / "sweep.toml", "--out", "one", "--ledger", "none"],
}
#: what each command says in Chinese that it says in no other language
SAYS = {"compare": ("有差异的单位", "合成煤矿S001", "仅在A中退出", "终端太窄，未显示：地区"), "pareto": ("分流职工最少", "已写入 front"),
        "alternatives": ("最优方案", "在全部"), "sweep": ("个情形", "已用", "预计剩余", "用时"),
        "robust": ("最大遗憾最小", "统一方案中退出")}


def _number(word: str) -> bool:
    """A figure or a clock reading (12.5, 3,000, 0:00:01): words that change from run to run."""
    return any(c.isdigit() for c in word) and all(c.isdigit() or c in ",.:" for c in word)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_speaks_chinese_in_80_columns(name, work, tmp_path):
    """In Chinese at 80 columns every line fits, no word is split (every word on screen is one the
    same command shows in a wide terminal), and no English word is left but ids and file names;
    in English the same command is full of English words."""
    narrow_dir, wide_dir, en_dir = tmp_path / "narrow", tmp_path / "wide", tmp_path / "en"
    for d in (narrow_dir, wide_dir, en_dir):
        d.mkdir()
    code, narrow, _ = in_terminal([*COMMANDS[name](work), "--lang", "zh"], narrow_dir, columns=80)
    assert code == 0, "\n".join(narrow)
    assert_fits(narrow, 80)
    code, wide, _ = in_terminal([*COMMANDS[name](work), "--lang", "zh"], wide_dir, columns=240)
    assert code == 0, "\n".join(wide)
    shown = [line for line in narrow if not line.strip().startswith("（终端太窄，未显示：")]
    # seconds elapsed differ from run to run: a word that is a number alone is not compared
    narrow_words = {w.replace(str(narrow_dir), "OUT") for w in _words(shown) if not _number(w)}
    wide_words = {w.replace(str(wide_dir), "OUT") for w in _words(wide) if not _number(w)}
    assert narrow_words <= wide_words, sorted(narrow_words - wide_words)
    text = "\n".join(narrow)
    typed = IDS | {"tiny_sweep", "front", "alt", "swept", "one", "none"}  # ids and the folders named
    assert not latin_left(text, typed, narrow_dir, work), text
    for words in SAYS[name]:
        assert words in text, text
    code, english, _ = in_terminal(COMMANDS[name](work), en_dir, columns=80)
    assert code == 0 and sum(latin_left("\n".join(english), IDS | {"tiny_sweep"}, en_dir, work).values()) > 5
    assert not CJK.search("\n".join(english).replace("万吨", "").replace("万元", "")), english


def test_serve_speaks_chinese_on_the_console(work, tmp_path):
    """The meeting room's lines, from the start to a polite stop (SIGTERM), in Chinese."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*ENTRY, "serve", str(work / "scen" / "scenario.toml"), "--no-open", "--port", "0",
                             "--lang", "zh"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", cwd=tmp_path, env=env)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 300)
        assert ready, "serve printed no address"
        first = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    text = first + out + err
    assert "请打开 http://127.0.0.1:" in first and "Traceback" not in text, text
    assert "先求解一次情景" in err and "已停止" in err, text
    url = re.search(r"http://\S+", first)[0]
    assert not latin_left(text, set(), url), text


# ---- bad input in Chinese -----------------------------------------------------------------------


def _mutated(folder: Path, name: str, old: str, new: str) -> Path:
    text = gansu_text()
    changed = re.sub(old, new, text, count=1, flags=re.M)
    assert changed != text, old
    path = folder / f"{name}.toml"
    path.write_text(changed, encoding="utf-8")
    return path


def _units_changed(folder: Path, name: str, change) -> Path:
    """The Gansu scenario over a copy of its unit table that ``change`` changed."""
    base = gansu_text()
    units = re.search(r'units = "([^"]+)"', base)[1]
    table = change(pd.read_csv(units, dtype=str, keep_default_na=False))
    table.to_csv(folder / f"{name}.csv", index=False)
    path = folder / f"{name}.toml"
    path.write_text(base.replace(units, (folder / f"{name}.csv").as_posix()), encoding="utf-8")
    return path


def _cell(row: int, col: str, value: str):
    def change(t):
        t.loc[row, col] = value
        return t
    return change


def _duplicate(t):
    t.loc[4, "unit_id"] = t.loc[3, "unit_id"]
    return t


#: (name, the command's arguments given the work folder and a scratch folder, its exit code)
BAD = [
    ("missing scenario", lambda w, s: ["validate", s / "no_such.toml"], 2),
    ("nan in the scenario", lambda w, s: ["validate", _mutated(s, "nan", r"^ladder = .*", "ladder = { 2016 = nan }")], 2),
    ("negative number", lambda w, s: ["validate", _mutated(s, "neg", r"^ladder = .*", "ladder = { 2016 = -1.0 }")], 2),
    ("unknown key", lambda w, s: ["validate", _mutated(s, "key", r"^ladder = .*", "ladderr = { 2016 = 1.0 }")], 2),
    ("TOML syntax", lambda w, s: ["validate", _mutated(s, "syntax", r"^ladder = ", "ladder == ")], 2),
    ("not a number", lambda w, s: ["validate", _units_changed(s, "abc", _cell(3, "capacity", "abc"))], 2),
    ("capacity below 0", lambda w, s: ["validate", _units_changed(s, "below", _cell(3, "capacity", "-5"))], 2),
    ("column missing", lambda w, s: ["validate", _units_changed(s, "lacks", lambda t: t.drop(columns=["workers"]))], 2),
    ("id twice", lambda w, s: ["validate", _units_changed(s, "twice", _duplicate)], 2),
    ("bad years", lambda w, s: ["validate", _units_changed(s, "years", _cell(3, "exit_years", "20x7"))], 2),
    ("bad choice", lambda w, s: ["validate", _units_changed(s, "choice", _cell(3, "product", "gold"))], 2),
    ("table not found", lambda w, s: ["validate", _mutated(s, "table", r'^units = "[^"]+"', 'units = "none.csv"')], 2),
    ("unknown pin", lambda w, s: ["solve", w / "scen" / "scenario.toml", "--keep", "NOPE", "--out", s / "x"], 2),
    ("pinned twice", lambda w, s: ["solve", w / "scen" / "scenario.toml", "--keep", "COAL-S001", "--exit",
                                   "COAL-S001", "--out", s / "x"], 2),
    ("folder holds a run", lambda w, s: ["solve", w / "scen" / "scenario.toml", "--out", w / "free"], 5),
    ("alternatives over a run", lambda w, s: ["alternatives", w / "scen" / "scenario.toml", "--out", w / "free"], 5),
    ("bad share", lambda w, s: ["alternatives", w / "scen" / "scenario.toml", "--within", "abc"], 2),
    ("compare a non-run", lambda w, s: ["compare", s, w / "free"], 2),
    ("report of a file", lambda w, s: ["report", w / "scen" / "units.csv"], 2),
    ("no plan meets the rules", lambda w, s: ["solve", _infeasible(w, s), "--out", s / "x"], 3),
]


def _infeasible(work: Path, scratch: Path) -> Path:
    text = (work / "scen" / "scenario.toml").read_text(encoding="utf-8").replace("200.0", "900.0")
    path = work / "scen" / "too_much.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, args, code", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_in_chinese_with_the_same_exit_code(name, args, code, work, tmp_path):
    """One paragraph in Chinese naming the file, row or key as the English one does, with no
    English word but what is typed or quoted; the same exit code in both languages."""
    scratch = tmp_path / "s"
    scratch.mkdir()
    argv = args(work, scratch)
    zh = exitopt(*argv, "--lang", "zh", cwd=tmp_path, code=code)
    en = exitopt(*argv, cwd=tmp_path, code=code)
    assert zh.stderr.startswith("错误：") and en.stderr.startswith("error: "), zh.stderr + en.stderr
    assert "此说明尚无中文" not in zh.stderr, zh.stderr
    assert not CJK.search(en.stderr.replace("万吨", "").replace("万元", "")), en.stderr
    paths = [a for a in argv if isinstance(a, Path)] + [scratch, work, ROOT]
    named = set(re.findall(r"[\w./-]+\.(?:csv|toml)", en.stderr))  # the files the English names
    assert all(f in zh.stderr for f in named), (named, zh.stderr)
    ids = set(re.findall(r"\b[A-Z]+-[A-Z0-9]+\b", en.stderr)) | set(re.findall(r"'([^']+)'", en.stderr))
    assert not latin_left(zh.stdout + zh.stderr, ids, *paths), zh.stderr
