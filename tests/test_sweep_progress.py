"""A sweep's progress on stderr (a bar that fits any terminal, a log line when stderr is a file)
and Ctrl-C (says "stopping…" at once and stops without waiting for the cases being solved)."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from exitopt.sweep import runner
from exitopt.sweep.runner import _Reporter

GANSU = Path(__file__).resolve().parents[1] / "models" / "gansu_2016.toml"
LABEL = "coal_target_ratio on 2 process(es)"


def _bar_lines(width: int) -> list[str]:
    buf = io.StringIO()
    con = Console(file=buf, width=width, force_terminal=True, color_system=None)
    with _Reporter(True, 120, 0, LABEL, console=con) as rep:
        for i in range(12):
            rep.finished(["optimal", "infeasible", "limit", "error"][i % 4])
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    return [line for line in re.split(r"[\r\n]", text) if line.strip()]


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_the_bar_fits_the_terminal_and_never_cuts_the_count_or_times(width):
    lines = _bar_lines(width)
    bar = [line for line in lines if "/120" in line][-1]
    assert len(bar.rstrip()) <= width
    assert re.search(r"\b12/120 elapsed \d:\d\d:\d\d ETA (\d:\d\d:\d\d|-:--:--)", bar), bar
    assert LABEL in "\n".join(lines)  # on the bar's line when there is room, else on a line of its own
    if width >= 200:
        assert "error 3 · infeasible 3 · limit 3 · optimal 3" in bar


def test_a_log_line_every_few_cases_or_thirty_seconds(monkeypatch):
    buf = io.StringIO()
    con = Console(file=buf, width=80, force_terminal=False)
    with _Reporter(True, 12, 0, "tiny on 1 process(es)", console=con) as rep:
        for _ in range(12):
            rep.finished("optimal")
        monkeypatch.setattr(runner, "LOG_EVERY_SECONDS", 0.05)
        time.sleep(0.06)
        rep.tick()  # no case finished, but 30 s (here 0.05 s) went by
    lines = buf.getvalue().splitlines()
    assert lines[0] == "tiny on 1 process(es): 0/12 cases done, 0:00:00 elapsed"
    assert [re.search(r"(\d+)/12", line).group(1) for line in lines] == ["0", "5", "10", "12", "12"]
    assert "(optimal 5)" in lines[1] and "left" in lines[1] and "left" not in lines[-1]


def test_no_bar_and_no_log_when_progress_is_off():
    buf = io.StringIO()
    with _Reporter(False, 3, 0, "x", console=Console(file=buf, force_terminal=True)) as rep:
        rep.finished("optimal")
        rep.tick()
    assert buf.getvalue() == ""


def test_ctrl_c_says_stopping_and_does_not_wait_for_running_cases(tmp_path):
    """A terminal's Ctrl-C (SIGINT to the whole process group) while two Gansu cases are being
    solved: "stopping…" is printed, the sweep ends with code 130 long before a Gansu case could
    finish, and its worker processes and their HiGHS processes are gone."""
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'name = "attrition"\nbase = "{GANSU.as_posix()}"\n[[axes]]\npath = "attrition"\n'
                     f"values = [0.0, 0.01, 0.02, 0.03]\n", encoding="utf-8")
    cmd = [sys.executable, "-c", "from exitopt.cli import main; main()", "sweep", str(sweep), "--out",
           str(tmp_path / "out"), "--workers", "2"]
    err = tmp_path / "err.txt"
    with open(err, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=fh, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "0/4 cases done" not in err.read_text(encoding="utf-8", errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text(encoding="utf-8")
            time.sleep(0.05)
        while len(_solving(proc.pid)) < 2:  # both workers solve a case, each in its HiGHS process
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text(encoding="utf-8")
            time.sleep(0.1)
        workers = _descendants(proc.pid)
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = err.read_text(encoding="utf-8")
    assert code == 130, text
    assert "stopping…" in text and "--resume" in text and "Traceback" not in text and "Warning" not in text, text
    assert took < 15, took  # a guard against waiting for the cases: one Gansu case alone takes longer
    assert "0/4 cases done" in text and "4/4" not in text
    assert len(workers) >= 4  # the two sweep workers and the HiGHS processes they started
    deadline = time.monotonic() + 5
    while [p for p in workers if _state(p) != "Z"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _state(p) != "Z"]  # no worker, no HiGHS process left running


def _solving(pid: int) -> list[int]:
    """The HiGHS processes below ``pid``."""
    out = []
    for p in _descendants(pid):
        try:
            if b"highs_worker" in Path(f"/proc/{p}/cmdline").read_bytes():
                out.append(p)
        except OSError:
            continue
    return out


def _descendants(pid: int) -> list[int]:
    """Process ids of every process below ``pid`` (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def _children(pid: int) -> list[int]:
    """Process ids of the children of ``pid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
