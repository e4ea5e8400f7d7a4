"""Read the unit and project tables, each on its own: columns, types, ranges, duplicates.

A table is a CSV file (UTF-8 with or without BOM, or GB18030/GBK as Excel writes it) or a sheet
of a workbook. Every failure is one ``InputError`` naming the file, the row (as Excel numbers
it: the header is row 1) and the column. Which columns a table has, their kinds, whether they
are required and their defaults come from :mod:`exitopt.columns`; each cell is parsed by
:mod:`exitopt.cells`. Checks between the tables and a scenario are :func:`exitopt.inputs.bind`'s.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns
from .cells import strip_thousands, yes_no
from .columns import reader_spec
from .errors import InputError
from .files import read_input, refuse_nul
from .output import restore
from .scenario import YEAR_MAX, YEAR_MIN
from .vocab import KIND_PRODUCT, PRODUCT_SECTOR
from .workbook_input import column_name, is_workbook, read_sheet

#: unit-table columns: name -> (kind of value, required?, default when absent); see columns.py
UNIT_COLUMNS: dict[str, tuple[str, bool, object]] = reader_spec(columns.UNITS)
#: projects-table columns, likewise
PROJECT_COLUMNS: dict[str, tuple[str, bool, object]] = reader_spec(columns.PROJECTS)
_UNIT = {c.name: c for c in columns.UNITS}
_PROJECT = {c.name: c for c in columns.PROJECTS}


def read_csv_text(path: Path, *, given_on_command_line: bool = False) -> tuple[str, str]:
    """Return (text, encoding). Accepts UTF-8 with or without BOM, and GB18030/GBK from Excel.
    ``given_on_command_line``: the path was typed after the command (relative to the current
    folder), not written in the scenario (relative to the scenario file); the message says which."""
    path = Path(path)
    where = (f"the path you typed (relative to the current folder, {Path.cwd()})" if given_on_command_line
             else "the path in the scenario (relative to the scenario file)")
    raw = read_input(path, "CSV file", f"Check {where}.")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(
            "is saved as UTF-16 ('Unicode text' in Excel). Save it as 'CSV UTF-8 (comma delimited)' instead.",
            file=path,
        )
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(
            "is an Excel 97-2003 workbook (.xls), which exitopt cannot read. In Excel use File → Save As → "
            "'Excel Workbook (*.xlsx)' or 'CSV UTF-8 (comma delimited)'.",
            file=path,
        )
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(
        "is neither UTF-8 nor GBK/GB18030 text. Save it from Excel as 'CSV UTF-8 (comma delimited)'.",
        file=path,
    )


def csv_problem(text: str, error: Exception) -> str:
    """Plain words for a CSV that pandas could not split into rows of equal length: semicolons
    as separators (Excel in many European settings), or a row with more cells than the header."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    if header.count(";") > header.count(","):
        return ("is separated by semicolons (;), not commas. In Excel use File → Save As → "
                "'CSV UTF-8 (comma delimited)', or replace the semicolons by commas")
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
    if found:
        n, line, saw = found.groups()
        return (f"line {line} has {saw} cells but the header has {n}. A cell that holds a comma must be in "
                f"double quotes; saving the sheet from Excel as 'CSV UTF-8 (comma delimited)' does that")
    return "cannot be split into rows and columns. Save it from Excel as 'CSV UTF-8 (comma delimited)'"


def read_text_table(path: Path | str, needs: str, *, skip_blank_lines: bool = False) -> pd.DataFrame:
    """A small CSV file of the analyst's (a plan, approvals, pins) as text cells, any encoding
    :func:`read_csv_text` accepts. ``needs`` says which columns it should have, for the message
    when it cannot be read. Cells that exitopt guarded against Excel formulas when it wrote them
    (``'=U-EQ``) read as they were (``=U-EQ``), so a run's own files are valid inputs."""
    path = Path(path)
    refuse_nul(path)
    if is_workbook(path):
        df = read_sheet(path).frame
        if df.columns.empty:
            raise InputError(f"is empty. It needs a header row naming its columns: {needs}.", file=path)
        return _ids_checked(df.map(restore), path)
    text, _encoding = read_csv_text(path, given_on_command_line=True)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=skip_blank_lines)
    except pd.errors.EmptyDataError:
        raise InputError(f"is empty. It needs a header row naming its columns: {needs}.", file=path) from None
    except pd.errors.ParserError as e:
        raise InputError(f"{csv_problem(text, e)}. It needs columns {needs}.", file=path) from None
    df.columns = [column_name(c) for c in df.columns]  # a template's header: name, then a label
    return _ids_checked(df.map(restore), path)


def _ids_checked(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A plan's, pins' or approvals' ids, refused when they hold a control character (no unit has one)."""
    for col in ("unit_id", "project_id"):
        if col in df.columns:
            _refuse_control_characters(df, col, df[col].astype(str).str.strip(), path, also=())
    return df


def _row(i: int) -> int:
    """Excel's row number for DataFrame position i (header is row 1)."""
    return int(i) + 2


def _parse_bool(series: pd.Series, col: str, path: Path, ids: pd.Series) -> pd.Series:
    out = []
    for i, v in enumerate(series.fillna("").astype(str).str.strip().str.lower()):
        flag = yes_no(v)
        if flag is not None:
            out.append(flag)
        elif v in ("", "nan"):  # the caller gave empty cells the column's default already
            out.append(False)
        else:
            raise InputError(
                f"row {_row(i)} ({ids.iloc[i]}), column '{col}': '{v}' is not true/false. "
                f"Write true or false (1/0 also work).",
                file=path,
            )
    return pd.Series(out, index=series.index, dtype=bool)


#: what a number column of a table may hold: (lowest, highest, unit); outside it is a typing error
NUMBER_RANGES: dict[str, tuple[float, float, str]] = {
    "capacity": (1e-3, 1e6, "万吨/yr"),
    "count": (0, 1e6, "persons"),
    "money": (0, 1e7, "万元/yr"),
    "year": (1900, YEAR_MAX, ""),
}


def _parse_number(series: pd.Series, col: str, path: Path, kind: str, ids: pd.Series, *,
                  required: bool | None = None) -> pd.Series:
    """A number column, checked: present when required, finite, within NUMBER_RANGES, whole for
    counts and years. The first row with a problem is reported (Excel's row number and the id)."""
    if required is None:
        required = kind in ("capacity", "count")
    text = series.map(strip_thousands)
    num = pd.to_numeric(text.where(series.notna(), None), errors="coerce")
    raw = series.astype(object)
    empty = (series.isna() | raw.where(series.notna(), "").astype(str).str.strip().eq("")).to_numpy(dtype=bool)
    v = num.to_numpy(dtype=float, na_value=np.nan)
    lo, hi, unit = NUMBER_RANGES[kind]
    with np.errstate(invalid="ignore"):
        given = ~empty
        finite = np.isfinite(v)
        problems = [
            (empty & required, lambda r: "is empty; it needs a number."),
            (given & ~finite, lambda r: f": '{r}' is not a number."
                                        + (" Write decimals with a point (1.5), not a comma." if "," in str(r) else "")),
            (given & finite & (v <= 0) & (kind == "capacity"),
             lambda r: f": capacity must be above 0 万吨/yr, found {r}. Remove the row if the unit no longer exists."),
            (given & finite & (v < 0) & (kind in ("count", "money")), lambda r: f": must not be negative, found {r}."),
            (given & finite & ((v < lo) | (v > hi)),
             lambda r: f": {r} is outside what it can mean ("
                       f"{f'{lo:g}–{hi:g}' if kind == 'year' else f'{lo:,.10g} to {hi:,.10g}'}"
                       f"{' ' + unit if unit else ''}). Check the cell for a typing error."),
            (given & finite & (kind in ("count", "year")) & (v != np.floor(v)),
             lambda r: f": must be a whole number, found {r}."),
        ]
    bad = np.zeros(len(v), dtype=bool)
    for mask, _ in problems:
        bad |= mask
    if bad.any():
        i = int(bad.nonzero()[0][0])
        message = next(say for mask, say in problems if mask[i])(raw.iloc[i])
        where = f"row {_row(i)} ({ids.iloc[i]}), column '{col}'"
        raise InputError(f"{where}{'' if message.startswith(':') else ' '}{message}", file=path)
    return num


#: text columns that name things rules and plans refer to, besides a table's id column
_NAME_COLUMNS = ("firm", "group", "region")


def control_character(text: str) -> str | None:
    """The first control character in ``text`` (NUL, tab, line break, DEL…), or None when it has none.

    Such a character cannot be seen in Excel or on the console, so an id holding one could never
    be typed again in a rule, a plan or a pin."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return ch
    return None


def escaped(text: str, width: int = 24) -> str:
    """A cell as a message shows it: control characters written as \\x00, cut after ``width`` characters."""
    out = "".join(ch.encode("unicode_escape").decode("ascii") if control_character(ch) else ch
                  for ch in text[:width])
    return out + (f"… ({len(text):,} characters)" if len(text) > width else "")


def _refuse_control_characters(df: pd.DataFrame, id_col: str, ids: pd.Series, path: Path, *,
                               also: tuple[str, ...] = _NAME_COLUMNS) -> None:
    for col in (id_col, *also):
        if col not in df.columns:
            continue
        for i, v in enumerate(df[col]):
            ch = control_character(v.strip()) if isinstance(v, str) else None
            if ch is not None:
                shown_id = "" if col == id_col else f" ({escaped(ids.iloc[i])})"
                raise InputError(
                    f"row {_row(i)}{shown_id}, column '{col}': '{escaped(v.strip())}' holds the control character "
                    f"{ch!r} (U+{ord(ch):04X}), which cannot be seen or typed in a rule, a plan or a pin. "
                    f"Retype the cell without it.",
                    file=path,
                )


def _check_header(df: pd.DataFrame, path: Path, what: str) -> None:
    """Every column named once. Readers rename a repeated name ('capacity', 'capacity.1'), and names
    that differ only by spaces become one after stripping: either way one column would be ignored."""
    names = [column_name(c) for c in df.columns]
    seen: set[str] = set()
    for name in names:
        base = re.fullmatch(r"(.+)\.(\d+)", name)
        twice = name in seen or (base is not None and base.group(1) in names)
        if twice:
            col = base.group(1) if base is not None and base.group(1) in names else name
            raise InputError(f"the {what} has the column '{col}' more than once in its first row; exitopt would "
                             f"read only one of them. Delete or rename the other.", file=path)
        seen.add(name)


def _drop_trailing_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the rows of empty cells (',,,,') that Excel leaves at the end of a sheet saved as CSV."""
    cells = df.to_numpy(dtype=object)
    filled = pd.Series([any(not pd.isna(v) and str(v).strip() != "" for v in row) for row in cells], index=df.index,
                       dtype=bool)
    if filled.all():
        return df
    last = int(filled.values.nonzero()[0][-1]) + 1 if filled.any() else 0
    return df.iloc[:last]


def _read_table(path: Path, spec: dict[str, tuple[str, bool, object]], what: str) -> pd.DataFrame:
    text = ""
    refuse_nul(path)
    if is_workbook(path):  # a sheet's empty cells become NaN, as a CSV file's do below
        df = read_sheet(path).frame
        df = df.where(df.ne(""))
    else:
        text, _enc = read_csv_text(path)
        if text.strip("\ufeff \t\r\n"):
            try:
                df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
                raise InputError(f"{csv_problem(text, e)}.", file=path) from None
        else:
            df = pd.DataFrame()
    if df.columns.empty:
        raise InputError(f"is empty. The {what} needs a header row and one row per entry.", file=path)
    _check_header(df, path, what)
    df.columns = [column_name(c) for c in df.columns]
    missing = [c for c, (_, req, _) in spec.items() if req and c not in df.columns]
    if missing:
        header = text.lstrip("\ufeff").split("\n", 1)[0]
        hint = (" Its first row is separated by semicolons: save it from Excel as "
                "'CSV UTF-8 (comma delimited)'." if header.count(";") > header.count(",") else "")
        raise InputError(
            f"the {what} lacks column(s) {', '.join(missing)}. The first row must hold the column names; "
            f"see data/gansu/README.md for the list.{hint}",
            file=path,
        )
    df = _drop_trailing_blank_rows(df)
    if df.empty:
        raise InputError(f"the {what} has no rows.", file=path)
    id_col = next(c for c, (k, _, _) in spec.items() if k == "id")
    ids = df[id_col].fillna("").astype(str).str.strip()
    _refuse_control_characters(df, id_col, ids, path)
    for i, v in enumerate(ids):
        if not v:
            raise InputError(f"row {_row(i)}: '{id_col}' is empty.", file=path)
    dup = ids[ids.duplicated(keep=False)]
    if not dup.empty:
        first = dup.iloc[0]
        rows = [str(_row(i)) for i, v in enumerate(ids) if v == first]
        raise InputError(
            f"{id_col} '{first}' appears more than once (rows {', '.join(rows)}). Each unit needs its own id.",
            file=path,
        )
    df[id_col] = ids
    for col, (kind, required, default) in spec.items():
        if col not in df.columns:
            df[col] = np.nan if default is None and kind in ("money", "year") else default
            if kind == "bool":
                df[col] = bool(default)
            continue
        if kind == "bool":
            # an empty cell takes the column's default (indicator_eligible: true)
            df[col] = _parse_bool(df[col].fillna("true" if default else "false"), col, path, ids)
        elif kind in ("capacity", "count", "money", "year"):
            df[col] = _parse_number(df[col], col, path, kind, ids, required=required)
            if kind in ("money",) and default is not None:  # no default: empty means the sector's figure
                df[col] = df[col].fillna(default)
        elif kind == "text":
            s = df[col].fillna("" if default is None else default).astype(str).str.strip()
            if spec[col][1]:
                for i, v in enumerate(s):
                    if not v:
                        raise InputError(f"row {_row(i)} ({ids.iloc[i]}): column '{col}' is empty.", file=path)
            df[col] = s
    return df


def _check_choice(df: pd.DataFrame, col: str, allowed: tuple[str, ...], path: Path, id_col: str) -> None:
    bad = ~df[col].isin(allowed)
    if bad.any():
        i = int(bad.values.argmax())
        raise InputError(
            f"row {_row(i)} ({df[id_col].iloc[i]}), column '{col}': '{df[col].iloc[i]}' is not one of "
            f"{', '.join(allowed)}.",
            file=path,
        )


def parse_years(text: str) -> frozenset[int] | None:
    """'2017-2020' or '2018;2019' (or a mix) -> set of years; '' -> None (any year)."""
    text = str(text).strip()
    if not text:
        return None
    years: set[int] = set()
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            lo, hi = _year(a), _year(b)
            if hi < lo:
                raise ValueError(f"range {part} runs backwards")
            years.update(range(lo, hi + 1))
        else:
            years.add(_year(part))
    return frozenset(years)


def _year(text: str) -> int:
    """A year of an exit_years cell, within YEAR_MIN–YEAR_MAX (checked before any range is made)."""
    year = int(text)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError(f"year {year} is outside {YEAR_MIN}–{YEAR_MAX}")
    return year


def read_units(path: Path) -> pd.DataFrame:
    """The unit table, checked and typed, indexed by unit_id."""
    path = Path(path)
    df = _read_table(path, UNIT_COLUMNS, "unit table")
    for col in ("sector", "kind", "product", "accident", "owner", "source"):
        _check_choice(df, col, _UNIT[col].choices, path, "unit_id")
    for i, (k, p, s) in enumerate(zip(df["kind"], df["product"], df["sector"], strict=True)):
        if KIND_PRODUCT[k] != p or PRODUCT_SECTOR[p] != s:
            raise InputError(
                f"row {_row(i)} ({df['unit_id'].iloc[i]}): a {k} makes {KIND_PRODUCT[k]} in the "
                f"{PRODUCT_SECTOR[KIND_PRODUCT[k]]} sector, but the row says product '{p}', sector '{s}'.",
                file=path,
            )
    df["group"] = df["group"].where(df["group"].astype(bool), df["firm"])
    pays = df["loss_making"] & (df["fiscal_contribution"].fillna(0.0) > 0)
    if pays.any():
        i = int(pays.to_numpy().nonzero()[0][0])
        raise InputError(
            f"row {_row(i)} ({df['unit_id'].iloc[i]}): the unit is loss_making and also has a fiscal_contribution of "
            f"{df['fiscal_contribution'].iloc[i]:g} 万元/yr. A unit is either paid for while it runs (subsidised_loss) "
            f"or pays while it runs (fiscal_contribution); clear one of the two.",
            file=path,
        )
    allowed = []
    for i, text in enumerate(df["exit_years"]):
        try:
            allowed.append(parse_years(text))
        except ValueError as e:
            why = f" ({e})" if str(e).startswith(("year ", "range ")) else ""
            raise InputError(
                f"row {_row(i)} ({df['unit_id'].iloc[i]}), column 'exit_years': '{text}' is not a list of years"
                f"{why}. Write e.g. 2017-2020 or 2018;2019, or leave it empty for any year.",
                file=path,
            ) from None
    df["allowed_years"] = allowed
    df["workers"] = df["workers"].astype(int)
    return df.set_index("unit_id", drop=False)


def read_projects(path: Path) -> pd.DataFrame:
    path = Path(path)
    df = _read_table(path, PROJECT_COLUMNS, "projects table")
    for col in ("product", "status"):
        _check_choice(df, col, _PROJECT[col].choices, path, "project_id")
    df["sector"] = df["product"].map(PRODUCT_SECTOR)
    df["group"] = df["group"].where(df["group"].astype(bool), df["firm"])
    df["year"] = df["year"].astype(int)
    return df.set_index("project_id", drop=False)
