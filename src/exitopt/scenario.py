"""The scenario file (TOML): planning years, costs, and the rules of the plan, validated by pydantic.

Units everywhere: capacity in 万吨/yr, money in 万元, people in persons, calendar years.
Every rule family of ``model.md`` has a list here; an empty list switches the family off.
Paths are relative to the scenario file. See ``models/gansu_2016.toml`` for a worked example.
"""

from __future__ import annotations

import difflib
import tomllib
import typing
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import InputError
from .selection import Selection

Sector = Literal["coal", "steel", "cement"]
Product = Literal["coal", "pig_iron", "crude_steel", "rolled_steel", "clinker", "cement"]
Mode = Literal["close", "relocate"]
MODES: tuple[Mode, ...] = ("close", "relocate")

NonNeg = Field(ge=0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Objective(_Strict):
    jobs_weight: float = Field(
        1.0, ge=0, description="Weight on displaced workers; 万元 per worker when fiscal_weight is set."
    )
    fiscal_weight: float = Field(1.0, ge=0, description="Weight on the present value of outlay (万元).")
    discount_rate: float = Field(0.0, ge=0, lt=1, description="Annual discount rate for outlay.")


class SectorCosts(_Strict):
    resettlement_per_worker: float = Field(0.0, ge=0, description="万元 per displaced worker.")
    exit_cost_per_capacity: dict[Mode, float] = Field(
        default_factory=dict, description="万元 per 万吨/yr of capacity retired, by exit mode."
    )
    redeployed_share: dict[Mode, float] = Field(
        default_factory=dict, description="Share of workers kept (redeployed), by exit mode, 0–1."
    )
    award_per_capacity: float = Field(
        0.0, ge=0, description="Central award, 万元 per 万吨/yr counted toward the task (before the ladder)."
    )

    @model_validator(mode="after")
    def _ranges(self) -> SectorCosts:
        for mode, v in self.exit_cost_per_capacity.items():
            if v < 0:
                raise ValueError(f"exit_cost_per_capacity.{mode} must be ≥ 0")
        for mode, v in self.redeployed_share.items():
            if not 0 <= v <= 1:
                raise ValueError(f"redeployed_share.{mode} must be between 0 and 1")
        return self


class Target(_Strict):
    """Rule 1: cumulative capacity counted toward the task by a year."""

    name: str
    product: Product
    by: int = Field(description="Year by which (inclusive) the exits count.")
    at_least: float | None = Field(None, ge=0, description="万吨/yr counted, at least.")
    at_most: float | None = Field(None, ge=0, description="万吨/yr counted, at most.")
    count_at_least: int | None = Field(None, ge=0, description="Units exited, at least.")
    count_at_most: int | None = Field(None, ge=0, description="Units exited, at most.")
    where: Selection = Field(default_factory=Selection, description="Units that count (optional).")

    @model_validator(mode="after")
    def _bounds(self) -> Target:
        if all(v is None for v in (self.at_least, self.at_most, self.count_at_least, self.count_at_most)):
            raise ValueError("give at_least, at_most, count_at_least or count_at_most")
        for lo, hi in (("at_least", "at_most"), ("count_at_least", "count_at_most")):
            low, high = getattr(self, lo), getattr(self, hi)
            if low is not None and high is not None and high < low:
                raise ValueError(f"{hi} is below {lo}")
        return self


class Replacement(_Strict):
    """Rule 2: new capacity of a product needs ratio × as much retired capacity as indicators."""

    product: Product
    ratio: float = Field(gt=1, description="Indicator capacity per unit of new capacity (> 1).")


class Concentration(_Strict):
    """Rule 3: the top k firms or groups hold at least a share of remaining capacity."""

    name: str
    product: Product
    by: Literal["firm", "group"] = "group"
    top: int = Field(gt=0, description="k: how many of the largest count.")
    share: float = Field(gt=0, le=1, description="α: minimum share of remaining capacity, 0–1.")
    years: list[int] = Field(description="Years in which the rule holds.")


class Utilisation(_Strict):
    """Rule 4: remaining capacity ≤ demand / min_utilisation, and ≥ demand × (1 + reserve)."""

    name: str
    product: Product
    demand: dict[int, float] = Field(description="万吨 per year, by year; years without demand are free.")
    min_utilisation: float | None = Field(None, gt=0, le=1, description="Minimum utilisation, 0–1.")
    reserve: float | None = Field(None, ge=0, description="Supply floor: capacity ≥ demand × (1 + reserve).")

    @model_validator(mode="after")
    def _some(self) -> Utilisation:
        if self.min_utilisation is None and self.reserve is None:
            raise ValueError("give min_utilisation, reserve or both")
        for y, d in self.demand.items():
            if d < 0:
                raise ValueError(f"demand for {y} is negative")
        return self


class Package(_Strict):
    """Rule 5: units that exit together, in one year, each by its mode — or not at all."""

    name: str
    close: Selection | None = Field(None, description="Members that exit by closure.")
    relocate: Selection | None = Field(None, description="Members that exit by relocation.")
    required: bool = Field(False, description="The package must exit.")
    by: int | None = Field(None, description="Deadline year when required.")

    @model_validator(mode="after")
    def _members(self) -> Package:
        if self.close is None and self.relocate is None:
            raise ValueError("a package needs members: give close, relocate or both")
        return self


class Mandatory(_Strict):
    """Rule 6: selected units must exit by a year."""

    name: str
    by: int
    where: Selection


class Protected(_Strict):
    """Rule 7: selected units may not exit."""

    name: str
    where: Selection


class Window(_Strict):
    """Rule 8: selected units may exit only in these years (on top of the unit table's exit_years)."""

    name: str
    where: Selection
    years: list[int]


class WorkerCap(_Strict):
    """Rule 9b: displaced workers per region per year."""

    name: str
    regions: list[str] | None = Field(None, description="Regions it applies to; all when omitted.")
    per_year: float = Field(ge=0, description="Persons per region per year.")


class Caps(_Strict):
    """Rule 9: yearly fiscal budget (万元, undiscounted) and labour-market absorption."""

    budget: dict[int, float] = Field(default_factory=dict, description="万元 of outlay per year, at most.")
    workers: list[WorkerCap] = Field(default_factory=list)


class Projects(_Strict):
    """New capacity: which projects of the projects table are approved, which the model may choose."""

    approve: list[str] = Field(default_factory=list, description="Project ids approved (must be offset).")
    candidates: list[str] | Literal["table"] = Field(
        "table",
        description="Project ids the model may approve; 'table' = the table's status column.",
    )
    reject: list[str] = Field(default_factory=list, description="Project ids refused outright.")


class Solver(_Strict):
    time_limit: float = Field(120.0, gt=0, description="Seconds.")
    rel_gap: float = Field(1e-4, ge=0, description="Relative MIP gap at which a plan counts as solved.")
    threads: int = Field(1, ge=1)


class Scenario(_Strict):
    """A whole scenario: data files, years, costs and rules."""

    name: str
    description: str = ""
    units: Path = Field(description="Unit table (CSV), relative to the scenario file.")
    projects: Path | None = Field(None, description="New-capacity projects (CSV).")
    first_year: int
    last_year: int
    attrition: float = Field(0.0, ge=0, lt=1, description="Natural attrition of workforce per year.")
    ladder: dict[int, float] = Field(
        default_factory=dict, description="Award weight by exit year (1 when a year is missing)."
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
    caps: Caps = Field(default_factory=Caps)
    solver: Solver = Field(default_factory=Solver)

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year {self.first_year}")
        span = range(self.first_year, self.last_year + 1)

        def need(year: int, where: str) -> None:
            if year not in span:
                raise ValueError(
                    f"{where}: year {year} is outside the plan {self.first_year}–{self.last_year}"
                )

        for y in self.ladder:
            need(y, "ladder")
        for t in self.targets:
            need(t.by, f"target '{t.name}'")
        for c in self.concentration:
            for y in c.years:
                need(y, f"concentration '{c.name}'")
        for u in self.utilisation:
            for y in u.demand:
                need(y, f"utilisation '{u.name}' demand")
        for p in self.packages:
            if p.by is not None:
                need(p.by, f"package '{p.name}'")
        for m in self.mandatory:
            need(m.by, f"mandatory '{m.name}'")
        for w in self.windows:
            for y in w.years:
                need(y, f"window '{w.name}'")
        for y in self.caps.budget:
            need(y, "caps.budget")
        seen: set[str] = set()
        for r in self.replacement:
            if r.product in seen:
                raise ValueError(f"replacement for {r.product} is given twice")
            seen.add(r.product)
        return self

    def t(self, year: int) -> int:
        """Years since the first planning year."""
        return year - self.first_year

    def discount(self, year: int) -> float:
        return (1 + self.objective.discount_rate) ** -self.t(year)

    def ladder_at(self, year: int) -> float:
        return self.ladder.get(year, 1.0)

    def costs(self, sector: str) -> SectorCosts:
        return self.sectors.get(sector, SectorCosts())  # type: ignore[arg-type]


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
        if isinstance(p, int):
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


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models a field's type holds (through list, dict, Optional and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _did_you_mean(loc: tuple) -> str | None:
    """The allowed key nearest to the unknown key at ``loc`` (a pydantic error location), if close."""
    models: list[type[BaseModel]] = [Scenario]
    for p in loc[:-1]:
        if not isinstance(p, str) or str(p).startswith("function-"):
            continue
        nxt = [m2 for m in models if p in m.model_fields for m2 in _models_in(m.model_fields[p].annotation)]
        models = nxt or models  # a dict key (a sector, a year) keeps the models of its value
    allowed = sorted({k for m in models for k in m.model_fields})
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    return close[0] if close else None


def _format_validation(err: ValidationError, data: object = None) -> str:
    """One line per problem: where in the file (key path, block number and name) and what is wrong."""
    lines = []
    for e in err.errors():
        loc = _where(e["loc"], data)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            guess = _did_you_mean(e["loc"])
            msg = (f"unknown key; did you mean '{guess}'?" if guess else
                   "unknown key (misspelt? see models/gansu_2016.toml for the keys exitopt reads)")
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
            + _format_validation(err, data)
            + "\nFix these keys in the scenario file and run again.",
            file=file,
        ) from None


def read_toml(path: Path) -> dict:
    """Read a TOML file, turning every failure into an InputError naming the file."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found. Check the path (it is relative to where you run exitopt).", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a TOML file.", file=path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror}).", file=path) from None
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
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(
            f"is not valid TOML: {e}. Look at that line: a missing quote, bracket or '=' is the usual cause.",
            file=path,
        ) from None


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file; relative data paths are resolved against its folder."""
    path = Path(path)
    scen = parse_scenario(read_toml(path), file=path)
    base = path.resolve().parent
    update: dict = {"units": (base / scen.units).resolve()}
    if scen.projects is not None:
        update["projects"] = (base / scen.projects).resolve()
    return scen.model_copy(update=update)
