"""The executor's two allow-list layers, each on its own: a name must be declared for the run, and
even a declared name (a hostile or hijacked server declares what it likes) must be a plain
identifier that is not a dunder before the namespace is even looked at."""

from __future__ import annotations

import functools
import itertools
import os
import shutil

import pytest

from oairun_jupyter import tool
from oairun_jupyter.tools import MAX_ARGUMENT_BYTES, ToolExecutor, ToolGrant, declared_function_names

CALLED: list[str] = []
RULE = "declared by the test"


def _grant(names) -> ToolGrant:
    return ToolGrant(frozenset(names), RULE)


def _trap(name):
    def trap(**kwargs):
        CALLED.append(name)
        return "ran"
    return trap


_IDS = itertools.count()


def _call(name: str, arguments: str = "{}", call_id: str | None = None) -> dict:
    return {"id": call_id or f"call_{next(_IDS)}", "type": "function",
            "function": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize("name", ["__import__", "__builtins__", "__class__", "__init__", "os.system", "a b",
                                  "get weather", "x;y", ""])
def test_a_declared_name_that_is_not_a_plain_identifier_never_runs(name):
    CALLED.clear()
    executor = ToolExecutor({name: _trap(name)}, _grant({name}))  # declared by the server, and present
    (record,) = executor.run([_call(name)])
    assert CALLED == []
    assert record.status == "refused" and record.output == f"Error: {name!r} is not a name a tool may have"


def test_a_tool_name_no_variable_can_hold_resolves_only_to_its_tool_object():
    """The API allows '-' and a leading digit in a tool's name; no Python variable is called so,
    so the call goes to the `tool()` object declared under that name, and to nothing else."""
    CALLED.clear()

    def weather(city: str) -> str:
        return f"sunny in {city}"
    hyphen = tool(weather, name="get-weather")
    namespace = {"declared": hyphen, "1abc": _trap("1abc")}  # a dict key no notebook variable can be
    executor = ToolExecutor(namespace, _grant({"get-weather", "1abc"}))
    ok, refused = executor.run([_call("get-weather", '{"city": "Oslo"}'), _call("1abc")])
    assert (ok.status, ok.output) == ("ok", "sunny in Oslo")
    assert refused.status == "refused" and "no function '1abc'" in refused.output and CALLED == []


def test_an_undeclared_name_never_runs_though_the_namespace_has_it():
    CALLED.clear()
    executor = ToolExecutor({"secret": _trap("secret"), "get_weather": _trap("get_weather")}, _grant({"get_weather"}))
    secret, weather = executor.run([_call("secret"), _call("get_weather")])
    assert CALLED == ["get_weather"]
    assert secret.status == "refused"
    assert secret.output == f"Error: tool 'secret' is not declared for this run (allowed: get_weather; rule: {RULE})"
    assert weather.output == "ran"


def test_a_call_of_another_type_is_left_to_the_server():
    executor = ToolExecutor({"code_interpreter": _trap("code_interpreter")}, _grant({"code_interpreter"}))
    (record,) = executor.run([{"id": "call_1", "type": "code_interpreter", "code_interpreter": {}}])
    assert record.status == "refused" and "run by the server" in record.output


def test_a_call_without_a_name_is_refused_under_the_empty_name():
    executor = ToolExecutor({"None": _trap("None")}, _grant({"None"}))  # never mistaken for a tool named None
    (record,) = executor.run([{"id": "call_1", "type": "function", "function": {"arguments": "{}"}}])
    assert record.name == "" and record.status == "refused"
    assert record.output == f"Error: tool '' is not declared for this run (allowed: None; rule: {RULE})"


def test_only_function_tools_with_a_definition_are_declared():
    tools = [{"type": "function", "function": {"name": "f"}}, {"type": "code_interpreter"}, "junk", None,
             {"type": "function"}, {"type": "file_search", "function": {"name": "g"}}]
    assert declared_function_names(tools) == {"f"}
    assert declared_function_names(None) == set()
    # what a hostile server may send instead of a list of tools declares nothing, and raises nothing
    for reply in (5, "open", {"type": "function", "function": {"name": "open"}}, float("nan")):
        assert declared_function_names(reply) == set()
    nameless = [{"type": "function", "function": {"name": None}}, {"type": "function", "function": {"name": 7}},
                {"type": "function", "function": "open"}]
    assert declared_function_names(nameless) == set()


def test_the_record_keeps_the_call_as_sent_within_bounds():
    executor = ToolExecutor({"f": lambda **kwargs: "ok"}, _grant({"f"}))
    exact, longer = "x" * 10_000, "y" * 10_001  # neither is JSON: both refused, both recorded
    first, second, unnamed = executor.run([_call("f", exact), _call("f", longer),
                                           {"id": "call_u", "function": {"name": "f"}}])  # no arguments: none
    assert first.arguments == exact and second.arguments == "y" * 10_000 + "..."
    assert "not valid JSON" in first.output
    assert (unnamed.status, unnamed.output) == ("ok", "ok")  # no type: a function call
    assert unnamed.allowed_by == RULE


def test_what_a_refusal_says():
    executor = ToolExecutor({"f": lambda: "ok"}, _grant(set()))
    (undeclared,) = executor.run([_call("f")])
    assert undeclared.output == f"Error: tool 'f' is not declared for this run (allowed: none; rule: {RULE})"
    executor = ToolExecutor({"f": lambda: "ok"}, _grant({"g", "f"}))
    array, hosted = executor.run([_call("f", "[1]"), {"id": "c", "type": "file_search", "file_search": {}}])
    assert array.output == "Error: the arguments must be a JSON object" and array.parsed_arguments is None
    assert hosted.output == "Error: file_search calls are run by the server, not here"
    executor = ToolExecutor({"f": lambda: "ok"}, _grant({"b", "a"}))
    (listed,) = executor.run([_call("f")])
    assert listed.output == f"Error: tool 'f' is not declared for this run (allowed: a, b; rule: {RULE})"


def test_arguments_up_to_the_byte_limit_are_read_and_blank_ones_are_none():
    padding = MAX_ARGUMENT_BYTES - len('{"text": ""}')
    at_limit = '{"text": "' + "a" * padding + '"}'
    assert len(at_limit.encode()) == MAX_ARGUMENT_BYTES
    executor = ToolExecutor({"f": lambda text: len(text), "g": lambda: "none"}, _grant({"f", "g"}))
    read, over, blank = executor.run([_call("f", at_limit), _call("f", at_limit[:-2] + 'a"}'), _call("g", "  ")])
    assert (read.status, read.output) == ("ok", str(padding))
    assert read.parsed_arguments == {"text": "a" * padding}
    assert over.status == "refused" and "above the limit of 1,000,000" in over.output
    assert (blank.status, blank.output) == ("ok", "none")


def test_a_tool_object_runs_its_function_with_its_defaults():
    @tool
    def greet(name: str, greeting: str = "Hello") -> str:
        """Greets."""
        return f"{greeting}, {name}"
    executor = ToolExecutor({"greet": greet}, _grant({"greet"}))
    (record,) = executor.run([_call("greet", '{"name": "Ada", "greeting": null}')])
    assert record.output == "Hello, Ada"  # null leaves the default
    assert record.function.endswith("greet") and "FunctionTool" not in record.function


class _Greeter:
    def greet(self, name):
        return f"hi {name}"

    def __call__(self, name):
        return "called"


@pytest.mark.parametrize("name,target,why", [
    ("open", open, "is a built-in"),
    ("print", print, "is a built-in"),
    ("dict", dict, "is a class"),
    ("system", os.system, "is a built-in"),
    ("rmtree", shutil.rmtree, "is shutil's rmtree"),
    ("instance", _Greeter(), "is a _Greeter"),
    ("partial", functools.partial(lambda name: name, "x"), "is a partial"),
])
def test_what_python_put_in_the_namespace_never_runs_as_a_tool(name, target, why):
    # a server (squatted, hijacked, compromised) declares what it likes: only the user's functions run
    (record,) = ToolExecutor({name: target}, _grant({name})).run([_call(name, '{"name": "x"}')])
    assert record.status == "refused", record.output
    assert record.output.startswith(f"Error: {name!r} in the namespace {why}")
    assert record.output.endswith("a tool must be a function defined in your code or a tool() object")


def test_functions_and_methods_the_user_defined_run():
    def plain(name):
        return f"plain {name}"

    async def coroutine(name):
        return f"async {name}"
    namespace = {"plain": plain, "coroutine": coroutine, "method": _Greeter().greet, "lam": lambda name: name}
    executor = ToolExecutor(namespace, _grant(set(namespace)))
    records = executor.run([_call(name, '{"name": "x"}') for name in namespace])
    assert [r.output for r in records] == ["plain x", "async x", "hi x", "x"]


@pytest.mark.parametrize("call_id", [None, "", 7, "x" * 201, "call\n1", "call\u202e1", ["call"]])
def test_a_call_whose_id_is_not_an_id_never_runs(call_id):
    CALLED.clear()
    call = {**_call("f"), "id": call_id}
    (record,) = ToolExecutor({"f": _trap("f")}, _grant({"f"})).run([call])
    assert CALLED == [] and record.status == "refused"
    assert "is not a tool-call id" in record.output and record.allowed_by is None


def test_a_repeated_call_id_runs_once():
    # two calls under one id: their outputs could not be told apart, and approval is by id
    CALLED.clear()
    first, again = ToolExecutor({"f": _trap("f")}, _grant({"f"})).run([_call("f", call_id="call_x"),
                                                                        _call("f", call_id="call_x")])
    assert CALLED == ["f"]
    assert first.status == "ok" and again.status == "refused"
    assert again.output == "Error: the id 'call_x' is used by another call of this round"


def test_a_server_named_tool_runs_only_if_the_user_wrote_it():
    # nothing declared by this kernel: the server's names resolve to functions the user wrote only
    import json as library_module

    def mine(name):
        return f"mine {name}"
    grant = ToolGrant(frozenset({"mine", "loads", "rmtree"}), "the server", user_functions_only=True)
    namespace = {"mine": mine, "loads": library_module.loads, "rmtree": shutil.rmtree}
    mine_record, loads_record, rmtree_record = ToolExecutor(namespace, grant).run(
        [_call("mine", '{"name": "x"}'), _call("loads", '{"s": "1"}'), _call("rmtree", '{"path": "/nonexistent"}')])
    assert (mine_record.status, mine_record.output, mine_record.allowed_by) == ("ok", "mine x", "the server")
    assert loads_record.status == "refused" and "json.loads, a library function" in loads_record.output
    assert rmtree_record.status == "refused"
    # the same library function, declared by the user, runs
    (declared,) = ToolExecutor({"loads": library_module.loads}, _grant({"loads"})).run([_call("loads", '{"s": "1"}')])
    assert (declared.status, declared.output) == ("ok", "1")


@pytest.mark.parametrize("arguments", ['{"text": "a\\ud800b"}', '{"text": "a\ud800b"}'],
                         ids=["escaped", "decoded"])
def test_arguments_holding_a_lone_surrogate_are_read_not_fatal(arguments):
    # "\\ud800" is valid JSON, and once the server's reply is decoded the arguments string holds the
    # lone surrogate itself: a model or server may send either, and the round must go on
    executor = ToolExecutor({"f": lambda text: len(text)}, _grant({"f"}))
    (record,) = executor.run([_call("f", arguments)])
    assert (record.status, record.output) == ("ok", "3")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_each_call_of_a_round_has_its_own_duration(mode):
    """A call that fails at once beside a slow one took no time (the widget shows each call's own
    duration, not the round's)."""
    import asyncio
    import time

    def slow() -> str:
        time.sleep(1.5)  # long beside a failure's time, even on a loaded machine
        return "done"

    def failing() -> str:
        raise ValueError("at once")

    executor = ToolExecutor({"slow": slow, "failing": failing}, grant=_grant({"slow", "failing"}))
    calls = [_call("slow"), _call("failing")]
    records = executor.run(calls) if mode == "sync" else asyncio.run(executor.run_async(calls))
    by_name = {r.name: r for r in records}
    assert by_name["slow"].status == "ok" and by_name["failing"].status == "error"
    assert by_name["slow"].duration >= 1.5
    assert by_name["failing"].duration < by_name["slow"].duration / 3  # not the round's 1.5 s
