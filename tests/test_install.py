"""The plain install (`pip install -e .`) runs every documented command.

Every third-party module that exitopt imports must be a dependency of the package itself, so
that no command finds out about a missing package after it has started solving. The one
exception is the Dask cluster client behind `exitopt sweep --scheduler`, which is refused
before any work, with the line to type, when it is not installed.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from exitopt.cli import app

ROOT = Path(__file__).resolve().parents[1]
#: import name -> distribution name, where the two differ
DISTRIBUTION = {"distributed": "dask", "dask_jobqueue": "dask-jobqueue", "yaml": "pyyaml", "docx": "python-docx"}
#: modules only the optional cluster client needs
OPTIONAL = {"dask", "dask-jobqueue"}


def _imports() -> set[str]:
    seen = set()
    for f in (ROOT / "src" / "exitopt").rglob("*.py"):
        for n in ast.walk(ast.parse(f.read_text("utf-8"))):
            if isinstance(n, ast.Import):
                names = [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                names = [n.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("exitopt", "__future__"):
                    seen.add(DISTRIBUTION.get(top, top).lower().replace("_", "-"))
    return seen


def test_every_imported_package_is_a_core_dependency():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    core = {re.split(r"[\[<>=!~; ]", d)[0].lower().replace("_", "-") for d in meta["dependencies"]}
    missing = _imports() - core - OPTIONAL
    assert not missing, f"imported but not installed by `pip install -e .`: {sorted(missing)}"
    assert {"matplotlib", "xlsxwriter"} <= core  # the briefing pack and the charts of pareto and sweep


def test_scheduler_without_the_cluster_client_is_refused_before_any_work(tmp_path, monkeypatch):
    sweep = ROOT / "models" / "sweeps" / "coal_target_ratio.toml"
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    out = tmp_path / "sweep"
    r = CliRunner().invoke(app, ["sweep", str(sweep), "--out", str(out), "--scheduler", "tcp://127.0.0.1:1"])
    assert r.exit_code == 2, r.output
    assert 'pip install -e ".[cluster]"' in " ".join(r.output.split())
    assert not out.exists()
