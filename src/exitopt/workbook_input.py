"""Read one sheet of an Excel workbook (.xlsx) as the table of text cells a CSV file gives.

The unit and project tables, plans, project approvals and pins may be workbooks. Every check
runs on text, exactly as for CSV, so this module only turns a sheet into the same DataFrame
``pandas.read_csv(..., dtype=str, keep_default_na=False)`` makes of a CSV file, plus the row
numbers Excel shows beside each row:

- the first row holds the column names; a header cell's first line is the name (a line break
  may be followed by a label, as in the sheets of ``exitopt template``);
- each following row is a row of the table, empty ones included, so that table row ``i``
  (from 0) is Excel row ``i + 2``, as for a CSV file; empty rows at the end are dropped;
- a cell becomes the text Excel shows without its number format: ``120``, not ``120.0``;
  ``1.5``; ``true``/``false`` for a logical; ``2017-06-30`` for a date; numbers and dates
  typed as text stay the text they are, for the checks to read as they read CSV cells;
- a formula gives the value Excel last calculated and stored. A workbook whose formulas were
  never calculated (written by a program, never opened and saved in Excel) stores none, and
  is refused: reading its formula cells as empty would quietly change the table;
- a header cell merged over several columns names the first of them; the columns it covers
  that have neither a name nor any value are dropped, like empty columns to the right;
  a column with values but no name is kept as ``Unnamed: N``, as pandas names it in a CSV.

A path ``book.xlsx#Sheet`` names the sheet; without a name the first visible sheet is read.
Read with openpyxl in read-only, values-only mode (see ``benchmarks/bench_workbook.py``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

from .errors import InputError

#: file endings read as workbooks (openpyxl reads these; .xls and .xlsb it cannot)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
_ZIP_MAGIC = b"PK\x03\x04"
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


@dataclass
class Sheet:
    """A sheet read as a table: text cells ('' when empty) under the header's column names."""

    frame: pd.DataFrame
    rows: list[int]  #: Excel's row number of each row of ``frame``
    name: str  #: the sheet's name in the workbook


def split_sheet(path: Path | str) -> tuple[Path, str | None]:
    """``book.xlsx#Sheet`` -> (book.xlsx, 'Sheet'); a path that exists as it is names no sheet."""
    path = Path(path)
    if "#" not in path.name or path.exists():
        return path, None
    name = path.name
    cuts = [i for i, ch in enumerate(name) if ch == "#" and name[:i].lower().endswith(WORKBOOK_SUFFIXES)]
    for i in cuts:  # the first cut that leaves an existing file; else the last
        if (path.parent / name[:i]).is_file():
            return path.parent / name[:i], name[i + 1:] or None
    if not cuts:
        return path, None
    return path.parent / name[:cuts[-1]], name[cuts[-1] + 1:] or None


def is_workbook(path: Path | str) -> bool:
    """True for an .xlsx-type workbook, by its name or its first bytes (a renamed workbook too)."""
    file, sheet = split_sheet(path)
    if sheet is not None or file.suffix.lower() in WORKBOOK_SUFFIXES:
        return True
    try:
        with open(file, "rb") as fh:
            return fh.read(4) == _ZIP_MAGIC
    except OSError:
        return False


def cell_text(value: object) -> str:
    """A cell's value as the text the checks read, without the cell's number format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def column_name(header: object) -> str:
    """The column a header cell names: its first line, without spaces around it."""
    return str(header).strip().split("\n", 1)[0].strip()


def _column_names(header: list[str]) -> list[str]:
    """Header texts as pandas names CSV columns: empty -> 'Unnamed: j', repeats -> 'x.1'."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for j, text in enumerate(header):
        name = column_name(text) if text.strip() else f"Unnamed: {j}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _open(file: Path):
    import openpyxl

    from openpyxl.utils.exceptions import InvalidFileException

    try:  # from the bytes, so that a workbook renamed to .csv is read too
        return openpyxl.load_workbook(io.BytesIO(file.read_bytes()), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as e:
        raise InputError(
            f"cannot be read as an Excel workbook ({type(e).__name__}: {e}). Open it in Excel and save it "
            f"again as 'Excel Workbook (*.xlsx)', or as 'CSV UTF-8 (comma delimited)'.",
            file=file,
        ) from None


def _pick(wb, file: Path, sheet: str | None):
    if sheet is None:
        visible = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
        if not visible:
            raise InputError("has no worksheet to read.", file=file)
        return visible[0]
    names = [ws.title for ws in wb.worksheets]
    if sheet in names:
        return wb[sheet]
    folded = [n for n in names if n.strip().lower() == sheet.strip().lower()]
    if len(folded) == 1:
        return wb[folded[0]]
    raise InputError(
        f"has no sheet named '{sheet}'. Its sheets are: {', '.join(names)}. Write the sheet's name after "
        f"'#' as Excel shows it on the tab, e.g. {file.name}#{names[0] if names else 'Sheet1'}.",
        file=file,
    )


def _sheet_xml(wb, ws, file: Path) -> bytes:
    """The sheet's XML as stored in the workbook."""
    part = getattr(ws, "_worksheet_path", None)
    archive = getattr(wb, "_archive", None)
    if part is not None and archive is not None:
        return archive.read(part)
    with zipfile.ZipFile(file) as zf:  # another openpyxl: every sheet's XML, to be safe
        return b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))


def uncalculated(xml: bytes) -> list[str]:
    """Cells (as Excel names them, B7) of a sheet's XML holding a formula without a stored result.

    Excel stores a formula's result in ``<v>``; a result that is empty text (``=IF(A2="","",A2)``)
    is an empty ``<v>`` in a cell typed ``t="str"``. No ``<v>``, or an empty one in a cell of any
    other type (openpyxl writes ``<v/>``), means the formula was never calculated.
    """
    if _FORMULA.search(xml) is None:
        return []
    cells = []
    for _event, el in ElementTree.iterparse(io.BytesIO(xml)):
        tag = el.tag.rpartition("}")[2]
        if tag == "c":
            parts = {child.tag.rpartition("}")[2]: child for child in el}
            if "f" in parts:
                v = parts.get("v")
                if v is None or (not v.text and el.get("t") != "str"):
                    cells.append(el.get("r", "?"))
            el.clear()
        elif tag == "row":
            el.clear()
    return cells


def read_sheet(path: Path | str) -> Sheet:
    """Read ``book.xlsx`` (its first visible sheet) or ``book.xlsx#Sheet`` as a :class:`Sheet`.

    A sheet without any cell gives a frame without columns; the caller says what it needed.
    """
    file, sheet = split_sheet(path)
    if not file.exists():
        raise InputError("file not found. Check the path (relative to the scenario file) and the "
                         "sheet name after '#'." if sheet else
                         "file not found. Check the path in the scenario (relative to the scenario file).",
                         file=path)
    if file.is_dir():
        raise InputError("is a folder, not a workbook.", file=path)
    wb = _open(file)
    try:
        ws = _pick(wb, file, sheet)
        name = ws.title
        values = list(ws.iter_rows(values_only=True))
        missing = uncalculated(_sheet_xml(wb, ws, file))
    finally:
        wb.close()
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise InputError(
            f"sheet '{name}' has formulas that were never calculated (cell {missing[0]}{more}): the workbook "
            f"was written by a program that stores formulas without their results. Open it in Excel (or "
            f"WPS/LibreOffice), save it, and run again; or replace the formulas by their values.",
            file=path,
        )

    texts = [[cell_text(v) for v in row] for row in values]
    while texts and not any(t.strip() for t in texts[-1]):
        texts.pop()  # empty rows at the end of the sheet
    if not texts:
        return Sheet(pd.DataFrame(), [], name)
    width = max(len(row) for row in texts)
    texts = [row + [""] * (width - len(row)) for row in texts]
    header, body = texts[0], texts[1:]
    keep = [j for j in range(width) if header[j].strip() or any(row[j].strip() for row in body)]
    names = _column_names(header)
    frame = pd.DataFrame([[row[j] for j in keep] for row in body], columns=[names[j] for j in keep], dtype=str)
    if frame.empty:
        frame = pd.DataFrame(columns=[names[j] for j in keep], dtype=str)
    return Sheet(frame, list(range(2, len(body) + 2)), name)
