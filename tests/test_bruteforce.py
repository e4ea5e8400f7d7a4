"""The MIP against brute force on random tiny instances.

Every schedule (each unit: stay, or exit in a year by a mode; each candidate project: built or
not) is enumerated and priced here, with feasibility and cost written from model.md alone —
neither exitopt.model nor exitopt.check is used. Then:

* the MIP is infeasible exactly when no schedule is feasible;
* otherwise its objective equals the brute-force minimum, and the plan it returns is one the
  brute force accepts and prices at that objective.

Reduced-quantity replacement splits a retired unit's capacity continuously, so it has its own
brute force below: schedules enumerated, the split for each found by a small LP written here.
"""

from __future__ import annotations

import itertools
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings, strategies as st

from exitopt import decompose
from exitopt.blocks import product_blocks
from exitopt.check import check_plan, read_plan
from exitopt.errors import InfeasibleError
from exitopt.solve import solve_instance

FIRST = 2016
SECTOR = {"coal": "coal", "clinker": "cement"}
#: model.md: "every coefficient comes from the scenario or the unit table, with documented
#: defaults (0 where a term does not apply)"
SECTOR_DEFAULTS = {"resettlement_per_worker": 0.0, "exit_cost_per_capacity": {}, "redeployed_share": {},
                   "award_per_capacity": 0.0, "revenue_per_capacity": 0.0, "stranded_per_capacity": 0.0,
                   "service_life": None, "relocate_stranded_share_kept": 0.0, "award_products": None,
                   "award_base_share": 0.0, "award_nonstate_per_capacity": None, "award_nonstate_per_unit": None,
                   "merge_cost_per_capacity": 0.0, "merge_displaced_share": 0.0}
TOL = 1e-7


# --- random instances ---------------------------------------------------------------------------


def random_spec(seed: int) -> dict:
    """A tiny random scenario as plain data (units, projects, scenario dict), from a seed.

    Plain ``random`` rather than Hypothesis' own draws: every rule family shows up about half
    the time and values spread evenly, where Hypothesis' draws lean on the simplest values.
    """
    rnd = random.Random(seed)
    last = FIRST + rnd.randint(1, 2)
    years = list(range(FIRST, last + 1))
    n = rnd.randint(2, 4)
    units = []
    for i in range(n):
        loss = rnd.random() < 0.3
        units.append(dict(
            unit_id=f"U{i}", product=rnd.choice(["coal", "coal", "clinker"]),
            capacity=rnd.randint(10, 100), workers=rnd.randint(0, 50),
            region=rnd.choice(["R1", "R2"]), group=rnd.choice(["G1", "G2", "G3"]),
            relocatable=rnd.random() < 0.4, loss_making=loss, subsidised_loss=rnd.randint(1, 20) if loss else 0,
            exit_years=rnd.choice(["", "", "", "", "", "2016", "2017-2018", "2016;2018"]),
        ))
    ids = [u["unit_id"] for u in units]
    total = {p: sum(u["capacity"] for u in units if u["product"] == p) for p in ("coal", "clinker")}

    def sector_costs() -> dict:
        return {"resettlement_per_worker": float(rnd.randint(0, 5)),
                "exit_cost_per_capacity": {"close": float(rnd.randint(0, 10)), "relocate": float(rnd.randint(0, 10))},
                "redeployed_share": {"close": rnd.choice([0.0, 0.2, 0.5]), "relocate": rnd.choice([0.0, 0.5, 1.0])},
                "award_per_capacity": float(rnd.choice([0, 0, 5, 10, 15]))}

    scen: dict = {
        "first_year": FIRST, "last_year": last,
        "attrition": rnd.choice([0.0, 0.1, 0.25]),
        "ladder": {y: rnd.choice([0.7, 1.0, 1.1]) for y in years},
        "objective": {"jobs_weight": rnd.choice([0.0, 1.0, 10.0]), "fiscal_weight": rnd.choice([0.0, 1.0, 1.0]),
                      "discount_rate": rnd.choice([0.0, 0.05])},
        "sectors": {"coal": sector_costs(), "cement": sector_costs()},
    }

    def maybe() -> bool:
        return rnd.random() < 0.5

    if maybe():
        p = rnd.choice(["coal", "coal", "clinker"])
        t = {"name": "target", "product": p, "by": rnd.choice(years)}
        kind = rnd.choice(["at_least", "at_least", "at_most", "both"])
        lo = float(round(total[p] * rnd.uniform(0, 0.5))) if kind != "at_most" else None
        if kind != "at_least":
            t["at_most"] = float((lo or 0) + round(total[p] * rnd.uniform(0, 0.6)))
        if lo is not None:
            t["at_least"] = lo
        if rnd.random() < 0.2:
            t["where"] = {"all": [["region", "==", "R1"]]}
        # counts of units exited, drawn from their own stream so the other draws stay as they were
        more = random.Random(seed + 1_000_003)
        if more.random() < 0.5:
            n = sum(u["product"] == p for u in units)
            kind = more.choice(["count_at_least", "count_at_most", "both", "counts only"])
            lo = more.randint(1, n) if kind != "count_at_most" and n else None
            if kind != "count_at_least":
                t["count_at_most"] = more.randint(lo or 0, max(lo or 0, n - 1))
            if lo is not None:
                t["count_at_least"] = lo
            if kind == "counts only":
                t.pop("at_least", None)
                t.pop("at_most", None)
        scen["targets"] = [t]
    forced = None
    if maybe():
        forced = rnd.choice(ids)
        scen["mandatory"] = [{"name": "must go", "by": rnd.choice([*years, last]), "where": {"units": [forced]}}]
    if maybe():
        kept = forced if forced and rnd.random() < 0.1 else rnd.choice([u for u in ids if u != forced])
        scen["protected"] = [{"name": "kept", "where": {"units": [kept]}}]
    if maybe():
        scen["windows"] = [{"name": "window", "where": {"units": [rnd.choice(ids)]},
                            "years": sorted(rnd.sample(years, rnd.randint(1, len(years))))}]
    if maybe():
        close, relocate = [], []
        for u in rnd.sample(ids, 2):
            reloc = units[ids.index(u)]["relocatable"] and rnd.random() < 0.7
            (relocate if reloc else close).append(u)
        pkg = {"name": "pair", "required": rnd.random() < 0.3}
        if close:
            pkg["close"] = {"units": close}
        if relocate:
            pkg["relocate"] = {"units": relocate}
        if pkg["required"] and maybe():
            pkg["by"] = rnd.choice(years)
        scen["packages"] = [pkg]
    if maybe():
        p = rnd.choice(["coal", "coal", "clinker"])
        rule = {"name": "use", "product": p, "demand": {rnd.choice(years): float(round(total[p] * rnd.uniform(0.2, 0.8)))}}
        kind = rnd.choice(["cap", "floor", "both"])
        if kind in ("cap", "both"):
            rule["min_utilisation"] = rnd.choice([0.5, 0.8, 1.0])
        if kind in ("floor", "both"):
            rule["reserve"] = rnd.choice([0.0, 0.1])
        scen["utilisation"] = [rule]
    if maybe():
        scen["concentration"] = [{"name": "top", "product": rnd.choice(["coal", "clinker"]),
                                  "by": rnd.choice(["group", "firm"]), "top": rnd.randint(1, 2),
                                  "share": rnd.choice([0.5, 0.6, 0.8]), "years": [rnd.choice(years)]}]
    caps: dict = {}
    if maybe():
        caps["budget"] = {rnd.choice(years): float(rnd.randint(0, 1000))}
    if maybe():
        cap = {"name": "labour", "per_year": float(rnd.randint(0, 80))}
        if maybe():
            cap["regions"] = [rnd.choice(sorted({u["region"] for u in units}))]
        caps["workers"] = [cap]
    if caps:
        scen["caps"] = caps
    projects = []
    if rnd.random() < 0.3:
        projects.append(dict(project_id="P1", product=rnd.choice(["coal", "clinker"]), capacity=rnd.randint(10, 100),
                             year=rnd.choice(years), group=rnd.choice(["G1", "G2", "G4"]),
                             status=rnd.choice(["approved", "candidate"])))
    # some cost coefficients left out, drawn from their own stream: the documented defaults (0, no
    # redeployment) must price as brute force prices them
    omit = random.Random(seed + 2_000_003)
    for sector in list(scen["sectors"]):
        costs = scen["sectors"][sector]
        for key in list(costs):
            if omit.random() < 0.15:
                del costs[key]
            elif isinstance(costs[key], dict):  # one mode's figure left out
                for mode in list(costs[key]):
                    if omit.random() < 0.15:
                        del costs[key][mode]
        if omit.random() < 0.1:  # the sector left out altogether
            del scen["sectors"][sector]
    # revenue foregone and stranded value, from their own stream: each figure given or left to
    # its default, per sector and per unit (an empty cell takes the sector's figure)
    extra = random.Random(seed + 3_000_017)
    for costs in scen["sectors"].values():
        if extra.random() < 0.6:
            costs["revenue_per_capacity"] = float(extra.choice([0, 1, 2, 5]))
        if extra.random() < 0.6:
            costs["stranded_per_capacity"] = float(extra.choice([0, 2, 5, 10]))
        if extra.random() < 0.5:
            costs["service_life"] = float(extra.choice([5, 10, 20]))
        if extra.random() < 0.5:
            costs["relocate_stranded_share_kept"] = extra.choice([0.0, 0.5, 1.0])
    for u in units:
        if extra.random() < 0.5:
            u["opening_year"] = extra.randint(2000, 2017)
        if not u["loss_making"] and extra.random() < 0.25:
            u["fiscal_contribution"] = float(extra.randint(0, 30))
        if extra.random() < 0.25:
            u["stranded_value"] = float(extra.randint(0, 300))
    # the award as its rules pay it, and the fund, from their own stream: a base share, the
    # products that earn it, a non-state award per unit or per capacity, private units, a fund
    # over the plan or per year, and a budget on outlay before the award
    award = random.Random(seed + 4_000_037)
    for sector, costs in scen["sectors"].items():
        if award.random() < 0.4:
            costs["award_base_share"] = award.choice([0.5, 0.8, 1.0])
        if sector == "cement" and award.random() < 0.4:
            costs["award_products"] = award.choice([["cement"], ["clinker"]])
        kind = award.random()
        if kind < 0.25:
            costs["award_nonstate_per_unit"] = float(award.choice([0, 50, 120, 400]))
        elif kind < 0.5:
            costs["award_nonstate_per_capacity"] = float(award.choice([0, 2, 8, 20]))
    for u in units:
        if award.random() < 0.35:
            u["owner"] = "private"
    if award.random() < 0.25:
        scen.setdefault("caps", {})["award_fund"] = float(award.randint(0, 3000))
    if award.random() < 0.25:
        scen.setdefault("caps", {})["award_fund_per_year"] = {award.choice(years): float(award.randint(0, 1500))}
    if "budget" in scen.get("caps", {}) and award.random() < 0.4:
        scen["caps"]["budget_basis"] = "gross"
    return {"units": units, "scenario": scen, "projects": projects}


def instances():
    return st.integers(0, 2**32 - 1).map(random_spec)


# --- brute force, from model.md -------------------------------------------------------------------


def table_years(text: str, years: list[int]) -> set[int]:
    """The unit table's exit_years ('' = any; '2017-2018'; '2016;2018') within the plan."""
    if not text:
        return set(years)
    out: set[int] = set()
    for part in text.split(";"):
        if "-" in part:
            a, b = part.split("-")
            out |= set(range(int(a), int(b) + 1))
        else:
            out.add(int(part))
    return out & set(years)


def unit_options(spec: dict) -> dict[str, list]:
    """Each unit's choices: None (stay) or (year, mode), by rules 7 and 8 and the modes it allows."""
    scen = spec["scenario"]
    years = list(range(scen["first_year"], scen["last_year"] + 1))
    protected = {u for r in scen.get("protected", []) for u in r["where"]["units"]}
    out = {}
    for u in spec["units"]:
        uid = u["unit_id"]
        ys = table_years(u["exit_years"], years)
        for w in scen.get("windows", []):
            if uid in w["where"]["units"]:
                ys &= set(w["years"])
        if uid in protected:
            ys = set()
        modes = ["close", "relocate"] if u["relocatable"] else ["close"]
        out[uid] = [None] + [(y, m) for y in sorted(ys) for m in modes]
        for r in scen.get("mergers", []):  # a merger: (year, "merge", acquirer), never into its own group
            if uid in r["where"]["units"]:
                out[uid] += [(y, "merge", g) for y in r.get("years", years) for g in r["acquirers"]
                             if g != u["group"]]
    return out


def split(choice: dict) -> tuple[dict, dict]:
    """A choice per unit as (the exits: None or (year, mode); the mergers: {unit: (year, acquirer)})."""
    plan = {u: c if c is None or len(c) == 2 else None for u, c in choice.items()}
    merges = {u: (c[0], c[2]) for u, c in choice.items() if c is not None and len(c) == 3}
    return plan, merges


def remaining(spec: dict, plan: dict, built: bool, product: str, year: int, key: str | None = None,
              merges: dict | None = None) -> dict:
    """Capacity of a product left in a year, by holder (``key``) or in total (key None → {None: total});
    by group, a unit merged in or before the year is its acquirer's."""
    left: dict = {}
    merges = merges or {}
    for u in spec["units"]:
        if u["product"] != product:
            continue
        holder = u.get(key, f"firm {u['unit_id']}") if key == "group" else (
            f"firm {u['unit_id']}" if key == "firm" else None)
        if key == "group" and u["unit_id"] in merges and merges[u["unit_id"]][0] <= year:
            holder = merges[u["unit_id"]][1]
        left.setdefault(holder, 0.0)
        exit_ = plan[u["unit_id"]]
        if exit_ is None or exit_[0] > year:
            left[holder] += u["capacity"]
    for p in spec["projects"]:
        if p["product"] == product and built and p["year"] <= year:
            holder = p["group"] if key == "group" else ("firm P1" if key == "firm" else None)
            left[holder] = left.get(holder, 0.0) + p["capacity"]
    return left


def contribution(c: dict, u: dict) -> float:
    """F_u: the unit's fiscal_contribution, else revenue_per_capacity × capacity; 0 if loss-making."""
    if u["loss_making"]:
        return 0.0
    return u["fiscal_contribution"] if "fiscal_contribution" in u else c["revenue_per_capacity"] * u["capacity"]


def written_off(c: dict, u: dict, y: int, mode: str) -> float:
    """(1 − χ_{s,m}) V_{u,y}: the stranded value of an exit in y by mode, the relocation's share kept."""
    if "stranded_value" in u:
        value = u["stranded_value"]
    else:
        value = c["stranded_per_capacity"] * u["capacity"]
        if c["service_life"] is not None and "opening_year" in u:
            value *= max(0.0, 1 - max(0, y - u["opening_year"]) / c["service_life"])
    return value * (1 - (c["relocate_stranded_share_kept"] if mode == "relocate" else 0.0))


def new_terms(spec: dict, plan: dict) -> tuple[float, float]:
    """Present values (万元) of the revenue foregone and the stranded value written off."""
    scen = spec["scenario"]
    rate = scen["objective"]["discount_rate"]
    years = list(range(scen["first_year"], scen["last_year"] + 1))
    foregone = stranded = 0.0
    for u in spec["units"]:
        c = {**SECTOR_DEFAULTS, **scen["sectors"].get(SECTOR[u["product"]], {})}
        if plan[u["unit_id"]] is None:
            continue
        y, mode = plan[u["unit_id"]]
        foregone += sum(contribution(c, u) * (1 + rate) ** -(yy - FIRST) for yy in years if yy >= y)
        stranded += written_off(c, u, y, mode) * (1 + rate) ** -(y - FIRST)
    return foregone, stranded


def award_of(c: dict, u: dict, y: int, ladder: float) -> float:
    """万元 of award an exit in y earns: the rate a_u (0 off the award's products; a non-state unit's
    own figure), base share unweighted, the rest × the ladder, on the whole capacity."""
    if c["award_products"] is not None and u["product"] not in c["award_products"]:
        return 0.0
    rate = c["award_per_capacity"]
    if u.get("owner", "state") != "state":
        if c["award_nonstate_per_unit"] is not None:
            rate = c["award_nonstate_per_unit"] / u["capacity"]
        elif c["award_nonstate_per_capacity"] is not None:
            rate = c["award_nonstate_per_capacity"]
    b = c["award_base_share"]
    return (b * rate + (1 - b) * ladder * rate) * u["capacity"]


def awards(spec: dict, plan: dict) -> dict[int, float]:
    """万元 of award paid per year (what the fund pays)."""
    scen = spec["scenario"]
    paid = {y: 0.0 for y in range(scen["first_year"], scen["last_year"] + 1)}
    for u in spec["units"]:
        if plan[u["unit_id"]] is not None:
            y = plan[u["unit_id"]][0]
            c = {**SECTOR_DEFAULTS, **scen["sectors"].get(SECTOR[u["product"]], {})}
            paid[y] += award_of(c, u, y, scen["ladder"][y])
    return paid


def price(spec: dict, plan: dict, merges: dict | None = None
          ) -> tuple[float, dict[int, float], dict[tuple[str, int], float]]:
    """(objective, undiscounted outlay by year, displaced workers by (region, year)) of a plan."""
    scen = spec["scenario"]
    years = list(range(scen["first_year"], scen["last_year"] + 1))
    outlay = {y: 0.0 for y in years}
    displaced: dict = {}
    jobs = 0.0
    for u in spec["units"]:
        c = {**SECTOR_DEFAULTS, **scen["sectors"].get(SECTOR[u["product"]], {})}
        exit_ = plan[u["unit_id"]]
        if merges and u["unit_id"] in merges:  # merged in y: a share of its workers, an outlay per capacity
            y = merges[u["unit_id"]][0]
            d = u["workers"] * (1 - scen["attrition"]) ** (y - scen["first_year"]) * c["merge_displaced_share"]
            jobs += d
            displaced[u["region"], y] = displaced.get((u["region"], y), 0.0) + d
            outlay[y] += c["resettlement_per_worker"] * d + c["merge_cost_per_capacity"] * u["capacity"]
        if u["loss_making"]:
            for y in years:
                if exit_ is None or y < exit_[0]:
                    outlay[y] += u["subsidised_loss"]
        if exit_ is None:
            continue
        y, mode = exit_
        for yy in years:  # the revenue foregone, from the exit year on
            if yy >= y:
                outlay[yy] += contribution(c, u)
        t = y - scen["first_year"]
        d = u["workers"] * (1 - scen["attrition"]) ** t * (1 - c["redeployed_share"].get(mode, 0.0))
        jobs += d
        displaced[u["region"], y] = displaced.get((u["region"], y), 0.0) + d
        outlay[y] += (c["resettlement_per_worker"] * d + c["exit_cost_per_capacity"].get(mode, 0.0) * u["capacity"]
                      - award_of(c, u, y, scen["ladder"][y]) + written_off(c, u, y, mode))
    w = scen["objective"]
    fiscal = sum(o * (1 + w["discount_rate"]) ** -(y - scen["first_year"]) for y, o in outlay.items())
    return w["jobs_weight"] * jobs + w["fiscal_weight"] * fiscal, outlay, displaced


def le(a: float, b: float) -> bool:
    return a <= b + TOL * max(1.0, abs(b))


def feasible(spec: dict, plan: dict, built: bool, merges: dict | None = None) -> bool:
    """Every rule of model.md (no replacement here), checked on one plan."""
    scen = spec["scenario"]
    last = scen["last_year"]
    units = {u["unit_id"]: u for u in spec["units"]}

    def gone_by(uid: str, year: int) -> bool:
        return plan[uid] is not None and plan[uid][0] <= year

    for r in scen.get("mandatory", []):
        if not all(gone_by(u, r["by"]) for u in r["where"]["units"]):
            return False
    for p in scen.get("packages", []):
        members = {u: "close" for u in p.get("close", {}).get("units", [])}
        members |= {u: "relocate" for u in p.get("relocate", {}).get("units", [])}
        chosen = [plan[u] for u in members]
        if all(c is None for c in chosen):
            if p["required"]:
                return False
            continue
        if any(c is None for c in chosen) or len({c[0] for c in chosen}) != 1:
            return False
        if any(plan[u][1] != m for u, m in members.items()):
            return False
        if p["required"] and chosen[0][0] > p.get("by", last):
            return False
    for t in scen.get("targets", []):
        counted = sum(u["capacity"] for uid, u in units.items()
                      if u["product"] == t["product"] and gone_by(uid, t["by"])
                      and ("where" not in t or u["region"] == "R1"))
        if "at_least" in t and not le(t["at_least"], counted):
            return False
        if "at_most" in t and not le(counted, t["at_most"]):
            return False
        exited = sum(1 for uid, u in units.items()
                     if u["product"] == t["product"] and gone_by(uid, t["by"])
                     and ("where" not in t or u["region"] == "R1"))
        if exited < t.get("count_at_least", 0) or exited > t.get("count_at_most", len(units)):
            return False
    for r in scen.get("utilisation", []):
        for y, d in r["demand"].items():
            left = sum(remaining(spec, plan, built, r["product"], y).values())
            if "min_utilisation" in r and not le(left, d / r["min_utilisation"]):
                return False
            if "reserve" in r and not le(d * (1 + r["reserve"]), left):
                return False
    for r in scen.get("concentration", []):
        for y in r["years"]:
            held = remaining(spec, plan, built, r["product"], y, r["by"], merges)
            total = sum(held.values())
            top = sum(sorted(held.values(), reverse=True)[: r["top"]])
            if not le(r["share"] * total, top):
                return False
    _, outlay, displaced = price(spec, plan, merges)
    caps = scen.get("caps", {})
    paid = awards(spec, plan)
    for y, b in caps.get("budget", {}).items():
        spent = outlay[y] + paid[y] if caps.get("budget_basis") == "gross" else outlay[y]
        if not le(spent, b):
            return False
    if "award_fund" in caps and not le(sum(paid.values()), caps["award_fund"]):
        return False
    for y, f in caps.get("award_fund_per_year", {}).items():
        if not le(paid[y], f):
            return False
    for cap in caps.get("workers", []):
        regions = cap.get("regions") or {u["region"] for u in spec["units"]}
        for (region, _y), d in displaced.items():
            if region in regions and not le(d, cap["per_year"]):
                return False
    return True


def build_choices(spec: dict) -> list[bool]:
    """Whether the project is built: as approved, or either way for a candidate (none: not built)."""
    if not spec["projects"]:
        return [False]
    return [True] if spec["projects"][0]["status"] == "approved" else [False, True]


def brute_force(spec: dict) -> float | None:
    """The least objective over every feasible plan, or None when no plan is feasible."""
    options = unit_options(spec)
    ids = list(options)
    builds = build_choices(spec)
    best = None
    for combo in itertools.product(*(options[u] for u in ids)):
        plan, merges = split(dict(zip(ids, combo, strict=False)))
        cost = None
        for built in builds:
            if feasible(spec, plan, built, merges):
                cost = price(spec, plan, merges)[0]
                break
        if cost is not None and (best is None or cost < best):
            best = cost
    return best


def optimum(spec: dict, best: float) -> dict:
    """A feasible plan whose price is the brute-force minimum ``best``."""
    options = unit_options(spec)
    for combo in itertools.product(*options.values()):
        plan = dict(zip(options, combo, strict=False))
        if any(feasible(spec, plan, b) for b in build_choices(spec)) and price(spec, plan)[0] <= best + TOL * max(1, abs(best)):
            return plan
    raise AssertionError("no plan at the minimum")


# --- the property ---------------------------------------------------------------------------------


def load_spec(spec: dict, folder: Path, make_instance):
    scen = {"name": "random", **spec["scenario"]}
    return make_instance(folder, spec["units"], scen, spec["projects"] or None)


def expected_path(spec: dict) -> str:
    """How a solve with blocks on must go about the instance, from blocks.py's rules: the products
    fall into blocks unless a package ties them together ("blocks"); a yearly budget or a fund sends a
    model that would split to the coupled solve ("coupled"); one product, or products tied by a
    package, make one model ("whole")."""
    scen = spec["scenario"]
    product = {u["unit_id"]: u["product"] for u in spec["units"]}
    products = set(product.values()) | {p["product"] for p in spec["projects"]}
    tied = any(len({product[u] for part in ("close", "relocate") for u in p.get(part, {}).get("units", [])}) > 1
               for p in scen.get("packages", []))
    if len(products) < 2 or tied:
        return "whole"
    caps = scen.get("caps", {})
    return "coupled" if caps.get("budget") or "award_fund" in caps or caps.get("award_fund_per_year") else "blocks"


def solve_matching(best: float | None, inst, path: str = "whole"):
    """Solve ``inst`` both ways — with blocks on, by the ``path`` expected of it (see
    :func:`expected_path`), and whole with blocks off — and check each against the brute-force
    optimum ``best``: infeasible when brute force found no plan (then None), else the same
    objective (then the result with blocks on)."""
    assert bool(product_blocks(inst)) == (path == "blocks")
    assert decompose.coupled(inst) == (path == "coupled")
    if best is None:
        for blocks in (True, False):
            with pytest.raises(InfeasibleError):
                solve_instance(inst, with_duals=False, blocks=blocks)
        return None
    res = solve_instance(inst, with_duals=False)
    whole = solve_instance(inst, with_duals=False, blocks=False)
    # the outcome's message names the path: "N independent blocks, …" or "coupled solve: …";
    # HiGHS's own word for the whole model
    by_parts = ("independent blocks" in res.outcome.message, res.outcome.message.startswith("coupled solve"))
    assert "independent blocks" not in whole.outcome.message and not whole.outcome.message.startswith("coupled")
    if path == "blocks" and inst.scenario.caps.workers:
        # the blocks keep each its own share of a joint worker cap; when their plans together
        # break it, the whole model is solved instead
        assert not by_parts[1], res.outcome.message
    else:
        assert by_parts == (path == "blocks", path == "coupled"), (path, res.outcome.message)
    for r in (res, whole):
        assert r.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    return res


def plan_of(res) -> dict:
    """unit_id -> None or (year, mode) from a result's schedule."""
    s = res.schedule
    return {u: None if pd.isna(y) else (int(y), m) for u, y, m in zip(s["unit_id"], s["exit_year"], s["mode"], strict=True)}


def solved_and_checked(spec, best: float, make_instance):
    """The MIP's result on ``spec`` (None when it has no plan, as the brute force found), with the
    independent checker pricing the plan it returns as the brute force does."""
    with tempfile.TemporaryDirectory() as folder:
        inst = load_spec(spec, Path(folder), make_instance)
        res = solve_matching(best, inst, expected_path(spec))
        if res is None:
            return None
        res.schedule.to_csv(Path(folder) / "plan.csv", index=False)
        approved = set(res.new_capacity.loc[res.new_capacity["built"], "project_id"]) if not res.new_capacity.empty \
            else set()
        checked = check_plan(inst, read_plan(Path(folder) / "plan.csv", inst), approved)
        assert checked.ok, checked.violations
        assert checked.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    return res


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=instances())
def test_mip_equals_brute_force(spec, make_instance):
    best = brute_force(spec)
    res = solved_and_checked(spec, best, make_instance)
    if res is None:
        return
    plan = plan_of(res)
    built = bool(res.new_capacity["built"].any()) if not res.new_capacity.empty else False
    assert feasible(spec, plan, built), plan
    objective, outlay, _ = price(spec, plan)
    assert objective == pytest.approx(res.objective, rel=1e-6, abs=1e-6)
    # the reports add up the same plan the same way
    assert res.schedule["workers_displaced"].sum() == pytest.approx(res.jobs, abs=1e-6)
    summary = res.summary
    assert summary.groupby("year")["outlay"].sum().to_dict() == pytest.approx(outlay, abs=1e-6)
    foregone, stranded = new_terms(spec, plan)
    assert res.schedule["revenue_foregone"].sum() == pytest.approx(foregone, abs=1e-6)
    assert res.schedule["stranded_value"].sum() == pytest.approx(stranded, abs=1e-6)
    for (product, year), left in summary.set_index(["product", "year"])["capacity_left"].items():
        assert left == pytest.approx(sum(remaining(spec, plan, built, product, year).values()))


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(spec=instances())
def test_count_target_that_binds_mip_equals_brute_force(spec, make_instance):
    """A count on a target, set one unit past what the optimum without it exits, so it binds."""
    spec["scenario"].pop("targets", None)
    # Where no unit may exit at all, the plan is empty whatever the count; that case says
    # nothing about counts and is left out here.
    options = unit_options(spec)
    plans = (dict(zip(options, combo, strict=False)) for combo in itertools.product(*options.values()))
    assume(any(any(plan.values()) and (feasible(spec, plan, False) or feasible(spec, plan, True))
               for plan in plans))
    with tempfile.TemporaryDirectory() as folder:
        free = solve_matching(brute_force(spec), load_spec(spec, Path(folder), make_instance),
                              expected_path(spec))
    if free is None:
        return
    s = free.schedule
    product = s["product"].iloc[0]
    of_product = s[s["product"] == product]
    n, k = len(of_product), int(of_product["exit_year"].notna().sum())
    last = spec["scenario"]["last_year"]
    target = {"name": "count", "product": product, "by": last}
    target.update({"count_at_least": k + 1} if k < n else {"count_at_most": k - 1})
    spec["scenario"]["targets"] = [target]
    best = brute_force(spec)
    with tempfile.TemporaryDirectory() as folder:
        res = solve_matching(best, load_spec(spec, Path(folder), make_instance), expected_path(spec))
    if res is not None:
        assert feasible(spec, plan_of(res), bool(res.new_capacity["built"].any())
                        if not res.new_capacity.empty else False)


def with_mergers(spec: dict, seed: int) -> dict:
    """``spec`` with a [[mergers]] rule of one or two candidates into groups of the table, and the
    merger figures per sector, from their own stream (a concentration rule by group, often)."""
    rnd = random.Random(seed + 5_000_011)
    scen = spec["scenario"]
    years = list(range(scen["first_year"], scen["last_year"] + 1))
    ids = [u["unit_id"] for u in spec["units"]]
    groups = sorted({u["group"] for u in spec["units"]})
    rule = {"name": "merge", "where": {"units": rnd.sample(ids, rnd.randint(1, 2))},
            "acquirers": rnd.sample(groups, rnd.randint(1, min(2, len(groups))))}
    if rnd.random() < 0.5:
        rule["years"] = sorted(rnd.sample(years, rnd.randint(1, len(years))))
    scen["mergers"] = [rule]
    for costs in scen["sectors"].values():
        costs["merge_cost_per_capacity"] = float(rnd.choice([0, 0.5, 2, 5]))
        costs["merge_displaced_share"] = rnd.choice([0.0, 0.1, 0.3])
    if rnd.random() < 0.5:  # the concentration rule alone, half the time, so that it is what binds
        for key in ("targets", "utilisation", "mandatory", "packages", "caps"):
            scen.pop(key, None)
    if rnd.random() < 0.8:  # on a candidate's product, where a merger can lift the share
        product = next(u["product"] for u in spec["units"] if u["unit_id"] == rule["where"]["units"][0])
        scen["concentration"] = [{"name": "top", "product": product, "by": "group",
                                  "top": 1, "share": rnd.choice([0.6, 0.7, 0.8]),
                                  "years": [rnd.choice(years)]}]
    return spec


def merges_of(res) -> dict:
    """unit_id -> (merger year, acquirer) from a result's schedule."""
    s = res.schedule
    return {u: (int(y), g) for u, m, y, g in zip(s["unit_id"], s["mode"], s["merge_year"], s["acquirer"], strict=True)
            if m == "merge"}


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_mergers_mip_equals_brute_force(seed, make_instance):
    """Mergers (docs/model.md#mergers) enumerated with the exits: each candidate may also merge in
    one of the rule's years into one of its acquirers; the MIP, the checker and the brute force agree."""
    spec = with_mergers(random_spec(seed), seed)
    best = brute_force(spec)
    res = solved_and_checked(spec, best, make_instance)
    if res is None:
        return
    plan, merges = plan_of(res), merges_of(res)
    built = bool(res.new_capacity["built"].any()) if not res.new_capacity.empty else False
    assert feasible(spec, plan, built, merges), (plan, merges)
    objective, outlay, _ = price(spec, plan, merges)
    assert objective == pytest.approx(res.objective, rel=1e-6, abs=1e-6)
    assert res.schedule["workers_displaced"].sum() == pytest.approx(res.jobs, abs=1e-6)
    assert res.summary.groupby("year")["outlay"].sum().to_dict() == pytest.approx(outlay, abs=1e-6)


def test_merger_instances_merge_sometimes():
    """The merger instances are not all alike: in some the optimum merges a unit, in some the
    mergers change the optimum (a merger beats the exits or the stay it replaces)."""
    merged = moved = 0
    for seed in range(60):
        spec = with_mergers(random_spec(seed), seed)
        best = brute_force(spec)
        if best is None:
            continue
        options = unit_options(spec)
        for combo in itertools.product(*options.values()):
            plan, merges = split(dict(zip(options, combo, strict=False)))
            if merges and any(feasible(spec, plan, b, merges) for b in build_choices(spec)) \
                    and price(spec, plan, merges)[0] <= best + TOL * max(1, abs(best)):
                merged += 1
                break
        spec["scenario"].pop("mergers")
        alone = brute_force(spec)
        if alone is None or alone > best + 1e-6:
            moved += 1
    assert merged >= 5 and moved >= 3, (merged, moved)


def test_generator_covers_both_outcomes():
    """The random instances are neither all feasible nor all infeasible, some pay to exit; they
    take each path (blocks, coupled, whole) and leave cost coefficients to their defaults, a
    figure, a mode's figure or a whole sector at a time."""
    seen = set()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
    @given(spec=instances())
    def collect(spec):
        best = brute_force(spec)
        seen.add("infeasible" if best is None else "negative" if best < 0 else "feasible")
        seen.add(expected_path(spec))
        sectors = spec["scenario"]["sectors"]
        if len(sectors) < len(set(SECTOR.values())):
            seen.add("sector left out")
        if any(len(costs) < len(SECTOR_DEFAULTS) for costs in sectors.values()):
            seen.add("figure left out")
        if any(isinstance(v, dict) and len(v) < 2 for costs in sectors.values() for v in costs.values()):
            seen.add("mode left out")
        if best is not None:  # the new terms take part in some optimum, each from a sector figure and a cell
            foregone, stranded = new_terms(spec, optimum(spec, best))
            units = spec["units"]
            if foregone > 0:
                seen.add("revenue foregone")
            if stranded > 0:
                seen.add("stranded value")
            if any("fiscal_contribution" in u for u in units) and any("stranded_value" in u for u in units):
                seen.add("unit figures")
            if any(c.get("service_life") for c in sectors.values()) and any("opening_year" in u for u in units):
                seen.add("age term")
            plan = optimum(spec, best)
            paid = awards(spec, plan)
            if any(c.get("award_base_share") for c in sectors.values()) and sum(paid.values()) > 0:
                seen.add("base and ladder")
            if any(u.get("owner") == "private" and plan[u["unit_id"]] is not None for u in units) and any(
                    "award_nonstate_per_unit" in c or "award_nonstate_per_capacity" in c for c in sectors.values()):
                seen.add("non-state award")
            caps = spec["scenario"].get("caps", {})
            if "award_fund" in caps and sum(paid.values()) > 0:
                seen.add("fund")
            if caps.get("budget_basis") == "gross":
                seen.add("gross budget")

    collect()
    assert seen == {"infeasible", "negative", "feasible", "blocks", "coupled", "whole", "sector left out",
                    "figure left out", "mode left out", "revenue foregone", "stranded value", "unit figures",
                    "age term", "base and ladder", "non-state award", "fund", "gross budget"}


# --- replacement: schedules enumerated, the indicator split by an LP --------------------------------


@dataclass
class RepCase:
    """A coal-only instance with replacement: units (cap, workers, eligible), projects, a target."""

    caps: list[int]
    workers: list[int]
    eligible: list[bool]
    projects: list[tuple[int, int, str]]  # (capacity, year, status)
    ratio: float
    target: tuple[int, float | None, float | None] | None  # (by, at_least, at_most)
    award: float
    ladder: dict[int, float]
    discount: float
    last: int


def indicator_lp(case: RepCase, plan: dict[int, int | None], built: list[bool]) -> float | None:
    """Least discounted award given up on indicators for a fixed plan, or None when none works.

    Variables ind_u ∈ [0, cap_u] for retired eligible units. Rules: for each year y, indicators
    retired by y ≥ ratio × new capacity built by y; in all, indicators ≤ ratio × all new capacity
    built (only the part used is an indicator); a target counts capacity − indicator.
    """
    import highspy

    years = range(FIRST, case.last + 1)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    ind = {}
    for u, y in plan.items():
        if y is not None and case.eligible[u]:
            cost = case.award * case.ladder[y] * (1 + case.discount) ** -(y - FIRST)
            ind[u] = h.addVariable(lb=0.0, ub=float(case.caps[u]), obj=cost)
    for y in years:
        need = case.ratio * sum(c for (c, yy, _), b in zip(case.projects, built, strict=False) if b and yy <= y)
        have = [ind[u] for u in ind if plan[u] <= y]
        if need > 0:
            if not have:
                return None
            h.addConstr(sum(have[1:], have[0]) >= need)
    if ind:
        total_need = case.ratio * sum(c for (c, _, _), b in zip(case.projects, built, strict=False) if b)
        every = list(ind.values())
        h.addConstr(sum(every[1:], every[0]) <= total_need)
    if case.target is not None:
        by, lo, hi = case.target
        gone = [u for u, y in plan.items() if y is not None and y <= by]
        cap = sum(case.caps[u] for u in gone)
        ivars = [ind[u] for u in gone if u in ind]
        if not ivars:
            if (lo is not None and cap < lo - TOL) or (hi is not None and cap > hi + TOL):
                return None
        else:
            counted = sum(ivars[1:], ivars[0])
            if lo is not None:
                h.addConstr(counted <= cap - lo)
            if hi is not None:
                h.addConstr(counted >= cap - hi)
    if not ind:
        return 0.0
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return h.getInfo().objective_function_value


def replacement_brute_force(case: RepCase) -> float | None:
    years = list(range(FIRST, case.last + 1))
    n = len(case.caps)
    choices = [[False, True] if s == "candidate" else [True] for (_, _, s) in case.projects]
    best = None
    for combo in itertools.product([None, *years], repeat=n):
        plan = dict(enumerate(combo))
        jobs = sum(case.workers[u] for u, y in plan.items() if y is not None)
        award = sum(case.award * case.ladder[y] * (1 + case.discount) ** -(y - FIRST) * case.caps[u]
                    for u, y in plan.items() if y is not None)
        for built in itertools.product(*choices):
            lost = indicator_lp(case, plan, list(built))
            if lost is None:
                continue
            cost = jobs - award + lost
            if best is None or cost < best - 1e-12:
                best = cost
    return best


@st.composite
def replacement_cases(draw) -> RepCase:
    last = FIRST + draw(st.integers(1, 2))
    years = list(range(FIRST, last + 1))
    n = draw(st.integers(2, 4))
    projects = [(draw(st.integers(10, 80)), draw(st.sampled_from(years)),
                 draw(st.sampled_from(["approved", "candidate"]))) for _ in range(draw(st.integers(1, 2)))]
    target = None
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["at_least", "at_most", "both"]))
        lo = float(draw(st.integers(0, 150))) if kind != "at_most" else None
        hi = float((lo or 0) + draw(st.integers(0, 150))) if kind != "at_least" else None
        target = (draw(st.sampled_from(years)), lo, hi)
    return RepCase(
        caps=[draw(st.integers(10, 100)) for _ in range(n)],
        workers=[draw(st.integers(0, 50)) for _ in range(n)],
        eligible=[draw(st.booleans()) or i == 0 for i in range(n)],
        projects=projects, ratio=draw(st.sampled_from([1.2, 1.25, 1.5])), target=target,
        award=float(draw(st.integers(0, 10))), ladder={y: draw(st.sampled_from([0.7, 1.0, 1.1])) for y in years},
        discount=draw(st.sampled_from([0.0, 0.05])), last=last)


def replacement_instance(case: RepCase, folder: Path, make_instance):
    units = [dict(unit_id=f"U{i}", capacity=c, workers=w, indicator_eligible=e)
             for i, (c, w, e) in enumerate(zip(case.caps, case.workers, case.eligible, strict=False))]
    projects = [dict(project_id=f"P{j}", capacity=c, year=y, status=s) for j, (c, y, s) in enumerate(case.projects)]
    scen = {"last_year": case.last, "ladder": case.ladder,
            "objective": {"jobs_weight": 1.0, "fiscal_weight": 1.0, "discount_rate": case.discount},
            "sectors": {"coal": {"award_per_capacity": case.award}},
            "replacement": [{"product": "coal", "ratio": case.ratio}]}
    if case.target is not None:
        by, lo, hi = case.target
        t = {"name": "target", "product": "coal", "by": by}
        if lo is not None:
            t["at_least"] = lo
        if hi is not None:
            t["at_most"] = hi
        scen["targets"] = [t]
    return make_instance(folder, units, scen, projects)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=replacement_cases())
def test_replacement_mip_equals_brute_force(case, make_instance):
    best = replacement_brute_force(case)
    with tempfile.TemporaryDirectory() as folder:
        res = solve_matching(best, replacement_instance(case, Path(folder), make_instance), "whole")
    if res is None:
        return
    s = res.schedule
    assert (s["counted"] + s["indicator"]).where(s["exit_year"].notna(), 0).sum() == pytest.approx(
        s.loc[s["exit_year"].notna(), "capacity"].sum())
    assert s.loc[~s["unit_id"].isin([f"U{i}" for i, e in enumerate(case.eligible) if e]), "indicator"].sum() == 0
