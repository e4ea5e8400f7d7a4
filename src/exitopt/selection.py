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

import math
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "startswith"]

_ORDERING = {"<", "<=", ">", ">="}
_LISTS = {"in", "not in"}
_TEXT_OPS = {"contains", "startswith"}
_LIST_OF = {"==": "in", "!=": "not in"}


def _plain_value(v: Any, column: str, op: str) -> None:
    """A value a cell can be compared with: text, a finite number, or true/false."""
    if isinstance(v, bool) or isinstance(v, str):
        return
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            raise ValueError(f"[\"{column}\", \"{op}\", …] compares with {v!r}, which is not a number a cell can "
                             f"hold; write a finite number")
        return
    kind = "a list" if isinstance(v, list) else "a table" if isinstance(v, dict) else type(v).__name__
    raise ValueError(f"[\"{column}\", \"{op}\", …] compares with {kind} ({v!r}); a cell is compared with text "
                     f"in quotes, a number, or true/false")


def _example(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v) if isinstance(v, (int, float)) else '"…"'


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
    def _operand_fits_operator(self) -> _Condition:
        """Refuse a value the operator cannot use, rather than select nothing (or fail later).

        ``in``/``not in`` take a list of plain values; every other operator one plain value (text,
        number, true/false); ``<``… a number; ``contains``/``startswith`` text. Numbers are finite.
        Whether the value suits the column's kind is checked against the unit table (inputs).
        """
        col, op, v = self.column, self.op, self.value
        if op in _LISTS:
            if not isinstance(v, list):
                raise ValueError(f"'{op}' takes a list of values, e.g. [\"{col}\", \"{op}\", [{_example(v)}]]")
            for x in v:
                _plain_value(x, col, op)
            return self
        if isinstance(v, list):
            hint = {"==": " To match any of several values use 'in'", "!=": " To exclude several values use 'not in'"}
            raise ValueError(f"'{op}' compares with one value, but the value is a list {v!r}.{hint.get(op, '')}, "
                             f"e.g. [\"{col}\", \"{_LIST_OF.get(op, 'in')}\", {v!r}]")
        _plain_value(v, col, op)
        if op in _ORDERING and not _is_number(v):
            raise ValueError(
                f"'{op}' compares numbers, but the value is {v!r}; write a number "
                f"without quotes, e.g. [\"{col}\", \"{op}\", 30]"
            )
        if op in _TEXT_OPS and not isinstance(v, str):
            raise ValueError(f"'{op}' looks for text, but the value is {v!r}; write it in quotes, "
                             f"e.g. [\"{col}\", \"{op}\", \"{v}\"]")
        return self

    def values(self) -> list:
        """The value(s) compared with, as a list."""
        return list(self.value) if isinstance(self.value, list) else [self.value]

    def mask(self, units: pd.DataFrame) -> pd.Series:
        col = units[self.column]
        v = self.value
        if self.op in _LISTS:
            values = self.values()
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
