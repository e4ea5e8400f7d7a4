"""The fiscal figures of models/gansu_2016.toml, recomputed from their stated inputs.

Each input is a named constant with its source (the letters are those of data/gansu/README.md,
"Calibration of the fiscal figures"); each derived figure is recomputed here and must be the one
the scenario holds, to the decimal it is written with. Editing the scenario without its
derivation (or the derivation without the scenario) fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
GANSU = ROOT / "models" / "gansu_2016.toml"
UNITS = ROOT / "data" / "gansu" / "units.csv"
DATA_README = ROOT / "data" / "gansu" / "README.md"

# ---- coal: revenue foregone ------------------------------------------------------------------
COAL_CAPACITY_END_2015 = 6560.0  # 万吨/yr, the plan §II.1 (154 mines)
COAL_OUTPUT = 4300.0  # 万吨/yr, ASSUMPTION of the scenario's coal-supply rule (output ≈ 4,300)
COAL_PRICE = 414.07  # 元/t, NDRC national coal price index, September 2016 [K]
RESOURCE_TAX_RATE = 0.025  # Gansu's ad valorem coal resource tax from 2015 [M]
RESOURCE_TAX_LOCAL = 1.0  # resource tax (onshore) is local revenue [N]
VAT_RATE = 0.17  # the general VAT rate of 2016
VALUE_ADDED_SHARE = 0.5  # ASSUMPTION: half of a mine's sales is value added (the VAT base)
VAT_LOCAL = 0.5  # local share of VAT from 1 May 2016 [O]
INCOME_TAX_RATE = 0.25  # enterprise income tax rate
PRE_TAX_MARGIN = 0.05  # ASSUMPTION: pre-tax profit 5 % of sales
INCOME_TAX_LOCAL = 0.4  # local share of enterprise income tax [N]

# ---- coal: the award for a state mine -----------------------------------------------------------
SHAANXI_BASE_AWARD_2016 = 137_000.0  # 万元 (13.7亿元) paid out for Shaanxi's 2016 coal exits [I]
SHAANXI_EXITS_2016 = 2934.0  # 万吨/yr closed by Shaanxi in 2016 [I]
SHANXI_FIRST_ALLOCATION_2016 = 94_778.0  # 万元 to six Shanxi groups [J]
SHANXI_FIRST_BATCH_2016 = 1060.0  # 万吨/yr of their 15 mines [J]
BASE_SHARE = 0.8  # base award 80 %, ladder award 20 % [G], [H]
NONSTATE_COAL_PER_MINE = 120.0  # 万元 (1.2 million 元) per non-state mine, as reported
NONSTATE_STEEL_PER_CAPACITY = 140.0  # 万元 per 万吨 (140 元/t), as reported


@pytest.fixture(scope="module")
def scenario() -> dict:
    return tomllib.loads(GANSU.read_text(encoding="utf-8"))


def one_decimal(x: float) -> float:
    return round(x + 1e-9, 1)


def test_coal_revenue_per_capacity_is_its_derivation(scenario):
    utilisation = COAL_OUTPUT / COAL_CAPACITY_END_2015
    sales = utilisation * COAL_PRICE  # 万元 a year per 万吨/yr of capacity (万吨 × 元/t = 万元)
    share = (RESOURCE_TAX_RATE * RESOURCE_TAX_LOCAL
             + VAT_RATE * VALUE_ADDED_SHARE * VAT_LOCAL
             + INCOME_TAX_RATE * PRE_TAX_MARGIN * INCOME_TAX_LOCAL)
    assert share == pytest.approx(0.0725)
    assert scenario["sectors"]["coal"]["revenue_per_capacity"] == one_decimal(sales * share) == 19.7


def test_capacity_behind_the_utilisation_is_the_unit_tables():
    units = pd.read_csv(UNITS, encoding="utf-8-sig")
    assert units.loc[units["sector"] == "coal", "capacity"].sum() == pytest.approx(COAL_CAPACITY_END_2015)


def test_coal_award_is_shaanxis_base_award_over_the_base_share(scenario):
    coal = scenario["sectors"]["coal"]
    paid = SHAANXI_BASE_AWARD_2016 / SHAANXI_EXITS_2016
    assert one_decimal(paid) == 46.7
    assert coal["award_per_capacity"] == one_decimal(paid / BASE_SHARE) == 58.4
    # the base part the scenario pays is the Shaanxi figure, to the rounding of the rate
    assert coal["award_base_share"] * coal["award_per_capacity"] == pytest.approx(paid, abs=0.05)
    # the Shanxi allocation, the cross-check the comment quotes, is of the same order
    assert one_decimal(SHANXI_FIRST_ALLOCATION_2016 / SHANXI_FIRST_BATCH_2016) == 89.4
    assert paid < coal["award_per_capacity"] < SHANXI_FIRST_ALLOCATION_2016 / SHANXI_FIRST_BATCH_2016


def test_published_award_rules(scenario):
    sectors = scenario["sectors"]
    assert sectors["coal"]["award_base_share"] == sectors["steel"]["award_base_share"] == BASE_SHARE
    assert sectors["coal"]["award_products"] == ["coal"]
    assert sectors["steel"]["award_products"] == ["crude_steel"]
    assert sectors["coal"]["award_nonstate_per_unit"] == NONSTATE_COAL_PER_MINE
    assert sectors["steel"]["award_nonstate_per_capacity"] == NONSTATE_STEEL_PER_CAPACITY
    assert sectors["cement"]["award_per_capacity"] == 0.0  # the fund covers coal and steel only [G], [H]
    assert scenario["ladder"] == {"2016": 1.1, "2017": 1.0, "2018": 0.9, "2019": 0.8, "2020": 0.7}


def test_uncalibrated_figures_stay_at_zero(scenario):
    """No source was found for these: the scenario leaves them at their default 0 (or absent)."""
    sectors = scenario["sectors"]
    for sector in ("coal", "steel", "cement"):
        assert sectors[sector].get("stranded_per_capacity", 0.0) == 0.0, sector
    for sector in ("steel", "cement"):
        assert sectors[sector].get("revenue_per_capacity", 0.0) == 0.0, sector
    assert "award_fund" not in scenario.get("caps", {})


def test_every_source_letter_in_the_scenario_is_defined_in_the_data_readme():
    letters = set(re.findall(r"\[([A-Z])\]", GANSU.read_text(encoding="utf-8")))
    assert letters >= set("GHIJKLMNO")
    readme = DATA_README.read_text(encoding="utf-8")
    section = readme.split("## Calibration of the fiscal figures", 1)[1]
    for letter in sorted(letters):
        assert re.search(rf"^- \[{letter}\] ", section + "\n" + readme, re.M), letter
