"""A sweep's progress on stderr (a bar that fits any terminal, a log line when stderr is a file)
and Ctrl-C (says "stopping…" at once and stops without waiting for the cases being solved)."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
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


def _gansu(folder: Path) -> Path:
    """Gansu, its tables by absolute path, with a time limit that does not end a case while a
    test runs."""
    import tomllib

    from conftest import to_toml

    data = tomllib.loads(GANSU.read_text("utf-8"))
    for key in ("units", "projects"):
        data[key] = (GANSU.parent / data[key]).resolve().as_posix()
    data["solver"]["time_limit"] = 3600.0
    path = folder / "gansu.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def test_ctrl_c_says_stopping_and_does_not_wait_for_running_cases(tmp_path):
    """A terminal's Ctrl-C (SIGINT to the whole process group) while two cases are being solved by
    a solver that never answers (a stand-in worker, which like HiGHS's leaves Ctrl-C to the sweep):
    "stopping…" is printed and the sweep ends with code 130 and no case finished (it did not wait
    for them); its worker processes and their solver processes are gone; nothing else is printed —
    no traceback, no warning of leaked semaphores (the output is read until the last process
    holding it, the resource tracker included, has ended)."""
    base = _gansu(tmp_path)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'name = "attrition"\nbase = "{base.as_posix()}"\n[[axes]]\npath = "attrition"\n'
                     f"values = [0.0, 0.01, 0.02, 0.03]\n", encoding="utf-8")
    out = tmp_path / "out"
    jobs = tmp_path / "jobs.log"
    cmd = [sys.executable, "-c", "from exitopt.cli import main; main()", "sweep", str(sweep), "--out", str(out),
           "--workers", "2"]
    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "EXITOPT_HIGHS_WORKER": "stand_ins:answers_a_budget_of_jobs", "STAND_IN_JOBS": str(jobs),
           "STAND_IN_BUDGET": "0", "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env=env)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        for raw in proc.stderr:
            lines.append(raw.decode("utf-8", errors="replace"))
            if "0/4 cases done" in lines[-1]:
                started.set()
        started.set()  # the output ended: the sweep is over, whatever happened

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(120) and proc.poll() is None, "".join(lines)
        deadline = time.monotonic() + 600  # only so that a sweep that is broken cannot hang the suite
        # both workers solve a case, each in its solver process, which holds the job for good
        while (jobs.read_text("utf-8").count("held") if jobs.exists() else 0) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        assert len(_solving(proc.pid)) == 2
        workers = _descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(60)  # a sweep that waited for its cases would never end
        except subprocess.TimeoutExpired:
            pytest.fail("the sweep did not end within 60 s of Ctrl-C:\n" + "".join(lines))
        reader.join(60)  # the output is complete once every process holding it has ended
        assert not reader.is_alive(), "a process of the sweep still holds its output"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = "".join(lines)
    assert code == 130, text
    assert "stopping…" in text and "--resume" in text, text
    assert "Traceback" not in text and "Warning" not in text and "leaked" not in text, text
    assert "0/4 cases done" in text and "interrupted: 0 finished case(s)" in " ".join(text.split()), text
    assert len(workers) >= 4  # the two sweep workers and the solver processes they started
    # each has closed its output; let the last ones finish exiting (an orphan's end is its own)
    deadline = time.monotonic() + 10
    while [p for p in workers if _state(p) != "Z"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _state(p) != "Z"]  # no worker, no solver process left running


def test_a_worker_s_end_is_not_cut_short_by_a_second_stop(tmp_path):
    """A sweep worker being stopped gives back its locks (each one given back, then the resource
    tracker told); a second stop while it does so (the pool stops the remaining workers once it
    sees one go) must not end the process in between: the lock would be reported as leaked.
    Here the giving back waits for the test's word, sent after the second stop."""
    log = tmp_path / "log.txt"
    child = textwrap.dedent(f"""
        import os, sys, time
        from multiprocessing import util
        from exitopt.sweep import runner

        runner._watch_parent(os.getppid())  # as the pool starts a worker: its stop handler, its group
        log = open({str(log)!r}, "a")

        def give_back():
            log.write("giving back\\n"); log.flush()
            sys.stdin.readline()  # the test's word
            log.write("given back\\n"); log.flush()

        util.Finalize(None, give_back, exitpriority=0)
        print("ready", flush=True)
        while True:
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        proc.send_signal(signal.SIGTERM)  # the first stop
        deadline = time.monotonic() + 60
        while "giving back" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)  # the second, while the first is giving back
        proc.stdin.write("go\n")
        proc.stdin.flush()
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert log.read_text().splitlines() == ["giving back", "given back"], proc.stderr.read()
    assert proc.returncode != 0  # it ended as stopped, not by finishing


def _solving(pid: int) -> list[int]:
    """The solver processes (here the stand-in's) below ``pid``."""
    out = []
    for p in _descendants(pid):
        try:
            if b"answers_a_budget_of_jobs" in Path(f"/proc/{p}/cmdline").read_bytes():
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
