"""Write the national unit tables: 31 provinces, the Gansu rule families at national scale.

    python data/national/build.py                     # data/national/units.csv, projects.csv
    python data/national/build.py --out DIR           # the same tables into DIR
    python data/national/build.py --benchmark DIR [--budget]   # the benchmark instance

The first form writes the unit and project tables that ``models/national_2016.toml`` reads
(about 10,800 coal mines, 1,750 clinker lines, 820 blast furnaces and 820 converters) and
checks them against the calibration figures (see data/national/README.md). The second writes
the synthetic benchmark instance of ``benchmarks/`` (300 blast furnaces and 300 converters,
targets of 18 % of each province's coal) with its own scenario ``national.toml``. Every figure
is drawn from one seeded generator (seed 2016), so the same seed always gives the same files.
The sizes follow China's 2015 inventory in order of magnitude (coal ≈ 5.7 bn t/yr in ≈ 10,800
mines, clinker ≈ 1.8 bn t/yr in ≈ 1,750 lines); nothing in them describes a real unit.

The benchmark scenario's rules, scaled from ``models/gansu_2016.toml``:

* targets per province (a ``region`` selection): coal by 2020, crude steel and pig iron by
  2020 where the province has steel, and a national coal milestone by 2018;
* reduced-quantity replacement for coal, clinker and crude steel, against approved and
  candidate projects;
* national concentration of clinker (top 10 groups) and national utilisation and supply
  floors (the scenario format states these for the whole unit table);
* steel relocation packages and coal-basin closure packages, some of them required;
* the national mandatory exits (protected areas, the 13 backward classes, small mines with
  serious accidents, banned methods) and protected large modern state mines;
* displaced workers capped per province and year; with ``--budget``, a national fiscal budget
  per year too.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
from pathlib import Path

YEARS = list(range(2016, 2021))

#: province -> (coal weight, clinker weight, steel weight): rough shares of national capacity
PROVINCES: dict[str, tuple[float, float, float]] = {
    "Beijing": (0.2, 0.3, 0.0), "Tianjin": (0.0, 0.3, 2.0), "Hebei": (2.0, 5.0, 22.0),
    "Shanxi": (18.0, 3.0, 5.0), "Inner Mongolia": (17.0, 3.0, 3.0), "Liaoning": (2.0, 3.0, 7.0),
    "Jilin": (1.0, 2.0, 1.5), "Heilongjiang": (3.0, 2.0, 1.0), "Shanghai": (0.0, 0.3, 2.0),
    "Jiangsu": (0.5, 6.0, 12.0), "Zhejiang": (0.0, 5.0, 2.0), "Anhui": (3.0, 7.0, 3.0),
    "Fujian": (0.5, 3.0, 2.0), "Jiangxi": (1.0, 4.0, 2.5), "Shandong": (3.0, 8.0, 8.0),
    "Henan": (4.0, 6.0, 3.0), "Hubei": (0.5, 5.0, 3.5), "Hunan": (1.5, 4.0, 2.0),
    "Guangdong": (0.0, 6.0, 2.0), "Guangxi": (0.3, 5.0, 2.0), "Hainan": (0.0, 1.0, 0.0),
    "Chongqing": (0.8, 3.0, 0.8), "Sichuan": (1.5, 6.0, 2.0), "Guizhou": (6.0, 5.0, 0.8),
    "Yunnan": (2.0, 5.0, 1.0), "Tibet": (0.0, 0.3, 0.0), "Shaanxi": (12.0, 3.0, 1.0),
    "Gansu": (1.5, 2.0, 1.0), "Qinghai": (0.5, 1.0, 0.3), "Ningxia": (2.0, 1.0, 0.3),
    "Xinjiang": (5.0, 3.0, 1.5),
}

N_COAL, N_CLINKER, N_BF, N_BOF = 10_800, 1_750, 300, 300
NATIONAL_CEMENT_GROUPS = [f"National cement group N{i:02d}" for i in range(1, 13)]

UNIT_FIELDS = [
    "unit_id", "name", "name_zh", "sector", "kind", "product", "capacity", "firm", "group", "region",
    "counts_in", "workers", "owner", "opening_year", "accident", "accident_year", "protected_area",
    "backward_class", "banned_method", "standards_failed", "loss_making", "subsidised_loss",
    "relocatable", "indicator_eligible", "exit_years", "source", "source_ref",
]
PROJECT_FIELDS = ["project_id", "name", "sector", "product", "capacity", "year", "firm", "group", "region",
                  "status", "source", "source_ref"]


def _spread(rng: random.Random, n: int, column: int) -> list[str]:
    """n provinces drawn in proportion to the weights in ``column`` of PROVINCES."""
    names = [p for p, w in PROVINCES.items() if w[column] > 0]
    weights = [PROVINCES[p][column] for p in names]
    return rng.choices(names, weights, k=n)


def _unit(**kw) -> dict:
    base = dict(name_zh="", counts_in="", owner="state", opening_year="", accident="none", accident_year="",
                protected_area="false", backward_class="false", banned_method="false", standards_failed="",
                loss_making="false", subsidised_loss=0, relocatable="false", indicator_eligible="true",
                exit_years="", source="synthetic", source_ref="data/national/build.py")
    base.update(kw)
    base["counts_in"] = base["region"]
    return base


def coal_mines(rng: random.Random) -> list[dict]:
    """Mines: many small private ones, fewer large state ones owned by provincial groups."""
    out = []
    for i, prov in enumerate(_spread(rng, N_COAL, 0)):
        large = rng.random() < 0.15
        if large:
            cap = rng.choice([60, 90, 120, 150, 180, 240, 300, 400, 500, 600])
            owner = "state" if rng.random() < 0.8 else "private"
            group = f"{prov} coal group {rng.randint(1, 4)}"
            firm = f"{group} mine company {rng.randint(1, 6)}"
        else:
            cap = rng.choice([3, 6, 9, 9, 15, 15, 21, 30, 30, 45])
            owner = "private" if rng.random() < 0.85 else "state"
            firm = f"{prov} private mine {i}"
            group = firm
        workers = max(8, int(cap * rng.uniform(4.0, 14.0) if cap < 60 else cap * rng.uniform(3.0, 8.0)))
        accident, accident_year = "none", ""
        r = rng.random()
        if r < 0.015:
            accident, accident_year = "major", rng.choice([2013, 2014, 2015])
        elif r < 0.05:
            accident, accident_year = "large", rng.choice([2012, 2013, 2014, 2015])
        loss = rng.random() < (0.35 if cap < 60 else 0.15)
        # flags that force an exit go to mines that the scenario does not protect, and such mines
        # keep every exit year open, so that the mandatory rules can be met
        kept = cap >= 300 and accident == "none" and owner == "state"
        protected_area = not kept and rng.random() < 0.02
        backward = cap <= 9 and rng.random() < 0.08
        banned = cap <= 30 and rng.random() < 0.02
        flagged = protected_area or backward or banned or accident != "none"
        unit = _unit(
            unit_id=f"COAL-{i:05d}", name=f"{prov} mine {i}", sector="coal", kind="coal_mine", product="coal",
            capacity=cap, firm=firm, group=group, region=prov, workers=workers, owner=owner,
            opening_year=rng.randint(1960, 2014), accident=accident, accident_year=accident_year,
            protected_area=str(protected_area).lower(), backward_class=str(backward).lower(),
            banned_method=str(banned).lower(),
            loss_making=str(loss).lower(),
            subsidised_loss=round(cap * rng.uniform(0.5, 3.0), 1) if loss else 0,
            indicator_eligible=str(rng.random() < 0.9).lower(),
            exit_years=rng.choice(["2018-2020", "2017;2019;2020"]) if not flagged and rng.random() < 0.04 else "",
        )
        out.append(unit)
    return out


def clinker_lines(rng: random.Random) -> list[dict]:
    """Kiln lines: national groups, provincial groups and single-line firms."""
    out = []
    for i, prov in enumerate(_spread(rng, N_CLINKER, 1)):
        r = rng.random()
        if r < 0.55:
            group = rng.choices(NATIONAL_CEMENT_GROUPS, weights=[30, 22, 14, 10, 8, 6, 5, 4, 3, 3, 2, 2])[0]
            firm = f"{group} {prov} company"
            cap = rng.choice([62, 93, 124, 155, 186, 248, 310])
        elif r < 0.8:
            group = f"{prov} cement group {rng.randint(1, 3)}"
            firm = f"{group} plant {rng.randint(1, 5)}"
            cap = rng.choice([31, 46.5, 62, 77.5, 93, 124, 155])
        else:
            firm = f"{prov} cement firm {i}"
            group = firm
            cap = rng.choice([31, 37.2, 46.5, 62, 77.5])
        workers = int(cap * rng.uniform(1.6, 2.6))
        loss = rng.random() < 0.1
        out.append(_unit(
            unit_id=f"CEM-{i:05d}", name=f"{firm} line {i}", sector="cement", kind="clinker_line",
            product="clinker", capacity=cap, firm=firm, group=group, region=prov, workers=workers,
            owner="state" if rng.random() < 0.5 else "private", opening_year=rng.randint(1985, 2014),
            loss_making=str(loss).lower(), subsidised_loss=round(cap * rng.uniform(1, 4), 1) if loss else 0,
            relocatable=str(cap >= 62 and rng.random() < 0.1).lower(),
        ))
    return out


def steel_units(rng: random.Random, n: int = N_BF) -> list[dict]:
    """Blast furnaces and converters (``n`` of each), grouped into works of a few of each."""
    out = []
    provinces = _spread(rng, n, 2)
    for i, prov in enumerate(provinces):
        works = f"{prov} steel works {i // 3}"
        group = f"{prov} steel group {rng.randint(1, 3)}"
        state = rng.random() < 0.6
        relocatable = rng.random() < 0.08
        for kind, product, caps, j in (("blast_furnace", "pig_iron", [40, 60, 80, 100, 150, 200, 300], i),
                                       ("converter", "crude_steel", [50, 60, 100, 120, 150, 250, 300], i)):
            cap = rng.choice(caps)
            loss = rng.random() < 0.25
            out.append(_unit(
                unit_id=f"{'BF' if kind == 'blast_furnace' else 'BOF'}-{j:04d}", name=f"{works} {kind} {j}",
                sector="steel", kind=kind, product=product, capacity=cap, firm=works, group=group, region=prov,
                workers=int(cap * rng.uniform(6, 12)), owner="state" if state else "private",
                opening_year=rng.randint(1970, 2012), loss_making=str(loss).lower(),
                subsidised_loss=round(cap * rng.uniform(2, 8), 1) if loss else 0,
                relocatable=str(relocatable).lower(),
                indicator_eligible=str(rng.random() < 0.8).lower(),
            ))
    return out


def projects(rng: random.Random, units: list[dict]) -> list[dict]:
    """Candidate and approved new capacity: coal mines, clinker lines and a few converters."""
    out = []
    coal_groups = sorted({u["group"] for u in units if u["product"] == "coal" and "group" in u["group"]})
    for i in range(220):
        g = rng.choice(coal_groups)
        prov = g.split(" coal group")[0]
        out.append(dict(project_id=f"NEW-COAL-{i:03d}", name=f"{g} new mine {i}", sector="coal", product="coal",
                        capacity=rng.choice([120, 240, 300, 500, 800]), year=rng.choice([2018, 2019, 2020]),
                        firm=f"{g} new mine company", group=g, region=prov,
                        status="approved" if i < 25 else "candidate", source="synthetic",
                        source_ref="data/national/build.py"))
    for i in range(40):
        g = rng.choice(NATIONAL_CEMENT_GROUPS[:6])
        prov = _spread(rng, 1, 1)[0]
        out.append(dict(project_id=f"NEW-CEM-{i:03d}", name=f"{g} {prov} new line {i}", sector="cement",
                        product="clinker", capacity=rng.choice([124, 155, 186]), year=rng.choice([2017, 2018, 2019]),
                        firm=f"{g} {prov} company", group=g, region=prov,
                        status="approved" if i < 20 else "candidate", source="synthetic",
                        source_ref="data/national/build.py"))
    for i in range(12):
        prov = _spread(rng, 1, 2)[0]
        out.append(dict(project_id=f"NEW-BOF-{i:03d}", name=f"{prov} new converter {i}", sector="steel",
                        product="crude_steel", capacity=rng.choice([100, 150, 200]), year=rng.choice([2019, 2020]),
                        firm=f"{prov} new steel company {i}", group=f"{prov} steel group 1", region=prov,
                        status="candidate", source="synthetic", source_ref="data/national/build.py"))
    return out


def _where_region(prov: str) -> str:
    return f'{{ all = [["region", "==", "{prov}"]] }}'


def _sum(units: list[dict], **match) -> float:
    return sum(float(u["capacity"]) for u in units if all(u[k] == v for k, v in match.items()))


def _exitable(u: dict) -> bool:
    """Not protected by the scenario's rule for large modern state mines."""
    return not (u["product"] == "coal" and float(u["capacity"]) >= 300 and u["accident"] == "none"
                and u["owner"] == "state")


def scenario(units: list[dict], projs: list[dict], rng: random.Random, budget: bool = False) -> str:
    """The scenario TOML: Gansu's rule families, stated per province where the format allows."""
    lines = [
        '# Synthetic national instance written by data/national/build.py --benchmark (fixed seed): a speed benchmark,',
        '# not a plan. Units: capacity 万吨/yr, money 万元, people persons.',
        'name = "national_synthetic"',
        'description = "Synthetic national de-capacity plan, 31 provinces, coal, steel and cement, 2016–2020"',
        'units = "units.csv"', 'projects = "projects.csv"', "first_year = 2016", "last_year = 2020",
        "attrition = 0.03", "ladder = { 2016 = 1.1, 2017 = 1.0, 2018 = 0.9, 2019 = 0.8, 2020 = 0.7 }", "",
        "[objective]", "jobs_weight = 10.0", "fiscal_weight = 1.0", "discount_rate = 0.05", "",
        "[sectors.coal]", "resettlement_per_worker = 5.7", "award_per_capacity = 15.0",
        "exit_cost_per_capacity = { close = 10.0 }", "redeployed_share = { close = 0.2 }", "",
        "[sectors.steel]", "resettlement_per_worker = 5.7", "award_per_capacity = 140.0",
        "exit_cost_per_capacity = { close = 50.0, relocate = 20.0 }",
        "redeployed_share = { close = 0.3, relocate = 0.5 }", "",
        "[sectors.cement]", "resettlement_per_worker = 5.7", "award_per_capacity = 0.0",
        "exit_cost_per_capacity = { close = 30.0, relocate = 10.0 }",
        "redeployed_share = { close = 0.2, relocate = 0.5 }", "",
    ]

    def target(name: str, product: str, by: int, at_least: float, where: str | None = None) -> None:
        lines.extend(["[[targets]]", f'name = "{name}"', f'product = "{product}"', f"by = {by}",
                      f"at_least = {at_least:.1f}"] + ([f"where = {where}"] if where else []) + [""])

    coal_total = _sum(units, product="coal")
    for prov in PROVINCES:
        mines = [u for u in units if u["product"] == "coal" and u["region"] == prov and _exitable(u)]
        if mines:
            cap = sum(float(u["capacity"]) for u in mines)
            target(f"{prov} coal exit", "coal", 2020, round(0.18 * cap, -1), _where_region(prov))
        for product, share in (("pig_iron", 0.10), ("crude_steel", 0.12)):
            cap = _sum(units, product=product, region=prov)
            if cap > 0:
                target(f"{prov} {product.replace('_', ' ')} cut", product, 2020, round(share * cap, -1),
                       _where_region(prov))
    target("national coal milestone", "coal", 2018, round(0.06 * coal_total, -2))

    for product, ratio in (("coal", 1.2), ("clinker", 1.25), ("crude_steel", 1.25)):
        lines += ["[[replacement]]", f'product = "{product}"', f"ratio = {ratio}", ""]

    lines += ["[[concentration]]", 'name = "clinker concentration, top 10 groups"', 'product = "clinker"',
              'by = "group"', "top = 10", f"share = {_top_share(units) + 0.02:.3f}", "years = [2020]", ""]

    clinker = _sum(units, product="clinker")
    pig, steel = _sum(units, product="pig_iron"), _sum(units, product="crude_steel")
    demand = lambda v: "{ " + ", ".join(f"{y} = {v:.0f}" for y in YEARS) + " }"  # noqa: E731
    lines += ["[[utilisation]]", 'name = "clinker utilisation 80 %"', 'product = "clinker"',
              f"demand = {{ 2020 = {0.745 * clinker:.0f} }}", "min_utilisation = 0.8", "",
              "[[utilisation]]", 'name = "coal supply"', 'product = "coal"', f"demand = {demand(0.66 * coal_total)}",
              "reserve = 0.10", "",
              "[[utilisation]]", 'name = "pig iron supply"', 'product = "pig_iron"',
              f"demand = {{ 2020 = {0.74 * pig:.0f} }}", "reserve = 0.10", "",
              "[[utilisation]]", 'name = "crude steel supply"', 'product = "crude_steel"',
              f"demand = {{ 2020 = {0.72 * steel:.0f} }}", "reserve = 0.10", ""]

    lines += _packages(units, rng)
    lines += [
        "[[mandatory]]", 'name = "mines in protected areas"', "by = 2016",
        'where = { all = [["sector", "==", "coal"], ["protected_area", "==", true]] }', "",
        "[[mandatory]]", 'name = "13 classes of backward small mines"', "by = 2016",
        'where = { all = [["sector", "==", "coal"], ["backward_class", "==", true]] }', "",
        "[[mandatory]]", 'name = "mines < 30 with a major accident"', "by = 2018",
        'where = { all = [["sector", "==", "coal"], ["capacity", "<", 30], '
        '["accident", "in", ["major", "extraordinary"]], ["accident_year", ">=", 2013]] }', "",
        "[[mandatory]]", 'name = "mines ≤ 15 with a large accident"', "by = 2018",
        'where = { all = [["sector", "==", "coal"], ["capacity", "<=", 15], '
        '["accident", "in", ["large", "major", "extraordinary"]], ["accident_year", ">=", 2013]] }', "",
        "[[mandatory]]", 'name = "banned mining methods"', "by = 2018",
        'where = { all = [["sector", "==", "coal"], ["banned_method", "==", true]] }', "",
        "[[protected]]", 'name = "large modern mines kept"',
        'where = { all = [["sector", "==", "coal"], ["capacity", ">=", 300], ["accident", "==", "none"], '
        '["owner", "==", "state"]] }', "",
    ]
    lines += _caps(units, budget)
    lines += ["[solver]", "time_limit = 120", "rel_gap = 1e-3", "threads = 1", ""]
    return "\n".join(lines)


def _top_share(units: list[dict]) -> float:
    """Share of clinker capacity the ten largest groups hold before any exit."""
    by_group: dict[str, float] = {}
    for u in units:
        if u["product"] == "clinker":
            by_group[u["group"]] = by_group.get(u["group"], 0.0) + float(u["capacity"])
    caps = sorted(by_group.values(), reverse=True)
    return sum(caps[:10]) / sum(caps)


def _packages(units: list[dict], rng: random.Random) -> list[str]:
    """Steel relocation packages (one works each) and coal-basin closure packages."""
    lines: list[str] = []
    works: dict[str, list[dict]] = {}
    for u in units:
        if u["sector"] == "steel":
            works.setdefault(u["firm"], []).append(u)
    relocatable = sorted(w for w, us in works.items() if all(u["relocatable"] == "true" for u in us))
    for n, w in enumerate(relocatable[:8]):
        ids = [u["unit_id"] for u in works[w]]
        half = len(ids) // 2
        lines += ["[[packages]]", f'name = "{w} relocation"',
                  f"close = {{ units = [{', '.join(repr(i).replace(chr(39), chr(34)) for i in ids[:half])}] }}",
                  f"relocate = {{ units = [{', '.join(repr(i).replace(chr(39), chr(34)) for i in ids[half:])}] }}",
                  f"required = {'true' if n < 4 else 'false'}", "by = 2019", ""]
    small = [u for u in units if u["product"] == "coal" and float(u["capacity"]) <= 9 and _exitable(u)
             and u["exit_years"] == "" and u["protected_area"] == "false" and u["backward_class"] == "false"]
    rng.shuffle(small)
    for n in range(10):
        ids = [u["unit_id"] for u in small[n * 6:(n + 1) * 6]]
        lines += ["[[packages]]", f'name = "coal basin closure {n + 1}"',
                  f"close = {{ units = [{', '.join(chr(34) + i + chr(34) for i in ids)}] }}",
                  f"required = {'true' if n < 3 else 'false'}", "by = 2020", ""]
    return lines


def _caps(units: list[dict], budget: bool) -> list[str]:
    """Displaced workers per province and year; optionally a national fiscal budget per year (万元)."""
    lines = ["[caps]"]
    if budget:
        yearly = (4_500_000, 3_500_000, 3_500_000, 3_500_000, 3_500_000)
        lines.append("budget = { " + ", ".join(f"{y} = {b}" for y, b in zip(YEARS, yearly)) + " }")
    lines.append("workers = [")
    for prov in PROVINCES:
        w = sum(int(u["workers"]) for u in units if u["region"] == prov)
        if w:
            per_year = max(3000, int(math.ceil(0.15 * w / 100.0) * 100))
            lines.append(f'  {{ name = "labour market {prov}", regions = ["{prov}"], per_year = {per_year} }},')
    lines += ["]", ""]
    return lines


def write(out: Path, seed: int = 2016, budget: bool = False) -> Path:
    """Write units.csv, projects.csv and national.toml into ``out``; return the scenario path."""
    rng = random.Random(seed)
    units = coal_mines(rng) + clinker_lines(rng) + steel_units(rng)
    projs = projects(rng, units)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "units.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=UNIT_FIELDS)
        w.writeheader()
        w.writerows(units)
    with open(out / "projects.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=PROJECT_FIELDS)
        w.writeheader()
        w.writerows(projs)
    path = out / "national.toml"
    path.write_text(scenario(units, projs, rng, budget), encoding="utf-8")
    return path


def national_tables(seed: int = 2016) -> tuple[list[dict], list[dict]]:
    """The units and projects of ``models/national_2016.toml``: the benchmark's coal mines and
    clinker lines, and 820 steel works (crude steel ≈ 1.2 bn t/yr, China's 2015 order)."""
    rng = random.Random(seed)
    units = coal_mines(rng) + clinker_lines(rng) + steel_units(rng, N_STEEL_WORKS)
    return units, projects(rng, units)


#: steel works (one blast furnace and one converter each) of the national 2016 table
N_STEEL_WORKS = 820
#: calibration of the national 2016 table: (product, count, capacity 万吨/yr or None), each within 10 %
CALIBRATION = (("coal", 10_800, 570_000.0), ("clinker", 1_750, None), ("crude_steel", 820, 120_000.0))


def verify(units: list[dict]) -> list[str]:
    """Lines of counts and capacities per product; raises when one drifts from CALIBRATION."""
    lines = []
    for product, count, capacity in CALIBRATION:
        got = [float(u["capacity"]) for u in units if u["product"] == product]
        total = sum(got)
        lines.append(f"{product}: {len(got):,} units, {total:,.0f} 万吨/yr (calibrated to {count:,} units"
                     + (f", {capacity:,.0f} 万吨/yr)" if capacity else ")"))
        if abs(len(got) - count) > 0.1 * count or (capacity and abs(total - capacity) > 0.1 * capacity):
            raise SystemExit(f"data/national/build.py: {product} drifted from its calibration: " + lines[-1])
    return lines


def write_tables(out: Path, seed: int = 2016) -> list[str]:
    """Write units.csv and projects.csv of the national 2016 scenario into ``out``."""
    units, projs = national_tables(seed)
    lines = verify(units)
    _write_csv(out, units, projs)
    return lines


def _write_csv(out: Path, units: list[dict], projs: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "units.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=UNIT_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(units)
    with open(out / "projects.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=PROJECT_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(projs)


# --------------------------------------------------------------------------------------------
# The national 2016 scenario

#: national tasks (万吨/yr): State Council 2016 — coal about 50,000 in 3–5 years, 25,000 of it in
#: 2016; crude steel 10,000–15,000 in 5 years (the lower end is the target), 4,500 in 2016
COAL_2020, COAL_2016, STEEL_2020, STEEL_2016 = 50_000.0, 25_000.0, 10_000.0, 4_500.0
#: provincial tasks that are public (press reports of 2016, 万吨/yr): (by 2020, in 2016)
PUBLIC_COAL = {"Yunnan": (2_088.0, 1_817.0), "Shandong": (6_460.0, None), "Shanxi": (None, 2_325.0),
               "Gansu": (1_000.0, None)}
PUBLIC_STEEL = {"Yunnan": (453.0, 376.0), "Shandong": (1_500.0, None), "Gansu": (300.0, None)}
PUBLIC_PIG_IRON = {"Yunnan": (126.0, 126.0), "Shandong": (970.0, None), "Gansu": (200.0, None)}
#: the central award fund, 万元 per year: 1,000亿元 for 2016–2020, 2016 from the base award
#: (Shandong's 19.23亿元 were about 7 % of it: ≈ 275亿元), the rest evenly over 2017–2020
FUND = {2016: 2_750_000.0, 2017: 1_812_500.0, 2018: 1_812_500.0, 2019: 1_812_500.0, 2020: 1_812_500.0}


def split(total: float, public: dict[str, float], weight: dict[str, float]) -> dict[str, float]:
    """Provincial shares of a national task: the public figures as they are, the rest of the
    task over the other provinces in proportion to ``weight`` (rounded to 10 万吨)."""
    rest = total - sum(public.values())
    others = {p: w for p, w in weight.items() if p not in public and w > 0}
    scale = rest / sum(others.values())
    out = dict(public)
    out.update({p: round(w * scale, -1) for p, w in others.items()})
    return out


# The Chinese names of models/national_2016.toml's provinces and rules (name_zh), which the
# Chinese briefing shows.
PROVINCES_ZH = {
    "Beijing": "北京市", "Tianjin": "天津市", "Hebei": "河北省", "Shanxi": "山西省", "Inner Mongolia": "内蒙古自治区",
    "Liaoning": "辽宁省", "Jilin": "吉林省", "Heilongjiang": "黑龙江省", "Shanghai": "上海市", "Jiangsu": "江苏省",
    "Zhejiang": "浙江省", "Anhui": "安徽省", "Fujian": "福建省", "Jiangxi": "江西省", "Shandong": "山东省",
    "Henan": "河南省", "Hubei": "湖北省", "Hunan": "湖南省", "Guangdong": "广东省", "Guangxi": "广西壮族自治区",
    "Hainan": "海南省", "Chongqing": "重庆市", "Sichuan": "四川省", "Guizhou": "贵州省", "Yunnan": "云南省",
    "Tibet": "西藏自治区", "Shaanxi": "陕西省", "Gansu": "甘肃省", "Qinghai": "青海省", "Ningxia": "宁夏回族自治区",
    "Xinjiang": "新疆维吾尔自治区",
}
RULES_ZH = {
    "clinker concentration, top 10 groups": "熟料前10家集团产能集中度",
    "clinker utilisation 80 %": "水泥熟料产能发挥率达到80%以上",
    "coal supply": "煤炭供应保障", "pig iron supply": "生铁供应保障", "crude steel supply": "粗钢供应保障",
    "mines in protected areas": "开采范围与自然保护区等区域重叠的煤矿关闭退出",
    "13 classes of backward small mines": "国家确定的13类落后小煤矿关闭退出",
    "mines < 30 with a major accident": "产能小于30万吨/年且发生重大及以上安全生产责任事故的煤矿",
    "mines ≤ 15 with a large accident": "产能15万吨/年及以下且发生较大及以上安全生产责任事故的煤矿",
    "banned mining methods": "采用国家明令禁止使用的采煤方法、工艺的煤矿",
    "large modern mines kept": "大型现代化国有煤矿保留",
}
TARGETS_ZH = {"coal by 2020": "煤炭2020年前退出产能", "coal in 2016": "煤炭2016年退出产能",
              "crude steel by 2020": "粗钢2020年前压减产能", "crude steel in 2016": "粗钢2016年压减产能",
              "pig iron by 2020": "生铁2020年前压减产能", "pig iron in 2016": "生铁2016年压减产能"}
REPLACEMENT_ZH = {"coal": "煤炭新建项目减量置换", "clinker": "水泥熟料减量置换", "crude_steel": "钢铁减量置换"}


def _name_zh(name: str) -> str | None:
    """The Chinese name of a rule of models/national_2016.toml, from its English name."""
    if name in RULES_ZH:
        return RULES_ZH[name]
    if name.startswith("labour market "):
        return PROVINCES_ZH[name.removeprefix("labour market ")] + "职工安置能力"
    for prov, zh in PROVINCES_ZH.items():
        task = TARGETS_ZH.get(name.removeprefix(prov + " ")) if name.startswith(prov + " ") else None
        if task:
            return zh + task
    return None


def with_names_zh(text: str) -> str:
    """The scenario text with a name_zh beside every rule's name (and after each replacement's ratio)."""
    out: list[str] = []
    product = None
    for line in text.split("\n"):
        m = re.match(r'^(\s*\{ )name = "([^"]+)", (.*)$', line)
        if m and _name_zh(m.group(2)):
            line = f'{m.group(1)}name = "{m.group(2)}", name_zh = "{_name_zh(m.group(2))}", {m.group(3)}'
        out.append(line)
        m = re.match(r'^name = "([^"]+)"$', line)
        if m and _name_zh(m.group(1)):
            out.append(f'name_zh = "{_name_zh(m.group(1))}"')
        m = re.match(r'^product = "([a-z_]+)"$', line)
        product = m.group(1) if m else product
        if line.startswith("ratio = ") and product in REPLACEMENT_ZH:
            out.append(f'name_zh = "{REPLACEMENT_ZH[product]}"')
    return "\n".join(out)


def scenario_2016(units: list[dict]) -> str:
    """models/national_2016.toml: the national tasks split by province, under the award fund."""
    def cap(product: str, prov: str, exitable: bool = True) -> float:
        return sum(float(u["capacity"]) for u in units if u["product"] == product and u["region"] == prov
                   and (not exitable or _exitable(u)))

    provs = list(PROVINCES)
    coal_w = {p: cap("coal", p) for p in provs}
    coal20 = split(COAL_2020, {p: v[0] for p, v in PUBLIC_COAL.items() if v[0]}, coal_w)
    coal16 = split(COAL_2016, {p: v[1] for p, v in PUBLIC_COAL.items() if v[1]}, coal_w)
    steel_w = {p: cap("crude_steel", p) for p in provs}
    steel20 = split(STEEL_2020, {p: v[0] for p, v in PUBLIC_STEEL.items() if v[0]}, steel_w)
    steel16 = split(STEEL_2016, {p: v[1] for p, v in PUBLIC_STEEL.items() if v[1]}, steel_w)
    lines = [
        "# China's 2016 de-capacity task at national scale: 31 provinces, coal, steel and cement,",
        "# 2016–2020, under one central award fund. Written by data/national/build.py --scenario",
        "# (fixed seed); the unit table is synthetic (data/national/README.md). Units: capacity",
        "# 万吨/yr, money 万元, people persons. Figures marked ASSUMPTION are not in any plan.",
        "#",
        "# Before the first solve, write the unit table (about 3 MB, not kept in the repository):",
        "#     python data/national/build.py",
        'name = "national_2016"',
        'name_zh = "全国钢铁煤炭去产能任务(2016—2020年)"',
        'description = "National de-capacity task 2016–2020: State Council targets split by province, '
        'under the central award fund (synthetic unit table)"',
        'units = "../data/national/units.csv"', 'projects = "../data/national/projects.csv"',
        "first_year = 2016", "last_year = 2020",
        "attrition = 0.03",
        "# award ladder: the fund pays more for early exits (the stepped bonus); as in Gansu. It",
        "# weights the ladder part of the award only (award_base_share below).",
        "ladder = { 2016 = 1.1, 2017 = 1.0, 2018 = 0.9, 2019 = 0.8, 2020 = 0.7 }", "",
        '# ASSUMPTION: costs and weights are those of models/gansu_2016.toml; the award rates for state',
        '# units are the earlier Gansu ones (coal 15 万元 per 万吨, from 120 万元 per mine of 8 万吨),',
        '# with the steel award at 100 万元 per 万吨 rather than 140, so that a steel exit beyond the task',
        '# does not pay for itself at national scale (with 140 × 1.1 in 2016 it does, and the plan',
        '# retires two and a half times the national steel task in 2016).',
        '# Not taken over from the calibrated Gansu scenario (data/gansu/README.md, "Calibration of the',
        '# fiscal figures"): its coal revenue foregone (19.7 万元 a year per 万吨) rests on Gansu\'s',
        '# resource-tax rate, 2.5 %, and each province sets its own between 2 % and 10 % (9 % Inner',
        '# Mongolia, 8 % Shanxi, 6 % Shaanxi: SteelOrbis, 19 January 2015), which this synthetic table',
        "# does not carry; its state coal award (58.4) is Shaanxi's 2016 payment per 万吨, one",
        "# province's figure. So revenue foregone and stranded value stay 0 here.",
        '# The award as its national rules pay it: a base part of 80 % without year weight and a ladder',
        '# part of 20 % (Ministry of Finance, May 2016, as reported by Reuters, 19 May 2016); as',
        '# reported (shared/seed/digest.md; primary text not located), the ladder weighted as above,',
        "# paid on the task's product only (coal capacity, crude steel; not pig iron or rolled steel);",
        "# non-state firms a fixed award, 1.2 million 元 per coal mine (120 万元 per unit) and",
        "# 140 元/t of steel capacity (140 万元 per 万吨). ASSUMPTION: the base part is paid on counted",
        "# capacity alone (the rules split it between provinces by task 50 %, workers 30 %, hardship",
        "# 20 %); the state rates stay those above.",
        "[objective]", "jobs_weight = 10.0", "fiscal_weight = 1.0", "discount_rate = 0.05", "",
        "[sectors.coal]", "resettlement_per_worker = 5.7", "award_per_capacity = 15.0",
        'award_products = ["coal"]', "award_base_share = 0.8", "award_nonstate_per_unit = 120.0",
        "exit_cost_per_capacity = { close = 10.0 }", "redeployed_share = { close = 0.2 }", "",
        "[sectors.steel]", "resettlement_per_worker = 5.7", "award_per_capacity = 100.0",
        'award_products = ["crude_steel"]', "award_base_share = 0.8", "award_nonstate_per_capacity = 140.0",
        "exit_cost_per_capacity = { close = 50.0, relocate = 20.0 }",
        "redeployed_share = { close = 0.3, relocate = 0.5 }", "",
        "[sectors.cement]", "resettlement_per_worker = 5.7", "award_per_capacity = 0.0",
        "exit_cost_per_capacity = { close = 30.0, relocate = 10.0 }",
        "redeployed_share = { close = 0.2, relocate = 0.5 }", "",
        "# ---- Rule 1: the national tasks, split by province -------------------------------------------",
        "# Public provincial figures as reported in 2016 (Yunnan, Shandong, Shanxi; Gansu from",
        "# models/gansu_2016.toml); ASSUMPTION: the rest of each national task is shared among the",
        "# other provinces in proportion to their capacity in the unit table that may exit (coal",
        "# without the protected large modern state mines), rounded to 10 万吨.",
        "# Coal: 50,000 by 2020 (\"about 500 Mt in 3–5 years\"), 25,000 in 2016.",
        "# Crude steel: 10,000 by 2020 (the lower end of 100–150 Mt), 4,500 in 2016.",
        "# Pig iron: no national figure; the provinces that published one have it.",
        "",
    ]

    def target(name: str, product: str, by: int, at_least: float, prov: str) -> None:
        lines.extend(["[[targets]]", f'name = "{name}"', f'product = "{product}"', f"by = {by}",
                      f"at_least = {at_least:.1f}", f"where = {_where_region(prov)}", ""])

    for prov in provs:
        if coal20.get(prov):
            target(f"{prov} coal by 2020", "coal", 2020, coal20[prov], prov)
        if coal16.get(prov):
            target(f"{prov} coal in 2016", "coal", 2016, coal16[prov], prov)
        if steel20.get(prov):
            target(f"{prov} crude steel by 2020", "crude_steel", 2020, steel20[prov], prov)
        if steel16.get(prov):
            target(f"{prov} crude steel in 2016", "crude_steel", 2016, steel16[prov], prov)
        for by, i in ((2020, 0), (2016, 1)):
            v = PUBLIC_PIG_IRON.get(prov, (None, None))[i]
            if v:
                target(f"{prov} pig iron {'by 2020' if by == 2020 else 'in 2016'}", "pig_iron", by, v, prov)
    bench = scenario(units, [], random.Random(0), budget=False)
    # the other rule families as in the benchmark instance (replacement, concentration,
    # utilisation, mandatory exits, protected mines, worker caps), from its scenario text
    rest = bench[bench.index("[[replacement]]"):bench.index("[caps]")]
    rest = rest[:rest.index("[[packages]]")] + rest[rest.index("[[mandatory]]"):] if "[[packages]]" in rest else rest
    lines.append("# ---- Rules 2–6 as in the benchmark instance (data/national/build.py --benchmark) -------------")
    lines.append(rest)
    lines += ["# ---- Rule 9: the award fund, and labour markets ---------------------------------------------",
              "# The central award fund is of fixed size: the awards it pays (base and ladder parts) are at",
              "# most 1,000亿元 = 10,000,000 万元 for 2016–2020, and at most the year's tranche: 2016 from",
              "# the base award (ASSUMPTION: Shandong's 19.23亿元 ≈ 7 % of it ⇒ ≈ 275亿元), the rest",
              "# evenly over 2017–2020. No yearly budget on the provinces' own outlay is stated.",
              "# models/sweeps/national_fund.toml sweeps the fund's size."]
    caps = _caps(units, budget=False)
    caps[1:1] = [f"award_fund = {sum(FUND.values()):.0f}",
                 "award_fund_per_year = { " + ", ".join(f"{y} = {v:.0f}" for y, v in FUND.items()) + " }"]
    lines += caps
    lines += ["[solver]", "time_limit = 120", "rel_gap = 5e-3", "threads = 1", ""]
    return with_names_zh("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                   help="folder for units.csv and projects.csv (default: data/national)")
    p.add_argument("--benchmark", type=Path, default=None,
                   help="write the benchmark instance (units.csv, projects.csv, national.toml) into this folder")
    p.add_argument("--seed", type=int, default=2016)
    p.add_argument("--budget", action="store_true", help="benchmark instance: add a national fiscal budget per year")
    p.add_argument("--scenario", type=Path, default=None,
                   help="also write the national 2016 scenario here (models/national_2016.toml)")
    args = p.parse_args()
    if args.benchmark is not None:
        print(write(args.benchmark, args.seed, args.budget))
        return
    for line in write_tables(args.out, args.seed):
        print(line)
    print(f"wrote {args.out / 'units.csv'} and {args.out / 'projects.csv'}")
    if args.scenario is not None:
        args.scenario.write_text(scenario_2016(national_tables(args.seed)[0]), encoding="utf-8")
        print(f"wrote {args.scenario}")


if __name__ == "__main__":
    main()
