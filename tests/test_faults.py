"""Faults: a write killed half-way, a --force swap that fails or is killed, a place that cannot be
written, a full disk, two sweeps on one folder. Nothing is lost and nothing half-written stays."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exitopt import output
from exitopt.cli import app
from exitopt.errors import OutputError

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=300)


def write_old(out: Path) -> None:
    out.mkdir()
    (out / "old.txt").write_text("previous run", encoding="utf-8")


@pytest.fixture
def solved_run(scenario_file, tmp_path):
    """A tiny scenario solved into tmp_path/run."""
    units = [dict(unit_id="A", workers=5), dict(unit_id="B", capacity=50.0, workers=1)]
    scen = {"targets": [dict(name="coal task", product="coal", by=2017, at_least=50.0)]}
    path = scenario_file(tmp_path / "in", units, scen)
    res = runner.invoke(app, ["solve", str(path), "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    return tmp_path / "run"


# ---- a write killed half-way -----------------------------------------------------------------------

def test_a_report_killed_half_way_leaves_nothing_once_the_next_report_runs(solved_run):
    res = run_python(f"""
        import os, signal
        import exitopt.report as report
        def killed(run, path, lang):
            path.write_bytes(b"half a workbook")
            os.kill(os.getpid(), signal.SIGKILL)
        report.write_workbook = killed
        import exitopt.report.workbook as wb
        wb.write_workbook = killed
        report.make_report({str(solved_run)!r}, "en")
    """)
    assert res.returncode == -signal.SIGKILL, res.stderr
    left = hidden(solved_run)
    assert any(".exitopt-" in n and n.endswith(".new") for n in left), left  # the kill did leave a half-write
    assert not (solved_run / "report_en").exists()

    res = runner.invoke(app, ["report", str(solved_run), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert hidden(solved_run) == []
    assert (solved_run / "report_en" / "briefing.html").is_file()


def test_a_write_in_progress_is_not_taken_for_a_dead_one(tmp_path):
    out = tmp_path / "run"
    with output.staged_folder(out, force=False) as tmp:
        (tmp / "a.txt").write_text("being written", encoding="utf-8")
        output.clean_stale(tmp_path)  # what another exitopt in the same folder does first
        assert (tmp / "a.txt").is_file()
    assert (out / "a.txt").read_text(encoding="utf-8") == "being written"
    assert hidden(tmp_path) == []


# ---- --force over an existing folder --------------------------------------------------------------

def test_force_replaces_a_folder_and_leaves_nothing_hidden(tmp_path):
    out = tmp_path / "run"
    write_old(out)
    output.write_folder(out, {"new.txt": "new run"}, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert hidden(tmp_path) == []


def test_force_puts_the_old_folder_back_when_the_second_rename_fails(tmp_path, monkeypatch):
    out = tmp_path / "run"
    write_old(out)
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)  # as on Windows: two renames
    real = os.replace
    calls = []

    def failing(a, b):
        calls.append((Path(a).name, Path(b).name))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(a, b)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OutputError, match="No space left"):
        output.write_folder(out, {"new.txt": "new run"}, force=True)
    assert len(calls) == 3  # out -> old, new -> out (fails), old -> out
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert hidden(tmp_path) == []


def test_force_killed_between_the_two_renames_loses_nothing(tmp_path):
    out = tmp_path / "run"
    write_old(out)
    res = run_python(f"""
        import os, signal
        from pathlib import Path
        from exitopt import output
        output._exchange = lambda a, b: False
        real = os.replace
        def replace(a, b):
            real(a, b)
            os.kill(os.getpid(), signal.SIGKILL)  # killed right after the old folder moved aside
        os.replace = replace
        output.write_folder(Path({str(out)!r}), {{"new.txt": "new run"}}, force=True)
    """)
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert not out.exists()
    parked = [p for p in tmp_path.iterdir() if p.name.endswith(".old")]
    assert len(parked) == 1 and (parked[0] / "old.txt").is_file()  # moved aside, not lost

    with pytest.raises(OutputError, match="already holds files"):  # the next write, without --force,
        output.write_folder(out, {"other.txt": "x"}, force=False)  # finds the old folder back in place
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert hidden(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the one-step swap is Linux's")
def test_force_on_linux_swaps_in_one_step(tmp_path, monkeypatch):
    out = tmp_path / "run"
    write_old(out)
    real = os.replace

    def no_two_step(a, b):  # the swap must not need os.replace when the old folder exists
        if Path(b) == out.resolve():
            raise AssertionError("two-step swap used")
        real(a, b)

    monkeypatch.setattr(os, "replace", no_two_step)
    output.write_folder(out, {"new.txt": "new run"}, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert hidden(tmp_path) == []


# ---- a place that cannot be written is found before solving ----------------------------------------

def _solve_refused_before_optimising(scenario_file, tmp_path, monkeypatch, out: str) -> str:
    import exitopt.solve

    def must_not_run(*a, **k):
        raise AssertionError("optimised although the output could not be written")

    monkeypatch.setattr(exitopt.solve, "solve_run", must_not_run)
    path = scenario_file(tmp_path / "in", [dict(unit_id="A")])
    res = runner.invoke(app, ["solve", str(path), "--out", out])
    assert res.exit_code == 5, res.output
    assert "internal error" not in res.output
    return " ".join(res.output.split())


def test_solve_finds_a_file_in_the_way_before_optimising(scenario_file, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("a file", encoding="utf-8")
    text = _solve_refused_before_optimising(scenario_file, tmp_path, monkeypatch, str(tmp_path / "notes.txt" / "run"))
    assert "notes.txt is a file, not a folder" in text


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc, where no folder can be made")
def test_solve_finds_a_place_it_cannot_write_before_optimising(scenario_file, tmp_path, monkeypatch):
    text = _solve_refused_before_optimising(scenario_file, tmp_path, monkeypatch, "/proc/exitopt-run")
    assert "cannot write /proc/exitopt-run" in text


def test_solve_refuses_a_read_only_folder_before_optimising(scenario_file, tmp_path, monkeypatch):
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("permissions do not bind root (covered by the /proc case)")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        text = _solve_refused_before_optimising(scenario_file, tmp_path, monkeypatch, str(ro / "run"))
        assert "cannot write" in text
    finally:
        ro.chmod(0o755)


# ---- sweeps ---------------------------------------------------------------------------------------

def tiny_sweep(folder: Path, targets: str = "100, 300") -> Path:
    from test_sweep import write_tiny  # the 6-mine scenario the sweep tests check by brute force

    return write_tiny(folder, targets)


def test_a_sweep_name_that_leads_out_of_the_folder_is_refused(tmp_path, monkeypatch):
    path = tiny_sweep(tmp_path / "work" / "in")
    path.write_text('name = "../../x"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "work")
    res = runner.invoke(app, ["sweep", str(path), "--workers", "1"])
    assert res.exit_code == 2, res.output
    assert "name '../../x'" in " ".join(res.output.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["in"]


def test_a_ledger_made_but_not_yet_described_is_adopted_not_called_another_sweep(tmp_path):
    """Two --resume started at once on a new folder: the second may open the ledger the first has just
    made. It must find the same sweep there (the meta is written with the tables), not a stranger."""
    from exitopt.inputs import load
    from exitopt.sweep import read_sweep
    from exitopt.sweep.ledger import LEDGER, Ledger
    from exitopt.sweep.runner import _prepare

    sweep = read_sweep(tiny_sweep(tmp_path / "in"))
    hashes = load(sweep.base_path).hashes()
    out = tmp_path / "run"
    out.mkdir()
    first = Ledger(out / LEDGER)  # the first run has made the file and nothing more yet
    second = _prepare(out, sweep, hashes, resume=True, force=False)
    assert first.meta()["sweep_sha256"] == sweep.sha256  # the second wrote the meta, whole
    again = _prepare(out, sweep, hashes, resume=True, force=False)  # the first run goes on: same sweep
    for ledger in (first, second, again):
        ledger.close()


def test_claims_share_the_cases_between_live_sweeps_and_take_over_from_dead_ones(tmp_path):
    from exitopt.sweep.ledger import Ledger

    ledger = Ledger(tmp_path / "ledger.sqlite")
    ids = [f"c{i:04d}" for i in range(1, 7)]
    assert ledger.claim(ids[:4], "a", alive=lambda o: True) == ids[:4]
    assert ledger.claim(ids, "b", alive=lambda o: True) == ids[4:]  # a is alive: its cases stay its own
    ledger.record("c0001", 0, "baseline", {}, {"status": "optimal", "objective": 1.0})
    assert ledger.claim(ids, "c", alive=lambda o: o == "b") == ids[1:4]  # a died: c takes its unfinished cases
    ledger.release("c")
    assert ledger.claim(ids, "d", alive=lambda o: False) == ids[1:]
    ledger.close()


def test_two_resumes_on_one_folder_solve_each_case_once(tmp_path):
    path = tiny_sweep(tmp_path / "in")
    out = tmp_path / "run"
    code = f"""
        import json
        from exitopt.sweep import run_sweep
        rep = run_sweep({str(path)!r}, out={str(out)!r}, workers=1, resume=True, progress=False)
        print(json.dumps({{"here": rep.cases - rep.skipped - getattr(rep, "elsewhere", 0), "cases": rep.cases}}))
    """
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr
        results.append(__import__("json").loads(stdout.strip().splitlines()[-1]))
    assert results[0]["cases"] == 12
    assert results[0]["here"] + results[1]["here"] == 12, results  # not 24: no case solved twice
    import pandas as pd

    cases = pd.read_csv(out / "cases.csv", encoding="utf-8-sig")
    assert len(cases) == 12 and cases["case"].is_unique
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("where, fault", [
    ("ledger", "sqlite"),  # SQLite says so when the ledger cannot grow
    ("export", "oserror"),  # writing cases.csv: errno ENOSPC
])
def test_a_full_disk_during_a_sweep_is_an_output_error(tmp_path, monkeypatch, where, fault):
    import errno
    import sqlite3

    from exitopt.sweep import export as export_module, ledger as ledger_module

    def full(*args, **kwargs):
        if fault == "sqlite":
            raise sqlite3.OperationalError("database or disk is full")
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "ledger":
        monkeypatch.setattr(ledger_module.Ledger, "record", full)
    else:
        monkeypatch.setattr(export_module, "export", full)
    path = tiny_sweep(tmp_path / "in", "100")
    res = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "run"), "--workers", "1"])
    text = " ".join(res.output.split())
    assert res.exit_code == 5, text
    assert "is full" in text and "--resume" in text and "internal error" not in text


def test_a_sweep_on_a_really_full_disk_is_an_output_error(tmp_path):
    if os.name != "posix" or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        pytest.skip("needs root on Linux to mount a small file system")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small file system here")
    try:
        (disk / "filler").write_bytes(b"\0" * 40_000)
        path = tiny_sweep(tmp_path / "in", "100, 300, 500, 800")
        res = runner.invoke(app, ["sweep", str(path), "--out", str(disk / "run"), "--workers", "1"])
        text = " ".join(res.output.split())
        assert res.exit_code == 5, text
        assert ("is full" in text or "No space left" in text) and "internal error" not in text
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


# ---- a full disk while writing a report, a run folder or a comparison ------------------------------

def cli_with_full_disk_after(args: list[str], name: str, keep: int) -> subprocess.CompletedProcess:
    """Run exitopt in its own process where writing the file ``name`` stops, as on a full disk,
    after its first ``keep`` bytes (they stay written, as a disk that fills up half-way leaves them)."""
    return run_python(f"""
        import errno, pathlib, sys
        real = pathlib.Path.write_bytes
        def full(self, data):
            if self.name == {name!r}:
                real(self, data[:{keep}])
                raise OSError(errno.ENOSPC, "No space left on device", str(self))
            return real(self, data)
        pathlib.Path.write_bytes = full
        sys.argv = ["exitopt", *{args!r}]
        from exitopt.cli import main
        main()
    """)


def test_a_full_disk_while_writing_the_briefing_workbook_is_an_output_error(solved_run, tmp_path):
    out = tmp_path / "pack"
    res = cli_with_full_disk_after(["report", str(solved_run), "--lang", "en", "--out", str(out)],
                                   "briefing.xlsx", 1000)
    text = " ".join((res.stdout + res.stderr).split())
    assert res.returncode == 5, text
    assert f"cannot write {out}: the disk is full" in text and "Free some space" in text, text
    assert "Traceback" not in text and "internal error" not in text and "Exception ignored" not in text, text
    assert not out.exists() and hidden(tmp_path) == []


def disk_of(tmp_path: Path, kb: int) -> Path:
    """A small file system of ``kb`` KB mounted at tmp_path/disk (root on Linux only), emptied on exit."""
    if os.name != "posix" or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        pytest.skip("needs root on Linux to mount a small file system")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small file system here")
    return disk


def fill(disk: Path, free_kb: int) -> None:
    """Fill ``disk`` up to ``free_kb`` KB left (as near as the file system's blocks allow)."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    st = os.statvfs(disk)
    with open(filler, "wb") as f:
        try:
            f.write(b"\0" * max(st.f_bavail * st.f_frsize - free_kb * 1024, 0))
        except OSError:
            pass


@pytest.mark.parametrize("command", ["report", "solve", "compare", "template"])
def test_nearly_full_disks_make_clean_output_errors_and_leave_nothing(solved_run, tmp_path, command):
    disk = disk_of(tmp_path, 512)
    ENTRY = [sys.executable, "-c", "from exitopt.cli import main; main()"]
    scenario = tmp_path / "in" / "scenario.toml"
    out = disk / ("out.xlsx" if command == "template" else "out")
    args = {"report": ["report", str(solved_run), "--lang", "en", "--out", str(out)],
            "solve": ["solve", str(scenario), "--out", str(out)],
            "compare": ["compare", str(solved_run), str(solved_run), "--out", str(out)],
            "template": ["template", "--out", str(out)]}[command]
    refused = []
    try:
        for free in (0, 20, 60, 120):
            fill(disk, free)
            done = subprocess.run([*ENTRY, *args], capture_output=True, text=True, timeout=300)
            text = " ".join((done.stdout + done.stderr).split())
            assert "Traceback" not in text and "internal error" not in text and "Exception ignored" not in text, text
            if done.returncode == 0:  # it fitted: the whole output is there
                assert out.exists(), text
                shutil.rmtree(out) if out.is_dir() else out.unlink()
                continue
            assert done.returncode == 5, (free, text)
            assert "the disk is full" in text, (free, text)
            assert sorted(p.name for p in disk.iterdir()) == ["filler"], (free, text)
            refused.append(free)
        assert 0 in refused, refused  # nothing fits into no space at all
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
