"""Read an exit plan and a plan's project approvals, checked cell by cell.

A plan says, for each unit, the year it exits (or that it stays), the mode, and optionally how
much of its capacity is used as a replacement indicator. It may come from ``exitopt solve``
(its ``schedule.csv`` is a valid plan) or be typed by hand in Excel. A wrong cell raises
``InputError`` naming the file, the row as Excel numbers it (the header is row 1), the column
and what to write instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..cells import numbers, texts, yes_no
from ..columns import PLAN
from ..errors import InputError
from ..inputs import Instance
from ..scenario import MODES
from ..tables import read_text_table

#: relative tolerance of every comparison the checker makes: ``REL_TOL × max(1, |required|)``
REL_TOL = 1e-6

#: the columns of a plan that the checker reads (any other column is ignored); a merger
#: (docs/model.md#mergers) is mode ``merge`` with its ``merge_year`` and ``acquirer``
_PLAN_COLUMNS = (*(c.name for c in PLAN), "merge_year", "acquirer", "upgrade", "upgrade_year")
MERGE = "merge"
#: words accepted in the ``mode`` column for a unit that stays (with an empty ``exit_year``)
_STAY_WORDS = ("", "stay", "stays")


@dataclass
class Plan:
    """An exit plan for every unit of an instance.

    ``units`` is indexed by unit_id (every unit of the unit table, in its order) with columns
    ``exit_year`` (nullable Int64; missing = the unit stays), ``mode`` ('close' or 'relocate';
    '' for a unit that stays) and ``indicator`` (万吨; NaN = not given, the checker decides).
    """

    units: pd.DataFrame
    file: Path | None = None
    #: how many rows of the plan name a unit (0: only a header, or an empty sheet)
    listed: int | None = None


def read_plan(path: Path | str, inst: Instance) -> Plan:
    """Read a plan CSV (UTF-8 with or without BOM, or GB18030/GBK as Chinese Excel saves it).

    Columns: ``unit_id`` and ``exit_year`` (required; an empty year means the unit stays),
    ``mode`` (close or relocate; empty means close when a year is given) and ``indicator``
    (万吨 of the unit's capacity used as a replacement indicator; optional). Other columns are
    ignored, so the ``schedule.csv`` written by ``exitopt solve`` is a valid plan. Units of the
    unit table that the plan does not list stay. Wrong cells raise ``InputError`` naming the
    file, the row as Excel numbers it (the header is row 1) and the column.
    """
    path = Path(path)
    df = read_text_table(path, "unit_id and exit_year (mode and indicator optional)")
    return plan_from_frame(df, inst, file=path)


def plan_from_frame(df: pd.DataFrame, inst: Instance, *, file: Path | str | None = None) -> Plan:
    """Build and validate a plan from a table shaped like the plan CSV (row i is Excel row i + 2)."""
    file = Path(file) if file is not None else None
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c.name for c in PLAN if c.required and c.name not in df.columns]
    if missing:
        raise InputError(
            f"the plan lacks column(s) {', '.join(missing)}. Its first row must name the columns: "
            f"unit_id, exit_year (empty for a unit that stays), and optionally mode and indicator.",
            file=file,
        )
    cells = pd.DataFrame({c: texts(df[c]) for c in df.columns if c in _PLAN_COLUMNS})
    cells["row"] = np.arange(len(cells)) + 2
    cells = cells[cells.drop(columns="row").ne("").any(axis=1)]  # blank lines Excel leaves behind

    ids = cells["unit_id"]
    _reject(cells, ids.eq(""), "unit_id", "is empty; give the unit's id or delete the row.", file,
            with_unit=False)
    units = inst.units
    _reject(cells, ~ids.isin(units.index), "unit_id",
            "unit '{unit_id}' is not in the unit table. Check the spelling against the unit table's unit_id column.",
            file, with_unit=False)
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        rows = cells.loc[ids.eq(first), "row"].astype(str)
        raise InputError(
            f"unit '{first}' appears more than once (rows {', '.join(rows)}, column 'unit_id'). "
            f"A unit exits at most once: keep one row for it.",
            file=file,
        )

    scen = inst.scenario
    year_text = cells["exit_year"]
    year_num = numbers(year_text)
    given = year_text.ne("")
    _reject(cells, given & (year_num.isna() | (year_num != year_num.round())), "exit_year",
            "'{exit_year}' is not a year. Write the exit year as a number such as 2017, "
            "or leave the cell empty for a unit that stays.", file)
    _reject(cells, given & ~year_num.isin(scen.years), "exit_year",
            f"'{{exit_year}}' is outside the plan {scen.first_year}–{scen.last_year}. "
            f"A unit that stays beyond the plan has an empty exit_year.", file)

    mode = cells["mode"].str.lower() if "mode" in cells else pd.Series("", index=cells.index)
    merge = _mergers(cells, mode, given, scen, file)
    mode = mode.where(~merge, "")
    _reject(cells, ~mode.isin([*MODES, *_STAY_WORDS]), "mode",
            f"'{{mode}}' is not an exit mode. Write one of {', '.join(MODES)} (empty means close), "
            f"or {MERGE} for a merger.", file)
    _reject(cells, ~given & mode.isin(MODES), "mode",
            "says '{mode}' but exit_year is empty. Give the exit year, or clear the mode for a unit that stays.", file)
    _reject(cells, given & mode.isin(_STAY_WORDS[1:]), "mode",
            "says '{mode}' but exit_year gives a year. Clear one of the two.", file)
    mode = mode.where(mode.isin(MODES), "close").where(given, "")

    if "indicator" in cells:
        ind_text = cells["indicator"]
        ind = numbers(ind_text)
        has = ind_text.ne("")
        _reject(cells, has & ind.isna(), "indicator",
                "'{indicator}' is not a number (万吨); write decimals with a point (1.5). "
                "Leave it empty to let the checker decide.", file)
        _reject(cells, has & (ind < 0), "indicator",
                "'{indicator}' is negative; an indicator is 0 or more 万吨.", file)
        cap = ids.map(units["capacity"])
        _reject(cells, has & (ind > cap * (1 + REL_TOL)), "indicator",
                "{indicator} 万吨 is more than the unit's capacity of {capacity:g} 万吨.", file,
                extra={"capacity": cap})
    else:
        ind = pd.Series(np.nan, index=cells.index)

    out = pd.DataFrame(index=units.index)
    out.index.name = "unit_id"
    out["exit_year"] = pd.Series(year_num.where(given).values, index=ids.values).reindex(units.index).astype("Int64")
    out["mode"] = pd.Series(mode.values, index=ids.values).reindex(units.index).fillna("")
    out["indicator"] = pd.Series(ind.values, index=ids.values, dtype=float).reindex(units.index)
    out["mode"] = out["mode"].where(~pd.Series(merge.values, index=ids.values).reindex(units.index, fill_value=False),
                                    MERGE)
    merge_year = numbers(cells["merge_year"]) if "merge_year" in cells else pd.Series(np.nan, index=cells.index)
    out["merge_year"] = pd.Series(merge_year.where(merge).values, index=ids.values).reindex(units.index).astype("Int64")
    acquirer = cells["acquirer"] if "acquirer" in cells else pd.Series("", index=cells.index)
    out["acquirer"] = pd.Series(acquirer.where(merge, "").values, index=ids.values).reindex(units.index).fillna("")
    name, when = _upgrades(cells, scen, file)
    out["upgrade"] = pd.Series(name.values, index=ids.values).reindex(units.index).fillna("")
    out["upgrade_year"] = pd.Series(when.values, index=ids.values).reindex(units.index).astype("Int64")
    return Plan(out, file, listed=len(cells))


def _upgrades(cells: pd.DataFrame, scen, file: Path | None) -> tuple[pd.Series, pd.Series]:
    """The upgrade (docs/model.md#upgrades) of each row, its cells checked: the name of an
    ``[[upgrades]]`` rule and a year of the plan, both or neither. Whether the rule offers the
    unit that year is a rule the checker reports."""
    name = cells["upgrade"] if "upgrade" in cells else pd.Series("", index=cells.index)
    text = cells["upgrade_year"] if "upgrade_year" in cells else pd.Series("", index=cells.index)
    has = name.ne("")
    if has.any() and "upgrade_year" not in cells:
        first = int(cells.loc[has, "row"].iloc[0])
        raise InputError(f"row {first} names an upgrade, but the plan lacks an upgrade_year column. Add it: the "
                         f"year of each unit's upgrade.", file=file)
    known = [u.name for u in scen.upgrades]
    _reject(cells, has & ~name.isin(known), "upgrade",
            "'{upgrade}' is not an upgrade of the scenario" + (f" ({', '.join(known)})" if known else " (it has none)")
            + ". Write the name of an [[upgrades]] rule, or leave the cell empty.", file)
    year = numbers(text)
    _reject(cells, has & (year.isna() | (year != year.round()) | ~year.isin(scen.years)), "upgrade_year",
            f"'{{upgrade_year}}' is not a year of the plan {scen.first_year}–{scen.last_year}. Write the upgrade "
            f"year as a number such as 2017.", file)
    _reject(cells, ~has & text.ne(""), "upgrade_year",
            "gives a year but the upgrade cell is empty. Name the upgrade, or clear the year.", file)
    return name.where(has, ""), year.where(has)


def _mergers(cells: pd.DataFrame, mode: pd.Series, given: pd.Series, scen, file: Path | None) -> pd.Series:
    """Which rows are mergers (mode ``merge``), their cells checked: no exit year, a merger year
    of the plan, an acquiring group."""
    merge = mode.eq(MERGE)
    if not merge.any():
        return merge
    _reject(cells, merge & given, "exit_year",
            "gives a year but the mode is merge: a merged unit does not exit. Clear exit_year and give the "
            "merger year in merge_year.", file)
    if "merge_year" not in cells or "acquirer" not in cells:
        first = int(cells.loc[merge, "row"].iloc[0])
        raise InputError(f"row {first} says mode merge, but the plan lacks a merge_year or acquirer column. "
                         f"Add both columns: the year of the merger and the acquiring group.", file=file)
    year = numbers(cells["merge_year"])
    _reject(cells, merge & (year.isna() | (year != year.round()) | ~year.isin(scen.years)), "merge_year",
            f"'{{merge_year}}' is not a year of the plan {scen.first_year}–{scen.last_year}. Write the merger "
            f"year as a number such as 2017.", file)
    _reject(cells, merge & cells["acquirer"].eq(""), "acquirer",
            "is empty but the mode is merge; name the acquiring group.", file)
    return merge


def _reject(cells: pd.DataFrame, bad: pd.Series, column: str, message: str, file: Path | None, *,
            with_unit: bool = True, extra: dict[str, pd.Series] | None = None) -> None:
    """Raise InputError for the first row where ``bad`` holds; ``message`` may use {column} fields."""
    bad = bad.fillna(False).astype(bool)
    if not bad.any():
        return
    i = bad.idxmax()
    fields = {c: cells.at[i, c] for c in cells.columns}
    fields.update({k: v.at[i] for k, v in (extra or {}).items()})
    where = f"row {cells.at[i, 'row']}"
    if with_unit:
        where += f" (unit {cells.at[i, 'unit_id']})"
    more = int(bad.sum()) - 1
    tail = f" {more} more row(s) have the same problem." if more else ""
    raise InputError(f"{where}, column '{column}': {message.format(**fields)}{tail}", file=file)


def read_project_approvals(path: Path | str, inst: Instance) -> set[str]:
    """Read which new-capacity projects the plan approves; return the set of approved ids.

    Columns ``project_id`` and ``approved`` (true/false, 1/0, yes/no, 是/否), or ``built`` instead
    of ``approved`` as in a run's ``new_capacity.csv``; other columns are ignored. A project the
    file does not list keeps the scenario's status (approved projects stay approved, candidates
    are not approved). Whether the approvals are allowed at all (approving a
    rejected project, dropping an approved one) is a rule that :func:`~exitopt.check.check_plan` reports.
    """
    path = Path(path)
    df = read_text_table(path, "project_id and approved")
    df.columns = [str(c).strip() for c in df.columns]
    flag = next((c for c in ("approved", "built") if c in df.columns), None)
    if "project_id" not in df.columns or flag is None:
        raise InputError("the project approvals need columns project_id and approved (a run's new_capacity.csv, "
                         "with its built column, also works). The first row must name the columns.", file=path)
    cells = pd.DataFrame({"project_id": texts(df["project_id"]), flag: texts(df[flag])})
    cells["row"] = np.arange(len(cells)) + 2
    cells = cells[cells[["project_id", flag]].ne("").any(axis=1)]
    ids = cells["project_id"]

    def reject(bad: pd.Series, column: str, message: str) -> None:
        if bad.any():
            i = bad.idxmax()
            raise InputError(f"row {cells.at[i, 'row']}, column '{column}': "
                             + message.format(**cells.loc[i].to_dict()), file=path)

    reject(ids.eq(""), "project_id", "is empty; give the project's id or delete the row.")
    reject(~ids.isin(inst.projects.index), "project_id",
           "project '{project_id}' is not in the projects table of the scenario.")
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        rows = ", ".join(cells.loc[ids.eq(first), "row"].astype(str))
        raise InputError(f"project '{first}' appears more than once (rows {rows}, column 'project_id').", file=path)
    flags = cells[flag].map(yes_no)
    reject(flags.isna(), flag, f"'{{{flag}}}' is not true/false. Write true or false (1/0 also work).")

    approved = set(inst.projects.index[inst.projects["approval"] == "approved"])
    listed = dict(zip(ids, flags.astype(bool), strict=False))
    return {p for p in approved if p not in listed} | {p for p, yes in listed.items() if yes}

