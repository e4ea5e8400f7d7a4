"""Selections of units written as data: (column, operator, value) conditions combined with all/any.

A selection is never evaluated as code. In a scenario file it reads::

    where = { all = [["sector", "==", "coal"], ["capacity", "<", 30]],
              any = [["accident", "in", ["major", "extraordinary"]]] }
    # or an explicit list of unit ids
    where = { units = ["JISCO-YIG-BF1", "JISCO-YIG-BF2"] }

A unit is selected when it is among ``units`` (if given), meets every condition in ``all``
and at least one condition in ``any`` (if given). An empty selection selects every unit.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "startswith"]

_ORDERING = {"<", "<=", ">", ">="}


def _as_condition(value: Any) -> Any:
    """Accept ``[column, op, value]`` (the compact TOML form) as well as a table."""
    if isinstance(value, (list, tuple)):
        if len(value) != 3:
            raise ValueError(
                "a condition is [column, operator, value], e.g. [\"capacity\", \"<\", 30]"
            )
        return {"column": value[0], "op": value[1], "value": value[2]}
    return value


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(description="A column of the unit table.")
    op: Operator = Field(description="Comparison operator.")
    value: Any = Field(description="Value to compare with; a list for 'in' and 'not in'.")

    @model_validator(mode="after")
    def _number_for_ordering(self) -> _Condition:
        """``<``, ``<=``, ``>``, ``>=`` compare numbers: refuse a text value rather than select nothing."""
        if self.op in _ORDERING and (isinstance(self.value, bool) or not isinstance(self.value, (int, float))):
            raise ValueError(
                f"'{self.op}' compares numbers, but the value is {self.value!r}; write a number "
                f"without quotes, e.g. [\"{self.column}\", \"{self.op}\", 30]"
            )
        return self

    def mask(self, units: pd.DataFrame) -> pd.Series:
        col = units[self.column]
        v = self.value
        if self.op in ("in", "not in"):
            values = v if isinstance(v, list) else [v]
            m = _as_numbers(col, values).isin(values)
            return ~m if self.op == "not in" else m
        if self.op == "contains":
            # ';'-separated lists such as standards_failed
            return col.fillna("").astype(str).str.split(";").apply(lambda xs: str(v) in xs)
        if self.op == "startswith":
            return col.fillna("").astype(str).str.startswith(str(v))
        if self.op in _ORDERING:
            num = pd.to_numeric(col, errors="coerce")
            ops = {"<": num.lt, "<=": num.le, ">": num.gt, ">=": num.ge}
            return ops[self.op](v).fillna(False).astype(bool)
        eq = _as_numbers(col, [v]).eq(v)
        return ~eq if self.op == "!=" else eq


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_numbers(col: pd.Series, values: list) -> pd.Series:
    """A text column (an extra column of the unit table) read as numbers when compared with numbers."""
    if values and all(_is_number(x) for x in values) and not pd.api.types.is_numeric_dtype(col):
        return pd.to_numeric(col, errors="coerce")
    return col


Condition = Annotated[_Condition, BeforeValidator(_as_condition)]


class Selection(BaseModel):
    """Which units a rule applies to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    units: list[str] | None = Field(None, description="Explicit unit ids.")
    all: list[Condition] = Field(default_factory=list, description="Every condition must hold.")
    any: list[Condition] = Field(
        default_factory=list, description="At least one condition must hold (when given)."
    )

    def columns(self) -> set[str]:
        return {c.column for c in (*self.all, *self.any)}

    def mask(self, units: pd.DataFrame) -> pd.Series:
        """Boolean Series over ``units`` (indexed by unit_id)."""
        m = pd.Series(True, index=units.index)
        if self.units is not None:
            m &= units.index.isin(self.units)
        for c in self.all:
            m &= c.mask(units)
        if self.any:
            hit = pd.Series(False, index=units.index)
            for c in self.any:
                hit |= c.mask(units)
            m &= hit
        return m

    def describe(self) -> str:
        parts = []
        if self.units is not None:
            parts.append(f"units {', '.join(self.units[:4])}{' …' if len(self.units) > 4 else ''}")
        parts += [f"{c.column} {c.op} {c.value!r}" for c in self.all]
        if self.any:
            parts.append("(" + " or ".join(f"{c.column} {c.op} {c.value!r}" for c in self.any) + ")")
        return " and ".join(parts) or "every unit"
