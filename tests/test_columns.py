"""One column table: the unit and project readers, the workbook template and the README's column
table all read src/exitopt/columns.py, and say the same."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from exitopt import columns, tables, template
from exitopt.columns import PROJECTS, TABLES, UNITS
from exitopt.errors import InputError
from exitopt.tables import read_projects, read_units
from exitopt.vocab import KIND_PRODUCT, PRODUCT_SECTOR

README = Path(__file__).resolve().parents[1] / "README.md"
KINDS = {"id", "text", "bool", "capacity", "count", "money", "year", "amount"}


def test_the_readme_column_table_is_the_one_columns_py_writes():
    text = README.read_text(encoding="utf-8")
    assert text.count(columns.README_START) == 1 and text.count(columns.README_END) == 1
    assert columns.readme_section() in text, ("README.md's unit-table columns differ from src/exitopt/columns.py; "
                                              "run python -m exitopt.columns")


def test_the_readme_table_lists_every_unit_column_with_its_default_and_choices():
    table = columns.markdown(UNITS).splitlines()[2:]
    assert [row.split("|")[1].strip().strip("`") for row in table] == [c.name for c in UNITS]
    row = dict(zip([c.name for c in UNITS], table, strict=False))
    assert "| `true` |" in row["indicator_eligible"] and "| `false` |" in row["relocatable"]
    assert "`state`, `private`" in row["owner"] and "| yes |" in row["unit_id"]
    assert "| yes |" not in row["group"] and "| `firm` |" in row["group"]


def test_rewriting_the_readme_section_replaces_only_what_is_between_the_markers():
    text = f"before\n{columns.README_START}\nold table\n{columns.README_END}\nafter\n"
    assert columns.readme_with_table(text) == f"before\n{columns.readme_section()}\nafter\n"


def test_the_readers_take_kind_required_and_default_from_the_column_table():
    assert tables.UNIT_COLUMNS == {c.name: (c.kind, c.required, c.default) for c in UNITS}
    assert tables.PROJECT_COLUMNS == {c.name: (c.kind, c.required, c.default) for c in PROJECTS}
    # what the readers have always done; a change here changes what every table means
    assert tables.UNIT_COLUMNS["indicator_eligible"] == ("bool", False, True)
    assert tables.UNIT_COLUMNS["subsidised_loss"] == ("money", False, 0.0)
    assert tables.UNIT_COLUMNS["group"] == ("text", False, None)
    assert tables.UNIT_COLUMNS["exit_years"] == ("text", False, "")
    assert tables.PROJECT_COLUMNS["status"] == ("text", False, "candidate")
    assert [n for n, (_, req, _) in tables.UNIT_COLUMNS.items() if req] == [
        "unit_id", "name", "sector", "kind", "product", "capacity", "firm", "region", "workers", "source"]
    assert [n for n, (_, req, _) in tables.PROJECT_COLUMNS.items() if req] == [
        "project_id", "name", "product", "capacity", "year", "firm"]


def test_every_column_is_well_formed():
    for name, cols in TABLES.items():
        assert len({c.name for c in cols}) == len(cols), name
        for c in cols:
            assert c.kind in KINDS, (name, c.name)
            assert c.en and c.zh and c.label_zh and c.unit, (name, c.name)
            assert not (c.required and c.default is not None), (name, c.name)
            if c.choices and c.default is not None:
                assert c.default in c.choices, (name, c.name)
    assert dict((c.name, c.choices) for c in UNITS)["kind"] == tuple(KIND_PRODUCT)
    assert dict((c.name, c.choices) for c in PROJECTS)["product"] == tuple(PRODUCT_SECTOR)


def test_the_template_sheets_have_the_table_columns_and_leave_out_the_worked_out_ones():
    assert list(template.SHEETS) == ["units", "projects", "pins", "plan", "approvals"]
    assert [c.name for c in template.SHEETS["units"]] == [c.name for c in UNITS]
    assert "sector" not in [c.name for c in template.SHEETS["projects"]]
    assert "sector" in tables.PROJECT_COLUMNS


def test_the_template_headers_and_notes_come_from_the_column_table(tmp_path):
    out = tmp_path / "t.xlsx"
    template.build(out)
    with zipfile.ZipFile(out) as z:
        strings = z.read("xl/sharedStrings.xml").decode("utf-8")
        notes = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/comments"))
    cap = next(c for c in UNITS if c.name == "capacity")
    assert f"capacity\n{cap.label_zh} · {cap.unit}" in strings
    assert "unit_id\n单位编号" in strings
    eligible = next(c for c in UNITS if c.name == "indicator_eligible")
    assert eligible.zh in notes and "默认 default: true" in notes


@pytest.mark.parametrize("column, value, fragment", [
    ("owner", "public", "'public' is not one of state, private"),
    ("accident", "minor", "'minor' is not one of none, general, large, major, extraordinary"),
    ("source", "blog", "'blog' is not one of gcmt, plan, press, synthetic"),
])
def test_a_value_outside_a_columns_choices_is_refused_naming_them(tmp_path, column, value, fragment):
    row = {"unit_id": "A", "name": "a", "sector": "coal", "kind": "coal_mine", "product": "coal", "capacity": "10",
           "firm": "f", "region": "R", "workers": "1", "source": "synthetic", column: value}
    path = tmp_path / "units.csv"
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=fragment):
        read_units(path)


def test_a_project_status_outside_its_choices_is_refused(tmp_path):
    path = tmp_path / "projects.csv"
    path.write_text("project_id,name,product,capacity,year,firm,status\nP,p,coal,10,2017,f,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match="'maybe' is not one of candidate, approved"):
        read_projects(path)
