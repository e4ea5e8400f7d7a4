"""The rule registry: every rule family of the scenario is registered, whole, and used.

A family that lacks a part — a scenario key, a label, a way to the model or to constraints.csv,
a scope for the blocks — fails here rather than somewhere downstream.
"""

from __future__ import annotations

import typing

import pytest

from exitopt.report.labels import RULES as LABELS
from exitopt.rules import CAP_ROWS, FAMILIES
from exitopt.scenario import Scenario
from exitopt.selection import Selection


def rule_lists() -> set[str]:
    """The scenario's keys that hold a list of rules."""
    return {name for name, f in Scenario.model_fields.items() if typing.get_origin(f.annotation) is list}


def test_every_list_of_rules_in_the_scenario_is_one_family():
    keys = [f.key for f in FAMILIES]
    assert sorted(keys) == sorted(rule_lists())
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("family", FAMILIES, ids=[f.key for f in FAMILIES])
def test_a_family_has_every_part(family):
    assert family.noun and family.rows
    for row in family.rows:  # constraints.csv rows are labelled in Chinese and English
        zh, en = LABELS[row]
        assert zh and en
    assert family.scope in ("product", "units", "members")
    if family.module is None:  # no row in the model: it must still show in constraints.csv
        assert family.notes is not None
    else:
        assert callable(family.module.add_to) and family.notes is None
    assert callable(family.selections) and callable(family.title)


def test_families_are_numbered_as_in_model_md():
    assert [f.number for f in FAMILIES] == list(range(1, len(FAMILIES) + 1))
    assert all(row in LABELS for row in CAP_ROWS)


def test_the_gansu_run_reports_every_rule_through_the_registry(gansu_result):
    rows = set(gansu_result.constraints["rule"])
    known = {r for f in FAMILIES for r in f.rows} | set(CAP_ROWS)
    assert rows <= known
    scen = gansu_result.inst.scenario
    for family in FAMILIES:
        rules = getattr(scen, family.key)
        if rules:  # every rule the scenario has is reported under its family's rows
            assert rows & set(family.rows), family.key
        for rule in rules:
            assert isinstance(family.title(rule), str) and family.title(rule)
            for side, sel in family.selections(rule):
                assert isinstance(side, str) and isinstance(sel, Selection)
