"""What the page shows, as JSON-ready dicts, read from run folders (:func:`exitopt.report.read_run`).

A plan: its headline figures (with the parts of the fiscal cost), exits by sector, product and
region per year, every unit's row, the rules that bind — those with something to do, apart from
the exits the rules require and the rules with nothing to do — and, for a folder of ``exitopt
robust``, the regret by case. A comparison of two plans:
:func:`exitopt.report.compare_runs` as lists. Every rule, unit and region carries its Chinese
name beside the run folder's (``name_zh``, ``region_zh``), as the Chinese briefing names them
(:class:`exitopt.report.chinese.Names`), and the numbers a person may change their Chinese label.
The words of both languages come from :mod:`exitopt.report.labels`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ..report import labels
from ..report.chinese import Names, names_of, rule_name_zh
from ..report.compare import compare_runs
from ..report.run import Run
from ..rules import rule_of_row

#: schedule columns the units table of the page shows
UNIT_COLUMNS = ["unit_id", "name", "name_zh", "sector", "product", "region", "capacity", "exit_year", "mode",
                "workers_displaced", "outlay", "reason"]
BINDING_COLUMNS = ["rule", "name", "year", "product", "sense", "required", "achieved", "marginal_cost", "unit"]


def plain(v: Any) -> Any:
    """A cell as JSON takes it: NaN and NA become None, numpy numbers Python numbers."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def records(df: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    cols = [c for c in (columns or list(df.columns)) if c in df.columns]
    return [{c: plain(v) for c, v in zip(cols, row, strict=False)} for row in df[cols].itertuples(index=False, name=None)]


def _exits_by(run: Run, key: str) -> list[dict]:
    """Per ``key`` (sector, product or region) and exit year: units, capacity, workers displaced."""
    ex = run.exiting
    if ex.empty:
        return []
    g = ex.groupby([key, "exit_year"]).agg(units=("unit_id", "size"), capacity=("capacity", "sum"),
                                           workers=("workers_displaced", "sum")).reset_index()
    g = g.rename(columns={key: "key", "exit_year": "year"})
    return records(g)


#: a fixed-plan marginal cost below this is no price: whole units meet the rule (README, constraints.csv)
PRICED = 1e-9


def _family(rule: str, name: str) -> str:
    """The rule a row belongs to (the rows of some families are named "<rule>: <unit or region>")."""
    return rule_of_row(rule, name)


def binding_groups(c: pd.DataFrame) -> dict[str, list[dict]]:
    """The binding rows of constraints.csv in three groups: ``binding`` (rows with something to do,
    each with ``priced``: whether its fixed-plan marginal cost is a price, not 0 or missing),
    ``required`` (mandatory exits and required packages, one entry per rule with its units) and
    ``idle`` (nothing required, nothing achieved, one entry per rule with its years)."""
    from ..binding import required_exit, trivial

    out: dict[str, list[dict]] = {"binding": [], "required": [], "idle": []}
    if c.empty:
        return out
    rows = c[c["binding"].map(lambda v: v is True)]
    grouped: dict[tuple[str, str, str], dict] = {}
    for row in records(rows, BINDING_COLUMNS):
        rule, name = str(row["rule"]), str(row["name"])
        if required_exit(row["unit"]):
            key = ("required", rule, _family(rule, name))
        elif trivial(row["required"], row["achieved"]):
            key = ("idle", rule, name)
        else:
            m = row["marginal_cost"]
            out["binding"].append({**row, "priced": m is not None and abs(m) > PRICED})
            continue
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = {"rule": rule, "name": key[2], "product": row["product"], "years": [], "count": 0}
            out[key[0]].append(entry)
        entry["count"] += 1
        if row["year"] is not None and row["year"] not in entry["years"]:
            entry["years"].append(row["year"])
    return out


def _part(run: Run, key: str) -> float:
    """A part of the fiscal cost over the plan (present value): the schedule's column summed; 0 when
    the run has no such column (a scenario that sets neither term writes 0 there)."""
    return float(run.schedule[key].sum()) if key in run.schedule else 0.0


def _name_rules(names: Names, groups: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Each binding row, required exit and idle rule with the Chinese name of its rule."""
    for row in groups["binding"]:
        row["name_zh"] = names.rule(row["rule"], row["name"], "zh", product=row["product"], required=row["required"],
                                    sense=row["sense"], unit=row["unit"])
    for entry in groups["required"] + groups["idle"]:
        entry["name_zh"] = names.rule(entry["rule"], entry["name"], "zh", product=entry["product"])
    return groups


def _units(run: Run, columns: list[str]) -> list[dict]:
    """Schedule rows with the Chinese name of each unit's region (``region_zh``)."""
    names = run.names
    rows = records(run.schedule, columns)
    for row in rows:
        row["region_zh"] = names.region(row.get("region"), "zh")
    return rows


def plan_view(run: Run) -> dict:
    """Everything the page shows of one plan."""
    r = run.record
    ex = run.exiting
    groups = _name_rules(run.names, binding_groups(run.constraints))
    return {
        "figures": {
            "status": r.get("status"), "objective": plain(r.get("objective")), "gap": plain(r.get("gap")),
            "jobs": plain(r.get("jobs")), "fiscal": plain(r.get("fiscal")),
            "revenue_foregone": _part(run, "revenue_foregone"), "stranded_value": _part(run, "stranded_value"),
            "units_exiting": int(len(ex)),
            "capacity_exiting": float(ex["capacity"].sum()) if not ex.empty else 0.0,
            "projects_built": r.get("projects_built") or [],
        },
        "years": sorted({int(y) for y in run.summary["year"].dropna()}),
        "exits": {k: _exits_by(run, k) for k in ("sector", "product", "region")},
        "units": _units(run, UNIT_COLUMNS),
        **groups,
        "regret": regret_view(run),
    }


def regret_view(run: Run) -> dict | None:
    """A robust run's regret by case (what the page's regret chart draws); None for a plain run."""
    if run.regret is None:
        return None
    r = run.record
    return {"objective": r.get("robust_objective"), "value": plain(r.get("value")),
            "worst_regret": plain(r.get("worst_regret")), "worst_cost": plain(r.get("worst_cost")),
            "cases": records(run.regret, ["case", "weight", "cost", "own_optimum", "regret"])}


def compare_view(a: Run, b: Run) -> dict:
    """What changed from plan ``a`` to plan ``b``: figures, units, binding rules."""
    comp = compare_runs(a, b)
    zh = {**dict(zip(a.schedule["unit_id"], a.schedule.get("name_zh", a.schedule["unit_id"]), strict=False)),
          **dict(zip(b.schedule["unit_id"], b.schedule.get("name_zh", b.schedule["unit_id"]), strict=False))}
    units = records(comp.units)
    for u in units:
        own = zh.get(u["unit_id"])
        u["name_zh"] = own if isinstance(own, str) and own.strip() else u["name"]
        u["region_zh"] = b.names.region(u.get("region"), "zh") or a.names.region(u.get("region"), "zh")
    rules = records(comp.rules)
    for row in rules:
        named = (b if row.get("binding_b") else a).names
        row["name_zh"] = named.rule(row["rule"], row["name"], "zh", product=row.get("product") or None)
    return {"figures": records(comp.figures), "units": units, "rules": rules, "same": comp.same}


#: a number's group and the rest of its path: sectors.coal.resettlement_per_worker · objective.jobs_weight
_PATH = re.compile(r"^(?P<group>[a-z_]+)(?:\.(?P<rest>.*))?$")


def _key_words(rest: str, unit: str = "") -> str:
    """``at_least`` → 不少于(万吨/年); ``demand.2020`` → 需求(万吨) 2020年; ``resettlement_per_worker.relocate``
    → … 转移. With ``unit`` (a number whose unit is not its key's: a fleet limit) the words carry
    that unit: ``at_most`` in kgce/t → 不多于(kgce/t)."""
    key, _, sub = rest.partition(".")
    words = labels.key(key, "zh")
    if unit:
        shown = {"share": "比例"}.get(unit, unit)
        words = f"{re.sub(r'[(（][^()（）]*[)）]$', '', words)}({shown})"
    if sub.isdigit():
        return f"{words} {sub}年"
    return f"{words} {labels.mode(sub, 'zh')}" if sub else words


def number_label_zh(scenario: Any, path: str, regions: dict[str, str] | None = None) -> str:
    """The Chinese label of a number the page offers (a sweep path), as the Chinese briefing names
    its rule: 压减煤炭产能 · 不少于(万吨/年). A path the words do not reach keeps its English form."""
    from ..rules import FAMILIES

    for family in FAMILIES:  # a rule's number: the rule's Chinese name and the number's words
        for e in family.editable(scenario):
            if e.path != path:
                continue
            rest = path.split("].", 1)[1] if "]." in path else path.split(".", 1)[1]
            if e.model is scenario.caps:  # a number of the [caps] section itself (a year's budget)
                return _key_words(rest, e.unit)
            rules = family.rules_of(scenario) if family.list_field else []  # a cap is named by its facts
            nth = next((i for i, r in enumerate(rules, start=1) if r is e.model), 1)
            return f"{rule_name_zh(family.key, e.model, regions, nth)} · {_key_words(rest, e.unit)}"
    m = _PATH.match(path)
    if m is None:
        return path
    group, rest = m["group"], m["rest"] or ""
    if group == "caps":
        return _key_words(rest)
    if group == "sectors":
        sector, _, key = rest.partition(".")
        return f"{labels.sector(sector, 'zh')} · {_key_words(key)}"
    if group == "objective":
        return _key_words(rest)
    return _key_words(path)  # attrition, ladder.2016


def setup_words_zh(inst: Any, numbers: list) -> dict:
    """What the page's setup adds for its Chinese view: the rules' Chinese names (by the name the
    pin menus give) and the label of every number it offers."""
    names = names_of(inst)
    return {"rules_zh": names["rules"], "scenario_zh": names.get("scenario"),
            "labels_zh": {n.path: number_label_zh(inst.scenario, n.path, names["regions"]) for n in numbers}}


def words() -> dict:
    """The words of the page the briefing pack already has, in both languages."""
    out: dict[str, dict] = {}
    for lang in labels.LANGS:
        out[lang] = {
            "columns": {k: labels.header(k, lang) for k in labels.COLUMNS},
            "products": {k: labels.product(k, lang) for k in labels.PRODUCTS},
            "sectors": {k: labels.sector(k, lang) for k in labels.SECTORS},
            "rules": {k: labels.rule(k, lang) for k in labels.RULES},
            "senses": {k: labels.sense(k, lang) for k in labels.SENSES},
            "measures": {k: labels.measure(k, lang) for k in labels.MEASURES},
            "status": {k: labels.status(k, lang) for k in labels.STATUS},
            "text": {k: labels.text(k, lang) for k in labels.TEXT},
        }
    return out


# ---- the jobs–fiscal frontier of a plan's changes ----------------------------------------------

#: points a frontier may have in the meeting room (each between its ends is one MIP of the whole model)
FRONTIER_POINTS = (3, 9)
#: frontier.csv's columns the page draws and lists
FRONTIER_COLUMNS = ["point", "jobs", "fiscal", "objective", "status", "gap", "units_exiting", "label", "knee"]


def parse_points(raw: Any) -> int | None:
    """The number of points asked for (None: a plain solve); InputError when it is not one the room computes."""
    from ..errors import InputError

    if raw is None:
        return None
    low, high = FRONTIER_POINTS
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise InputError(f"frontier: give a whole number of points from {low} to {high} (got {str(raw)[:40]}).")
    return raw


def frontier_view(info: dict, computed: dict) -> dict:
    """A frontier as the page draws it: the plan whose changes it was computed for, the changes,
    and its points (fewest workers first) as ``exitopt pareto`` writes them to frontier.csv;
    ``stopped`` when the time limit left a point out or unproven (status limit)."""
    points = [{c: plain(p.get(c)) for c in FRONTIER_COLUMNS} for p in computed.get("points") or []]
    return {"plan": info.get("parent"), "pins": info.get("pins") or [], "values": info.get("values") or {},
            "points": points, "stopped": bool(computed.get("stopped"))}
