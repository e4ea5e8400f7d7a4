"""Read the unit and project tables, check them, and bind them to a scenario as an ``Instance``.

Checks run in two layers: each table on its own (columns, types, ranges, duplicates), then
cross-checks between the scenario and the tables (unknown unit ids or columns in a rule,
packages that ask a unit for a mode it does not allow). Every failure is one ``InputError``
naming the file, the row (as Excel numbers it: the header is row 1) and the column.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from .scenario import Scenario, load_scenario
from .selection import Selection

SECTORS = ("coal", "steel", "cement")
KIND_PRODUCT = {
    "coal_mine": "coal",
    "blast_furnace": "pig_iron",
    "converter": "crude_steel",
    "rolling_mill": "rolled_steel",
    "clinker_line": "clinker",
    "grinding_station": "cement",
}
PRODUCT_SECTOR = {
    "coal": "coal",
    "pig_iron": "steel",
    "crude_steel": "steel",
    "rolled_steel": "steel",
    "clinker": "cement",
    "cement": "cement",
}
ACCIDENTS = ("none", "general", "large", "major", "extraordinary")
SOURCES = ("gcmt", "plan", "press", "synthetic")

#: unit-table columns: name -> (kind of value, required?, default when absent)
UNIT_COLUMNS: dict[str, tuple[str, bool, object]] = {
    "unit_id": ("id", True, None),
    "name": ("text", True, None),
    "name_zh": ("text", False, ""),
    "sector": ("text", True, None),
    "kind": ("text", True, None),
    "product": ("text", True, None),
    "capacity": ("capacity", True, None),
    "firm": ("text", True, None),
    "group": ("text", False, None),
    "region": ("text", True, None),
    "counts_in": ("text", False, ""),
    "workers": ("count", True, None),
    "owner": ("text", False, "state"),
    "accident": ("text", False, "none"),
    "accident_year": ("year", False, None),
    "protected_area": ("bool", False, False),
    "backward_class": ("bool", False, False),
    "banned_method": ("bool", False, False),
    "standards_failed": ("text", False, ""),
    "loss_making": ("bool", False, False),
    "subsidised_loss": ("money", False, 0.0),
    "relocatable": ("bool", False, False),
    "indicator_eligible": ("bool", False, True),
    "exit_years": ("text", False, ""),
    "source": ("text", True, None),
}

PROJECT_COLUMNS: dict[str, tuple[str, bool, object]] = {
    "project_id": ("id", True, None),
    "name": ("text", True, None),
    "sector": ("text", False, None),
    "product": ("text", True, None),
    "capacity": ("capacity", True, None),
    "year": ("year", True, None),
    "firm": ("text", True, None),
    "group": ("text", False, None),
    "region": ("text", False, ""),
    "status": ("text", False, "candidate"),
}

#: how a yes/no cell may be written (lower case)
YES_WORDS = frozenset({"true", "1", "1.0", "yes", "y", "t", "是"})
NO_WORDS = frozenset({"false", "0", "0.0", "no", "n", "f", "否"})
_TRUE = YES_WORDS
_FALSE = NO_WORDS | {"", "nan"}  # in the unit table an empty cell takes the column's default


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_csv_text(path: Path) -> tuple[str, str]:
    """Return (text, encoding). Accepts UTF-8 with or without BOM, and GB18030/GBK from Excel."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found. Check the path in the scenario (relative to the scenario file).", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a CSV file.", file=path)
    raw = path.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(
            "is saved as UTF-16 ('Unicode text' in Excel). Save it as 'CSV UTF-8 (comma delimited)' instead.",
            file=path,
        )
    if raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError(
            "is an Excel workbook, not a CSV file. In Excel use File → Save As → 'CSV UTF-8 (comma delimited)'.",
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


def read_text_table(path: Path | str, needs: str, *, skip_blank_lines: bool = False) -> pd.DataFrame:
    """A small CSV file of the analyst's (a plan, approvals, pins) as text cells, any encoding
    :func:`read_csv_text` accepts. ``needs`` says which columns it should have, for the message
    when it cannot be read."""
    path = Path(path)
    text, _encoding = read_csv_text(path)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=skip_blank_lines)
    except pd.errors.EmptyDataError:
        raise InputError(f"is empty. It needs a header row naming its columns: {needs}.", file=path) from None
    except pd.errors.ParserError as e:
        raise InputError(f"cannot be read as CSV ({e}). It needs columns {needs}; save it from Excel as "
                         f"'CSV UTF-8 (comma delimited)'.", file=path) from None


def _row(i: int) -> int:
    """Excel's row number for DataFrame position i (header is row 1)."""
    return int(i) + 2


def _parse_bool(series: pd.Series, col: str, path: Path, ids: pd.Series) -> pd.Series:
    out = []
    for i, v in enumerate(series.fillna("").astype(str).str.strip().str.lower()):
        if v in _TRUE:
            out.append(True)
        elif v in _FALSE:
            out.append(False)
        else:
            raise InputError(
                f"row {_row(i)} ({ids.iloc[i]}), column '{col}': '{v}' is not true/false. "
                f"Write true or false (1/0 also work).",
                file=path,
            )
    return pd.Series(out, index=series.index, dtype=bool)


#: a number with thousands separators as Excel writes them: 1,200 or 12,345.5 (not 1,5)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def _strip_thousands(text: object) -> object:
    """'1,200' -> '1200'; any other comma is left in place (so '1,5' is not a number); NaN stays."""
    if not isinstance(text, str):
        return text
    text = text.strip()
    return text.replace(",", "") if _THOUSANDS.fullmatch(text) else text


def _parse_number(series: pd.Series, col: str, path: Path, kind: str, ids: pd.Series) -> pd.Series:
    text = series.map(_strip_thousands)
    num = pd.to_numeric(text.where(series.notna(), None), errors="coerce")
    for i, (raw, v) in enumerate(zip(series, num)):
        where = f"row {_row(i)} ({ids.iloc[i]}), column '{col}'"
        empty = pd.isna(raw) or str(raw).strip() == ""
        if empty:
            if kind in ("capacity", "count"):
                raise InputError(f"{where} is empty; it needs a number.", file=path)
            continue
        if pd.isna(v) or abs(v) == float("inf"):
            hint = " Write decimals with a point (1.5), not a comma." if "," in str(raw) else ""
            raise InputError(f"{where}: '{raw}' is not a number.{hint}", file=path)
        if kind == "capacity" and v <= 0:
            raise InputError(
                f"{where}: capacity must be above 0 万吨/yr, found {raw}. Remove the row if the unit no longer exists.",
                file=path,
            )
        if kind in ("count", "money") and v < 0:
            raise InputError(f"{where}: must not be negative, found {raw}.", file=path)
        if kind in ("count", "year") and v != int(v):
            raise InputError(f"{where}: must be a whole number, found {raw}.", file=path)
    return num


def _drop_trailing_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the rows of empty cells (',,,,') that Excel leaves at the end of a sheet saved as CSV."""
    filled = df.apply(lambda col: col.fillna("").astype(str).str.strip().ne("")).any(axis=1)
    if filled.all():
        return df
    last = int(filled.values.nonzero()[0][-1]) + 1 if filled.any() else 0
    return df.iloc[:last]


def _read_table(path: Path, spec: dict[str, tuple[str, bool, object]], what: str) -> pd.DataFrame:
    text, _enc = read_csv_text(path)
    if not text.strip("\ufeff \t\r\n"):
        raise InputError(f"is empty. The {what} needs a header row and one row per entry.", file=path)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"cannot be read as CSV ({e}).", file=path) from None
    df.columns = [str(c).strip() for c in df.columns]
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
    for col, (kind, _req, default) in spec.items():
        if col not in df.columns:
            df[col] = default
            if kind == "bool":
                df[col] = bool(default)
            continue
        if kind == "bool":
            # an empty cell takes the column's default (indicator_eligible: true)
            df[col] = _parse_bool(df[col].fillna("true" if default else "false"), col, path, ids)
        elif kind in ("capacity", "count", "money", "year"):
            df[col] = _parse_number(df[col], col, path, kind, ids)
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
            lo, hi = int(a), int(b)
            if hi < lo:
                raise ValueError(f"range {part} runs backwards")
            years.update(range(lo, hi + 1))
        else:
            years.add(int(part))
    return frozenset(years)


def read_units(path: Path) -> pd.DataFrame:
    """The unit table, checked and typed, indexed by unit_id."""
    path = Path(path)
    df = _read_table(path, UNIT_COLUMNS, "unit table")
    _check_choice(df, "sector", SECTORS, path, "unit_id")
    _check_choice(df, "kind", tuple(KIND_PRODUCT), path, "unit_id")
    _check_choice(df, "product", tuple(PRODUCT_SECTOR), path, "unit_id")
    _check_choice(df, "accident", ACCIDENTS, path, "unit_id")
    _check_choice(df, "owner", ("state", "private"), path, "unit_id")
    _check_choice(df, "source", SOURCES, path, "unit_id")
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
        except ValueError:
            raise InputError(
                f"row {_row(i)} ({df['unit_id'].iloc[i]}), column 'exit_years': '{text}' is not a list of years. "
                f"Write e.g. 2017-2020 or 2018;2019, or leave it empty for any year.",
                file=path,
            ) from None
    df["allowed_years"] = allowed
    df["workers"] = df["workers"].astype(int)
    return df.set_index("unit_id", drop=False)


def read_projects(path: Path) -> pd.DataFrame:
    path = Path(path)
    df = _read_table(path, PROJECT_COLUMNS, "projects table")
    _check_choice(df, "product", tuple(PRODUCT_SECTOR), path, "project_id")
    _check_choice(df, "status", ("candidate", "approved"), path, "project_id")
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


def _check_selection(sel: Selection | None, where: str, units: pd.DataFrame, scen_file: Path | None) -> None:
    if sel is None:
        return
    unknown_cols = sorted(sel.columns() - set(units.columns))
    if unknown_cols:
        raise InputError(
            f"{where} tests column(s) {', '.join(unknown_cols)}, which the unit table does not have. "
            f"Columns available: {', '.join(c for c in UNIT_COLUMNS)}.",
            file=scen_file,
        )
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
        values = c.value if isinstance(c.value, list) else [c.value]
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
    f = scenario_path
    for t in scen.targets:
        _check_selection(t.where, f"target '{t.name}'", units, f)
    for p in scen.packages:
        _check_selection(p.close, f"package '{p.name}' (close)", units, f)
        _check_selection(p.relocate, f"package '{p.name}' (relocate)", units, f)
    for m in scen.mandatory:
        _check_selection(m.where, f"mandatory '{m.name}'", units, f)
    for p in scen.protected:
        _check_selection(p.where, f"protected '{p.name}'", units, f)
    for w in scen.windows:
        _check_selection(w.where, f"window '{w.name}'", units, f)
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
