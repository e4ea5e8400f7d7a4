"""The rule registry: every rule family of the scenario is registered, whole, and used.

A family that lacks a part — a scenario key, a schema, a label, a way to the model or to
constraints.csv, a declaration of what it ties, a checker function — fails here rather than
somewhere downstream.
"""

from __future__ import annotations

import ast
import importlib
import typing
from pathlib import Path

import pytest

from exitopt.check import CHECKS, RULE_FAMILIES
from exitopt.report.labels import RULES as LABELS
from exitopt.rules import BY_ROW, FAMILIES, Tie, coupling_rows, family, rule_of_row
from exitopt.rules.family import Keeping
from exitopt.scenario import AwardFund, Budget, Caps, Scenario, WorkerCaps
from exitopt.selection import Selection

SRC = Path(__file__).resolve().parents[1] / "src" / "exitopt"


def rule_lists() -> set[str]:
    """The scenario's keys that hold a list of rules."""
    return {name for name, f in Scenario.model_fields.items() if typing.get_origin(f.annotation) is list}


def test_every_list_of_rules_in_the_scenario_is_one_family():
    keys = [f.key for f in FAMILIES if f.list_field]
    assert sorted(keys) == sorted(rule_lists())
    assert len({f.key for f in FAMILIES}) == len(FAMILIES)


def test_the_scenario_types_each_list_with_its_family_schema():
    for f in FAMILIES:
        if f.list_field:
            assert Scenario.model_fields[f.key].annotation == list[f.schema], f.key


def test_the_caps_section_is_the_caps_families_keys_and_nothing_else():
    assert [f.key for f in FAMILIES if not f.list_field] == ["budget", "worker_caps", "award_fund"]
    parts = (Budget, AwardFund, WorkerCaps)
    assert list(Caps.model_fields) == [k for part in parts for k in part.model_fields]
    assert Caps.model_fields["workers"].annotation == list[family("worker_caps").schema]
    assert family("budget").schema is Budget and family("award_fund").schema is AwardFund


@pytest.mark.parametrize("fam", FAMILIES, ids=[f.key for f in FAMILIES])
def test_a_family_has_every_part(fam):
    family = fam
    assert family.noun and family.rows and family.scenario_key.startswith("[")
    for row in family.rows:  # constraints.csv rows are labelled in Chinese and English
        zh, en = LABELS[row]
        assert zh and en and BY_ROW[row] is family
    assert family.keeping in typing.get_args(Keeping)
    if family.add is None:  # no row in the model: it must still show in constraints.csv
        assert family.notes is not None
    else:
        assert callable(family.add) and family.notes is None
    assert callable(family.selections) and callable(family.title) and callable(family.name_zh)
    assert callable(family.ties) and callable(family.editable)


@pytest.mark.parametrize("fam", FAMILIES, ids=[f.key for f in FAMILIES])
def test_a_family_is_one_module_that_cites_its_section(fam):
    family = fam
    module = importlib.import_module(f"exitopt.rules.{family.key}")
    assert module.FAMILY is family
    doc = ast.get_docstring(ast.parse((SRC / "rules" / f"{family.key}.py").read_text(encoding="utf-8"))) or ""
    assert f"docs/model.md#{family.anchor}" in doc
    assert len((SRC / "rules" / f"{family.key}.py").read_text(encoding="utf-8").splitlines()) < 400


def test_every_registered_family_has_a_checker_function():
    assert set(CHECKS) == {f.key for f in FAMILIES}
    assert set(CHECKS.values()) <= set(RULE_FAMILIES)
    assert len(set(CHECKS.values())) == len(CHECKS)


def test_families_are_numbered_as_in_model_md():
    assert [f.number for f in FAMILIES] == [str(n) for n in range(1, 11)] + ["10b", "11", "12a", "12b", "12c"]


def test_only_the_caps_rows_are_priced_across_blocks():
    assert set(coupling_rows()) == {"budget", "workers", "award_fund"}


def test_a_row_named_per_unit_or_region_belongs_to_its_rule():
    assert rule_of_row("mandatory", "old mines: M1") == "old mines"
    assert rule_of_row("workers", "cap: Pingliang") == "cap"
    assert rule_of_row("target", "coal: 1,000") == "coal: 1,000"  # a target's name is its own
    assert rule_of_row("no such rule", "a: b") == "a: b"


#: the modules that loop over the registry: none names a family's key or row by a string
LOOPING = ("blocks.py", "decompose.py", "inputs.py", "scenario.py", "model/__init__.py", "report/html.py",
           "serve/views.py", "rules/__init__.py")


@pytest.mark.parametrize("name", LOOPING)
def test_the_layers_name_no_family(name):
    words = {f.key for f in FAMILIES} | {r for f in FAMILIES for r in f.rows}
    tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
    named = sorted({n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in words})
    assert not named, f"{name} names {named}: read it from the family's module"


def test_the_gansu_run_reports_every_rule_through_the_registry(gansu_result):
    rows = set(gansu_result.constraints["rule"])
    known = {r for f in FAMILIES for r in f.rows}
    assert rows <= known
    inst = gansu_result.inst
    for fam in FAMILIES:
        rules = fam.rules_of(inst.scenario)
        if rules:  # every rule the scenario has is reported under its family's rows
            assert rows & set(fam.rows), fam.key
        for rule in rules:
            assert isinstance(fam.title(rule), str) and fam.title(rule)
            for side, sel in fam.selections(rule):
                assert isinstance(side, str) and isinstance(sel, Selection)
            for tie in fam.ties(inst, rule):
                assert isinstance(tie, Tie) and tie.products and tie.keeping == fam.keeping
                assert tie.products <= set(inst.units["product"]) | set(inst.projects["product"])
