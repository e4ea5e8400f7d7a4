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

A workbook cannot make exitopt read less than it holds, nor more than it can hold:

- the rows and columns read are those that hold values, as the sheet's XML holds them, whatever
  extent the sheet says it has (a stale ``<dimension ref="A1:AB300">`` would hide rows);
- before any part of the file is unpacked, its declared sizes are checked (MAX_FILE_BYTES,
  MAX_UNPACKED_BYTES, MAX_RATIO); as the rows are read, the first value beyond MAX_ROWS,
  MAX_COLUMNS or MAX_CELLS stops the reading; beyond a limit the workbook is refused, naming it;
- a path that is not an ordinary file (a folder, a pipe, a device) is refused before it is opened.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import stat
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

#: the largest workbook file read, in bytes
MAX_FILE_BYTES = 100 * 2**20
#: the most its parts may hold unpacked, together, as the workbook declares them
MAX_UNPACKED_BYTES = 256 * 2**20
#: the most a part above _RATIO_FROM bytes unpacked may grow when unpacked (Excel's own are far below)
MAX_RATIO = 100
_RATIO_FROM = 2**20
#: the most rows (the header included) and columns a sheet's values may reach, and cells in that extent
MAX_ROWS = 100_000
MAX_COLUMNS = 1_000
MAX_CELLS = 5_000_000


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
    """True for an .xlsx-type workbook, by its name or its first bytes (a renamed workbook too).

    Only an ordinary file is opened to look at its first bytes: a pipe would wait for ever.
    """
    file, sheet = split_sheet(path)
    if sheet is not None or file.suffix.lower() in WORKBOOK_SUFFIXES:
        return True
    try:
        if not stat.S_ISREG(file.stat().st_mode):
            return False
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


def _unreadable(file: Path, e: Exception) -> InputError:
    return InputError(
        f"cannot be read as an Excel workbook ({type(e).__name__}: {e}). Open it in Excel and save it "
        f"again as 'Excel Workbook (*.xlsx)', or as 'CSV UTF-8 (comma delimited)'.",
        file=file,
    )


def _too_big(file: Path, what: str) -> InputError:
    return InputError(
        f"{what}. exitopt refuses it rather than fill the computer's memory. If the workbook really holds "
        f"a table, copy the table alone into a new workbook (or save the sheet as 'CSV UTF-8 (comma "
        f"delimited)') and run again.",
        file=file,
    )


def _read_file(file: Path) -> bytes:
    """The workbook's bytes: an ordinary file of at most MAX_FILE_BYTES, checked before it is opened."""
    try:
        st = file.stat()
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror or e}).", file=file) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a folder, not a workbook.", file=file)
    if not stat.S_ISREG(st.st_mode):
        raise InputError("is not an ordinary file (a device, pipe or socket). Give a workbook (.xlsx) "
                         "or a CSV file.", file=file)
    if st.st_size > MAX_FILE_BYTES:
        raise _too_big(file, f"is {st.st_size / 2**20:,.0f} MB, more than the {MAX_FILE_BYTES // 2**20} MB "
                             f"a workbook may have")
    try:
        return file.read_bytes()
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror or e}).", file=file) from None


def check_packing(data: bytes, file: Path) -> None:
    """Refuse a workbook whose parts, as its zip directory declares them, would unpack too large.

    Python's zip reader never unpacks a part beyond its declared size (a part that would is
    damaged), so checking the declared sizes bounds what reading can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise _unreadable(file, e) from None
    odd = [p for p in parts if p.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)]
    if odd:
        raise _unreadable(file, ValueError(f"part {odd[0].filename} is packed in a way Excel never uses"))
    total = sum(p.file_size for p in parts)
    if total > MAX_UNPACKED_BYTES:
        big = max(parts, key=lambda p: p.file_size)
        raise _too_big(file, f"would unpack to {total / 2**20:,.0f} MB ({big.filename}: "
                             f"{big.file_size / 2**20:,.0f} MB), more than the {MAX_UNPACKED_BYTES // 2**20} MB a workbook may hold unpacked")
    for p in parts:
        if p.file_size > _RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise _too_big(file, f"has a part ({p.filename}) that unpacks {p.file_size / max(p.compress_size, 1):,.0f} "
                                 f"times larger ({p.compress_size / 2**20:,.1f} MB to {p.file_size / 2**20:,.0f} MB), "
                                 f"more than the {MAX_RATIO} times a workbook's part may: it is mostly filler "
                                 f"(blank space or repeated cells)")


def _open(file: Path):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    data = _read_file(file)
    check_packing(data, file)
    try:  # from the bytes, so that a workbook renamed to .csv is read too
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as e:
        raise _unreadable(file, e) from None


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


def _sheet_xml(wb, ws) -> bytes:
    """The sheet's XML as stored in the workbook (its size is bounded by :func:`check_packing`)."""
    part = getattr(ws, "_worksheet_path", None)
    archive = getattr(wb, "_archive", None)
    if part is not None and archive is not None:
        return archive.read(part)
    return b""  # not read only: never the case here


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class ExtentError(Exception):
    """A sheet's values reach beyond a limit; ``args[0]`` says which and where."""


def sheet_rows(ws) -> list[tuple]:
    """The sheet's rows of values, each cut after its last value, up to the last row holding one.

    The rows are read as the XML holds them, not as the sheet's stored extent (``<dimension>``)
    says: programs leave it stale. Raises ExtentError as soon as a value lies beyond MAX_ROWS,
    MAX_COLUMNS or MAX_CELLS, before the rest of the sheet is read; empty rows and formatted
    empty cells beyond the values are passed over without being kept.
    """
    ws.reset_dimensions()
    rows: list[tuple] = []
    width = 0
    for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
        end = len(row)
        while end and (row[end - 1] is None or row[end - 1] == ""):
            end -= 1
        if not end:
            continue
        cell = f"{_column_letters(end)}{i}"
        if i > MAX_ROWS:
            raise ExtentError(f"has a value in cell {cell}, row {i:,}: a table may have at most {MAX_ROWS:,} rows")
        if end > MAX_COLUMNS:
            raise ExtentError(f"has a value in cell {cell}, column {end:,}: a table may have at most "
                              f"{MAX_COLUMNS:,} columns")
        width = max(width, end)
        if i * width > MAX_CELLS:
            raise ExtentError(f"has values as far as row {i:,} and column {width:,} (cell {cell}): {i * width:,} "
                              f"cells, more than the {MAX_CELLS:,} a table may have")
        rows.extend([()] * (i - 1 - len(rows)))  # the empty rows before this one
        rows.append(tuple(row[:end]))
    return rows


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
        values = sheet_rows(ws)
        missing = uncalculated(_sheet_xml(wb, ws))
    except ExtentError as e:
        raise _too_big(file, f"sheet '{name}' {e}") from None
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, ValueError, OSError, EOFError) as e:
        raise _unreadable(file, e) from None
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
