"""Read the unit and project tables, check them, and bind them to a scenario as an ``Instance``.

Checks run in two layers: each table on its own (columns, types, ranges, duplicates), then
cross-checks between the scenario and the tables (unknown unit ids or columns in a rule,
packages that ask a unit for a mode it does not allow). Every failure is one ``InputError``
naming the file, the row (as Excel numbers it: the header is row 1) and the column.

Which columns a table has, their kinds, whether they are required and their defaults come from
:mod:`exitopt.columns`; each cell is parsed by :mod:`exitopt.cells`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns
from .cells import strip_thousands, yes_no
from .columns import reader_spec
from .errors import InputError
from .files import read_input, refuse_nul, sha256
from .output import restore
from .scenario import YEAR_MAX, YEAR_MIN, Scenario, load_scenario
from .selection import Selection
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
        return df.map(restore)
    text, _encoding = read_csv_text(path, given_on_command_line=True)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=skip_blank_lines)
    except pd.errors.EmptyDataError:
        raise InputError(f"is empty. It needs a header row naming its columns: {needs}.", file=path) from None
    except pd.errors.ParserError as e:
        raise InputError(f"{csv_problem(text, e)}. It needs columns {needs}.", file=path) from None
    df.columns = [column_name(c) for c in df.columns]  # a template's header: name, then a label
    return df.map(restore)


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
            df[col] = default
            if kind == "bool":
                df[col] = bool(default)
            continue
        if kind == "bool":
            # an empty cell takes the column's default (indicator_eligible: true)
            df[col] = _parse_bool(df[col].fillna("true" if default else "false"), col, path, ids)
        elif kind in ("capacity", "count", "money", "year"):
            df[col] = _parse_number(df[col], col, path, kind, ids, required=required)
            if kind in ("money",):
                df[col] = df[col].fillna(default if default is not None else 0.0)
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
    for i, (k, p, s) in enumerate(zip(df["kind"], df["product"], df["sector"])):
        if KIND_PRODUCT[k] != p or PRODUCT_SECTOR[p] != s:
            raise InputError(
                f"row {_row(i)} ({df['unit_id'].iloc[i]}): a {k} makes {KIND_PRODUCT[k]} in the "
                f"{PRODUCT_SECTOR[KIND_PRODUCT[k]]} sector, but the row says product '{p}', sector '{s}'.",
                file=path,
            )
    df["group"] = df["group"].where(df["group"].astype(bool), df["firm"])
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


@dataclass
class Instance:
    """A scenario bound to its data: what the model, the checker and the reports all read."""

    scenario: Scenario
    units: pd.DataFrame
    projects: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)
    scenario_path: Path | None = None

    @property
    def years(self) -> list[int]:
        return self.scenario.years

    def select(self, sel: Selection) -> list[str]:
        return list(self.units.index[sel.mask(self.units)])

    def hashes(self) -> dict[str, str]:
        return {name: sha256(p) for name, p in self.files.items()}


#: columns exitopt adds to the unit table for itself; a selection may not test them
INTERNAL_COLUMNS = frozenset({"allowed_years"})
_NUMBER_KINDS = ("capacity", "count", "money", "year")


def _check_condition(c, where: str, scen_file: Path | None) -> None:
    """The value of a condition suits its column's kind (a number for capacity, text for region…).

    Columns the unit table has beyond UNIT_COLUMNS hold text that may also be compared as numbers.
    """
    kind = UNIT_COLUMNS.get(c.column, ("extra",))[0]
    values = c.values()
    cond = f"{where}: [\"{c.column}\", \"{c.op}\", {c.value!r}]"
    if kind in _NUMBER_KINDS:
        if c.op in ("contains", "startswith"):
            raise InputError(f"{cond} looks for text, but '{c.column}' holds numbers. Compare it with "
                             f"==, <, >= … and a number.", file=scen_file)
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            raise InputError(f"{cond}: '{c.column}' holds numbers, but {bad[0]!r} is not one. Write the number "
                             f"without quotes.", file=scen_file)
    elif kind in ("text", "id"):
        if c.op in ("<", "<=", ">", ">="):
            raise InputError(f"{cond}: '{c.op}' compares numbers, but '{c.column}' holds text. Use ==, in or "
                             f"startswith.", file=scen_file)
        bad = [v for v in values if not isinstance(v, str)]
        if bad:
            raise InputError(f"{cond}: '{c.column}' holds text, so {bad[0]!r} never matches. Write it in quotes: "
                             f"\"{str(bad[0]).lower() if isinstance(bad[0], bool) else bad[0]}\".", file=scen_file)
    elif kind == "bool" and c.op not in ("==", "!=", "in", "not in"):
        raise InputError(f"{cond}: '{c.column}' is a yes/no column; compare it with == true or == false.",
                         file=scen_file)


def _check_selection(sel: Selection | None, where: str, units: pd.DataFrame, scen_file: Path | None) -> None:
    if sel is None:
        return
    selectable = [c for c in units.columns if c not in INTERNAL_COLUMNS]
    unknown_cols = sorted(sel.columns() - set(selectable))
    if unknown_cols:
        raise InputError(
            f"{where} tests column(s) {', '.join(unknown_cols)}, which the unit table does not have. "
            f"Columns available: {', '.join(selectable)}.",
            file=scen_file,
        )
    for c in (*sel.all, *sel.any):
        _check_condition(c, where, scen_file)
    if sel.units is not None:
        unknown = [u for u in sel.units if u not in units.index]
        if unknown:
            raise InputError(
                f"{where} names unit(s) {', '.join(unknown[:5])} that are not in the unit table.",
                file=scen_file,
            )
    for c in (*sel.all, *sel.any):
        if UNIT_COLUMNS.get(c.column, ("",))[0] != "bool" or c.op not in ("==", "!=", "in", "not in"):
            continue
        values = c.values()
        if not all(isinstance(v, bool) for v in values):
            raise InputError(
                f"{where} compares the yes/no column '{c.column}' with {c.value!r}. Write true or false "
                f"without quotes, e.g. [\"{c.column}\", \"==\", true].",
                file=scen_file,
            )


def _project_status(scen: Scenario, projects: pd.DataFrame, scen_file: Path | None) -> pd.Series:
    pol = scen.new_capacity
    for key, ids in (("approve", pol.approve), ("reject", pol.reject),
                     ("candidates", [] if pol.candidates == "table" else pol.candidates)):
        unknown = [p for p in ids if p not in projects.index]
        if unknown:
            raise InputError(
                f"new_capacity.{key} names project(s) {', '.join(unknown[:5])} that are not in the projects table.",
                file=scen_file,
            )
    if pol.candidates == "table":
        status = projects["status"].copy()
    else:
        status = pd.Series("rejected", index=projects.index)
        status[list(pol.candidates)] = "candidate"
        status[projects["status"] == "approved"] = "approved"
    status[list(pol.approve)] = "approved"
    status[list(pol.reject)] = "rejected"
    return status


def bind(scen: Scenario, units: pd.DataFrame, projects: pd.DataFrame | None = None,
         *, files: dict[str, Path] | None = None, scenario_path: Path | None = None) -> Instance:
    """Cross-check a scenario against its tables and return the Instance.

    Also the way to make a variant of a loaded instance without touching its data:
    ``bind(inst.scenario.model_copy(update=...), inst.units, inst.projects, files=inst.files)``.
    """
    from .rules import FAMILIES  # the registry reads the model, which reads this module

    f = scenario_path
    for family in FAMILIES:
        for rule in getattr(scen, family.key):
            for side, sel in family.selections(rule):
                _check_selection(sel, f"{family.noun} '{rule.name}'{side}", units, f)
    regions = set(units["region"])
    for w in scen.caps.workers:
        unknown = [r for r in (w.regions or []) if r not in regions]
        if unknown:
            raise InputError(f"caps.workers '{w.name}' names region(s) {', '.join(unknown)} that no unit is in.", file=f)

    inst = Instance(scen, units, pd.DataFrame(), files or {}, scenario_path)
    member_of: dict[str, str] = {}
    for p in scen.packages:
        close = set(inst.select(p.close)) if p.close else set()
        reloc = set(inst.select(p.relocate)) if p.relocate else set()
        if not close and not reloc:
            raise InputError(f"package '{p.name}' selects no unit. Check its close/relocate selections.", file=f)
        both = close & reloc
        if both:
            raise InputError(f"package '{p.name}' lists {sorted(both)[0]} both to close and to relocate.", file=f)
        not_reloc = [u for u in reloc if not units.at[u, "relocatable"]]
        if not_reloc:
            raise InputError(
                f"package '{p.name}' relocates {sorted(not_reloc)[0]}, but the unit table says it is not "
                f"relocatable. Set relocatable=true for it or move it to 'close'.",
                file=f,
            )
        for u in close | reloc:
            if u in member_of:
                raise InputError(f"unit {u} is in two packages: '{member_of[u]}' and '{p.name}'.", file=f)
            member_of[u] = p.name

    if projects is None or projects.empty:
        projects = pd.DataFrame(columns=[*PROJECT_COLUMNS, "approval"]).set_index("project_id", drop=False)
        if scen.new_capacity.approve or scen.new_capacity.reject:
            raise InputError("new_capacity names projects but the scenario gives no projects table.", file=f)
    else:
        projects = projects.drop(columns="approval", errors="ignore").copy()
        projects["approval"] = _project_status(scen, projects, f)
        # Projects outside the plan's years cannot come on line within it.
        outside = ~projects["year"].between(scen.first_year, scen.last_year)
        projects.loc[outside & (projects["approval"] != "approved"), "approval"] = "rejected"
        late = projects.index[outside & (projects["approval"] == "approved")]
        if len(late):
            raise InputError(
                f"project {late[0]} is approved but its year {projects.at[late[0], 'year']} is outside the plan "
                f"{scen.first_year}–{scen.last_year}.",
                file=f,
            )
    inst.projects = projects
    return inst


def load(scenario_path: Path | str) -> Instance:
    """Load a scenario file and its tables; raise InputError on anything wrong."""
    scenario_path = Path(scenario_path)
    scen = load_scenario(scenario_path)
    files = {"scenario": scenario_path, "units": scen.units}
    units = read_units(scen.units)
    projects = None
    if scen.projects is not None:
        projects = read_projects(scen.projects)
        files["projects"] = scen.projects
    return bind(scen, units, projects, files=files, scenario_path=scenario_path)
