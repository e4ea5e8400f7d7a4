"""Shared fixtures: tiny hand-made instances written to disk, and one shared Gansu solve.

``make_instance(tmp_path, units=[...], scenario={...}, projects=[...])`` writes ``units.csv``
(and ``projects.csv``) and ``scenario.toml`` the way an analyst would, then loads them with
:func:`exitopt.inputs.load`, so every test goes through the real readers and checks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from exitopt.toml_text import toml_text

ROOT = Path(__file__).resolve().parents[1]
GANSU = ROOT / "models" / "gansu_2016.toml"

KIND = {"coal": "coal_mine", "pig_iron": "blast_furnace", "crude_steel": "converter",
        "rolled_steel": "rolling_mill", "clinker": "clinker_line", "cement": "grinding_station"}
SECTOR = {"coal": "coal", "pig_iron": "steel", "crude_steel": "steel", "rolled_steel": "steel",
          "clinker": "cement", "cement": "cement"}


def unit_row(unit_id: str, **facts) -> dict:
    """One row of a unit table: a coal mine of 100 万吨/yr with no workers unless told otherwise."""
    product = facts.pop("product", "coal")
    row = {"unit_id": unit_id, "name": f"unit {unit_id}", "sector": SECTOR[product], "kind": KIND[product],
           "product": product, "capacity": 100.0, "firm": f"firm {unit_id}", "region": "R1", "workers": 0,
           "source": "synthetic"}
    row.update(facts)
    return row


def project_row(project_id: str, **facts) -> dict:
    """One row of a projects table (a candidate coal project unless told otherwise)."""
    row = {"project_id": project_id, "name": f"project {project_id}", "product": "coal", "capacity": 100.0,
           "year": 2016, "firm": f"firm {project_id}", "status": "candidate"}
    row.update(facts)
    return row


def to_toml(data: dict) -> str:
    """A scenario dict as TOML text (every value inline on one line)."""
    return toml_text(data)


def write_scenario(folder: Path, units: list[dict], scenario: dict | None = None,
                   projects: list[dict] | None = None) -> Path:
    """Write units.csv (+ projects.csv) and scenario.toml into ``folder``; return the scenario path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame([unit_row(**u) for u in units])
    for col in ("relocatable", "loss_making", "protected_area", "backward_class", "banned_method"):
        if col in table:
            table[col] = table[col].fillna(False)
    if "indicator_eligible" in table:
        table["indicator_eligible"] = table["indicator_eligible"].fillna(True)
    table.to_csv(folder / "units.csv", index=False, encoding="utf-8")
    data = {"name": "tiny", "units": "units.csv", "first_year": 2016, "last_year": 2018,
            "solver": {"rel_gap": 0.0, "time_limit": 60.0, "threads": 1}}
    if projects:
        pd.DataFrame([project_row(**p) for p in projects]).to_csv(folder / "projects.csv", index=False)
        data["projects"] = "projects.csv"
    data.update(scenario or {})
    path = folder / "scenario.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def _make_instance(tmp_path: Path, units: list[dict], scenario: dict | None = None,
                   projects: list[dict] | None = None):
    from exitopt.inputs import load

    return load(write_scenario(tmp_path, units, scenario, projects))


@pytest.fixture
def make_instance():
    """Factory: ``make_instance(tmp_path, units=[dict(unit_id=..., ...)], scenario={...}, projects=[...])``.

    Unit dicts need only ``unit_id``; the rest defaults to a 100 万吨/yr coal mine in region R1
    with no workers. The scenario plans 2016–2018 and solves to a zero gap unless told otherwise.
    """
    return _make_instance


@pytest.fixture
def scenario_file():
    """Factory: ``scenario_file(folder, units, scenario, projects)`` writes the files, returns the TOML path."""
    return write_scenario


#: Chinese text of the charts' kind (a sweep axis label)
CHINESE_SAMPLE = "财政支出(万元,现值)"


@pytest.fixture(scope="session")
def chinese_font_files() -> list[str]:
    """Installed font files that hold a glyph for every Chinese character of CHINESE_SAMPLE, read
    from each font's own character map (matplotlib's list of system fonts, not exitopt's finder)."""
    from matplotlib import font_manager, ft2font

    found = []
    for path in sorted(font_manager.findSystemFonts()):
        try:
            font = ft2font.FT2Font(path)
        except (OSError, RuntimeError, ValueError):
            continue
        if all(font.get_char_index(ord(ch)) for ch in CHINESE_SAMPLE if ord(ch) > 0x2E80):
            found.append(path)
    return found


@pytest.fixture(scope="session")
def gansu_result():
    """The Gansu 2016 baseline, solved once for the whole session."""
    from exitopt.inputs import load
    from exitopt.solve import solve_instance

    return solve_instance(load(GANSU))


@pytest.fixture(scope="session")
def gansu_run(gansu_result, tmp_path_factory):
    """The Gansu baseline's run folder, written once for the whole session (read it, do not change it)."""
    from exitopt.output import write_folder

    return write_folder(tmp_path_factory.mktemp("gansu") / "run", gansu_result.files(), force=False)


def exitopt(*args):
    """The command as a real process; its whole console text is in ``.out``."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import sys; from exitopt.cli import main; sys.argv[0] = 'exitopt'; "
                           "main()", *map(str, args)], capture_output=True, text=True, encoding="utf-8", timeout=300)
    done.out = done.stdout + done.stderr
    return done


def run_with(monkeypatch, stand_in: str, args: list[str]):
    """Run exitopt with ``args`` in this process, every solve going to the stand-in worker
    ``stand_in`` (a function of tests/stand_ins.py); the CliRunner result."""
    from typer.testing import CliRunner

    from exitopt import highs
    from exitopt.cli import app

    highs._drop_worker()
    monkeypatch.setattr(highs, "WORKER_MAIN", f"stand_ins:{stand_in}")
    try:
        return CliRunner().invoke(app, args)
    finally:
        highs._drop_worker()


def solved(folder, scenario_file, units, scen):
    """Write a scenario (the ``scenario_file`` fixture), solve it through the command; (scenario
    path, run.json, schedule by unit, summary, constraints)."""
    import json

    path = scenario_file(folder / "in", units, scen)
    done = exitopt("solve", path, "--out", folder / "run")
    assert done.returncode == 0 and "Traceback" not in done.out, done.out
    run = folder / "run"
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    schedule = pd.read_csv(run / "schedule.csv", encoding="utf-8-sig").set_index("unit_id")
    summary = pd.read_csv(run / "summary.csv", encoding="utf-8-sig")
    constraints = pd.read_csv(run / "constraints.csv", encoding="utf-8-sig")
    return path, record, schedule, summary, constraints


def end_group(proc) -> None:
    """Kill a command started with ``start_new_session=True`` and every process of its group (a
    sweep's workers), whether or not it is still running."""
    import os
    import signal

    if proc.poll() is None:
        proc.kill()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
