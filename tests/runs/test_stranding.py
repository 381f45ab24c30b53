"""Nothing stranded (issue 14): whatever leaves `wait`, `wait_async`, `stream`, `stream_async`,
a RunStream's `wait` or `do_tool_calls` (any exception, SystemExit, KeyboardInterrupt, a
callback that raises, a namespace that breaks), the run ends on the server and its thread takes
the next run at once. Inputs that used to escape as exceptions (a lone surrogate in a tool's
output, arguments nested 1,500 deep) are answered instead, and the run completes."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

import oairun_jupyter as oai
from oairun_jupyter import Run

from ..support.flows import WEATHER_TOOL

TERMINAL = {"completed", "cancelled", "failed", "expired", "incomplete"}
CALL = 'get_weather {"city": "Oslo"}'


@pytest.fixture
def assistant(server):
    return oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])


class _BrokenNamespace(dict):
    """An env whose lookups fail (a bug in the user's mapping, say)."""

    def get(self, key: Any, default: Any = None) -> Any:
        raise RuntimeError("this namespace is broken")


def _tool(behaviour: str):
    def get_weather(city: str) -> str:
        if behaviour == "interrupt":
            raise KeyboardInterrupt
        if behaviour == "exit":
            sys.exit(3)
        if behaviour == "raise":
            raise ValueError("tool failed")
        return f"sunny in {city}"
    return get_weather


# (way out, what the caller sees)
WAYS = {"interrupt": KeyboardInterrupt, "exit": SystemExit, "tool error raised": oai.ToolCallError,
        "broken namespace": RuntimeError, "callback raises": ZeroDivisionError}
ENTRIES = ["wait", "wait_async", "stream", "stream_async", "stream wait", "do_tool_calls"]


def _drive(entry: str, assistant: str, way: str, thread: Any) -> None:
    """Start a run of CALL on `thread`, drive it through `entry` until `way` ends it."""
    env: Any = _BrokenNamespace() if way == "broken namespace" else {
        "get_weather": _tool({"interrupt": "interrupt", "exit": "exit"}.get(way, "raise" if way == "tool error raised"
                                                                          else "ok"))}
    on_tool_error = "raise" if way == "tool error raised" else "submit"

    def boom(_: Any) -> None:
        raise ZeroDivisionError("a callback failed")
    callback = boom if way == "callback raises" else None
    if entry in ("wait", "do_tool_calls"):
        run = Run(thread, assistant_id=assistant)
        if entry == "wait":
            run.wait(env=env, on_tool_error=on_tool_error, timeout=30)
        else:
            while run.status != "requires_action":
                run.retrieve()
            run.do_tool_calls(env=env)
    elif entry in ("stream", "stream wait"):
        run = oai.oai_create_run(thread, assistant, stream=True)
        if entry == "stream":
            run.stream(on_message_delta=callback, on_run_step=callback, env=env, on_tool_error=on_tool_error)
        else:
            run.wait(env=env, on_tool_error=on_tool_error, timeout=30)
    else:
        async def drive() -> None:
            if entry == "wait_async":
                run = Run(thread, assistant_id=assistant, async_=True)
                await run.wait_async(env=env, on_tool_error=on_tool_error, timeout=30)
            else:
                run = await oai.oai_create_run(thread, assistant, stream=True, async_=True)
                await run.stream_async(on_run_step=callback, env=env, on_tool_error=on_tool_error)
        asyncio.run(drive())


CASES = [(entry, way) for entry in ENTRIES for way in WAYS
         if not (way == "callback raises" and entry not in ("stream", "stream_async"))
         and not (way == "tool error raised" and entry == "do_tool_calls")]


@pytest.mark.parametrize("entry,way", CASES, ids=[f"{e}-{w}" for e, w in CASES])
def test_every_way_out_leaves_the_run_ended_and_the_thread_free(assistant, entry, way):
    thread = oai.oai_create_thread(messages=[CALL])
    with pytest.raises(WAYS[way]) as raised:
        _drive(entry, assistant, way, thread)
    (run,) = oai.oai_list_runs(thread.id)[:1]
    assert run.status in TERMINAL, (entry, way, run.status)
    if run.status == "cancelled" and not isinstance(raised.value, oai.ToolCallError):
        assert any(f"run {run.id} could no longer be driven from here and was cancelled" in note
                   for note in getattr(raised.value, "__notes__", [])), raised.value
    following = Run(thread, assistant_id=assistant).wait(env={"get_weather": _tool("ok")}, timeout=30)
    assert following.status == "completed"  # the thread takes the next run at once


@pytest.mark.parametrize("entry", ["wait", "stream"])
@pytest.mark.parametrize("text,expected", [
    ('/call get_weather {"city": "x\\ud800y"}', "sunny in x\ufffdy"),  # the model's lone surrogate, echoed
    ('/call get_weather {"city": ' + "[" * 1500 + "]" * 1500 + "}", "nested too deeply"),
])
def test_what_used_to_escape_is_answered_and_the_run_completes(assistant, entry, text, expected):
    thread = oai.oai_create_thread(messages=[text])
    env = {"get_weather": lambda city: f"sunny in {city}"}
    if entry == "wait":
        run = Run(thread, assistant_id=assistant).wait(env=env, tools=["get_weather"], timeout=30)
    else:
        run = oai.oai_create_run(thread, assistant, stream=True).wait(env=env, tools=["get_weather"], timeout=30)
    assert run.status == "completed"
    (record,) = run.tool_calls
    assert expected in record.output
    assert expected in oai.oai_list_messages(thread.id)[0].text


@pytest.mark.parametrize("entry", ["wait", "wait_async", "stream wait", "async stream wait"])
def test_a_run_cancelled_elsewhere_while_its_tool_runs_ends_as_cancelled(assistant, entry):
    """Another process cancels the run while this one's tool runs: the wait raises RunError
    (cancelled), not the server's refusal of the outputs, and does not return as if it ended."""
    thread = oai.oai_create_thread()

    def get_weather(city: str) -> str:
        run = oai.oai_list_runs(thread.id)[0]
        oai.oai_cancel_run(thread.id, run.id)  # not through the Run being waited on
        return f"sunny in {city}"
    env = {"get_weather": get_weather}
    if entry == "wait":
        run = Run(thread, assistant_id=assistant, additional_messages=[CALL])
        call = lambda: run.wait(env=env, timeout=30)  # noqa: E731
    elif entry == "stream wait":
        run = oai.oai_create_run(thread, assistant, additional_messages=[CALL], stream=True)
        call = lambda: run.wait(env=env, timeout=30)  # noqa: E731
    else:
        async def drive():
            made = (await oai.oai_create_run(thread, assistant, additional_messages=[CALL], stream=True, async_=True)
                    if entry == "async stream wait" else Run(thread, assistant_id=assistant,
                                                              additional_messages=[CALL]))
            return await made.wait_async(env=env, timeout=30)
        call = lambda: asyncio.run(drive())  # noqa: E731
    with pytest.raises(oai.RunError) as raised:
        call()
    assert type(raised.value) is oai.RunError and raised.value.status == "cancelled"
    assert oai.oai_retrieve_run(thread.id, oai.oai_list_runs(thread.id)[0].id).status == "cancelled"
