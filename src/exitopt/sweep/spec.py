"""The sweep file (TOML): a base scenario, axes of values, named variants, and the cases they make.

A sweep file reads::

    name = "coal_target_ratio"            # optional; the file name otherwise
    base = "../gansu_2016.toml"           # relative to the sweep file
    combine = "product"                   # or "zip": the value axes move together
    samples = 40                          # with sampled axes: Latin hypercube points
    seed = 1
    time_limit = 120                      # optional: seconds per case

    [[axes]]
    path = 'targets[name="coal exit 1,000"].at_least'
    range = { start = 800, stop = 1400, step = 200 }     # or values = [...], or sample = {low, high}

    [[variants]]
    name = "Hetaoyu approved"
    set = { "new_capacity.approve" = ["NEW-M0238"] }

    [robust]                              # read by `exitopt robust` only
    objective = "regret"                  # expected (default) | worst | regret
    weights = { c0001 = 2, c0002 = 1 }    # case weights of the expected cost (1 when not given)

A *path* names one value of the scenario: dotted keys (``objective.fiscal_weight``,
``caps.budget.2018``), list items by position (``concentration[0]``) or by a field
(``utilisation[name="coal supply"]``). Cases are the axes' combinations, crossed with the
variants; a variant ``baseline`` without overrides is always there. Applying a case copies the
base scenario's data and validates the copy: shared data is never edited in place.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ..errors import InputError
from ..files import sha256
from ..scenario import Scenario, _Strict, format_validation, read_toml

BASELINE = "baseline"
#: columns of cases.csv that an axis label may not take
RESERVED = frozenset({"case", "variant", "status", "objective", "jobs", "fiscal", "gap", "bound", "seconds",
                      "diagnosis", "projects_built"})


#: most cases one sweep file may make (each is a whole solve): more is a typing error in a range
MAX_CASES = 100_000


class Range(_Strict):
    """Evenly spaced values from ``start`` to ``stop`` (inclusive when a step lands on it)."""

    start: float
    stop: float
    step: float = Field(gt=0, description="Spacing, in the unit of the value swept.")

    @model_validator(mode="after")
    def _not_too_many(self) -> Range:
        if self.count() > MAX_CASES:
            raise ValueError(f"from {self.start:g} to {self.stop:g} by {self.step:g} makes {self.count():,.0f} "
                             f"values; at most {MAX_CASES:,} cases are allowed: take a larger step")
        return self

    def count(self) -> float:
        """How many values (a float, so that an absurd range cannot overflow)."""
        return math.floor(abs(self.stop - self.start) / self.step + 1e-9) + 1.0

    def values(self) -> list[float]:
        n = int(self.count())
        sign = 1 if self.stop >= self.start else -1
        return [_tidy(self.start + sign * i * self.step) for i in range(n)]


class Sample(_Strict):
    """A range a Latin hypercube samples uniformly."""

    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Sample:
        if self.high < self.low:
            raise ValueError("high is below low")
        return self


class Axis(_Strict):
    """One value of the scenario that the sweep moves."""

    path: str = Field(description="Dotted path to a numeric scenario value.")
    label: str | None = Field(None, description="Column name in cases.csv (default: the path).")
    values: list[float] | None = Field(None, description="The values, as listed.")
    range: Range | None = None
    sample: Sample | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Axis:
        given = [k for k in ("values", "range", "sample") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of values, range or sample")
        if self.values is not None and not self.values:
            raise ValueError("values is empty")
        return self

    @property
    def name(self) -> str:
        return self.label or self.path

    @property
    def sampled(self) -> bool:
        return self.sample is not None

    def listed(self) -> list[float]:
        """The values of a listed or ranged axis."""
        if self.values is not None:
            return [_tidy(v) for v in self.values]
        assert self.range is not None  # the axis's validator: values, range or sample
        return self.range.values()


class Variant(_Strict):
    """A named set of overrides, crossed with the axes."""

    name: str
    set: dict[str, Any] = Field(default_factory=dict, description="path -> value to set.")


class Robust(_Strict):
    """How ``exitopt robust`` chooses the one plan shared by every case (docs/model.md#robust)."""

    objective: Literal["expected", "worst", "regret"] = Field(
        "expected", description="expected (weighted mean cost), worst (highest cost) or regret (highest cost "
                                "above the case's own optimum).")
    weights: dict[str, float] = Field(
        default_factory=dict, description="Case id -> weight of the expected cost, 0 or more (1 when not given).")

    @field_validator("weights")
    @classmethod
    def _weights(cls, w: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in w.items() if not (v >= 0 and math.isfinite(v))]
        if bad:
            raise ValueError(f"the weight of {bad[0]} must be a number, 0 or more")
        return w


class SweepFile(_Strict):
    """The whole sweep file."""

    name: str | None = Field(None, description="Sweep name (default: the file name without .toml).")
    description: str = ""
    base: Path = Field(description="Base scenario, relative to the sweep file.")
    combine: Literal["product", "zip"] = "product"
    samples: int | None = Field(None, gt=0, le=MAX_CASES, description="Latin hypercube points over the sampled axes.")
    seed: int = Field(0, ge=0, description="Seed of the Latin hypercube.")
    time_limit: float | None = Field(None, gt=0, description="Seconds per case (default: the scenario's).")
    axes: list[Axis] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    robust: Robust = Field(default_factory=Robust)

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str | None) -> str | None:
        """The name is the default output folder (./<name>/): a plain folder name, nothing that leads
        elsewhere (``..``, ``/``, a drive) or that Windows cannot hold."""
        if name is None:
            return name
        bad = sorted(set(name) & set('/\\:*?"<>|'))
        if not name.strip() or name.strip() in (".", "..") or bad or any(ord(ch) < 32 for ch in name) \
                or name != name.strip() or name.endswith(".") or len(name) > 100:
            what = f"it holds {' '.join(repr(c) for c in bad)}" if bad else "it is not a plain folder name"
            raise ValueError(f"name {name!r} is also the output folder's name, and {what}. Use letters, digits, "
                             f"spaces, - and _ (at most 100 characters), e.g. name = \"coal_target_ratio\"")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> SweepFile:
        sampled = [a for a in self.axes if a.sampled]
        if sampled and self.samples is None:
            raise ValueError("axes with 'sample' need 'samples = N' at the top level")
        if self.samples is not None and not sampled:
            raise ValueError("'samples' is given but no axis has 'sample'")
        names = [a.name for a in self.axes]
        taken = [n for n in names if n in RESERVED or n.startswith("exits_")]
        if taken:
            raise ValueError(f"axis label {taken[0]!r} is a column of cases.csv already; give the axis another label")
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"axis {sorted(dup)[0]!r} is given twice")
        vnames = [v.name for v in self.variants]
        vdup = {n for n in vnames if vnames.count(n) > 1}
        if vdup:
            raise ValueError(f"variant {sorted(vdup)[0]!r} is given twice")
        if BASELINE in vnames:
            raise ValueError(f"variant name {BASELINE!r} is taken by the base scenario itself; choose another")
        n = float(len(self.variants) + 1) * (self.samples or 1)
        for a in self.axes:
            if not a.sampled:
                n *= a.range.count() if a.range is not None else len(a.values or [])
        if self.combine == "product" and n > MAX_CASES:
            raise ValueError(f"the axes and variants make {n:,.0f} cases; at most {MAX_CASES:,} are allowed")
        if self.combine == "zip":
            lengths = {len(a.listed()) for a in self.axes if not a.sampled}
            if self.samples is not None:
                lengths.add(self.samples)
            if len(lengths) > 1:
                raise ValueError(f"combine = 'zip' needs axes of one length; found lengths {sorted(lengths)}")
        return self


def _tidy(v: float) -> float:
    """Round away float noise (12 significant digits): 0.1 + 0.2 reads 0.3."""
    return float(f"{float(v):.12g}")


# ---- paths --------------------------------------------------------------------------------------

_KEY = re.compile(r"\s*([A-Za-z0-9_\-]+)\s*")
_SELECTOR = re.compile(
    r"\[\s*(?:(?P<index>-?\d+)|(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*"
    r"(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\]\s]+)))\s*\]"
)


@dataclass(frozen=True)
class Step:
    """One step of a path: a key, a list position, or a list item chosen by a field's value."""

    key: str | None = None
    index: int | None = None
    field: str | None = None
    value: Any = None

    def text(self) -> str:
        if self.key is not None:
            return self.key
        if self.index is not None:
            return f"[{self.index}]"
        return f'[{self.field}="{self.value}"]'


def parse_path(path: str) -> list[Step]:
    """``'utilisation[name="coal supply"].demand.2020'`` -> steps; raise ValueError when malformed."""
    steps: list[Step] = []
    pos = 0
    text = path.strip()
    if not text:
        raise ValueError("the path is empty")
    while pos < len(text):
        if steps and text[pos] == ".":
            pos += 1
        elif steps and text[pos] != "[":
            raise ValueError(f"unexpected {text[pos]!r} at character {pos + 1}")
        if pos < len(text) and text[pos] == "[":
            if not steps:
                raise ValueError("a path starts with a key, not [")
        else:
            m = _KEY.match(text, pos)
            if not m or not m.group(1):
                raise ValueError(f"expected a key at character {pos + 1}")
            steps.append(Step(key=m.group(1)))
            pos = m.end()
        while pos < len(text) and text[pos] == "[":
            m = _SELECTOR.match(text, pos)
            if not m:
                raise ValueError(f"cannot read the selector at character {pos + 1}; write [0] or [name=\"…\"]")
            if m.group("index") is not None:
                steps.append(Step(index=int(m.group("index"))))
            else:
                quoted = m.group("dq") if m.group("dq") is not None else m.group("sq")
                value = quoted if quoted is not None else _bare(m.group("bare"))
                steps.append(Step(field=m.group("field"), value=value))
            pos = m.end()
    return steps


def _bare(text: str) -> Any:
    """An unquoted selector value: a number or true/false, else the text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _dict_key(d: dict, key: str) -> Any:
    """The key of ``d`` that ``key`` names: an existing int or str key, else a new key."""
    if key.lstrip("-").isdigit() and int(key) in d:
        return int(key)
    if key in d:
        return key
    if key.lstrip("-").isdigit() and d and all(isinstance(k, int) for k in d):
        return int(key)
    return key


class PathError(ValueError):
    """A path that names nothing in the scenario."""


def _text(steps: list[Step]) -> str:
    """Steps written back as a path."""
    return "".join(s.text() if s.key is None else ("." if j else "") + s.text() for j, s in enumerate(steps))


def _walk(data: dict, model: Any, steps: list[Step]) -> tuple[Any, Any]:
    """Follow ``steps`` through the dumped scenario ``data``, checking keys against the ``model``.

    Returns (container, key) of the value the last step names. Pydantic models must have the
    key as a field; free dicts (year → figure, sector → costs, mode → cost) accept new keys.
    """
    node, obj = data, model
    for i, st in enumerate(steps):
        last = i == len(steps) - 1
        here = _text(steps[:i]) or "the scenario's top level"
        if st.key is not None:
            if isinstance(obj, BaseModel):
                if st.key not in type(obj).model_fields:
                    fields = ", ".join(type(obj).model_fields)
                    raise PathError(f"{here} has no key {st.key!r} (keys there: {fields})")
                key = st.key
                child_obj = getattr(obj, key)
            elif isinstance(node, dict):
                key = _dict_key(node, st.key)
                if key not in node:
                    if not last:
                        node[key] = {}
                    child_obj = None
                else:
                    child_obj = obj.get(key) if isinstance(obj, dict) else None
            else:
                raise PathError(f"{here} is a {type(node).__name__}, it has no key {st.key!r}")
        else:
            if not isinstance(node, list):
                raise PathError(f"{here} is not a list; {st.text()} selects list items")
            if st.index is not None:
                if not -len(node) <= st.index < len(node):
                    raise PathError(f"{here} has {len(node)} item(s); there is no item {st.index}")
                key = st.index
            else:
                hits = [j for j, item in enumerate(node) if isinstance(item, dict) and item.get(st.field) == st.value]
                if len(hits) != 1:
                    names = [str(item.get(st.field)) for item in node if isinstance(item, dict)]
                    what = "no item" if not hits else f"{len(hits)} items"
                    raise PathError(f"{here} has {what} with {st.field} = {st.value!r}"
                                    + (f" (there: {', '.join(names)})" if names else ""))
                key = hits[0]
            child_obj = obj[key] if isinstance(obj, list) else None
        if last:
            return node, key
        node, obj = node[key], child_obj
    raise PathError("the path is empty")


def set_value(data: dict, model: Scenario, path: str, value: Any, *, numeric: bool) -> None:
    """Set ``path`` in the dumped scenario ``data`` (a copy) to ``value``; PathError when it names nothing.

    With ``numeric``, the value there must be a number (or unset) — what an axis may move.
    """
    try:
        steps = parse_path(path)
        container, key = _walk(data, model, steps)
    except ValueError as e:
        raise PathError(f"path {path!r}: {e}") from None
    if numeric and (isinstance(container, list) or key in container):
        old = container[key]
        if old is not None and (isinstance(old, bool) or not isinstance(old, (int, float))):
            raise PathError(f"path {path!r} holds {type(old).__name__} {old!r}, not a number; an axis moves numbers")
    container[key] = value


# ---- cases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One run of the sweep: a variant and a value for each axis."""

    id: str
    index: int
    variant: str
    values: dict[str, float]  # axis name -> value
    assign: tuple[tuple[str, Any], ...]  # (path, value) in the order applied: variant first, then axes

    def params(self) -> dict:
        return {"variant": self.variant, **self.values}


@dataclass
class Sweep:
    """A read sweep file: its spec, where it lives, its base scenario and every case."""

    spec: SweepFile
    path: Path
    base_path: Path
    base: Scenario
    sha256: str
    cases: list[Case] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    @property
    def axis_names(self) -> list[str]:
        return [a.name for a in self.spec.axes]


def latin_hypercube(n: int, bounds: list[tuple[float, float]], seed: int) -> list[list[float]]:
    """``n`` points; each axis's range is cut in ``n`` equal strata and every stratum gets one point."""
    import numpy as np

    rng = np.random.default_rng(seed)
    cols = []
    for lo, hi in bounds:
        u = (rng.permutation(n) + rng.random(n)) / n
        cols.append([_tidy(float(f"{lo + x * (hi - lo):.6g}")) for x in u])
    return [list(p) for p in zip(*cols, strict=False)] if cols else [[] for _ in range(n)]


def axis_points(spec: SweepFile) -> list[dict[str, float]]:
    """Every combination of axis values (without variants), in a fixed order."""
    listed = [a for a in spec.axes if not a.sampled]
    sampled = [a for a in spec.axes if a.sampled]
    bounds = [(a.sample.low, a.sample.high) for a in sampled if a.sample is not None]
    # sampled axes come with samples = N (the sweep file's validator)
    lhs = latin_hypercube(spec.samples or 0, bounds, spec.seed) if sampled else [[]]
    if spec.combine == "zip":
        n = len(lhs) if sampled else (len(listed[0].listed()) if listed else 1)
        cols = {a.name: a.listed() for a in listed}
        return [{**{a.name: cols[a.name][i] for a in listed},
                 **({a.name: lhs[i][j] for j, a in enumerate(sampled)} if sampled else {})}
                for i in range(n)]
    out = []
    for combo in itertools.product(*[a.listed() for a in listed]):
        for point in lhs:
            out.append({**{a.name: v for a, v in zip(listed, combo, strict=False)},
                        **{a.name: v for a, v in zip(sampled, point, strict=False)}})
    return out


def expand(spec: SweepFile) -> list[Case]:
    """The cases: variants (baseline first) × axis points, numbered c0001, c0002, … in that order."""
    variants = [Variant(name=BASELINE)] + list(spec.variants)
    points = axis_points(spec)
    path_of = {a.name: a.path for a in spec.axes}
    width = max(4, len(str(len(variants) * len(points))))
    cases: list[Case] = []
    for v in variants:
        for p in points:
            i = len(cases)
            assign = tuple(v.set.items()) + tuple((path_of[k], val) for k, val in p.items())
            cases.append(Case(f"c{i + 1:0{width}d}", i, v.name, dict(p), assign))
    return cases


def apply(base: Scenario, case: Case, base_data: dict | None = None) -> Scenario:
    """The scenario of ``case`` (see :func:`apply_values`)."""
    return apply_values(base, case.assign, len(case.values), base_data)


def apply_values(base: Scenario, assign: tuple[tuple[str, Any], ...], n_axis: int,
                 base_data: dict | None = None) -> Scenario:
    """A deep copy of the base's data with ``assign`` set in order, validated as a new Scenario.

    The last ``n_axis`` assignments are axis values and must land on numbers. Raises PathError
    for a path that names nothing and ValidationError for values out of range. ``base_data``
    (``base.model_dump()``) may be passed to save dumping it again; it is never changed.
    """
    data = copy.deepcopy(base_data if base_data is not None else base.model_dump())
    first_axis = len(assign) - n_axis
    for i, (path, value) in enumerate(assign):
        set_value(data, base, path, value, numeric=i >= first_axis)
    return Scenario.model_validate(data)


def _describe(case: Case) -> str:
    vals = ", ".join(f"{k} = {v:g}" for k, v in case.values.items())
    return f"case {case.id} (variant '{case.variant}'" + (f"; {vals})" if vals else ")")


def read_sweep(path: Path | str) -> Sweep:
    """Read, validate and expand a sweep file; every case is checked against the scenario rules.

    Raises InputError (exit 2) naming the key, the path or the case at fault.
    """
    from ..scenario import load_scenario

    path = Path(path)
    data = read_toml(path)
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as err:
        raise InputError(
            f"the sweep file is not valid ({err.error_count()} problem(s)):\n"
            + format_validation(err, data, root=SweepFile, keys_in="models/sweeps/*.toml")
            + "\nFix these keys and run again.",
            file=path,
        ) from None
    base_path = (path.resolve().parent / spec.base).resolve()
    if not base_path.exists():
        raise InputError(f"base = {str(spec.base)!r}: no scenario file at {base_path}. The path is relative "
                         f"to the sweep file.", file=path)
    base = load_scenario(base_path)
    sweep = Sweep(spec, path, base_path, base, sha256(path))
    sweep.cases = expand(spec)
    base_data = base.model_dump()
    for case in sweep.cases:
        try:
            apply(base, case, base_data)
        except PathError as e:
            raise InputError(f"{e}. Write a path to a value of the base scenario {base_path.name}, e.g. "
                             f"objective.fiscal_weight or targets[name=\"…\"].at_least.", file=path) from None
        except ValidationError as err:
            raise InputError(
                f"{_describe(case)} makes the scenario invalid:\n" + format_validation(err)
                + "\nNarrow the axis range or fix the variant.",
                file=path,
            ) from None
    return sweep
