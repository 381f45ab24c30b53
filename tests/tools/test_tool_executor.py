"""The executor's two allow-list layers, each on its own: a name must be declared for the run, and
even a declared name (a hostile or hijacked server declares what it likes) must be a plain
identifier that is not a dunder before the namespace is even looked at."""

from __future__ import annotations

import pytest

from oairun_jupyter.tools import ToolExecutor

CALLED: list[str] = []


def _trap(name):
    def trap(**kwargs):
        CALLED.append(name)
        return "ran"
    return trap


def _call(name: str, arguments: str = "{}") -> dict:
    return {"id": f"call_{len(name)}", "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize("name", ["__import__", "__builtins__", "__class__", "__init__", "os.system", "a b",
                                  "get weather", "x;y", "", "1abc"])
def test_a_declared_name_that_is_not_a_plain_identifier_never_runs(name):
    CALLED.clear()
    executor = ToolExecutor({name: _trap(name)}, declared={name})  # declared by the server, and present
    (record,) = executor.run([_call(name)])
    assert CALLED == []
    assert record.status == "refused" and record.output == f"Error: {name!r} is not a name a tool may have"


def test_an_undeclared_name_never_runs_though_the_namespace_has_it():
    CALLED.clear()
    executor = ToolExecutor({"secret": _trap("secret"), "get_weather": _trap("get_weather")}, declared={"get_weather"})
    secret, weather = executor.run([_call("secret"), _call("get_weather")])
    assert CALLED == ["get_weather"]
    assert secret.status == "refused"
    assert secret.output == "Error: tool 'secret' is not declared for this run (declared: get_weather)"
    assert weather.output == "ran"


def test_a_call_of_another_type_is_left_to_the_server():
    executor = ToolExecutor({"code_interpreter": _trap("code_interpreter")}, declared={"code_interpreter"})
    (record,) = executor.run([{"id": "call_1", "type": "code_interpreter", "code_interpreter": {}}])
    assert record.status == "refused" and "run by the server" in record.output


def test_a_call_without_a_name_is_refused_under_the_empty_name():
    executor = ToolExecutor({"None": _trap("None")}, declared={"None"})  # never mistaken for a tool named None
    (record,) = executor.run([{"id": "call_1", "type": "function", "function": {"arguments": "{}"}}])
    assert record.name == "" and record.status == "refused"
    assert record.output == "Error: tool '' is not declared for this run (declared: None)"
