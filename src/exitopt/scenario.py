"""The scenario file (TOML): planning years, costs, and the rules of the plan, validated by pydantic.

Units everywhere: capacity in 万吨/yr, money in 万元, people in persons, calendar years.
Every rule family of ``model.md`` has a list here; an empty list switches the family off.
Paths are relative to the scenario file. See ``models/gansu_2016.toml`` for a worked example.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from .errors import InputError
from .files import read_input
from .rules.award_fund import AwardFund
from .rules.budget import Budget
from .rules.concentration import Concentration
from .rules.fleet import Fleet
from .rules.mandatory import Mandatory
from .rules.mergers import Merger
from .rules.packages import Package
from .rules.protected import Protected
from .rules.replacement import Replacement
from .rules.targets import Target
from .rules.upgrades import Upgrade
from .rules.utilisation import Utilisation
from .rules.windows import Window
from .rules.worker_caps import WorkerCap, WorkerCaps
from .rules.works import Works
from .schema import (  # noqa: F401  (the scenario's types, read from here by the other modules)
    MAX_BUDGET,
    MAX_CAPACITY,
    MAX_PERSONS,
    MAX_PLAN_YEARS,
    MAX_UNIT_COST,
    MODES,
    NAME_ZH,
    YEAR_MAX,
    YEAR_MIN,
    Mode,
    Product,
    Sector,
    Year,
    YearTable,
    _Strict,
    _year_keys,
)
from .selection import Selection  # noqa: F401
from .vocab import PRODUCT_SECTOR

__all__ = ["AwardFund", "Budget", "Caps", "Concentration", "Mandatory", "Merger", "Package", "Protected", "Replacement",
           "Scenario", "Target", "Utilisation", "Window", "WorkerCap", "WorkerCaps", "Works"]


class Objective(_Strict):
    jobs_weight: float = Field(
        1.0, ge=0, le=MAX_UNIT_COST,
        description="Weight on displaced workers; 万元 per worker when fiscal_weight is set; 0–100,000.",
    )
    fiscal_weight: float = Field(
        1.0, ge=0, le=1000, description="Weight on the present value of outlay (万元); 0–1,000."
    )
    discount_rate: float = Field(0.0, ge=0, lt=1, description="Annual discount rate for outlay, 0 ≤ r < 1.")


class SectorCosts(_Strict):
    resettlement_per_worker: float = Field(
        0.0, ge=0, le=MAX_UNIT_COST, description="万元 per displaced worker; 0–100,000."
    )
    exit_cost_per_capacity: dict[Mode, Annotated[float, Field(ge=0, le=MAX_UNIT_COST)]] = Field(
        default_factory=dict, description="万元 per 万吨/yr of capacity retired, by exit mode; 0–100,000."
    )
    redeployed_share: dict[Mode, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="Share of workers kept (redeployed), by exit mode, 0–1."
    )
    award_per_capacity: float = Field(
        0.0, ge=0, le=MAX_UNIT_COST,
        description="Central award, 万元 per 万吨/yr counted toward the task (before the ladder); 0–100,000.",
    )
    award_products: list[Product] | None = Field(
        None, description="Products whose counted capacity earns the award (the task's product: coal, "
                          "crude_steel, …); none: every product of the sector.",
    )
    award_base_share: float = Field(
        0.0, ge=0, le=1,
        description="Share of the award paid as the base part, without the ladder weight (the published rules: "
                    "0.8); the rest is the ladder part, weighted by the exit year's ladder; 0–1.",
    )
    award_nonstate_per_capacity: float | None = Field(
        None, ge=0, le=MAX_UNIT_COST,
        description="Award for a unit whose owner is not state, 万元 per 万吨/yr counted; none: "
                    "award_per_capacity; 0–100,000.",
    )
    award_nonstate_per_unit: float | None = Field(
        None, ge=0, le=MAX_BUDGET,
        description="Award for a unit whose owner is not state, 万元 per unit that exits (less its indicator "
                    "share); none: per capacity; 0–10,000,000,000.",
    )
    revenue_per_capacity: float = Field(
        0.0, ge=0, le=MAX_UNIT_COST,
        description="Fiscal contribution of a running unit that is not loss-making, 万元 per 万吨/yr per year, "
                    "lost from its exit year on (the unit table's fiscal_contribution overrides it); 0–100,000.",
    )
    stranded_per_capacity: float = Field(
        0.0, ge=0, le=MAX_UNIT_COST,
        description="Value written off when a unit exits, 万元 per 万吨/yr, before the age term (the unit "
                    "table's stranded_value overrides it); 0–100,000.",
    )
    service_life: float | None = Field(
        None, gt=0, le=200,
        description="Years over which the stranded value per capacity falls to 0 with the unit's age at exit "
                    "(from its opening_year); none: no age term; above 0, at most 200.",
    )
    relocate_stranded_share_kept: float = Field(
        0.0, ge=0, le=1, description="Share of the stranded value a relocation takes along (not written off), 0–1."
    )
    merge_cost_per_capacity: float = Field(
        0.0, ge=0, le=MAX_UNIT_COST,
        description="Outlay of merging a unit into an acquiring group, 万元 per 万吨/yr merged, in the merger "
                    "year; 0–100,000.",
    )
    merge_displaced_share: float = Field(
        0.0, ge=0, le=1, description="Share of a merged unit's workers displaced by the merger, 0–1."
    )

    @model_validator(mode="after")
    def _one_nonstate_award(self) -> SectorCosts:
        if self.award_nonstate_per_capacity is not None and self.award_nonstate_per_unit is not None:
            raise ValueError("award_nonstate_per_capacity and award_nonstate_per_unit are both given; a non-state "
                             "unit is paid one of the two: keep one")
        return self


# The [caps] section's keys are the caps families' own (exitopt.rules.budget, .award_fund and
# .worker_caps), in that order (pydantic lists the fields of the last base first).
class Caps(WorkerCaps, AwardFund, Budget):
    """Rule 12: yearly fiscal budget (万元, undiscounted) and labour-market absorption."""


class Projects(_Strict):
    """New capacity: which projects of the projects table are approved, which the model may choose."""

    approve: list[str] = Field(default_factory=list, description="Project ids approved (must be offset).")
    candidates: list[str] | Literal["table"] = Field(
        "table",
        description="Project ids the model may approve; 'table' = the table's status column.",
    )
    reject: list[str] = Field(default_factory=list, description="Project ids refused outright.")
    ban: list[Product] = Field(
        default_factory=list,
        description="Products that take no new capacity at all: every project of them is rejected; approving "
                    "one is refused.",
    )


class Solver(_Strict):
    time_limit: float = Field(120.0, gt=0, le=1e6, description="Seconds, above 0 and at most 1,000,000.")
    rel_gap: float = Field(
        1e-4, ge=0, lt=1, description="Relative MIP gap at which a plan counts as solved, 0 ≤ gap < 1."
    )
    threads: int = Field(1, ge=1, le=256, description="HiGHS threads, 1–256.")


class Scenario(_Strict):
    """A whole scenario: data files, years, costs and rules."""

    name: str
    name_zh: str | None = Field(None, description="Chinese name of the scenario in the Chinese briefing (optional).")
    description: str = ""
    units: Path = Field(description="Unit table (CSV), relative to the scenario file.")
    projects: Path | None = Field(None, description="New-capacity projects (CSV).")
    first_year: Year = Field(description=f"First planning year, {YEAR_MIN}–{YEAR_MAX}.")
    last_year: Year = Field(description=f"Last planning year; at most {MAX_PLAN_YEARS} years in all.")
    attrition: float = Field(0.0, ge=0, lt=1, description="Natural attrition of workforce per year, 0 ≤ a < 1.")
    ladder: YearTable(0, 10) = Field(  # type: ignore[valid-type]  # a validated dict[int, float]
        default_factory=dict, description="Award weight by exit year, 0–10 (1 when a year is missing)."
    )
    objective: Objective = Field(default_factory=Objective)
    sectors: dict[Sector, SectorCosts] = Field(default_factory=dict)
    new_capacity: Projects = Field(default_factory=Projects)
    targets: list[Target] = Field(default_factory=list)
    replacement: list[Replacement] = Field(default_factory=list)
    concentration: list[Concentration] = Field(default_factory=list)
    utilisation: list[Utilisation] = Field(default_factory=list)
    packages: list[Package] = Field(default_factory=list)
    mandatory: list[Mandatory] = Field(default_factory=list)
    protected: list[Protected] = Field(default_factory=list)
    windows: list[Window] = Field(default_factory=list)
    works: list[Works] = Field(default_factory=list)
    fleet: list[Fleet] = Field(default_factory=list)
    mergers: list[Merger] = Field(default_factory=list)
    upgrades: list[Upgrade] = Field(default_factory=list)
    caps: Caps = Field(default_factory=Caps)
    solver: Solver = Field(default_factory=Solver)

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year {self.first_year}")
        if self.last_year - self.first_year + 1 > MAX_PLAN_YEARS:
            raise ValueError(f"the plan {self.first_year}–{self.last_year} has "
                             f"{self.last_year - self.first_year + 1} years; at most {MAX_PLAN_YEARS} are allowed")
        span = range(self.first_year, self.last_year + 1)

        def need(year: int, where: str) -> None:
            if year not in span:
                raise ValueError(
                    f"{where}: year {year} is outside the plan {self.first_year}–{self.last_year}"
                )

        from .rules import FAMILIES

        for y in self.ladder:
            need(y, "ladder")
        for family in FAMILIES:
            if family.check_years is not None:
                family.check_years(self, need)
        for sector, c in self.sectors.items():
            foreign = [p for p in c.award_products or () if PRODUCT_SECTOR[p] != sector]
            if foreign:
                raise ValueError(f"sectors.{sector}.award_products: {', '.join(foreign)} is not a product of the "
                                 f"{sector} sector; name products of {sector} only")
        for family in FAMILIES:
            if family.check is not None:
                family.check(self)
        return self

    def t(self, year: int) -> int:
        """Years since the first planning year."""
        return year - self.first_year

    def discount(self, year: int) -> float:
        return (1 + self.objective.discount_rate) ** -self.t(year)

    def ladder_at(self, year: int) -> float:
        return self.ladder.get(year, 1.0)

    def costs(self, sector: str) -> SectorCosts:
        c = self.sectors.get(sector)  # type: ignore[call-overload]  # any name; the default made only when needed
        return c if c is not None else SectorCosts()


def _where(loc: tuple, data: object) -> str:
    """A pydantic location as the analyst reads it: ``targets #1 ("coal exit").at_least``.

    List positions are counted from 1 (the first ``[[targets]]`` block is #1) and a block's
    ``name`` is added when it has one.
    """
    parts: list[str] = []
    node = data
    for p in loc:
        if str(p).startswith("function-") or p == "[key]":
            continue
        if isinstance(p, int) and isinstance(node, dict):  # a year key: { 2018 = … }
            parts.append(str(p))
            node = node.get(str(p), node.get(p))
        elif isinstance(p, int):
            item = node[p] if isinstance(node, list) and 0 <= p < len(node) else None
            label = f"#{p + 1}"
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                label += f' ("{item["name"]}")'
            if parts:
                parts[-1] += f" {label}"
            else:
                parts.append(label)
            node = item
        else:
            parts.append(str(p))
            node = node.get(p) if isinstance(node, dict) else None
    return ".".join(parts)


def _number_text(v: object) -> str:
    """1e5 -> '100,000'; whole numbers given as int (years, counts) stay as they are: 2100."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return f"{v:,.0f}"  # 10,000,000,000, not 1e+10
    return f"{v:,.10g}" if isinstance(v, float) else str(v)


def plain_problem(e: Mapping[str, Any]) -> str:
    """pydantic's message for one problem, in the words of the README's ranges."""
    ctx = e.get("ctx") or {}
    kind = e["type"]
    if kind == "finite_number":
        return "must be a finite number (nan and inf mean nothing here)"
    for key, words in (("ge", "at least"), ("gt", "above"), ("le", "at most"), ("lt", "below")):
        if kind.startswith(("greater_than", "less_than")) and key in ctx:
            return f"must be {words} {_number_text(ctx[key])}"
    return e["msg"].removeprefix("Value error, ")


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models a field's type holds (through list, dict, Optional and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _did_you_mean(loc: tuple, root: type[BaseModel]) -> str | None:
    """The allowed key nearest to the unknown key at ``loc`` (a pydantic error location in a
    ``root`` model), if close."""
    models: list[type[BaseModel]] = [root]
    for p in loc[:-1]:
        if not isinstance(p, str) or str(p).startswith("function-"):
            continue
        nxt = [m2 for m in models if p in m.model_fields for m2 in _models_in(m.model_fields[p].annotation)]
        models = nxt or models  # a dict key (a sector, a year) keeps the models of its value
    allowed = sorted({k for m in models for k in m.model_fields})
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    return close[0] if close else None


def format_validation(err: ValidationError, data: object = None, *, root: type[BaseModel] | None = None,
                      keys_in: str = "models/gansu_2016.toml") -> str:
    """One line per problem: where in the file (key path, block number and name) and what is wrong.

    ``data``: what was validated (names the blocks, when given); ``root``: the model validated
    (a Scenario unless said), whose keys an unknown key is matched against; ``keys_in``: the file
    that shows every key, named when no key is near.
    """
    lines = []
    for e in err.errors():
        loc = _where(e["loc"], data)
        msg = plain_problem(e)
        if e["type"] == "extra_forbidden":
            guess = _did_you_mean(e["loc"], root or Scenario)
            msg = (f"unknown key; did you mean '{guess}'?" if guess else
                   f"unknown key (misspelt? see {keys_in} for the keys exitopt reads)")
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif isinstance(e.get("input"), (str, int, float, bool)):
            msg += f" (found {e['input']!r})"
        lines.append(f"  {loc or '(top level)'}: {msg}")
    return "\n".join(lines)


def parse_scenario(data: dict, *, file: Path | str | None = None) -> Scenario:
    """Validate a scenario from a dict (TOML already parsed)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(
            f"the scenario is not valid ({err.error_count()} problem(s)):\n"
            + format_validation(err, data)
            + "\nFix these keys in the scenario file and run again.",
            file=file,
        ) from None


#: the deepest nesting of arrays and inline tables a scenario may have (its own need 5)
MAX_TOML_DEPTH = 32
#: the most digits a number of a scenario may be written with
MAX_NUMBER_DIGITS = 100

_TABLE_HEADER = re.compile(r"[ \t]*\[\[?[ \t]*([^\]\n]*?)[ \t]*\]\]?")
_KEY_PART = r"(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')"
_KEY = re.compile(rf"[ \t]*({_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*)[ \t]*=")


def check_toml_shape(text: str, path: Path | str | None = None) -> None:
    """Refuse, before TOML is parsed, values nested deeper than MAX_TOML_DEPTH and numbers
    written with more than MAX_NUMBER_DIGITS digits: no scenario needs them, and the parser
    would fail on them without saying where. The message names the line and the key."""
    table = ""
    key = ""
    depth = 0
    line = 1
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        if at_line_start and depth == 0:
            head = _TABLE_HEADER.match(text, i)
            if head and text[i:head.start(1)].strip().startswith("["):
                table, key = head.group(1), ""
                i = head.end()
                at_line_start = False
                continue
            assigned = _KEY.match(text, i)
            if assigned:
                key = assigned.group(1)
        at_line_start = False
        if ch == "\n":
            line += 1
            at_line_start = True
            i += 1
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith(('"""', "'''"), i):
            quote = text[i:i + 3]
            end = i + 3
            while True:
                end = text.find(quote, end)
                if end < 0 or quote == "'''" or _unescaped(text, end):
                    break
                end += 1
            stop = n if end < 0 else end + 3
            line += text.count("\n", i, stop)
            i = stop
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] != "\n" and not (text[j] == ch and (ch == "'" or _unescaped(text, j))):
                j += 1
            i = j + 1
        elif ch in "[{":
            depth += 1
            if depth > MAX_TOML_DEPTH:
                raise InputError(f"line {line}, key {_key_shown(table, key)}: arrays or tables are nested more than "
                                 f"{MAX_TOML_DEPTH} deep; no scenario needs that. Look at that line for brackets "
                                 f"left open.", file=path)
            i += 1
        elif ch in "]}":
            depth = max(depth - 1, 0)
            i += 1
        elif ch.isdigit():
            j = i
            while j < n and (text[j].isdigit() or text[j] == "_"):
                j += 1
            digits = j - i - text.count("_", i, j)
            if digits > MAX_NUMBER_DIGITS:
                raise InputError(f"line {line}, key {_key_shown(table, key)}: a number of {digits:,} digits; a "
                                 f"figure of a scenario has at most {MAX_NUMBER_DIGITS}. Write it as a decimal "
                                 f"number with an exponent (1.5e9) or check it for a typing error.", file=path)
            i = j
        else:
            i += 1


def _unescaped(text: str, at: int) -> bool:
    """True when the quote at ``at`` is not escaped by an odd number of backslashes before it."""
    back = 0
    while at - back - 1 >= 0 and text[at - back - 1] == "\\":
        back += 1
    return back % 2 == 0


def _key_shown(table: str, key: str) -> str:
    full = ".".join(p for p in (table.strip(), key.strip()) if p)
    return f"'{full[:80]}'" if full else "(top level)"


def read_toml(path: Path) -> dict:
    """Read a TOML file, turning every failure into an InputError naming the file."""
    path = Path(path)
    raw = read_input(path, "TOML file", "Check the path (it is relative to where you run exitopt).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(
                "is not UTF-8 text. Save it again as UTF-8 (in Notepad: Save As → Encoding: UTF-8).",
                file=path,
            ) from None
    check_toml_shape(text, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(
            f"is not valid TOML: {e}. Look at that line: a missing quote, bracket or '=' is the usual cause.",
            file=path,
        ) from None
    except (RecursionError, ValueError) as e:  # beyond what check_toml_shape bounds: still the file's
        raise InputError(f"cannot be read as TOML ({type(e).__name__}). Look for brackets nested very deep "
                         f"or a very long number.", file=path) from None


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file; relative data paths are resolved against its folder."""
    path = Path(path)
    scen = parse_scenario(read_toml(path), file=path)
    base = path.resolve().parent
    update: dict = {"units": _resolved(base / scen.units)}
    if scen.projects is not None:
        update["projects"] = _resolved(base / scen.projects)
    return scen.model_copy(update=update)


def _resolved(path: Path) -> Path:
    """The absolute path; as written when it cannot be resolved (a NUL, too long): the reader says why."""
    try:
        return path.resolve()
    except (OSError, ValueError):
        return path
