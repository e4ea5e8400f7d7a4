"""The built model is one typed object: every field declared, set by the build, of its type."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pyomo.core as pyo
import pytest

from conftest import GANSU
from exitopt.inputs import load
from exitopt.model import build
from exitopt.model.exit_model import ExitModel, ToolParts

SRC = Path(__file__).resolve().parents[1] / "src" / "exitopt"


@pytest.fixture(scope="module")
def gansu_model() -> ExitModel:
    return build(load(GANSU))


def test_the_build_sets_every_declared_field_with_its_type(gansu_model):
    m = gansu_model
    assert isinstance(m, ExitModel)
    fields = ExitModel.fields()
    assert {"x", "rows", "by_unit", "ind_class_of", "jobs", "cost"} <= set(fields)
    for name, kind in fields.items():
        assert name in vars(m) or m.component(name) is not None, f"{name} not set by the build"
        value = getattr(m, name)
        origin = typing.get_origin(kind) or kind
        if origin is typing.Any:
            continue
        assert isinstance(value, origin), f"{name}: {type(value).__name__}, declared {kind}"


def test_the_tools_parts_are_not_set_by_the_build(gansu_model):
    for name in ToolParts.__annotations__:
        assert gansu_model.component(name) is None


def test_an_undeclared_plain_field_is_refused_a_component_is_not(gansu_model):
    m = gansu_model
    with pytest.raises(AttributeError, match="declare it"):
        m.units_by_colour = {}
    assert "units_by_colour" not in vars(m)
    m.extra_bound = pyo.Constraint(expr=m.jobs >= 0)
    assert m.component("extra_bound") is not None
    m.del_component("extra_bound")


def _attributes_of_m(tree: ast.AST) -> set[str]:
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "m"}


def test_every_attribute_the_code_reads_from_a_model_is_declared_or_pyomo_s():
    """Where the code takes or builds an ExitModel it names it ``m``: each ``m.<name>`` is a declared field
    or Pyomo's own."""
    declared = set(ExitModel.__annotations__) | set(ToolParts.__annotations__)
    pyomo_own = set(dir(pyo.ConcreteModel))
    unknown: dict[str, list[str]] = {}
    readers = 0
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "ExitModel" not in text and "import build" not in text:  # highs.py takes any Pyomo model
            continue
        for name in _attributes_of_m(ast.parse(text)) - declared - pyomo_own:
            unknown.setdefault(name, []).append(path.name)
        readers += 1
    assert readers >= 10  # the model's families, the engine, the tools
    assert not unknown, f"read from a model but not declared in exitopt.model.exit_model: {unknown}"
