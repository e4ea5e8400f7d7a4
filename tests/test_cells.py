"""One cell parser for every table: numbers with thousands separators, yes/no words and years
read the same in the unit table, a plan, project approvals, pins and a run folder."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from exitopt.cells import NO_WORDS, YES_WORDS, number, numbers, strip_thousands, texts, year, yes_no
from exitopt.errors import InputError
from exitopt.pins import from_options


@pytest.mark.parametrize("text, value", [
    ("1200", 1200.0), ("1,200", 1200.0), (" 12,345.5 ", 12345.5), ("-1,000", -1000.0), ("1.5", 1.5),
    ("1,5", None), ("12,34", None), ("1,2345", None), ("", None), ("abc", None), ("nan", None), ("inf", None),
    ("-inf", None),
])
def test_a_number_takes_thousands_separators_but_no_decimal_comma(text, value):
    assert number(text) == value
    got = numbers(pd.Series([text])).iloc[0]
    assert (math.isnan(got) if value is None else got == value)


def test_strip_thousands_leaves_what_is_not_text_alone():
    assert strip_thousands("1,200") == "1200"
    assert strip_thousands("1,5") == "1,5"
    assert strip_thousands(1200) == 1200
    assert strip_thousands(None) is None


@pytest.mark.parametrize("text, value", [
    ("2017", 2017), (" 2017 ", 2017), ("2017.0", 2017), ("2,017", 2017), ("2017.5", None), ("20,17", None),
    ("", None), ("next year", None), ("inf", None),
])
def test_a_year_is_a_whole_number(text, value):
    assert year(text) == value


@pytest.mark.parametrize("word", ["true", "TRUE", " yes ", "Y", "t", "1", "1.0", "是"])
def test_yes_words(word):
    assert yes_no(word) is True


@pytest.mark.parametrize("word", ["false", "False", "no", "N", "f", "0", "0.0", "否"])
def test_no_words(word):
    assert yes_no(word) is False


@pytest.mark.parametrize("word", ["", "maybe", "2", "nan", "对"])
def test_anything_else_is_neither_yes_nor_no(word):
    assert yes_no(word) is None


def test_the_yes_and_no_words_do_not_overlap():
    assert YES_WORDS and NO_WORDS and not YES_WORDS & NO_WORDS


def test_texts_are_stripped_and_missing_cells_are_empty():
    got = texts(pd.Series([" a ", None, float("nan"), pd.NA, 3]))
    assert got.tolist() == ["a", "", "", "", "3"]


def test_a_pin_year_is_read_like_every_other_year():
    assert [p.year for p in from_options(keep=["U1=2,018"], exit_=["U2=2019.0"])] == [2018, 2019]
    with pytest.raises(InputError, match=r"'20,18' is not a year"):
        from_options(keep=["U1=20,18"])
    with pytest.raises(InputError, match=r"'inf' is not a year"):
        from_options(exit_=["U1=inf"])
