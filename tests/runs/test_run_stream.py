"""`RunStream`: events and callbacks across tool continuations, sync and async, and the SDK's
quirks (ANCHORS.md) shown not to happen here."""

from __future__ import annotations

import _thread
import asyncio

import pytest

import oairun_jupyter as oai
from oairun_jupyter import RunStream
from oairun_jupyter.runs._observers import observe

from ..support.flows import WEATHER_TOOL, wait_for
from ..support.replay import ReplayServer, load_entries


def get_weather(city):
    return f"sunny in {city}"


@pytest.fixture
def assistant(server):
    return oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])


def _stream(assistant, text, **options) -> RunStream:
    return oai.oai_create_thread_and_run(assistant, thread={"messages": [text]}, stream=True, **options)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def callbacks(self):
        return dict(on_message_delta=lambda d: self.calls.append(("message_delta", d["object"])),
                    on_message=lambda m: self.calls.append(("message", m.status)),
                    on_run_step_delta=lambda d: self.calls.append(("step_delta", d["object"])),
                    on_run_step=lambda s: self.calls.append(("step", f"{s.type}:{s.status}")),
                    on_event=lambda e: self.calls.append(("event", e.event)))


def test_stream_with_callbacks_runs_tools_and_continues(assistant):
    recorder = Recorder()
    run = _stream(assistant, 'get_weather {"city": "Oslo"} get_weather {"city": "Rome"}')
    assert run.stream(**recorder.callbacks()) is run
    assert run.status == "completed"
    events = [name for kind, name in recorder.calls if kind == "event"]
    assert "thread.run.requires_action" in events and events[-1] == "thread.run.completed"
    assert events.index("thread.run.step.completed") > events.index("thread.run.requires_action")
    # every event: on_event first, then its own callback
    for i, (kind, name) in enumerate(recorder.calls):
        if kind == "event" and name == "thread.message.delta":
            assert recorder.calls[i + 1] == ("message_delta", "thread.message.delta")
        if kind == "event" and name == "thread.run.step.completed":
            assert recorder.calls[i + 1][0] == "step"
    # one "completed" per step, the tool step's snapshot replaced by the completed one
    completed = [name for kind, name in recorder.calls if kind == "step" and name.endswith(":completed")]
    assert completed == ["tool_calls:completed", "message_creation:completed"]
    tool_step = next(s for s in run.event_data.run_steps.values() if s["type"] == "tool_calls")
    assert tool_step["status"] == "completed"
    assert [c["function"]["output"] for c in tool_step["step_details"]["tool_calls"]] == [
        "sunny in Oslo", "sunny in Rome"]
    (message,) = [m for m in run.event_data.messages.values() if m["role"] == "assistant"]
    assert "sunny in Oslo" in message["content"][0]["text"]["value"]
    assert [r.output for r in run.tool_calls] == ["sunny in Oslo", "sunny in Rome"]


@pytest.mark.parametrize("calls", [1, 2, 5])
def test_iteration_yields_typed_events_across_continuations(assistant, calls):
    text = " ".join(f'get_weather {{"city": "C{i}"}}' for i in range(calls))
    run = _stream(assistant, text)
    events = list(run)
    assert isinstance(events[1].data, oai.Run) and events[0].event == "thread.created"
    assert any(isinstance(e.data, oai.RunStep) for e in events)
    assert any(isinstance(e.data, oai.Message) for e in events)
    assert run.status == "completed" and len(run.tool_calls) == calls
    with pytest.raises(RuntimeError, match="already read"):
        list(run)


def test_events_without_tools_stop_at_requires_action(assistant):
    run = _stream(assistant, 'get_weather {"city": "Bonn"}')
    names = [e.event for e in run.events(run_tools=False)]
    assert names[-1] == "thread.run.requires_action" and run.status == "requires_action"
    outputs = [oai.oai_tool_output(c["id"], "mild") for c in run.required_action["submit_tool_outputs"]["tool_calls"]]
    assert run.submit_tool_outputs(outputs, stream=True).wait().status == "completed"


def test_stream_async_and_async_iteration(assistant):
    async def main():
        async def get_weather(city):
            await asyncio.sleep(0.01)
            return f"async sun in {city}"
        recorder = Recorder()
        run = await oai.oai_create_thread_and_run(assistant, thread={"messages": ['get_weather {"city": "Lyon"}']},
                                                  stream=True, async_=True)
        await run.stream_async(**recorder.callbacks())
        second = await oai.oai_create_thread_and_run(assistant, thread={"messages": ["plain"]}, stream=True,
                                                     async_=True)
        names = [event.event async for event in second]
        return run, recorder, names
    run, recorder, names = asyncio.run(main())
    assert run.status == "completed" and run.tool_calls[0].output == "async sun in Lyon"
    assert ("event", "thread.run.requires_action") in recorder.calls
    assert names[-1] == "thread.run.completed"


def test_wait_on_a_stream_raises_for_failed(assistant):
    run = _stream(assistant, "/fail server_error broken model")
    with pytest.raises(oai.RunError, match="broken model"):
        run.wait()
    assert run.event_data.run["status"] == "failed"


def test_an_interrupted_stream_keeps_what_arrived(assistant):
    run = _stream(assistant, "/pace 30\n/long 1000")
    deltas = []

    def interrupt_after_three(kind, data):
        if kind == "event" and data.event == "thread.message.delta":
            deltas.append(data)
            if len(deltas) == 3:
                _thread.interrupt_main()  # lands inside the stream's read, as the stop button does
    observe(run, interrupt_after_three)
    with pytest.raises(KeyboardInterrupt):
        for _ in run:
            pass
    assert wait_for(run.thread_id, run.id, ("cancelled",))["status"] == "cancelled"
    (message,) = run.event_data.messages.values()  # what arrived before the interrupt is kept
    assert message["content"][0]["text"]["value"].startswith("w0 w1 w2")


def test_recorded_streaming_tool_call_through_run_stream():
    """StreamingToolCall(): the real recorded round trip, replayed through RunStream's callbacks."""
    entries = load_entries("StreamingToolCall()")[1:]  # the assistant was created before
    with ReplayServer(entries) as server:
        oai.configure(base_url=server.base_url)

        def get_current_weather():
            return "warm and sunny"

        recorder = Recorder()
        run = oai.oai_create_thread_and_run("asst_BFMmpHsel3a7MuFuKKY9i5uG", thread={"messages": [
            "What should I wear outside right now?"]}, stream=True)
        run.stream(**recorder.callbacks())
        assert server.finished, server.mismatches
    events = [name for kind, name in recorder.calls if kind == "event"]
    assert events[0] == "thread.created" and "thread.run.requires_action" in events
    assert events[-1] == "thread.run.completed"
    # the continuation's first event completes the step created in the first stream
    step_id = next(iter(run.event_data.run_steps))
    step = run.event_data.run_steps[step_id]
    assert step["status"] == "completed"
    assert step["step_details"]["tool_calls"][0]["function"]["output"] == "warm and sunny"
    assert run.event_data.thread["id"] == "thread_6oUGUBxLwhyApwhYBhWjHI5f"
    (message,) = run.event_data.messages.values()
    recorded_final = [line for line in entries[-1]["ResponseBody"] if '"thread.message"' in line and '"completed"' in line]
    assert message["status"] == "completed" and message["content"][0]["text"]["value"] in recorded_final[-1]
    assert run.tool_calls[0].output == "warm and sunny"
