"""Selections are data: each operator on a small table, including extra text columns compared with numbers."""

import pandas as pd
import pytest

from exitopt.selection import Selection


@pytest.fixture
def units() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "capacity": [9.0, 30.0, 120.0],
            "standards_failed": ["energy;safety", "", "environment"],
            "unit_id": ["COAL-S1", "COAL-S2", "JISCO-YIG-BF1"],
            # an extra column of the unit table: read as text
            "opening_year": ["1997", "2004", None],
        },
        index=["COAL-S1", "COAL-S2", "JISCO-YIG-BF1"],
    )


def chosen(table, **kw) -> list[str]:
    return list(table.index[Selection(**kw).mask(table)])


def test_ordering_and_combination(units):
    assert chosen(units, all=[["capacity", "<", 30]]) == ["COAL-S1"]
    assert chosen(units, all=[["capacity", ">=", 30], ["capacity", "<", 120]]) == ["COAL-S2"]
    assert chosen(units, any=[["capacity", "<", 10], ["capacity", ">", 100]]) == ["COAL-S1", "JISCO-YIG-BF1"]
    assert chosen(units) == list(units.index)


def test_text_operators(units):
    assert chosen(units, all=[["standards_failed", "contains", "safety"]]) == ["COAL-S1"]
    assert chosen(units, all=[["unit_id", "startswith", "JISCO-"]]) == ["JISCO-YIG-BF1"]
    assert chosen(units, all=[["unit_id", "not in", ["COAL-S1"]]]) == ["COAL-S2", "JISCO-YIG-BF1"]


def test_extra_text_column_compared_with_numbers(units):
    assert chosen(units, all=[["opening_year", "==", 1997]]) == ["COAL-S1"]
    assert chosen(units, all=[["opening_year", "in", [2004, 1997]]]) == ["COAL-S1", "COAL-S2"]
    assert chosen(units, all=[["opening_year", "!=", 1997]]) == ["COAL-S2", "JISCO-YIG-BF1"]


def test_explicit_units_and_conditions(units):
    assert chosen(units, units=["COAL-S1", "COAL-S2"], all=[["capacity", ">", 10]]) == ["COAL-S2"]
