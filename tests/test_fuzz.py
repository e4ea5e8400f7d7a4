"""Fuzzing `exitopt validate`: generated mutations of the Gansu scenario and of small tables.

A fixed seed makes 150 cases (90 scenario mutations, 60 table mutations) on a trimmed copy of
the Gansu tables (every JISCO unit the packages name and two units per region and product, so
each rule still finds its units). Every case must end with exit 0 (valid) or 2 (refused with a
message), never a traceback or an internal error. The tally of outcomes is printed (pytest -s).
"""

from __future__ import annotations

import copy
import math
import random
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from conftest import to_toml
from exitopt.cli import app

REPO = Path(__file__).resolve().parents[1]
GANSU = REPO / "models" / "gansu_2016.toml"
SEED = 20161
SCENARIO_CASES = 90
TABLE_CASES = 60

runner = CliRunner()

#: values put in place of a scenario value
VALUES = [math.nan, math.inf, -math.inf, -1, -1.5, 0, 0.0, 1e-300, 1e300, 1e18, 2**62, -(2**62), 1990, 2100,
          2101, 1989, 0.5, 1.0, 1.2, 2016, 2020, 99999999, "", "coal", "2018", "nan", "=cmd", True, False, [], {},
          [1, 2], [["major"]], {"a": 1}, {"2016": 1.0, "02016": 2.0}, {"2018": 1.0, "2018.0": 2.0},
          [2016, 2020], ["x"], "../../etc/passwd", "a\u0000b"]

#: texts put in place of a table cell
CELLS = ["", " ", "nan", "NaN", "inf", "-inf", "-1", "0", "1e308", "1e-300", "1e20", "abc", "1,5", "1,200",
         "99999999999999999999", "2016-99999999", "2020-2016", "2017;2019", "true", "是", "maybe", "=cmd", "@x",
         "coal", "steel", "clinker", "state", "major", "2018", "2018.5", "3.5", "\t", "0x10", "1e5", "-0"]

OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "startswith", "~", ""]
COLUMNS = ["capacity", "region", "unit_id", "allowed_years", "accident", "relocatable", "workers", "spec",
           "opening_year", "nope"]


def trimmed_tables(folder: Path) -> None:
    """units.csv and projects.csv: the Gansu tables cut to a few dozen rows that still meet every rule."""
    units = pd.read_csv(REPO / "data" / "gansu" / "units.csv", dtype=str, keep_default_na=False)
    jisco = units["unit_id"].str.startswith("JISCO-")
    sample = units[~jisco].groupby(["region", "product"], sort=False).head(2)
    pd.concat([units[jisco], sample]).to_csv(folder / "units.csv", index=False)
    projects = pd.read_csv(REPO / "data" / "gansu" / "projects.csv", dtype=str, keep_default_na=False)
    keep = projects["status"].eq("approved") | projects.index.isin(range(5))
    projects[keep].to_csv(folder / "projects.csv", index=False)


def base_scenario() -> dict:
    data = tomllib.loads(GANSU.read_text(encoding="utf-8"))
    data["units"], data["projects"] = "units.csv", "projects.csv"
    return data


def leaves(node, path=()):
    """Every (path, value) in the scenario, lists and tables included."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaves(v, (*path, i))


def put(data: dict, path: tuple, value) -> None:
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def mutate_scenario(rng: random.Random, base: dict) -> dict:
    data = copy.deepcopy(base)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        spots = [(p, v) for p, v in leaves(data) if p]
        path, old = rng.choice(spots)
        how = rng.random()
        if how < 0.6:
            put(data, path, rng.choice(VALUES))
        elif how < 0.7:  # remove the key or item
            parent = data
            for p in path[:-1]:
                parent = parent[p]
            del parent[path[-1]]
        elif how < 0.8:  # an unknown key beside it
            parent = data
            for p in path[:-1]:
                parent = parent[p]
            if isinstance(parent, dict):
                parent[rng.choice(["extra", "2016", "budget", "Name"])] = rng.choice(VALUES)
        else:  # a selection condition made up of random parts
            condition = [rng.choice(COLUMNS), rng.choice(OPS), rng.choice(VALUES + CELLS)]
            rule = rng.choice(["mandatory", "protected", "targets"])
            if data.get(rule) and isinstance(data[rule], list) and isinstance(data[rule][0], dict):
                data[rule][0]["where"] = {rng.choice(["all", "any"]): [condition]}
    return data


def mutate_table(rng: random.Random, folder: Path) -> None:
    name = rng.choice(["units.csv", "units.csv", "projects.csv"])
    table = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    how = rng.random()
    if how < 0.7:
        for _ in range(rng.choice([1, 1, 2])):
            table.iat[rng.randrange(len(table)), rng.randrange(len(table.columns))] = rng.choice(CELLS)
    elif how < 0.8:
        table = table.drop(columns=rng.choice(list(table.columns)))
    elif how < 0.9:  # a column named twice
        col = rng.choice(list(table.columns))
        table.insert(len(table.columns), col + rng.choice(["", " "]), table[col], allow_duplicates=True)
    else:  # a row repeated (duplicate id) or emptied
        i = rng.randrange(len(table))
        table = pd.concat([table, table.iloc[[i]]]) if rng.random() < 0.5 else table.drop(index=table.index[i])
    table.to_csv(folder / name, index=False)


def validate(path: Path) -> tuple[int, str]:
    res = runner.invoke(app, ["validate", str(path)])
    text = res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), (path.read_text(), repr(res.exception))
    return res.exit_code, text


def test_fuzzed_inputs_end_in_valid_or_a_clear_refusal(tmp_path):
    rng = random.Random(SEED)
    base = base_scenario()
    tally: Counter = Counter()
    template = tmp_path / "template"
    template.mkdir()
    trimmed_tables(template)
    for n in range(SCENARIO_CASES + TABLE_CASES):
        folder = tmp_path / f"case{n:03d}"
        shutil.copytree(template, folder)
        data = mutate_scenario(rng, base) if n < SCENARIO_CASES else base
        path = folder / "scenario.toml"
        try:
            path.write_text(to_toml(data), encoding="utf-8")
        except (TypeError, UnicodeEncodeError):
            path.write_text(to_toml(base), encoding="utf-8")
        if n >= SCENARIO_CASES:
            mutate_table(rng, folder)
        code, text = validate(path)
        kind = "scenario" if n < SCENARIO_CASES else "table"
        assert code in (0, 2), f"case {n} ({kind}): exit {code}\n{path.read_text(encoding='utf-8')}\n{text}"
        assert "Traceback" not in text and "internal error" not in text, f"case {n}: {text}"
        if code == 2:
            assert "error:" in text, text
        tally[(kind, code)] += 1
    print("fuzz tally (kind, exit code):", dict(sorted(tally.items())))
    assert sum(tally.values()) == SCENARIO_CASES + TABLE_CASES
    # both outcomes occur for both kinds: the mutations are neither all harmless nor all fatal
    for kind in ("scenario", "table"):
        assert tally[(kind, 0)] >= 5 and tally[(kind, 2)] >= 10, tally


def test_the_trimmed_gansu_case_itself_is_valid(tmp_path):
    trimmed_tables(tmp_path)
    path = tmp_path / "scenario.toml"
    path.write_text(to_toml(base_scenario()), encoding="utf-8")
    code, text = validate(path)
    assert code == 0, text
