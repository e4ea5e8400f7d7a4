"""The README read as a newcomer follows it: the commands it shows can be typed as they are."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _code_lines() -> list[tuple[int, str]]:
    """(offset in the README, line) of every line inside a ``` block."""
    lines, inside = [], False
    for m in re.finditer(r"^.*$", README, flags=re.M):
        line = m.group(0)
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append((m.start(), line))
    return lines


def test_the_venv_is_activated_before_the_first_bare_exitopt_command():
    bare = [at for at, line in _code_lines() if line.startswith("exitopt ")]
    assert bare, "the README shows no exitopt command"
    first = bare[0]
    before = README[:first]
    assert "source .venv/bin/activate" in before and r".venv\Scripts\Activate.ps1" in before


def test_the_quick_start_commands_name_the_venv_path():
    start, end = README.index("## Quick start"), README.index("## Units of measure")
    for line in (line for at, line in _code_lines() if start <= at < end):
        if "exitopt " in line or "pytest" in line:
            assert ".venv" in line, line


# ---- every example command, run as written, in order, on a fresh copy of the repository --------

import os  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: the first word of a line that is a command (output shown in a block, and toml or python blocks, are not)
COMMAND = re.compile(r"^(exitopt|python3?|\.venv|py|mkdir|Copy-Item|notepad|start)\b")
#: words in capitals that a synopsis line holds in place of the reader's own files and values
SYNOPSIS = re.compile(r"\b(SCENARIO|RUN_DIR|RUN_A|SWEEP\.toml|UNIT)\b")
#: installing is what every test run stands on: the copy's .venv is the environment of this run
#: (tests/test_install.py checks that the plain install runs every command)
INSTALL = ("python3 -m venv .venv", ".venv/bin/pip install", "py -m venv .venv", r".venv\Scripts\pip install")
#: the examples too long for the suite, each with why (the time is that of a 2-core machine)
NOT_RUN = {
    r".venv/bin/python -m pytest": "the test suite itself",
    r".venv\Scripts\python -m pytest": "the test suite itself (PowerShell)",
    r".venv\Scripts\exitopt solve models\gansu_2016.toml --force": "the Linux quick start's solve, run above",
    "exitopt solve models/national_2016.toml --time-limit 120":
        "two minutes of solving; with --time-limit 15 no plan is found in time (exit 4)",
    "exitopt sweep models/sweeps/national_fund.toml --workers 2": "five national cases, several minutes",
    "exitopt sweep models/sweeps/coal_target_ratio.toml --workers 2":
        "40 cases, 30-40 s on two cores (tests/test_sweep.py runs sweeps of the same machinery)",
    "exitopt sweep models/sweeps/cost_weights_lhs.toml --scheduler tcp://10.1.2.3:37511 --out lhs":
        "needs a Dask cluster at that address",
    "exitopt robust models/sweeps/robust_2016.toml": "24 cases, about 100 s",
    "exitopt solve models/gansu_2016.toml --out gansu_2016 --force --explain":
        "about 30 re-solves, 40 s to several minutes on two shared cores (tests/test_solve_cli.py explains small runs)",
    "exitopt robust models/sweeps/robust_2016.toml --objective regret": "24 cases, longer than expected cost",
}
#: a command the README gives in its text, with the output it shows in the block after it
PINS = "exitopt solve models/gansu_2016.toml --keep COAL-S008 --exit COAL-S101=2017 --out gansu_2016_pins"


def example_commands() -> list[tuple[int, str]]:
    """(README line number, command) of every command line in a plain ``` block, in order; a
    command chained with && is one entry per part, a trailing # comment is dropped."""
    found, fence = [], None
    for number, line in enumerate(README.splitlines(), start=1):
        text = line.strip()
        if text.startswith("```"):
            fence = None if fence is not None else text[3:].strip()
            continue
        if fence != "" or not COMMAND.match(text):
            continue
        if not text.startswith((r".venv\Scripts", "py ", "Copy-Item", "notepad", "start", "mkdir")):
            text = text.split("  #")[0].strip()
        found += [(number, part.strip()) for part in text.split(" && ")]
    return found


def kind_of(command: str) -> str:
    if command.startswith(INSTALL):
        return "install"
    if command in NOT_RUN:
        return "not run"
    if SYNOPSIS.search(command):
        return "synopsis"
    return "run"


def test_every_example_command_is_run_or_said_why_not():
    commands = example_commands()
    assert len(commands) >= 25, commands
    kinds = {c: kind_of(c) for _, c in commands}
    assert sum(k == "run" for k in kinds.values()) >= 12, kinds
    stale = set(NOT_RUN) - set(kinds)
    assert not stale, f"NOT_RUN names commands the README no longer has: {stale}"
    assert PINS in " ".join(README.split())


def _windows(command: str) -> str:
    """A PowerShell line of the README as a Linux shell types it: \\ between folders is /."""
    return command.replace(".venv\\Scripts\\", "").replace("\\", "/")


def _copy_repo(dest: Path) -> Path:
    """The repository's files as a fresh clone holds them (no run folders, no caches), with the
    environment of this test run as its .venv."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        files = [f for f in listed.decode("utf-8").split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                 and not {".git", ".venv", "__pycache__"} & set(p.relative_to(ROOT).parts)]
    for f in files:
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    (dest / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return dest


class Walk:
    """The README's commands run one after another in one copy of the repository."""

    def __init__(self, repo: Path) -> None:
        self.repo, self.done = repo, {}
        bin_ = Path(sys.executable).parent
        exe = bin_ / ("exitopt.exe" if sys.platform == "win32" else "exitopt")
        self.exitopt = [str(exe)] if exe.is_file() else [sys.executable, "-c", "from exitopt.cli import main; main()"]
        self.env = {**os.environ, "PATH": f"{bin_}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "200"}

    def run(self, command: str) -> subprocess.CompletedProcess | str:
        windows = command.startswith((r".venv\Scripts", "Copy-Item", "notepad", "start", "mkdir"))
        words = shlex.split(_windows(command) if windows else command)
        if words[0] == "mkdir":
            (self.repo / words[1]).mkdir()
            return "made"
        if words[0] == "Copy-Item":
            shutil.copy(self.repo / words[1], self.repo / words[2])
            return "copied"
        if words[0] == "notepad":  # the edit step 3 describes, on the Gansu sheets of the template
            path = self.repo / words[1]
            text = re.sub(r'(?m)^units = .*$', 'units = "单位表.xlsx#example_units"', path.read_text(encoding="utf-8"))
            text = re.sub(r'(?m)^projects = .*$', 'projects = "单位表.xlsx#example_projects"', text)
            path.write_text(text, encoding="utf-8")
            return "edited"
        if words[0] == "start":
            assert (self.repo / words[1]).is_file(), command
            return "opened"
        if words[0] == "exitopt":
            argv = [*self.exitopt, *words[1:]]
        elif words[0] == "python":
            argv = [sys.executable, *words[1:]]
        else:
            argv = words
        done = subprocess.run(argv, cwd=self.repo, capture_output=True, text=True, timeout=600, env=self.env)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr, command
        return done


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> Walk:
    w = Walk(_copy_repo(tmp_path_factory.mktemp("readme")))
    pins_at = README[:README.index("cost of the pins, objective units")].count("\n") + 1
    for number, command in example_commands():
        if PINS not in w.done and number > pins_at:
            w.done[PINS] = w.run(PINS)  # the pins' example, given in the text before its output
        if kind_of(command) == "run":
            w.done[command] = w.run(command)
    return w


def _out(walk: Walk, command: str) -> str:
    done = walk.done[command]
    return done.stdout + done.stderr


# ---- the figures the README quotes, read from its text (the README is their one source) ---------

def _section(title: str) -> str:
    """The README's text from the heading ``title`` to the next heading of the same or a higher level."""
    m = re.search(rf"(?m)^(#+) {re.escape(title)}\s*$", README)
    assert m, f"the README has no section {title!r}"
    rest = README[m.end():]
    nxt = re.search(rf"(?m)^#{{1,{len(m.group(1))}}} ", rest)
    return rest[:nxt.start()] if nxt else rest


def _quoted(pattern: str, text: str = README) -> tuple[str, ...]:
    """The groups of ``pattern`` in the README text: the figures a sentence of it quotes."""
    m = re.search(pattern, " ".join(text.split()))
    assert m, f"the README no longer has a sentence matching {pattern!r}"
    return m.groups()


def _table(text: str, header: str) -> dict[str, list[str]]:
    """The rows of the markdown table whose header row starts with ``header``: {first cell: other cells}."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = {}
    for line in lines[at + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def _plain(cell: str) -> str:
    """A table cell without its markdown emphasis and its bracketed share: ``**+2,029** (+14.9 %)`` → ``+2,029``."""
    return re.sub(r"\s*\(.*\)$", "", cell.replace("**", "")).strip() if "万吨" not in cell else cell


#: the baseline as "The rules" quotes it: "… to **objective** (jobs persons, fiscal 万元)"
BASELINE = r"to \*\*([\d,.]+)\*\* \(([\d,]+) persons, ([\d,.]+) 万元\)"
REALISED = "What actually happened (2016–2018)"


def _headline(text: str) -> tuple[str, str, str]:
    m = re.search(r"objective ([\d,.]+)\njobs ([\d,]+) persons displaced; fiscal ([\d,.-]+) 万元", text)
    assert m, text
    return m.groups()


def test_quick_start_solves_the_baseline_as_the_readme_quotes_it(walk):
    text = _out(walk, ".venv/bin/exitopt solve models/gansu_2016.toml --force")
    assert _headline(text) == _quoted(BASELINE, _section("The rules"))
    assert (walk.repo / "gansu_2016" / "schedule.csv").is_file()


def test_the_calibration_table_quotes_the_baseline_as_it_is_solved(walk):
    text = _out(walk, ".venv/bin/exitopt solve models/gansu_2016.toml --force")
    rows = _table(_section("The baseline under the calibrated fiscal cost"), "| figure | before the calibration")
    objective, jobs, fiscal = _headline(text)
    assert rows["objective (万元 equivalent)"][1] == objective
    assert rows["jobs (persons displaced)"][1] == jobs
    assert rows["fiscal outlay (万元, present value)"][1] == fiscal
    years = _table_years(text)
    assert rows["coal exits 2016 / 2018 / 2020, 万吨 (mines)"][1] == " / ".join(
        years[y] for y in ("2016", "2018", "2020"))


def test_the_efficiency_targets_run_gives_the_readmes_figures(walk):
    text = _out(walk, "exitopt solve models/gansu_2016_efficiency.toml --out gansu_2016_efficiency --force")
    section = README[README.index('<a id="efficiency-targets"></a>'):]
    assert _headline(text) == _quoted(r"gives ([\d,.]+) \(([\d,]+) persons, ([\d,.]+) 万元\)", section)
    left = pd.read_csv(walk.repo / "gansu_2016_efficiency" / "summary.csv", encoding="utf-8-sig")
    clinker = left[(left["product"] == "clinker") & (left["year"] == 2020)].iloc[0]
    shown, = _quoted(r"the clinker left in 2020, ([\d,]+) 万吨", section)
    assert f"{round(clinker['capacity_left']):,}" == shown and clinker["capacity_left"] >= clinker["demand"]
    schedule = pd.read_csv(walk.repo / "gansu_2016_efficiency" / "schedule.csv", encoding="utf-8-sig",
                           keep_default_na=False)
    lines = schedule[schedule["product"] == "clinker"]
    lifted = lines[lines["upgrade"] != ""]
    closed = lines[lines["exit_year"] != ""]
    assert _quoted(r"([\d,]+) lines\s+with waste-heat power are upgraded in 2020 \(([\d,.]+) 万吨, ([\d,.]+) 万元\)",
                   section) == (str(len(lifted)), f"{lifted['capacity'].sum():,.1f}",
                                f"{lifted['upgrade_outlay'].sum():,.1f}")
    assert set(lifted["upgrade_year"].astype(int)) == {2020} and (lifted["exit_year"] == "").all()
    assert _quoted(r"([\d,]+) lines close \(([\d,.]+)\s+万吨", section) == (
        str(len(closed)), f"{closed['capacity'].sum():,.1f}")


def test_the_windows_workbook_steps_give_the_gansu_baseline(walk):
    folder = walk.repo / "甘肃 方案"
    assert "sheets units, projects, pins, plan, approvals" in _out(
        walk, r'.venv\Scripts\exitopt template --out "甘肃 方案\单位表.xlsx"')
    assert "valid" in _out(walk, r'.venv\Scripts\exitopt validate "甘肃 方案\情景.toml"')
    solved = _out(walk, r'.venv\Scripts\exitopt solve "甘肃 方案\情景.toml" --out "甘肃 方案\结果"')
    shown, = _quoted(r"the result is the Gansu baseline \(objective ([\d,.]+)\)", _section(
        "Windows: from a workbook to a briefing"))
    assert _headline(solved)[0] == shown == _quoted(BASELINE)[0]
    assert (folder / "结果" / "report_zh" / "briefing.xlsx").is_file()  # "next to the page"
    assert walk.done[r'start "甘肃 方案\结果\report_zh\briefing.html"'] == "opened"


def test_national_build_writes_the_table_the_readme_describes(walk):
    assert walk.done["python data/national/build.py"].returncode == 0
    units = walk.repo / "data" / "national" / "units.csv"
    assert round(units.stat().st_size / 1e6, 1) == 3.2  # "(3.2 MB)"
    assert (walk.repo / "data" / "national" / "projects.csv").is_file()
    kinds = pd.read_csv(units, usecols=["kind"])["kind"].value_counts()
    # "10,800 coal mines, 1,750 clinker lines, 820 steel works" (a works: a blast furnace and a converter)
    assert (kinds["coal_mine"], kinds["clinker_line"], kinds["converter"], kinds["blast_furnace"]) == (
        10_800, 1_750, 820, 820)


def _row(text: str, first: str) -> list[str]:
    """The cells of the console table row that starts with ``first``."""
    line = next(line for line in text.splitlines() if line.strip().startswith(first + " "))
    return [c.strip() for c in re.split(r"[│┃]", line)[1:]]


def _table_years(text: str) -> dict[str, str]:
    """Coal exits per year of a solve's console table: {year: "万吨 (mines)"}."""
    header = next(line for line in text.splitlines() if line.strip().startswith("product "))
    years = [c.strip() for c in re.split(r"[│┃]", header)[1:]]
    return {y: c for y, c in zip(years, _row(text, "coal"), strict=False) if c}


def _bullet(text: str, pattern: str) -> tuple[int, set[str]]:
    """The count a bold bullet of the compare list opens with, and the unit ids it names."""
    m = re.search(rf"(?ms)^- \*\*(\d+) {pattern}.*?(?=^- |^\S|\Z)", text)
    assert m, f"the README's compare list has no bullet '{pattern}'"
    return int(m.group(1)), set(re.findall(r"`([A-Z]+-[A-Z0-9-]+)`", m.group(0)))


def test_the_realised_run_gives_the_readmes_table(walk):
    base = _out(walk, "exitopt solve models/gansu_2016.toml --force")
    real = _out(walk, "exitopt solve models/gansu_2016_realised.toml --force")
    section = _section(REALISED)
    table = _table(section, "| | baseline | realised | change |")
    figures = {"objective (万元 equivalent)": 0, "jobs (persons displaced)": 1, "fiscal outlay (万元, present value)": 2}
    for label, i in figures.items():
        assert [_plain(c) for c in table[label][:2]] == [_headline(base)[i], _headline(real)[i]], label
    # coal exits per year, 万吨 (mines); "—" where a run closes no mine that year
    for year in ("2016", "2017", "2018", "2020"):
        label = next(k for k in table if k.startswith(f"coal exits {year}"))
        assert table[label][:2] == [_table_years(run).get(year, "—") for run in (base, real)], label
    check = _out(walk, "exitopt check models/gansu_2016_realised.toml gansu_2016_realised/schedule.csv "
                       "--projects gansu_2016_realised/new_capacity.csv")
    assert check.startswith("OK: the plan meets every rule")
    assert f"Objective: {_plain(table['objective (万元 equivalent)'][1])}" in check
    comp = _out(walk, "exitopt compare gansu_2016 gansu_2016_realised --out realised_vs_baseline.csv")
    for label in figures:
        a, b, change = _row(comp, label)
        shown = [_plain(c) for c in table[label]]
        if label.startswith("jobs"):  # compare prints persons to 0.1, the table whole persons
            whole = [round(float(v.replace(",", ""))) for v in (a, b, change)]
            a, b, change = f"{whole[0]:,}", f"{whole[1]:,}", f"{whole[2]:+,}"
        assert [a, b, change] == shown, label
    diff = pd.read_csv(walk.repo / "realised_vs_baseline.csv", encoding="utf-8-sig", dtype=str)
    units = diff[diff["section"] == "unit"]
    listed, = _quoted(r"`compare` lists (\d+) units", section)
    assert len(units) == int(listed) and f"units that differ ({len(units)})" in comp
    moved = units["change"].value_counts()
    only_b, _ = _bullet(section, "exit only in the realised run")
    only_a, named_a = _bullet(section, "exit only in the baseline")
    other_year, _ = _bullet(section, "exit in another year")
    assert (moved["exits only in B"], moved["exits only in A"]) == (only_b, only_a)
    assert moved.drop(["exits only in B", "exits only in A"]).sum() == other_year
    assert set(units.loc[units["change"] == "exits only in A", "key"]) == named_a


def _figures(line: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"[+-]?\d[\d,]*\.?\d*", line)]


def test_the_pins_example_prints_what_the_readme_shows(walk):
    """Re-solved costs move within the solver's gap (rel_gap × objective, as the README states it for
    Gansu); the objective without any pin is the baseline's, to the digit."""
    import tomllib

    gap = float(_quoted(r"re-solved costs move within the solver's gap, ≈ (\d+) for Gansu")[0])
    rel_gap = tomllib.loads((ROOT / "models" / "gansu_2016.toml").read_text(encoding="utf-8"))["solver"]["rel_gap"]
    assert gap == round(rel_gap * float(_quoted(BASELINE)[0].replace(",", "")))
    shown = README[README.index("cost of the pins, objective units"):].split("```")[0].strip().splitlines()
    printed = [line for line in _out(walk, PINS).splitlines() if "costs" in line or line.startswith("cost of")]
    assert len(printed) == len(shown) == 4
    for mine, theirs in zip(printed, shown, strict=False):
        assert re.sub(r"[\d,.+-]+", "#", mine.strip()) == re.sub(r"[\d,.+-]+", "#", theirs.strip())
        for a, b in zip(_figures(mine), _figures(theirs), strict=True):
            assert abs(a - b) <= gap or (abs(b) > 100 and abs(a - b) <= 0.001 * abs(b) + gap), (mine, theirs)
    assert f"{_quoted(BASELINE)[0]} without any" in printed[1]
