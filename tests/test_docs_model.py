"""docs/model.md kept in step with the code: every rule family of the registry (the yearly caps
included) has a section there, and the families' modules, the model's modules and the checker's
functions cite theirs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import exitopt.check
from exitopt.check import CHECKS, RULE_FAMILIES, check_plan
from exitopt.rules import FAMILIES

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
MODEL = ROOT / "src" / "exitopt" / "model"
RULES = ROOT / "src" / "exitopt" / "rules"
CITE = re.compile(r"docs/model\.md#([a-z0-9-]+)")
ANCHOR = re.compile(r'^<a id="([a-z0-9-]+)"></a>\s*$', re.M)


def sections() -> dict[str, str]:
    """{anchor: the text of its section}, a section running from its anchor to the next."""
    text = DOC.read_text(encoding="utf-8")
    marks = list(ANCHOR.finditer(text))
    return {m.group(1): text[m.end():nxt.start() if nxt else len(text)]
            for m, nxt in zip(marks, [*marks[1:], None], strict=False)}


def docstring_of_module(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def cited(text: str) -> set[str]:
    return set(CITE.findall(text))


#: (anchor, the `rule` values of its rows, its heading's rule number, its scenario key) per family
REGISTERED = [(f.anchor, f.rows, f.number, f.scenario_key) for f in FAMILIES]


def test_the_caps_are_registered_with_their_keys_of_the_section():
    caps = {anchor: key for anchor, _, number, key in REGISTERED if number.startswith("12")}
    assert caps == {"budget": "[caps]", "workers": "[[caps.workers]]", "award-fund": "[caps]"}


def test_anchors_are_unique():
    anchors = ANCHOR.findall(DOC.read_text(encoding="utf-8"))
    assert len(anchors) == len(set(anchors))


@pytest.mark.parametrize("key, rows, number, scenario_key", REGISTERED, ids=[r[0] for r in REGISTERED])
def test_every_registered_family_has_its_section(key, rows, number, scenario_key):
    doc = sections()
    assert key in doc, f"docs/model.md has no section <a id=\"{key}\"></a> for the {key} family"
    body = doc[key]
    heading = next(line for line in body.splitlines() if line.startswith("## "))
    assert heading.startswith(f"## Rule {number} "), heading
    assert f"`{scenario_key}" in body, f"the {key} section does not name its scenario key {scenario_key}"
    for row in rows:
        assert f"`{row}`" in body, f"the {key} section does not name its rows `{row}`"
    if key not in ("protected", "windows"):  # the two that only remove decisions state no inequality
        assert "```math" in body and re.search(r"\\le|\\ge|=", body), f"the {key} section states no rule"


def test_every_model_module_cites_a_section_that_exists():
    doc = sections()
    for path in sorted(MODEL.glob("*.py")) + sorted(RULES.glob("*.py")):
        if path.name in ("__init__.py", "family.py") and path.parent == RULES:
            continue  # the registry and the protocol: no rule of their own
        refs = cited(docstring_of_module(path))
        assert refs, f"{path.name}: its docstring cites no section of docs/model.md"
        assert refs <= set(doc), f"{path.name} cites {sorted(refs - set(doc))}, not in docs/model.md"


@pytest.mark.parametrize("family", FAMILIES, ids=[f.key for f in FAMILIES])
def test_the_module_of_a_family_cites_its_section(family):
    assert family.anchor in cited(docstring_of_module(RULES / f"{family.key}.py")), \
        f"rules/{family.key}.py does not cite docs/model.md#{family.anchor}"
    if family.add is None:  # a family that only shapes which exits exist: the domain cites it too
        assert family.anchor in cited(docstring_of_module(MODEL / "domain.py"))


def test_every_checker_function_cites_a_section_that_exists():
    doc = sections()
    for fn in (*RULE_FAMILIES, check_plan):
        refs = cited(fn.__doc__ or "")
        assert refs, f"{fn.__name__}: its docstring cites no section of docs/model.md"
        assert refs <= set(doc), f"{fn.__name__} cites {sorted(refs - set(doc))}, not in docs/model.md"
    assert "cost" in cited(check_plan.__doc__ or "")


@pytest.mark.parametrize("family", FAMILIES, ids=[f.key for f in FAMILIES])
def test_every_registered_family_has_a_check_of_its_own(family):
    checks = [fn.__name__ for fn in RULE_FAMILIES if family.anchor in cited(fn.__doc__ or "")]
    assert len(checks) == 1, f"the checker has {checks or 'no function'} for docs/model.md#{family.anchor}"
    assert CHECKS[family.key].__name__ == checks[0]


def test_the_checker_package_points_to_the_document():
    assert "docs/model.md" in (exitopt.check.__doc__ or "")


def test_the_readme_links_the_document_from_the_rules():
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    rules = text.split("\n## The rules\n", 1)[1].split("\n## ", 1)[0]
    assert "(docs/model.md)" in rules


def test_every_link_inside_the_document_lands():
    text = DOC.read_text(encoding="utf-8")
    anchors = set(sections())
    links = set(re.findall(r"\]\(#([a-z0-9-]+)\)", text))
    assert links and links <= anchors, sorted(links - anchors)
