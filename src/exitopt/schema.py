"""The pieces every part of the scenario file is typed with: products, years, ranges, the strict
base model (unknown keys, nan and inf refused).

The scenario (:mod:`exitopt.scenario`) and every rule family's schema (:mod:`exitopt.rules`)
are built from these, so that a family module need not import the scenario that holds it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .vocab import PRODUCTS

Sector = Literal["coal", "steel", "cement"]
Product = Literal[PRODUCTS]  # type: ignore[valid-type]  # the products of exitopt.vocab
Mode = Literal["close", "relocate"]
MODES: tuple[Mode, ...] = ("close", "relocate")

#: Calendar years a plan, a rule or a table may name, and the longest plan. Checked before
#: anything is built, so a mistyped year cannot make the model enormous.
YEAR_MIN, YEAR_MAX = 1990, 2100
MAX_PLAN_YEARS = 50

#: Largest figures that mean something (and that the solver handles without losing precision):
#: capacity 万吨/yr, money 万元, people persons. A figure above them is a typing error.
MAX_CAPACITY = 1e7        # a target, a demand: ten times China's whole coal capacity
MAX_UNIT_COST = 1e5       # 万元 per 万吨/yr or per worker
MAX_BUDGET = 1e10         # 万元 in one year, either way (a budget may be negative)
MAX_PERSONS = 1e8

Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]


def _year_keys(value: Any) -> Any:
    """``{ 2018 = … }``: every key a year written as a whole number, and no year given twice.

    TOML keys are text, so ``2016`` and ``"02016"`` are two keys that name one year; pydantic
    alone would keep the last silently. Years outside YEAR_MIN–YEAR_MAX are refused later.
    """
    if not isinstance(value, dict):
        return value
    out: dict = {}
    written: dict[int, object] = {}
    for key, v in value.items():
        if isinstance(key, int) and not isinstance(key, bool):
            year = key
        elif isinstance(key, str) and key.strip().isdigit() and len(key.strip()) <= 6:
            year = int(key.strip())
        else:
            raise ValueError(f"key {str(key)!r} is not a year; write a whole year such as 2018")
        if year in written:
            raise ValueError(f"year {year} is given twice (as {str(written[year])!r} and {str(key)!r}); keep one")
        written[year] = key
        out[year] = v
    return out


def YearTable(lo: float, hi: float) -> Any:  # noqa: N802 (a type, read like one; mypy takes the fields as Any)
    """``{ year = figure }`` with whole-year keys, no year twice, and figures in [lo, hi]."""
    return Annotated[dict[Year, Annotated[float, Field(ge=lo, le=hi)]], BeforeValidator(_year_keys)]


NAME_ZH = ("Chinese name shown in the Chinese briefing (optional); without it a Chinese name is built "
           "from the rule's facts.")


class _Strict(BaseModel):
    # nan and inf are refused everywhere: no rule or cost means anything with them
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
