"""`tool()`: function schemas that strict mode accepts, from signatures, hints and docstrings."""

from __future__ import annotations

import dataclasses
import enum
from typing import Literal, Optional, TypedDict

import pytest

from oairun_jupyter import FunctionTool, tool, tools_from_namespace
from oairun_jupyter.tools import parse_docstring, tool_definitions

pydantic = pytest.importorskip("pydantic", reason="pydantic comes with the openai test dependency")


def assert_strict_ok(schema):
    """The rules of strict mode: every object closed, every property required, types given."""
    if schema.get("type") == "object" or "properties" in schema:
        assert schema.get("additionalProperties") is False, schema
        assert sorted(schema.get("required", [])) == sorted(schema.get("properties", {})), schema
    if not schema.get("anyOf"):
        assert "type" in schema, schema
    for child in list(schema.get("properties", {}).values()) + schema.get("anyOf", []):
        assert_strict_ok(child)
    if "items" in schema:
        assert_strict_ok(schema["items"])


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(TypedDict):
    street: str
    zip: int


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


class Person(pydantic.BaseModel):
    name: str
    age: Optional[int] = None


def everything(text: str, count: int, ratio: float, flag: bool, tags: list[str],
               mode: Literal["fast", "slow"], colour: Colour, maybe: Optional[str],
               address: Address, point: Point, person: Person, level: int = 3) -> str:
    """Do everything at once.

    Args:
        text: Some text,
            spread over two lines.
        count: How many.
        level (int): The level.
    """
    return text


def test_every_supported_hint_gives_a_strict_schema():
    built = tool(everything)
    function = built.schema["function"]
    assert function["strict"] is True and function["name"] == "everything"
    assert function["description"] == "Do everything at once."
    props = function["parameters"]["properties"]
    assert props["text"] == {"type": "string", "description": "Some text, spread over two lines."}
    assert props["count"]["type"] == "integer" and props["ratio"] == {"type": "number"}
    assert props["flag"] == {"type": "boolean"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["colour"] == {"type": "string", "enum": ["red", "blue"]}
    assert props["maybe"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["address"]["properties"] == {"street": {"type": "string"}, "zip": {"type": "integer"}}
    assert props["point"]["properties"]["y"] == {"anyOf": [{"type": "number"}, {"type": "null"}]}
    assert props["person"]["properties"]["name"] == {"type": "string"}
    assert props["level"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert props["level"]["description"] == "The level."
    assert_strict_ok(function["parameters"])


def test_numpy_style_docstrings():
    summary, params = parse_docstring("""Add numbers.

    Parameters
    ----------
    a : int
        The first number.
    b : int
        The second
        number.
    """)
    assert summary == "Add numbers." and params == {"a": "The first number.", "b": "The second number."}


def test_hints_strict_mode_cannot_express_make_the_tool_non_strict():
    def loose(options: dict, anything, value=None):
        return None
    assert tool(loose).schema["function"]["strict"] is False
    assert tool(loose, strict=True).schema["function"]["strict"] is True  # the caller may insist


def test_decorator_forms_and_calling_through():
    @tool
    def plain(x: int) -> int:
        return x + 1

    @tool(name="renamed", description="Other words.")
    def named(x: int) -> int:
        return x

    assert isinstance(plain, FunctionTool) and plain(1) == 2
    assert named.schema["function"]["name"] == "renamed"
    assert named.schema["function"]["description"] == "Other words."


def test_tools_from_namespace_and_tool_definitions():
    def f(a: int) -> int:
        return a
    found = tools_from_namespace("f, everything", {"f": f, "everything": everything})
    assert [t.name for t in found] == ["f", "everything"]
    with pytest.raises(ValueError, match="no function named 'g'"):
        tools_from_namespace(["g"], {})
    with pytest.raises(ValueError, match="not a function"):
        tools_from_namespace(["n"], {"n": 3})
    definitions = tool_definitions([f, tool(everything), {"type": "code_interpreter"}])
    assert [d["type"] for d in definitions] == ["function", "function", "code_interpreter"]
    assert definitions[0]["function"]["parameters"]["required"] == ["a"]


def test_bad_tool_names_are_refused():
    with pytest.raises(ValueError, match="tool name"):
        tool(lambda: None)  # "<lambda>"
    with pytest.raises(ValueError, match="tool name"):
        tool(everything, name="__import__")
