"""How exitopt reads one cell of a table: a number, a yes/no, a year or text.

Every table an analyst gives (the unit and project tables, a plan, project approvals, pins)
and the run folders exitopt writes are read through these parsers, as text first, so that a
cell means the same wherever it is typed:

- text: stripped; an empty or missing cell is ``''``;
- a number: a point for decimals (``1.5``), and thousands separators as Excel writes them
  (``1,200`` or ``12,345.5``); any other comma (``1,5``) makes the cell not a number, and so
  do ``nan`` and ``inf``;
- a year: a whole number written as a number (``2017``, ``2017.0``);
- yes/no: ``true``/``false``, ``1``/``0``, ``yes``/``no``, ``y``/``n``, ``t``/``f``, ``是``/``否``,
  in any case.

The parsers say only what a cell holds (``None`` or NaN when it holds nothing of the kind); the
readers decide whether that is an error, and their messages name the file, the row as Excel
numbers it and the column.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

#: how a yes cell may be written (lower case)
YES_WORDS = frozenset({"true", "1", "1.0", "yes", "y", "t", "是"})
#: how a no cell may be written (lower case)
NO_WORDS = frozenset({"false", "0", "0.0", "no", "n", "f", "否"})

#: a number with thousands separators as Excel writes them: 1,200 or 12,345.5 (not 1,5)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def strip_thousands(text: object) -> object:
    """'1,200' -> '1200'; any other comma is left in place (so '1,5' is not a number); a value
    that is not text (NaN, a number read from a workbook) is returned as it is."""
    if not isinstance(text, str):
        return text
    text = text.strip()
    return text.replace(",", "") if _THOUSANDS.fullmatch(text) else text


def texts(col: pd.Series) -> pd.Series:
    """Cells as stripped text; missing values become ''. Text stays what it says: a unit may be
    called ``nan`` or ``NA``."""
    return col.astype(object).where(col.notna(), "").astype(str).str.strip()


def numbers(text: pd.Series) -> pd.Series:
    """Text cells as numbers: NaN where a cell is empty, not a number, or not finite."""
    num = pd.to_numeric(text.map(strip_thousands), errors="coerce")
    return num.where(np.isfinite(num))


def number(text: object) -> float | None:
    """One cell as a finite number, or None when it holds none."""
    plain = str(strip_thousands(str(text)))  # text in, text out
    try:
        v = float(plain)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def year(text: object) -> int | None:
    """One cell as a year (a whole number), or None when it holds none."""
    v = number(text)
    return int(v) if v is not None and v == int(v) else None


def yes_no(text: object) -> bool | None:
    """One cell as True (a yes word) or False (a no word); None for anything else, empty too."""
    word = str(text).strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None
