"""A run's own files are valid inputs again: ids that the Excel formula guard prefixed with an
apostrophe when writing (``=U-EQ`` -> ``'=U-EQ``) read back as they were."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from exitopt.cli import app

runner = CliRunner()


def test_a_solved_schedule_with_formula_like_ids_checks_clean(scenario_file, tmp_path):
    units = [dict(unit_id="=U-EQ", capacity=100.0, workers=10), dict(unit_id="+U-PLUS", capacity=100.0, workers=50),
             dict(unit_id="-U-MINUS", capacity=60.0, workers=40)]
    scen = {"targets": [dict(name="coal task", product="coal", by=2017, at_least=100.0)],
            "sectors": {"coal": {"resettlement_per_worker": 1.0, "exit_cost_per_capacity": {"close": 1.0}}},
            "replacement": [dict(product="coal", ratio=1.2)]}
    projects = [dict(project_id="@NEW-CEM-01", product="coal", capacity=50.0, year=2017, status="approved")]
    path = scenario_file(tmp_path / "in", units, scen, projects)
    run = tmp_path / "run"
    res = runner.invoke(app, ["solve", str(path), "--out", str(run)])
    assert res.exit_code == 0, res.output

    # the guard is there in the files as written (Excel would otherwise run them as formulas)
    schedule = pd.read_csv(run / "schedule.csv", dtype=str, encoding="utf-8-sig")
    assert set(schedule["unit_id"]) == {"'=U-EQ", "'+U-PLUS", "'-U-MINUS"}
    built = pd.read_csv(run / "new_capacity.csv", dtype=str, encoding="utf-8-sig")
    assert list(built["project_id"]) == ["'@NEW-CEM-01"]
    # the approved project needs 60 万吨 of indicators: the 100 万吨 unit gives them, the target is met
    assert schedule.loc[schedule["unit_id"] == "'=U-EQ", "exit_year"].notna().all()

    res = runner.invoke(app, ["check", str(path), str(run / "schedule.csv"),
                              "--projects", str(run / "new_capacity.csv")])
    assert res.exit_code == 0, res.output
    assert "is not in" not in res.output
