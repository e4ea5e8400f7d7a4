"""Print every Gansu figure the README quotes, as a run gives it now, with where it is quoted.

    .venv/bin/python tests/regression/readme_figures.py [--steps]

Runs the README's Gansu commands (baseline, realised, check, compare, the pins example) in a
temporary copy of the repository and prints each figure next to the README section and the
words it stands in. With ``--steps`` it also solves the variants behind the two step tables:
the baseline with its closure criteria added one at a time ("The rules"), and the realised file
built up block by block ("What actually happened"). Nothing in the repository is written.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
BASE = "models/gansu_2016.toml"
REAL = "models/gansu_2016_realised.toml"
PINS = ["--keep", "COAL-S008", "--exit", "COAL-S101=2017", "--out", "gansu_2016_pins"]


def copy_repo(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for f in filter(None, listed.decode("utf-8").split("\0")):
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)


def exitopt(repo: Path, *args: str) -> str:
    exe = Path(sys.executable).parent / "exitopt"
    argv = [str(exe)] if exe.is_file() else [sys.executable, "-c", "from exitopt.cli import main; main()"]
    done = subprocess.run([*argv, *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    if done.returncode != 0:
        sys.exit(f"exitopt {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def row(text: str, first: str) -> list[str]:
    """The cells of the console table row that starts with ``first``."""
    line = next(line for line in text.splitlines() if line.strip().startswith(first + " "))
    return [c.strip() for c in re.split(r"[│┃]", line)[1:]]


def headline(text: str) -> tuple[str, str, str]:
    """(objective, jobs, fiscal) as the first two lines of `exitopt solve` print them."""
    m = re.search(r"objective ([\d,.]+)\njobs ([\d,]+) persons displaced; fiscal ([\d,.-]+) 万元", text)
    return m.groups()


def coal_years(text: str) -> dict[str, str]:
    """Coal exits per year of the console table: {year: "万吨 (mines)"}."""
    header = next(line for line in text.splitlines() if line.strip().startswith("product "))
    years = [c.strip() for c in re.split(r"[│┃]", header)[1:]]
    return {y: c for y, c in zip(years, row(text, "coal"), strict=False) if c}


def coal_summary(repo: Path, run: str) -> str:
    """Revenue foregone, coal exited by 2018 and in all, and the state-owned part by 2018 (schedule.csv)."""
    s = pd.read_csv(repo / run / "schedule.csv", encoding="utf-8-sig")
    owner = pd.read_csv(repo / "data/gansu/units.csv", encoding="utf-8-sig").set_index("unit_id")["owner"]
    coal = s[(s["sector"] == "coal") & s["exit_year"].notna()]
    by18 = coal[coal["exit_year"] <= 2018]
    state = by18[by18["unit_id"].map(owner) == "state"]
    rf = s["revenue_foregone"].sum()
    return (f"revenue foregone {rf:,.1f} 万元; coal by 2018 {by18['capacity'].sum():,.0f} ({len(by18)} mines), "
            f"in all {coal['capacity'].sum():,.0f} ({len(coal)} mines); "
            f"state-owned by 2018 {state['capacity'].sum():,.0f} ({len(state)} mines)")


def blocks(text: str) -> list[str]:
    """The [[...]] tables of a TOML text, each with the lines up to the next table or section."""
    return re.findall(r"(?ms)^\[\[.*?(?=^\[|^# ----|\Z)", text)


def named(text: str, name: str) -> str:
    return next(b for b in blocks(text) if re.search(rf'(?m)^name = "{re.escape(name)}"', b))


def solve_text(repo: Path, text: str, label: str) -> str:
    path = repo / "models" / f"_step_{label}.toml"
    path.write_text(text, encoding="utf-8")
    objective, jobs, fiscal = headline(exitopt(repo, "solve", str(path.relative_to(repo)), "--out",
                                               f"_step_{label}", "--force"))
    return f"{objective} ({jobs} persons, {fiscal} 万元)"


def criteria_steps(repo: Path) -> None:
    """'The rules': the baseline without its closure criteria, then with them one at a time."""
    text = (repo / BASE).read_text(encoding="utf-8")
    safety, steel = named(text, "mines without safe-production conditions"), named(text, "sub-standard steel shut")
    works = [named(text, "converters need the blast furnaces of their works"),
             named(text, "blast furnaces need the converters of their works")]
    ban = re.search(r'(?m)^ban = \[.*\]$', text).group(0)

    def without(*parts: str) -> str:
        out = text
        for part in parts:
            out = out.replace(part, "")
        return out

    print("\n## The rules, 'The plan's closure criteria in the Gansu baseline' (objective, jobs, fiscal)")
    variants = [("no criteria (`They move the optimum from …`)", without(safety, steel, *works).replace(ban, "ban = []")),
                ("the steel ban alone", without(safety, steel, *works)),
                ("… and the safety-failing mines", without(steel, *works)),
                ("… and the sub-standard steel rule", without(*works)),
                ("the works links without the steel rule", without(steel))]
    for n, (label, variant) in enumerate(variants):
        print(f"  {label}: {solve_text(repo, variant, f'rules{n}')}")


def realised_steps(repo: Path) -> None:
    """'What actually happened': the realised file built up block by block (the step table)."""
    text = (repo / REAL).read_text(encoding="utf-8")
    head = text[:text.index("# ---- Realised coal exits")]
    yearly = [b for b in blocks(text) if b.startswith("[[targets]]") and "realised coal exits" in b]
    counts = "".join(yearly)
    capacities = re.sub(r"(?m)^count_at_least = .*\n", "", counts)
    named_ = named(text, "named 2017 exits") + named(text, "named 2017 exits in 2017")
    reserve = named(text, "reserve mines in 2018")
    yugang = named(text, "Yugang phase 1 iron gone by 2016") + named(text, "Yugang phase 1 steel gone by 2016")
    steps = [("reserve mines may wait until 2018 (rule 6 `by = 2018`)", head),
             ("… and exit in 2018 exactly (the window)", head + reserve),
             ("… and the yearly capacities", head + reserve + capacities),
             ("… and the yearly mine counts", head + reserve + counts),
             ("… and the four named mines in 2017", head + reserve + counts + named_),
             ("… and Yugang phase 1 gone by 2016 (the realised file)", head + reserve + counts + named_ + yugang)]
    print("\n## What actually happened, step table (objective, jobs, fiscal)")
    for n, (label, variant) in enumerate(steps):
        print(f"  {label}: {solve_text(repo, variant, f'real{n}')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", action="store_true", help="also solve the variants behind the step tables")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="readme_figures_") as tmp:
        repo = Path(tmp)
        copy_repo(repo)
        base = exitopt(repo, "solve", BASE, "--force")
        real = exitopt(repo, "solve", REAL, "--force")
        check = exitopt(repo, "check", REAL, "gansu_2016_realised/schedule.csv",
                        "--projects", "gansu_2016_realised/new_capacity.csv")
        comp = exitopt(repo, "compare", "gansu_2016", "gansu_2016_realised", "--out", "realised_vs_baseline.csv")
        pins = exitopt(repo, "solve", BASE, *PINS)

        b, r = headline(base), headline(real)
        print("## Baseline (Quick start; The rules; Windows step 3 `(objective …)`; pins `… without any`;")
        print("##   the calibration table's `calibrated` column; What actually happened)")
        print(f"  objective {b[0]}, jobs {b[1]} persons, fiscal {b[2]} 万元")
        print(f"  coal exits per year (万吨 (mines)): {coal_years(base)}")
        print(f"  {coal_summary(repo, 'gansu_2016')}")
        print("## Realised (What actually happened: table `realised` column, prose)")
        print(f"  objective {r[0]}, jobs {r[1]} persons, fiscal {r[2]} 万元")
        print(f"  coal exits per year (万吨 (mines)): {coal_years(real)}")
        print(f"  {coal_summary(repo, 'gansu_2016_realised')}")
        print("## exitopt check (What actually happened)")
        print("  " + "\n  ".join(check.strip().splitlines()))
        print("## exitopt compare (What actually happened: table `change` column, `compare lists …`)")
        for figure in ("objective (万元 equivalent)", "jobs (persons displaced)",
                       "fiscal outlay (万元, present value)", "units exiting"):
            print(f"  {figure}: {' | '.join(row(comp, figure))}")
        diff = pd.read_csv(repo / "realised_vs_baseline.csv", encoding="utf-8-sig", dtype=str)
        units = diff[diff["section"] == "unit"]
        print(f"  units that differ: {len(units)}")
        for change, group in units.groupby("change", sort=False):
            print(f"  {change} ({len(group)}): " + ", ".join(f"{k} {a}→{b_}" for k, a, b_ in
                                                          zip(group["key"], group["a"], group["b"], strict=True)))
        print("## Pins example (What-if pins: the output block)")
        print("\n".join(line for line in pins.splitlines() if "costs" in line or line.startswith("cost of")))
        if args.steps:
            criteria_steps(repo)
            realised_steps(repo)


if __name__ == "__main__":
    main()
