"""Each tool receives the arguments its signature declares (issue 14): defaults for nulls,
hinted types built, positional-only parameters by position; and every output is valid text.
The calls go through the executor, as a run's calls do."""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
from typing import Literal, Sequence

import pydantic
import pytest

from oairun_jupyter import tool
from oairun_jupyter.tools import ToolExecutor, ToolGrant, tool_definitions


def _run(fn, arguments, name=None) -> object:
    name = name or fn.__name__
    executor = ToolExecutor({name: fn}, ToolGrant(frozenset({name}), "test"))
    (record,) = executor.run([{"id": "call_1", "type": "function",
                               "function": {"name": name, "arguments": json.dumps(arguments)}}])
    return record


def get_weather(city: str, unit: str = "C", days: int = 1) -> str:
    return f"20{unit} in {city} for {days} day(s)"


@pytest.mark.parametrize("declared", ["plain function", "tool object"])
def test_a_null_for_a_parameter_with_a_default_gets_the_default(declared):
    fn = get_weather if declared == "plain function" else tool(get_weather)
    record = _run(fn, {"city": "Rome", "unit": None, "days": None}, "get_weather")
    assert record.output == "20C in Rome for 1 day(s)"
    no_default = _run(lambda city: repr(city), {"city": None}, "f")
    assert no_default.output == "None"  # no default: the null is the value


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Box(pydantic.BaseModel):
    width: int
    label: str = "box"


def describe(color: Color, where: Point, box: Box, pair: tuple[int, str], tags: set[str],
             points: list[Point], scale: float, maybe: Color | None = None) -> str:
    return json.dumps([type(color).__name__, color.value, type(where).__name__, where.x, type(box).__name__,
                       box.width, type(pair).__name__, list(pair), type(tags).__name__, sorted(tags),
                       [type(p).__name__ for p in points], type(scale).__name__, maybe and maybe.value])


def test_arguments_are_built_into_the_hinted_types_the_schema_was_made_from():
    schema = tool(describe).schema["function"]["parameters"]["properties"]
    assert schema["color"]["enum"] == ["red", "blue"] and schema["where"]["type"] == "object"
    record = _run(describe, {"color": "red", "where": {"x": 1, "y": 2}, "box": {"width": 3, "label": "b"},
                             "pair": [1, "a"], "tags": ["b", "a", "b"], "points": [{"x": 0, "y": 0}],
                             "scale": 2, "maybe": "blue"})
    assert record.status == "ok", record.output
    assert json.loads(record.output) == ["Color", "red", "Point", 1, "Box", 3, "tuple", [1, "a"], "set", ["a", "b"],
                                         ["Point"], "float", "blue"]


def test_a_value_that_cannot_be_built_is_refused_with_the_parameter_named():
    record = _run(describe, {"color": "green", "where": {"x": 1, "y": 2}, "box": {"width": 3}, "pair": [1, "a"],
                             "tags": [], "points": [], "scale": 1})
    assert record.status == "refused" and "parameter 'color'" in record.output and "green" in record.output


def test_positional_only_parameters_are_passed_by_position():
    def power(base: float, exponent: int = 2, /, *, note: str = "") -> str:
        return f"{base ** exponent}{note}"
    assert _run(power, {"base": 3, "exponent": 3, "note": "!"}).output == "27.0!"
    assert _run(power, {"base": 3}).output == "9.0"
    refused = _run(power, {"exponent": 3})
    assert refused.status == "refused" and "base" in refused.output


@pytest.mark.parametrize("returned,expected", [("x\ud800y", "x\ufffdy"), ("\ud83d\ude00", "\U0001F600"),
                                               ({"k": "v\udcff"}, '{"k": "v\ufffd"}'), (float("nan"), "null")])
def test_what_a_tool_returns_always_becomes_valid_text(returned, expected):
    record = _run(lambda: returned, {}, "f")
    assert record.output == expected
    record.output.encode("utf-8")


def test_an_error_message_with_a_lone_surrogate_is_valid_text_too():
    def broken():
        raise ValueError("bad \udce9 byte")
    record = _run(broken, {})
    assert record.status == "error" and record.error == "ValueError: bad \ufffd byte"
    record.traceback.encode("utf-8")


def test_arguments_nested_too_deeply_are_refused_not_raised():
    executor = ToolExecutor({"f": lambda **kw: "ran"}, ToolGrant(frozenset({"f"}), "test"))
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"  # within the byte limit, past any parser's depth
    (record,) = executor.run([{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": deep}}])
    assert record.status == "refused" and "nested too deeply" in record.output


class Mixed(enum.Enum):
    ONE = 1
    B = "b"


def test_schemas_type_every_value_a_hint_allows():
    """Literal and Enum choices are typed by all their values (null too); a tuple of types is typed
    place by place; abstract collections are arrays (they used to become `{}`)."""
    def pick(a: Literal[1, "a", None], b: Mixed, c: tuple[int, str], d: Sequence[int],
             e: collections.abc.Iterable[str], f: tuple[float, ...]) -> str:
        return ""
    properties = tool_definitions([tool(pick)])[0]["function"]["parameters"]["properties"]
    assert properties["a"] == {"type": ["integer", "null", "string"], "enum": [1, "a", None]}
    assert properties["b"] == {"type": ["integer", "string"], "enum": [1, "b"]}
    assert properties["c"] == {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                               "items": False, "minItems": 2, "maxItems": 2}
    assert properties["d"] == {"type": "array", "items": {"type": "integer"}}
    assert properties["e"] == {"type": "array", "items": {"type": "string"}}
    assert properties["f"] == {"type": "array", "items": {"type": "number"}}


def test_generators_are_consumed_and_non_finite_numbers_become_json_null():
    import asyncio
    import math

    import numpy as np

    def counts(n: int):
        yield from range(n)

    async def acounts(n: int):
        for i in range(n):
            yield i

    def measures() -> dict:
        return {"mean": math.nan, "series": np.array([1.5, np.inf, -np.inf])}
    assert _run(counts, {"n": 3}).output == "[0, 1, 2]"
    assert _run(acounts, {"n": 3}).output == "[0, 1, 2]"  # a blocking round
    assert _run(measures, {}).output == '{"mean": null, "series": [1.5, null, null]}'
    executor = ToolExecutor({"acounts": acounts}, ToolGrant(frozenset({"acounts"}), "test"))
    (record,) = asyncio.run(executor.run_async([{"id": "call_1", "type": "function",
                                                 "function": {"name": "acounts", "arguments": '{"n": 2}'}}]))
    assert record.output == "[0, 1]"  # an async round


def test_values_are_built_place_by_place_and_a_value_of_another_type_is_refused():
    def pick(c: tuple[int, str], d: Sequence[int], n: int) -> str:
        return repr((c, d, n))
    assert _run(pick, {"c": [1, "x"], "d": [1, 2], "n": 3}).output == "((1, 'x'), [1, 2], 3)"
    for wrong, where in (({"c": ["x", 1], "d": [], "n": 1}, "parameter 'c': expected an integer, got str"),
                         ({"c": [1, "x"], "d": [], "n": True}, "parameter 'n': expected an integer, got bool"),
                         ({"c": [1, "x"], "d": ["1"], "n": 1}, "parameter 'd': expected an integer, got str")):
        record = _run(pick, wrong)
        assert record.status == "refused" and where in record.error, record.error
