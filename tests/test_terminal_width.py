"""Every command read in an 80-column terminal: no line runs past the edge, and no number, id or
word is split across lines (a terminal wraps a long line wherever it reaches the edge)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pyte
import pytest
from rich.cells import cell_len

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is a POSIX device")

ENTRY = [sys.executable, "-c", "from exitopt.cli import main; main()"]


def in_terminal(args: list, cwd: Path, columns: int = 80, timeout: float = 300) -> tuple[int, list[str], bytes]:
    """Run a command with stdout and stderr on a pseudo-terminal ``columns`` wide; its exit code,
    the lines a person sees when it has ended, and the bytes it wrote."""
    main, sub = pty.openpty()
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(ENTRY + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=sub, stderr=sub,
                            cwd=cwd, env=env, close_fds=True)
    os.close(sub)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([main], [], [], timeout)
            if not ready:
                proc.kill()
                raise AssertionError(f"{args} printed nothing for {timeout} s")
            try:
                data = os.read(main, 65536)
            except OSError:  # the other end closed: the command has ended
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(main)
    code = proc.wait(timeout=timeout)
    # what stays on the screen: a terminal emulator draws the bytes (a spinner that redraws its
    # line and is erased at the end leaves nothing), on a screen tall enough that nothing scrolls off
    screen = pyte.Screen(columns, 4000)
    pyte.ByteStream(screen).feed(b"".join(chunks))
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return code, lines, b"".join(chunks)


def assert_fits(lines: list[str], columns: int = 80) -> None:
    long = [line for line in lines if cell_len(line) > columns]
    assert not long, "lines wider than the terminal:\n" + "\n".join(long)
    assert not any("Traceback" in line for line in lines), "\n".join(lines)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from conftest import write_scenario

    folder = tmp_path_factory.mktemp("in")
    units = [dict(unit_id=f"COAL-S{i:03d}", capacity=30 + 10 * i, workers=40 + 7 * i,
                  name=f"Synthetic mine S{i:03d} of the Pingliang coal company", name_zh=f"合成煤矿S{i:03d}",
                  region="Pingliang" if i % 2 else "Qingyang")
             for i in range(1, 9)]
    for i, u in enumerate(units):  # two kinds of mines: labour-light but loss-free, and the reverse
        u.update(loss_making=i % 2 == 0, subsidised_loss=40.0 * (i % 2 == 0))
    scen = {"targets": [dict(name="coal exit 200 万吨", product="coal", by=2018, at_least=200.0)],
            "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0},
            "sectors": {"coal": {"exit_cost_per_capacity": {"close": 3.0}}}}
    return write_scenario(folder, units, scen)


@pytest.fixture(scope="module")
def runs(tiny, tmp_path_factory) -> Path:
    """Two run folders of the tiny scenario: with pins (r) and without (p)."""
    folder = tmp_path_factory.mktemp("runs")
    for args in (["solve", tiny, "--out", folder / "p"],
                 ["solve", tiny, "--out", folder / "r", "--keep", "COAL-S001", "--exit", "COAL-S008=2017"]):
        done = subprocess.run(ENTRY + [str(a) for a in args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return folder


COMMANDS = {
    "validate": lambda tiny, runs, out: ["validate", tiny],
    "solve": lambda tiny, runs, out: ["solve", tiny, "--out", "run"],
    "solve with pins": lambda tiny, runs, out: ["solve", tiny, "--out", "run", "--keep", "COAL-S001",
                                                "--exit", "COAL-S008=2017", "--exit", "COAL-S003"],
    "check": lambda tiny, runs, out: ["check", tiny, runs / "r" / "schedule.csv"],
    "compare": lambda tiny, runs, out: ["compare", runs / "r", runs / "p"],
    "pareto": lambda tiny, runs, out: ["pareto", tiny, "--out", "front", "--points", "4"],
    "alternatives": lambda tiny, runs, out: ["alternatives", tiny, "--out", "alt", "--count", "3"],
    "help": lambda tiny, runs, out: ["solve", "--help"],
}


def _words(lines: list[str]) -> set[str]:
    rules = set("─━│┃╇┼╭╮╰╯├┤┬┴")
    return {w for line in lines for w in line.split() if not set(w) <= rules}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_fits_80_columns_and_splits_no_word(name, tiny, runs, tmp_path):
    """At 80 columns every line fits, and every word on screen is a word the same command prints
    in a wide terminal (a word cut in two would leave pieces that are not). Outputs are named
    relative to the current folder, as an analyst types them."""
    narrow_dir, wide_dir = tmp_path / "narrow", tmp_path / "wide"
    narrow_dir.mkdir()
    wide_dir.mkdir()
    code, narrow, _ = in_terminal(COMMANDS[name](tiny, runs, narrow_dir), narrow_dir, columns=80)
    assert code == 0, "\n".join(narrow)
    assert_fits(narrow, 80)
    code, wide, _ = in_terminal(COMMANDS[name](tiny, runs, wide_dir), wide_dir, columns=240)
    assert code == 0, "\n".join(wide)
    # the folders differ by name only: compare the words with each run's own folder named alike
    # a table too wide for the terminal says which of its columns it leaves out
    narrow = [line for line in narrow if not line.strip().startswith("(too narrow to show: ")]
    narrow_words = {w.replace(str(narrow_dir), "OUT") for w in _words(narrow)}
    wide_words = {w.replace(str(wide_dir), "OUT") for w in _words(wide)}
    assert narrow_words <= wide_words, sorted(narrow_words - wide_words)


def test_a_solve_in_a_terminal_shows_a_spinner_with_its_stage_and_time_and_erases_it(tiny, tmp_path):
    code, lines, raw = in_terminal(["solve", tiny, "--out", "run", "--keep", "COAL-S001"], tmp_path)
    assert code == 0, "\n".join(lines)
    drawn = raw.decode("utf-8", errors="replace")
    assert "solving tiny" in drawn and re.search(r"0:00:\d\d", drawn), drawn[-2000:]
    # the stages of a solve with pins show in the spinner and stay as lines above it
    assert "the plan with every pin" in drawn
    assert not any("solving tiny" in line or re.search(r"0:00:\d\d", line) for line in lines), "\n".join(lines)
    assert any(line.startswith("status optimal") for line in lines)


def test_no_spinner_when_the_output_goes_to_a_file(tiny, tmp_path):
    with open(tmp_path / "log.txt", "wb") as log:
        done = subprocess.run(ENTRY + ["solve", str(tiny), "--out", "run"], stdout=log, stderr=subprocess.STDOUT,
                              cwd=tmp_path, timeout=300)
    assert done.returncode == 0
    text = (tmp_path / "log.txt").read_text(encoding="utf-8")
    assert "\x1b" not in text and "\r" not in text and "solving tiny" not in text
