"""The plan checker: each rule family kept and broken on tiny hand-made instances, the cost
worked out by hand, the checker's own indicator allocation, and the plan file reader."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exitopt.check import (
    check_plan,
    format_report,
    plan_from_frame,
    read_plan,
    read_project_approvals,
)
from exitopt.errors import EXIT_VIOLATIONS, InputError
from exitopt.inputs import load

KIND = {"coal": "coal_mine", "pig_iron": "blast_furnace", "crude_steel": "converter",
        "rolled_steel": "rolling_mill", "clinker": "clinker_line", "cement": "grinding_station"}
SECTOR = {"coal": "coal", "pig_iron": "steel", "crude_steel": "steel", "rolled_steel": "steel",
          "clinker": "cement", "cement": "cement"}


def unit(uid: str, *, product: str = "coal", capacity: float = 100, workers: int = 0, firm: str | None = None,
         group: str = "", region: str = "R1", loss_making: bool = False, subsidised_loss: float = 0,
         relocatable: bool = False, eligible: bool = True, exit_years: str = "") -> dict:
    return {"unit_id": uid, "name": f"unit {uid}", "sector": SECTOR[product], "kind": KIND[product],
            "product": product, "capacity": capacity, "firm": firm or f"firm {uid}", "group": group,
            "region": region, "workers": workers, "loss_making": loss_making,
            "subsidised_loss": subsidised_loss, "relocatable": relocatable, "indicator_eligible": eligible,
            "exit_years": exit_years, "source": "synthetic"}


def project(pid: str, *, product: str = "coal", capacity: float, year: int, status: str = "approved",
            group: str = "") -> dict:
    return {"project_id": pid, "name": f"project {pid}", "product": product, "capacity": capacity,
            "year": year, "firm": f"firm {pid}", "group": group, "status": status}


def instance(tmp_path: Path, units: list[dict], rules: str = "", projects: list[dict] | None = None,
             header: str = ""):
    """Write units.csv (and projects.csv) and a scenario planning 2016–2020, then load it."""
    pd.DataFrame(units).to_csv(tmp_path / "units.csv", index=False)
    extra = ""
    if projects is not None:
        pd.DataFrame(projects).to_csv(tmp_path / "projects.csv", index=False)
        extra = 'projects = "projects.csv"\n'
    (tmp_path / "scenario.toml").write_text(
        'name = "tiny"\nunits = "units.csv"\n' + extra + "first_year = 2016\nlast_year = 2020\n" + header + rules,
        encoding="utf-8",
    )
    return load(tmp_path / "scenario.toml")


def write_plan(tmp_path: Path, text: str, name: str = "plan.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def check(inst, tmp_path: Path, text: str, approved=None):
    return check_plan(inst, read_plan(write_plan(tmp_path, text), inst), approved)


def rules_of(result) -> list[str]:
    return [v.rule for v in result.violations]


# --- reading plans ---------------------------------------------------------------------------


def test_read_plan_accepts_year_forms_and_ignores_other_columns(tmp_path):
    inst = instance(tmp_path, [unit("A", capacity=2000), unit("B"), unit("C"), unit("D", relocatable=True)])
    text = ("unit_id,name,exit_year,mode,counted,indicator,reason\n"
            'A,a,2017,,100,"1,000",x\n'
            "B,b,2018.0,close,100,,\n"
            "\n"
            ",,,,,,\n"
            "D,d,2019,Relocate,,,\n")
    plan = read_plan(write_plan(tmp_path, text), inst)
    p = plan.units
    assert p.loc["A", "exit_year"] == 2017 and p.loc["A", "mode"] == "close"
    assert p.loc["B", "exit_year"] == 2018 and p.loc["B", "mode"] == "close"
    assert pd.isna(p.loc["C", "exit_year"]) and p.loc["C", "mode"] == ""  # not listed: stays
    assert p.loc["D", "exit_year"] == 2019 and p.loc["D", "mode"] == "relocate"
    assert p.loc["A", "indicator"] == 1000  # Excel's thousands separator
    assert p["indicator"].drop("A").isna().all()


def test_plan_from_frame_accepts_numbers(tmp_path):
    inst = instance(tmp_path, [unit("A"), unit("B")])
    plan = plan_from_frame(pd.DataFrame({"unit_id": ["A", "B"], "exit_year": [2017.0, np.nan]}), inst)
    assert plan.units.loc["A", "exit_year"] == 2017
    assert pd.isna(plan.units.loc["B", "exit_year"])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030"])
def test_read_plan_in_excel_encodings(tmp_path, encoding):
    inst = instance(tmp_path, [unit("A"), unit("B")])
    text = "unit_id,名称,exit_year,mode\nA,窑街煤矿,2017,close\nB,大水头煤矿,,\n"
    plan = read_plan(write_plan(tmp_path, text, encoding=encoding), inst)
    assert plan.units.loc["A", "exit_year"] == 2017
    assert pd.isna(plan.units.loc["B", "exit_year"])


BAD_PLANS = [
    ("unit_id,exit_year\nA,2017\nX9,2018\n", ["row 3", "'unit_id'", "X9"]),
    ("unit_id,exit_year\nA,2017\nB,2018\nA,2019\n", ["rows 2, 4", "'unit_id'", "'A'"]),
    ("unit_id,exit_year\nA,2017\nB,20l8\n", ["row 3", "'exit_year'", "20l8"]),
    ("unit_id,exit_year\nA,2017.5\n", ["row 2", "'exit_year'", "2017.5"]),
    ("unit_id,exit_year\nA,2017\nB,2025\n", ["row 3", "'exit_year'", "2025", "2016–2020"]),
    ("unit_id,exit_year,mode\nA,2017,sell\n", ["row 2", "'mode'", "sell"]),
    ("unit_id,exit_year,mode\nA,,close\n", ["row 2", "'mode'", "exit_year is empty"]),
    ("unit_id,exit_year,indicator\nA,2017,-5\n", ["row 2", "'indicator'", "-5"]),
    ("unit_id,exit_year,indicator\nA,2017,10\nB,2017,150\n", ["row 3", "'indicator'", "150", "capacity of 100"]),
    ("unit_id,exit_year,indicator\nA,2017,lots\n", ["row 2", "'indicator'", "lots"]),
    ('unit_id,exit_year,indicator\nA,2017,"1,5"\n', ["row 2", "'indicator'", "1,5", "point"]),
    ("unit_id,exit_year\n,2017\n", ["row 2", "'unit_id'", "empty"]),
    ("unit_id,year\nA,2017\n", ["exit_year"]),
    ("", ["is empty", "unit_id and exit_year"]),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_PLANS)
def test_bad_plan_input_names_file_row_and_column(tmp_path, text, fragments):
    inst = instance(tmp_path, [unit("A"), unit("B")])
    path = write_plan(tmp_path, text, name="my_plan.csv")
    with pytest.raises(InputError) as err:
        read_plan(path, inst)
    assert err.value.exit_code == 2
    msg = str(err.value)
    assert "my_plan.csv" in msg
    for fragment in fragments:
        assert fragment in msg


# --- rules -------------------------------------------------------------------------------------


def test_mode_relocate_only_for_relocatable_units(tmp_path):
    inst = instance(tmp_path, [unit("R", relocatable=True), unit("N")])
    assert check(inst, tmp_path, "unit_id,exit_year,mode\nR,2017,relocate\nN,2017,close\n").ok
    bad = check(inst, tmp_path, "unit_id,exit_year,mode\nN,2017,relocate\n")
    assert rules_of(bad) == ["mode"]
    assert "N" in bad.violations[0].message and "relocatable" in bad.violations[0].message


def test_windows_from_unit_table_and_scenario(tmp_path):
    rules = '[[windows]]\nname = "late"\nwhere = { all = [["region", "==", "R2"]] }\nyears = [2019, 2020]\n'
    inst = instance(tmp_path, [unit("W", exit_years="2018-2019"), unit("V", region="R2")], rules)
    assert check(inst, tmp_path, "unit_id,exit_year\nW,2018\nV,2019\n").ok
    bad = check(inst, tmp_path, "unit_id,exit_year\nW,2017\nV,2018\n")
    assert rules_of(bad) == ["window", "window"]
    assert "2018, 2019" in bad.violations[0].message and "W" in bad.violations[0].message
    assert bad.violations[1].name == "late" and "V exits in 2018" in bad.violations[1].message


def test_protected_units_do_not_exit(tmp_path):
    rules = '[[protected]]\nname = "phase 2"\nwhere = { units = ["P"] }\n'
    inst = instance(tmp_path, [unit("P"), unit("Q")], rules)
    assert check(inst, tmp_path, "unit_id,exit_year\nQ,2016\n").ok
    bad = check(inst, tmp_path, "unit_id,exit_year\nP,2016\n")
    assert rules_of(bad) == ["protected"]
    assert bad.violations[0].name == "phase 2" and "P" in bad.violations[0].message


def test_mandatory_units_exit_by_their_year(tmp_path):
    rules = '[[mandatory]]\nname = "small mines"\nby = 2017\nwhere = { all = [["capacity", "<", 30]] }\n'
    inst = instance(tmp_path, [unit("S", capacity=20), unit("T", capacity=25), unit("L", capacity=300)], rules)
    assert check(inst, tmp_path, "unit_id,exit_year\nS,2016\nT,2017\n").ok
    bad = check(inst, tmp_path, "unit_id,exit_year\nS,2018\n")
    assert rules_of(bad) == ["mandatory", "mandatory"]
    messages = " | ".join(v.message for v in bad.violations)
    assert "S must exit by 2017" in messages and "exits only in 2018" in messages
    assert "T must exit by 2017" in messages and "does not exit" in messages


PACKAGE = """
[[packages]]
name = "jisco"
close = { units = ["B1", "B2"] }
relocate = { units = ["C1"] }
required = true
by = 2018

[[packages]]
name = "optional"
close = { units = ["O1", "O2"] }
"""


@pytest.fixture
def package_instance(tmp_path):
    units = [unit("B1", product="pig_iron"), unit("B2", product="pig_iron"),
             unit("C1", product="crude_steel", relocatable=True), unit("O1"), unit("O2")]
    return instance(tmp_path, units, PACKAGE)


@pytest.mark.parametrize("year", [2017, 2018])
def test_package_kept(package_instance, tmp_path, year):
    text = f"unit_id,exit_year,mode\nB1,{year},\nB2,{year},close\nC1,{year},relocate\nO1,2020,\nO2,2020,\n"
    res = check(package_instance, tmp_path, text)
    assert res.ok, res.violations


@pytest.mark.parametrize(("plan", "expected"), [
    ("B1,2017,close\nB2,2017,close\n", ["whole", "C1 stay", "B1, B2 exit"]),
    ("B1,2017,close\nB2,2017,close\nC1,2018,relocate\n", ["one year", "2017: B1, B2", "2018: C1"]),
    ("B1,2017,close\nB2,2017,close\nC1,2017,close\n", ["C1 for relocate", "exit by close"]),
    ("O1,2017,close\n", ["required by 2018", "none of its 3 units"]),
    ("B1,2019,close\nB2,2019,close\nC1,2019,relocate\n", ["required by 2018", "exit after 2018"]),
    ("B1,2017,close\nB2,2017,close\nC1,2017,relocate\nO1,2017,close\n", ["'optional'", "O2 stay"]),
])
def test_package_broken(package_instance, tmp_path, plan, expected):
    res = check(package_instance, tmp_path, "unit_id,exit_year,mode\n" + plan)
    assert not res.ok
    assert set(rules_of(res)) == {"package"}
    text = " | ".join(v.message for v in res.violations)
    for fragment in expected:
        assert fragment in text


TARGETS = """
[[targets]]
name = "coal 1000"
product = "coal"
by = 2018
at_least = 1000

[[targets]]
name = "R1 cap"
product = "coal"
by = 2020
at_most = 700
where = { all = [["region", "==", "R1"]] }
"""


def test_targets_met(tmp_path):
    inst = instance(tmp_path, [unit("A", capacity=600), unit("B", capacity=400, region="R2"),
                               unit("C", capacity=300), unit("X", product="clinker", capacity=5000)], TARGETS)
    assert check(inst, tmp_path, "unit_id,exit_year\nA,2016\nB,2018\nX,2016\n").ok


def test_target_at_least_broken_names_the_numbers(tmp_path):
    inst = instance(tmp_path, [unit("A", capacity=600), unit("B", capacity=400, region="R2"),
                               unit("C", capacity=300), unit("X", product="clinker", capacity=5000)], TARGETS)
    # B exits after the target year; the clinker unit does not count toward a coal target
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2016\nB,2019\nX,2016\n")
    assert rules_of(res) == ["target"]
    v = res.violations[0]
    assert (v.name, v.year, v.product, v.required, v.achieved) == ("coal 1000", 2018, "coal", 1000, 600)
    assert v.message == "coal exit target 'coal 1000' by 2018: 600.0 万吨 counted, 1,000.0 required"


def test_target_at_most_broken(tmp_path):
    inst = instance(tmp_path, [unit("A", capacity=600), unit("B", capacity=400, region="R2"),
                               unit("C", capacity=300)], TARGETS)
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2016\nB,2016\nC,2020\n")
    assert rules_of(res) == ["target"]
    v = res.violations[0]
    assert (v.name, v.required, v.achieved) == ("R1 cap", 700, 600 + 300)
    assert "900.0 万吨 counted, at most 700.0 allowed" in v.message


def test_target_close_to_the_figure_shows_enough_decimals(tmp_path):
    inst = instance(tmp_path, [unit("A", capacity=999.99), unit("B", capacity=400, region="R2")],
                    '[[targets]]\nname = "t"\nproduct = "coal"\nby = 2018\nat_least = 1000\n')
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2016\n")
    assert "999.99 万吨 counted, 1,000.00 required" in res.violations[0].message
    # within the tolerance of 1e-6 × 1000 the target holds
    inst = instance(tmp_path, [unit("A", capacity=999.9995)],
                    '[[targets]]\nname = "t"\nproduct = "coal"\nby = 2018\nat_least = 1000\n')
    assert check(inst, tmp_path, "unit_id,exit_year\nA,2016\n").ok


REPLACEMENT = """
[[replacement]]
product = "coal"
ratio = 1.5

[[targets]]
name = "coal"
product = "coal"
by = 2020
at_least = 40
"""


@pytest.fixture
def replacement_instance(tmp_path):
    units = [unit("A", capacity=200), unit("I", capacity=200, eligible=False), unit("S", capacity=300),
             unit("K", product="clinker", capacity=50)]
    projects = [project("P1", capacity=100, year=2018), project("P2", capacity=1000, year=2017, status="candidate")]
    return instance(tmp_path, units, REPLACEMENT, projects)


def test_replacement_met_with_plan_indicators(replacement_instance, tmp_path):
    res = check(replacement_instance, tmp_path, "unit_id,exit_year,indicator\nA,2017,150\nI,2017,0\n")
    assert res.ok, res.violations
    a = res.units.set_index("unit_id").loc["A"]
    assert (a["indicator"], a["counted"]) == (150, 200 - 150)
    assert res.indicators_allocated == []


def test_replacement_surplus_indicators(replacement_instance, tmp_path):
    # P1 (100 in 2018) at 1.5 needs 150; declaring 160 keeps 10 out of the task without reason
    # (A still counts 200 − 160 = 40, the target)
    res = check(replacement_instance, tmp_path, "unit_id,exit_year,indicator\nA,2017,160\n")
    assert rules_of(res) == ["replacement"]
    v = res.violations[0]
    assert (v.year, v.required, v.achieved) == (None, 150, 160)
    assert "160.0 万吨 declared as indicators" in v.message and "needs only 150.0" in v.message


def test_replacement_indicators_too_late(replacement_instance, tmp_path):
    res = check(replacement_instance, tmp_path, "unit_id,exit_year,indicator\nA,2019,150\n")
    assert rules_of(res) == ["replacement"]
    v = res.violations[0]
    assert (v.year, v.required, v.achieved) == (2018, 1.5 * 100, 0)
    assert "coal replacement 1.5:1 in 2018: 0.0 万吨 of indicators" in v.message
    assert "150.0 required" in v.message


def test_replacement_indicator_on_wrong_units(replacement_instance, tmp_path):
    text = "unit_id,exit_year,indicator\nA,2017,100\nI,2017,50\nS,,10\nK,2017,5\n"
    res = check(replacement_instance, tmp_path, text)
    assert set(rules_of(res)) == {"replacement"}
    messages = " | ".join(v.message for v in res.violations)
    assert "S gives 10.0 万吨 of indicators but does not exit" in messages
    assert "I gives 50.0 万吨 of indicators but is not eligible" in messages
    assert "K gives 5.0 万吨 of indicators, but clinker has no replacement rule" in messages
    # the ineligible unit's 50 do not count: 100 of 150 from 2018 on
    short = [v for v in res.violations if v.year is not None and v.name.startswith("coal replacement")]
    assert [(v.year, v.required, v.achieved) for v in short] == [(y, 150, 100) for y in (2018, 2019, 2020)]


def test_candidate_project_approved_by_file_needs_indicators(replacement_instance, tmp_path):
    approvals = write_plan(tmp_path, "project_id,approved\nP2,yes\n", name="projects_plan.csv")
    approved = read_project_approvals(approvals, replacement_instance)
    assert approved == {"P1", "P2"}
    res = check(replacement_instance, tmp_path, "unit_id,exit_year,indicator\nA,2017,150\n", approved)
    short = [v for v in res.violations if v.rule == "replacement"]
    assert (short[0].year, short[0].required, short[0].achieved) == (2017, 1.5 * 1000, 150)


def test_automatic_indicator_allocation(tmp_path):
    units = [unit("A", capacity=100), unit("Z", capacity=500, eligible=False), unit("B", capacity=80),
             unit("A2", capacity=80), unit("E", capacity=100), unit("S", capacity=300),
             unit("X", product="clinker", capacity=100)]
    projects = [project("P1", capacity=100, year=2017), project("P2", capacity=40, year=2019),
                project("P3", capacity=1000, year=2018, status="candidate")]
    inst = instance(tmp_path, units, '[[replacement]]\nproduct = "coal"\nratio = 1.5\n', projects)
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2016\nZ,2016\nB,2017\nA2,2017\nE,2020\nX,2017\n")
    assert res.ok, res.violations
    assert res.indicators_allocated == ["coal"]
    u = res.units.set_index("unit_id")
    # needed: 1.5 × 100 = 150 by 2017, 1.5 × (100 + 40) = 210 by 2019.
    # 2017: A (exits 2016) gives all 100, then among the 2017 exits A2 (before B by id) gives 50;
    # 2019: 60 more: A2 its last 30, then B 30. Z is ineligible, E is not needed, S does not exit.
    assert u["indicator"].to_dict() == {"A": 100, "Z": 0, "B": 30, "A2": 80, "E": 0, "S": 0, "X": 0}
    assert u.loc["B", "counted"] == 80 - 30
    assert u.loc["Z", "counted"] == 500


def test_automatic_allocation_takes_earlier_exits_before_lower_awards(tmp_path):
    # award per 万吨 = award_per_capacity × ladder[exit year]: B's 2016 award (20 per 万吨) is higher
    # than A's 2017 award (5 per 万吨), but the exit year comes first in the order
    header = "[ladder]\n2016 = 2.0\n2017 = 0.5\n[sectors.coal]\naward_per_capacity = 10\n"
    units = [unit("A", capacity=100), unit("B", capacity=100)]
    inst = instance(tmp_path, units, '[[replacement]]\nproduct = "coal"\nratio = 1.5\n',
                    [project("P1", capacity=50, year=2018)], header=header)
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2017\nB,2016\n")
    u = res.units.set_index("unit_id")
    assert (u.loc["B", "indicator"], u.loc["A", "indicator"]) == (75, 0)
    assert u.loc["B", "award"] == 10 * 2.0 * (100 - 75)


def test_automatic_allocation_short_of_indicators(tmp_path):
    units = [unit("A", capacity=100), unit("B", capacity=100)]
    inst = instance(tmp_path, units, '[[replacement]]\nproduct = "coal"\nratio = 2\n',
                    [project("P1", capacity=100, year=2017)])
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2016\nB,2019\n")
    assert [(v.year, v.required, v.achieved) for v in res.violations] == [(2017, 200, 100), (2018, 200, 100)]
    assert res.units.set_index("unit_id")["indicator"].to_dict() == {"A": 100, "B": 100}


def test_plan_indicator_on_one_unit_turns_allocation_off(tmp_path):
    units = [unit("A", capacity=100), unit("B", capacity=100)]
    inst = instance(tmp_path, units, '[[replacement]]\nproduct = "coal"\nratio = 1.5\n',
                    [project("P1", capacity=100, year=2017)])
    res = check(inst, tmp_path, "unit_id,exit_year,indicator\nA,2016,100\nB,2016,\n")
    assert res.indicators_allocated == []
    assert [(v.year, v.required, v.achieved) for v in res.violations][0] == (2017, 150, 100)


CONCENTRATION = """
[[concentration]]
name = "steel top 1"
product = "crude_steel"
by = "group"
top = 1
share = 0.6
years = [2018]
"""


@pytest.fixture
def concentration_instance(tmp_path):
    units = [unit("a", product="crude_steel", capacity=300, group="G1"),
             unit("b", product="crude_steel", capacity=100, group="G1"),
             unit("c", product="crude_steel", capacity=200, group="G2"),
             unit("d", product="crude_steel", capacity=100, group="G3"),
             unit("k", product="coal", capacity=10000, group="G9")]
    projects = [project("N1", product="crude_steel", capacity=300, year=2018, status="candidate", group="G2")]
    return instance(tmp_path, units, CONCENTRATION, projects)


@pytest.mark.parametrize("year", [2017, 2018])
def test_concentration_met(concentration_instance, tmp_path, year):
    # remaining in 2018: G1 400, G2 200 → 400 / 600 ≥ 60 % (a unit exiting in 2018 is gone in 2018)
    assert check(concentration_instance, tmp_path, f"unit_id,exit_year\nd,{year}\n").ok


def test_concentration_broken(concentration_instance, tmp_path):
    # d leaves only in 2019: in 2018 G1 holds 400 of 700
    res = check(concentration_instance, tmp_path, "unit_id,exit_year\nd,2019\n")
    assert rules_of(res) == ["concentration"]
    v = res.violations[0]
    assert (v.year, v.required) == (2018, 0.6)
    assert v.achieved == pytest.approx(400 / 700)
    assert "57.1% of 700.0 万吨 held, 60.0% required" in v.message


def test_concentration_checked_without_a_projects_table(tmp_path):
    # no projects file: the top group (G1, 400 of 700 万吨 in 2018) holds 57 % < 60 %
    units = [unit("a", product="crude_steel", capacity=300, group="G1"),
             unit("b", product="crude_steel", capacity=100, group="G1"),
             unit("c", product="crude_steel", capacity=200, group="G2"),
             unit("d", product="crude_steel", capacity=100, group="G3")]
    inst = instance(tmp_path, units, CONCENTRATION)
    assert rules_of(check(inst, tmp_path, "unit_id,exit_year\n")) == ["concentration"]
    assert check(inst, tmp_path, "unit_id,exit_year\nd,2017\n").ok


def test_concentration_counts_approved_projects(concentration_instance, tmp_path):
    # with N1 built, G2 holds 200 + 300 = 500 of 900 and is the largest
    res = check(concentration_instance, tmp_path, "unit_id,exit_year\nd,2017\n", approved={"N1"})
    assert rules_of(res) == ["concentration"]
    assert res.violations[0].achieved == pytest.approx(500 / 900)


UTILISATION = """
[[utilisation]]
name = "coal market"
product = "coal"
demand = { 2017 = 500 }
min_utilisation = 0.8
reserve = 0.1
"""


@pytest.mark.parametrize(("plan", "rule", "required", "achieved"), [
    ("C,2017\n", None, None, None),  # 600 between 550 and 625
    ("", "utilisation", 500 / 0.8, 700),
    ("C,2018\n", "utilisation", 500 / 0.8, 700),
    ("B,2017\n", "supply", 500 * 1.1, 500),
])
def test_utilisation_and_supply(tmp_path, plan, rule, required, achieved):
    inst = instance(tmp_path, [unit("A", capacity=400), unit("B", capacity=200), unit("C", capacity=100)],
                    UTILISATION)
    res = check(inst, tmp_path, "unit_id,exit_year\n" + plan)
    if rule is None:
        assert res.ok, res.violations
        return
    assert rules_of(res) == [rule]
    v = res.violations[0]
    assert (v.year, v.product) == (2017, "coal")
    assert v.required == pytest.approx(required) and v.achieved == pytest.approx(achieved)


def test_utilisation_counts_new_capacity(tmp_path):
    inst = instance(tmp_path, [unit("A", capacity=400), unit("B", capacity=200), unit("C", capacity=100)],
                    UTILISATION, [project("N", capacity=50, year=2017)])
    res = check(inst, tmp_path, "unit_id,exit_year\nC,2017\n")
    assert rules_of(res) == ["utilisation"]
    assert res.violations[0].achieved == 600 + 50


def test_budget_cap(tmp_path):
    header = "[sectors.coal]\nexit_cost_per_capacity = { close = 10 }\n[caps]\nbudget = { 2017 = 800 }\n"
    units = [unit("A", capacity=100), unit("L", capacity=5, loss_making=True, subsidised_loss=900)]
    inst = instance(tmp_path, units, header=header)
    assert check(inst, tmp_path, "unit_id,exit_year\nA,2018\nL,2016\n").ok
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2017\nL,2016\n")
    assert rules_of(res) == ["budget"]
    v = res.violations[0]
    assert (v.year, v.required, v.achieved) == (2017, 800, 10 * 100)
    assert v.message == "budget in 2017: 1,000.0 万元 spent, at most 800.0 allowed"
    # a loss-making unit that still runs in 2017 costs its subsidised loss that year
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2018\nL,2018\n")
    assert [(v.rule, v.year, v.achieved) for v in res.violations] == [("budget", 2017, 900)]


def test_worker_cap_per_region(tmp_path):
    header = '[caps]\n[[caps.workers]]\nname = "labour"\nregions = ["R1"]\nper_year = 50\n'
    units = [unit("A", workers=40), unit("B", workers=30), unit("C", workers=100, region="R2")]
    inst = instance(tmp_path, units, header=header)
    assert check(inst, tmp_path, "unit_id,exit_year\nA,2017\nB,2018\nC,2017\n").ok
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2017\nB,2017\nC,2017\n")
    assert rules_of(res) == ["workers"]
    v = res.violations[0]
    assert (v.name, v.year, v.required, v.achieved) == ("labour", 2017, 50, 40 + 30)
    assert "R1" in v.message and "70.0 workers displaced" in v.message


def test_worker_cap_for_all_regions(tmp_path):
    header = '[caps]\n[[caps.workers]]\nname = "labour"\nper_year = 50\n'
    inst = instance(tmp_path, [unit("A", workers=40), unit("C", workers=100, region="R2")], header=header)
    res = check(inst, tmp_path, "unit_id,exit_year\nA,2017\nC,2017\n")
    assert [(v.rule, v.achieved) for v in res.violations] == [("workers", 100)]


def test_new_capacity_status_is_respected(tmp_path):
    units = [unit("A")]
    projects = [project("P1", capacity=10, year=2017), project("P2", capacity=10, year=2018, status="candidate"),
                project("P3", capacity=10, year=2018, status="candidate")]
    rules = '[new_capacity]\nreject = ["P3"]\n'
    inst = instance(tmp_path, units, rules, projects)
    assert check(inst, tmp_path, "unit_id,exit_year\n").ok
    path = write_plan(tmp_path, "project_id,approved\nP1,false\nP2,true\nP3,1\n", name="approvals.csv")
    approved = read_project_approvals(path, inst)
    assert approved == {"P2", "P3"}
    res = check(inst, tmp_path, "unit_id,exit_year\n", approved)
    assert [(v.rule, v.name) for v in res.violations] == [("new_capacity", "P1"), ("new_capacity", "P3")]
    assert "approved by the scenario, but the plan does not build it" in res.violations[0].message


def test_project_approvals_from_a_run(tmp_path):
    projects = [project("P1", capacity=10, year=2017), project("P2", capacity=10, year=2018, status="candidate"),
                project("P3", capacity=10, year=2019, status="candidate")]
    inst = instance(tmp_path, [unit("A")], projects=projects)
    text = "project_id,name,product,capacity,year,approval,built\nP1,a,coal,10,2017,approved,True\n" \
           "P2,b,coal,10,2018,candidate,True\nP3,c,coal,10,2019,candidate,False\n"
    assert read_project_approvals(write_plan(tmp_path, text, name="new_capacity.csv"), inst) == {"P1", "P2"}


@pytest.mark.parametrize(("text", "fragments"), [
    ("project_id,approved\nP9,true\n", ["row 2", "'project_id'", "P9"]),
    ("project_id,approved\nP1,true\nP1,false\n", ["rows 2, 3"]),
    ("project_id,approved\nP1,maybe\n", ["row 2", "'approved'", "maybe"]),
    ("project_id\nP1\n", ["approved"]),
])
def test_bad_project_approvals(tmp_path, text, fragments):
    inst = instance(tmp_path, [unit("A")], projects=[project("P1", capacity=10, year=2017)])
    path = write_plan(tmp_path, text, name="approvals.csv")
    with pytest.raises(InputError) as err:
        read_project_approvals(path, inst)
    assert "approvals.csv" in str(err.value)
    for fragment in fragments:
        assert fragment in str(err.value)


# --- cost --------------------------------------------------------------------------------------

COSTS = """
attrition = 0.03
[ladder]
2017 = 1.2
[objective]
jobs_weight = 3
fiscal_weight = 1
discount_rate = 0.05
[sectors.coal]
resettlement_per_worker = 5
exit_cost_per_capacity = { close = 2 }
redeployed_share = { close = 0.2 }
award_per_capacity = 10
[sectors.steel]
resettlement_per_worker = 8
exit_cost_per_capacity = { relocate = 1 }
redeployed_share = { relocate = 0.5 }
award_per_capacity = 20
"""


def test_cost_of_a_small_plan_by_hand(tmp_path):
    units = [unit("A", capacity=100, workers=100, loss_making=True, subsidised_loss=7),
             unit("B", product="crude_steel", capacity=50, workers=40, relocatable=True),
             unit("C", capacity=30, workers=10, loss_making=True, subsidised_loss=4),
             unit("D", capacity=30, workers=10, subsidised_loss=99)]  # not loss-making: no subsidy
    inst = instance(tmp_path, units, header=COSTS)
    res = check(inst, tmp_path, "unit_id,exit_year,mode\nA,2017,close\nB,2016,relocate\n")
    assert res.ok

    # A: coal, closed in 2017, t = 1
    d_a = 100 * 0.97**1 * (1 - 0.2)
    award_a = 10 * 1.2 * 100
    outlay_a = 5 * d_a + 2 * 100 - award_a
    # B: steel, relocated in 2016, t = 0; ladder for 2016 missing → 1
    d_b = 40 * 0.97**0 * (1 - 0.5)
    award_b = 20 * 1.0 * 50
    outlay_b = 8 * d_b + 1 * 50 - award_b
    u = res.units.set_index("unit_id")
    assert u.loc["A", "workers_displaced"] == pytest.approx(d_a)
    assert u.loc["A", "award"] == pytest.approx(award_a)
    assert u.loc["A", "outlay"] == pytest.approx(outlay_a)
    assert u.loc["B", "workers_displaced"] == pytest.approx(d_b)
    assert u.loc["B", "outlay"] == pytest.approx(outlay_b)
    assert u.loc["C", "workers_displaced"] == 0 and u.loc["C", "outlay"] == 0
    assert u.loc["A", "counted"] == 100 and u.loc["C", "counted"] == 0
    # A runs one year before it exits; C runs all five; D is not flagged loss-making
    assert u["losses_paid"].to_dict() == {"A": 7 * 1, "B": 0, "C": 4 * 5, "D": 0}

    # subsidised losses: A runs in 2016 only; C runs every year of 2016–2020; D is not loss-making
    outlay = {2016: outlay_b + 7 + 4, 2017: outlay_a + 4, 2018: 4, 2019: 4, 2020: 4}
    years = res.years.set_index("year")
    for y, v in outlay.items():
        assert years.loc[y, "outlay"] == pytest.approx(v)
    fiscal = sum(v * 1.05 ** -(y - 2016) for y, v in outlay.items())
    assert res.jobs == pytest.approx(d_a + d_b)
    assert res.fiscal == pytest.approx(fiscal)
    assert res.objective == pytest.approx(3 * (d_a + d_b) + 1 * fiscal)


def test_cost_with_an_indicator_and_missing_sector_costs(tmp_path):
    # no cement costs in the scenario: every cement term is 0; coal's relocate mode is not priced → 0
    units = [unit("A", capacity=100, workers=50, relocatable=True), unit("K", product="clinker", workers=20)]
    inst = instance(tmp_path, units, '[[replacement]]\nproduct = "coal"\nratio = 1.5\n', header=COSTS)
    res = check(inst, tmp_path, "unit_id,exit_year,mode,indicator\nA,2018,relocate,40\nK,2016,close,\n")
    u = res.units.set_index("unit_id")
    d_a = 50 * 0.97**2 * (1 - 0)
    assert u.loc["A", "workers_displaced"] == pytest.approx(d_a)
    assert u.loc["A", "counted"] == 100 - 40
    assert u.loc["A", "outlay"] == pytest.approx(5 * d_a + 0 * 100 - 10 * 1.0 * (100 - 40))
    assert u.loc["K", "workers_displaced"] == pytest.approx(20)
    assert u.loc["K", "outlay"] == 0
    assert res.jobs == pytest.approx(d_a + 20)


def test_revenue_foregone_and_stranded_value_by_hand(tmp_path):
    header = ("[objective]\ndiscount_rate = 0.1\n"
              "[sectors.coal]\nrevenue_per_capacity = 0.5\nstranded_per_capacity = 2.0\nservice_life = 20\n"
              "[sectors.steel]\nrevenue_per_capacity = 1.0\nrelocate_stranded_share_kept = 0.25\n")
    units = [{**unit("A", capacity=100), "opening_year": 2010},
             {**unit("B", product="crude_steel", capacity=50, relocatable=True), "stranded_value": 80},
             {**unit("C", capacity=40), "fiscal_contribution": 6},
             unit("D", capacity=100, loss_making=True, subsidised_loss=5)]
    inst = instance(tmp_path, units, header=header)
    res = check(inst, tmp_path, "unit_id,exit_year,mode\nA,2018,close\nB,2016,relocate\nD,2017,close\n")
    # A: pays 0.5 × 100 = 50 a year, lost 2018–2020; strands 2 × 100 × (1 − 8/20) = 120 in 2018.
    # B: pays 1 × 50 = 50 a year, lost 2016–2020; its own 80, a quarter taken along: 60 in 2016.
    # C stays: its 6 a year are not lost. D is loss-making: pays nothing, its losses (5) are paid
    # in 2016; it strands 2 × 100 = 200 in 2017 (no opening year: no age term).
    outlay = {2016: 60 + 50 + 5, 2017: 200 + 50, 2018: 120 + 50 + 50, 2019: 100, 2020: 100}
    foregone = {2016: 50, 2017: 50, 2018: 100, 2019: 100, 2020: 100}
    stranded = {2016: 60, 2017: 200, 2018: 120, 2019: 0, 2020: 0}
    years = res.years.set_index("year")
    assert years["outlay"].to_dict() == pytest.approx(outlay)
    assert years["revenue_foregone"].to_dict() == pytest.approx(foregone)
    assert years["stranded_value"].to_dict() == pytest.approx(stranded)
    d = {y: 1.1 ** -(y - 2016) for y in range(2016, 2021)}
    assert res.fiscal == pytest.approx(sum(v * d[y] for y, v in outlay.items()))
    u = res.units.set_index("unit_id")
    assert u.loc["A", "revenue_foregone"] == pytest.approx(50 * (d[2018] + d[2019] + d[2020]))
    assert u.loc["A", "stranded_value"] == pytest.approx(120 * d[2018])
    assert u.loc["B", "revenue_foregone"] == pytest.approx(50 * sum(d.values()))
    assert u.loc["B", "outlay"] == pytest.approx(60) and u.loc["B", "stranded_value"] == pytest.approx(60)
    assert u.loc["C", "revenue_foregone"] == 0 and u.loc["D", "revenue_foregone"] == 0
    assert u.loc["D", "stranded_value"] == pytest.approx(200 * d[2017])
    text = format_report(res)
    assert (f"  of which revenue foregone {u['revenue_foregone'].sum():,.1f} 万元; stranded value written off "
            f"{u['stranded_value'].sum():,.1f} 万元") in text


# --- report ------------------------------------------------------------------------------------


def test_format_report(tmp_path):
    inst = instance(tmp_path, [unit("A", capacity=600, workers=10)],
                    '[[targets]]\nname = "coal 500"\nproduct = "coal"\nby = 2018\nat_least = 500\n')
    ok = format_report(check(inst, tmp_path, "unit_id,exit_year\nA,2017\n"))
    bad = format_report(check(inst, tmp_path, "unit_id,exit_year\nA,2019\n"))
    assert ok.splitlines()[0].startswith("OK") and "coal 500" not in ok
    assert bad.splitlines()[0] == "The plan breaks the rules of scenario 'tiny' 1 time(s):"
    assert bad.splitlines()[1] == "  - target: coal exit target 'coal 500' by 2018: 0.0 万吨 counted, 500.0 required"
    for text in (ok, bad):
        assert "Jobs: 10 persons displaced" in text
        assert "Fiscal: 0.0 万元 (present value)" in text
        assert "Objective: 10.0" in text


def test_format_report_ok(tmp_path):
    inst = instance(tmp_path, [unit("A")])
    assert format_report(check(inst, tmp_path, "unit_id,exit_year\n")).startswith("OK")


# --- scale -------------------------------------------------------------------------------------


def test_national_size_plan_is_checked(tmp_path):
    rng = np.random.default_rng(0)
    n = 13_000
    products = rng.choice(["coal", "pig_iron", "crude_steel", "clinker"], n)
    units = pd.DataFrame({
        "unit_id": [f"U{i:05d}" for i in range(n)], "name": "u", "sector": [SECTOR[p] for p in products],
        "kind": [KIND[p] for p in products], "product": products, "capacity": rng.integers(5, 500, n),
        "firm": [f"F{i}" for i in rng.integers(0, 2000, n)], "group": [f"G{i}" for i in rng.integers(0, 300, n)],
        "region": [f"R{i}" for i in rng.integers(0, 300, n)], "workers": rng.integers(0, 3000, n),
        "loss_making": rng.random(n) < 0.2, "subsidised_loss": rng.integers(0, 100, n),
        "indicator_eligible": rng.random(n) < 0.8, "source": "synthetic",
    })
    units.to_csv(tmp_path / "units.csv", index=False)
    pd.DataFrame([project(f"P{i}", capacity=100, year=2016 + i % 5) for i in range(50)]).to_csv(
        tmp_path / "projects.csv", index=False)
    rules = """
[[replacement]]
product = "coal"
ratio = 1.25
[[targets]]
name = "coal"
product = "coal"
by = 2020
at_least = 100000
[[concentration]]
name = "steel"
product = "crude_steel"
top = 4
share = 0.6
years = [2016, 2017, 2018, 2019, 2020]
[[utilisation]]
name = "coal"
product = "coal"
demand = { 2016 = 500000, 2018 = 450000, 2020 = 400000 }
min_utilisation = 0.8
[[windows]]
name = "late"
where = { all = [["region", "in", ["R1", "R2"]]] }
years = [2019, 2020]
[caps]
budget = { 2016 = 1000, 2017 = 1000 }
[[caps.workers]]
name = "labour"
per_year = 1000
"""
    (tmp_path / "scenario.toml").write_text(
        'name = "national"\nunits = "units.csv"\nprojects = "projects.csv"\nfirst_year = 2016\nlast_year = 2020\n'
        + rules, encoding="utf-8")
    inst = load(tmp_path / "scenario.toml")
    exits = units.sample(frac=0.4, random_state=1)
    plan = pd.DataFrame({"unit_id": exits["unit_id"], "exit_year": rng.integers(2016, 2021, len(exits))})
    plan.to_csv(tmp_path / "plan.csv", index=False)
    res = check_plan(inst, read_plan(tmp_path / "plan.csv", inst))  # its speed: benchmarks/bench_check.py
    assert len(res.units) == n and math.isfinite(res.objective)


def test_the_checker_imports_nothing_of_the_optimiser():
    """The checker is an independent oracle: neither its modules nor what they import reach the
    model, its pricing, the engine or the solver."""
    import ast
    import subprocess
    import sys

    import exitopt.check

    banned = ("exitopt.model", "exitopt.engine", "exitopt.solve", "exitopt.highs", "exitopt.blocks",
              "exitopt.decompose")
    folder = Path(exitopt.check.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert {m.stem for m in modules} >= {"__init__", "reading", "facts", "rules", "report"}
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                dots = "." * node.level
                name = {1: "exitopt.check.", 2: "exitopt."}.get(node.level, "") + (node.module or "")
                names = [name] + [f"{name}.{a.name}" for a in node.names]
                assert not any(n.startswith(banned) for n in names), f"{module.name}: from {dots}{node.module}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith(banned) for a in node.names), module.name
    code = ("import sys, exitopt.check; "
            f"print(sorted(m for m in sys.modules if m.startswith({banned!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


#: what `exitopt check` must never import: the optimisation model, its engine and solver, Pyomo, HiGHS
_OPTIMISER = ("pyomo", "highspy", "exitopt.model", "exitopt.engine", "exitopt.solve", "exitopt.highs",
              "exitopt.highs_worker", "exitopt.blocks", "exitopt.decompose")

#: started by Python before `exitopt` runs: refuses every import of the optimiser, and on exit
#: writes which of its modules were loaded anyway
_AUDIT = '''
import atexit, json, os, sys
BANNED = {banned!r}

def _banned(name):
    return any(name == b or name.startswith(b + ".") for b in BANNED)

class RefuseOptimiser:
    def find_spec(self, name, path=None, target=None):
        if _banned(name):
            raise ImportError("the checker imported " + name)
        return None

sys.meta_path.insert(0, RefuseOptimiser())
atexit.register(lambda: open(os.environ["EXITOPT_AUDIT"], "w").write(
    json.dumps(sorted(m for m in sys.modules if _banned(m)))))
'''


def _audited(tmp_path: Path) -> dict[str, str]:
    """The environment of a subprocess that runs under the import audit above."""
    import os

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_AUDIT.format(banned=_OPTIMISER), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(hook), EXITOPT_AUDIT=str(tmp_path / "imported.json"))
    return env


def _exitopt() -> list[str]:
    import sys

    script = Path(sys.executable).with_name("exitopt")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from exitopt.cli import main; main()"]


def test_the_audit_refuses_the_optimiser(tmp_path):
    """The audit below is live: a process under it cannot load the model."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import exitopt.model"], env=_audited(tmp_path),
                          capture_output=True, text=True)
    assert done.returncode != 0 and "the checker imported" in done.stderr


@pytest.mark.parametrize("plan", ["recorded", "nothing exits"])
def test_exitopt_check_runs_without_the_optimiser(tmp_path, plan):
    """`exitopt check` of the recorded Gansu plan (and of a plan that breaks rules) in a process that
    refuses Pyomo, HiGHS and the model: the same verdict and price, and none of them loaded."""
    import json
    import subprocess

    root = Path(__file__).resolve().parents[1]
    record = root / "tests" / "regression" / "gansu_2016"
    schedule = record / "schedule.csv"
    if plan == "nothing exits":
        stays = pd.read_csv(schedule, encoding="utf-8-sig")[["unit_id"]].assign(exit_year="")
        stays.to_csv(tmp_path / "stays.csv", index=False)
        schedule = tmp_path / "stays.csv"
    done = subprocess.run(
        [*_exitopt(), "check", str(root / "models" / "gansu_2016.toml"), str(schedule),
         "--projects", str(record / "new_capacity.csv")],
        env=_audited(tmp_path), capture_output=True, text=True, encoding="utf-8", cwd=tmp_path)
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "error" not in text.lower(), text
    assert json.loads((tmp_path / "imported.json").read_text(encoding="utf-8")) == []
    if plan == "recorded":
        expected = json.loads((record / "expected.json").read_text(encoding="utf-8"))
        assert done.returncode == 0, text
        assert "OK: the plan meets every rule of scenario 'gansu_2016'." in done.stdout
        assert f"Objective: {expected['objective']}\n" in done.stdout + "\n"
    else:
        assert done.returncode == EXIT_VIOLATIONS, text
        assert "  - target: coal exit target" in done.stdout
        assert "Objective: " in done.stdout
