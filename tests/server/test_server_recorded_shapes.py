"""The recorded real sessions, played against the local server: same object types, the same
fields (the server's objects hold every field the service's did) and the same status sequences.
Ground truth: tests/data/recorded (see data/PROVENANCE.md)."""

from __future__ import annotations

import itertools
import re

import pytest

import oairun_jupyter as oai
from oairun_jupyter.server import start_local_server

from ..support.flows import polled_until, wait_for
from ..support.replay import RECORDED, load_entries, parse_sse_text


@pytest.fixture
def paced_server(store_db):
    local = start_local_server(db=store_db, pace=0.03, poll_after_ms=5)
    oai.configure(base_url=local.base_url)
    yield local
    local.stop()


def _statuses(payloads):
    return [status for status, _ in itertools.groupby(p["status"] for p in payloads)]


def _assert_fields_cover(ours: dict, recorded: dict, where: str) -> None:
    missing = set(recorded) - set(ours)
    assert not missing, f"{where}: the server lacks {sorted(missing)}"


def test_function_tools_work_polls_through_the_same_statuses(paced_server):
    entries = load_entries("FunctionToolsWork")
    recorded_runs = [e["ResponseBody"] for e in entries if e["ResponseBody"].get("object") == "thread.run"]
    tool = entries[0]["RequestBody"]["tools"]
    assistant = oai.oai_create_assistant("gpt-4o", tools=tool)
    _assert_fields_cover(assistant.to_dict(), entries[0]["ResponseBody"], "assistant")
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": [
        'get_favorite_food_for_day_of_week {"day_of_week": "Thursday"}']}, classify_response=False)
    polled = polled_until(run["thread_id"], run["id"], ("requires_action",), first=run, interval=0.005)
    (call,) = polled[-1]["required_action"]["submit_tool_outputs"]["tool_calls"]
    submitted = oai.oai_submit_tool_outputs(run["thread_id"], run["id"],
                                            [oai.oai_tool_output(call["id"], "tacos")], classify_response=False)
    polled += polled_until(run["thread_id"], run["id"], ("completed",), first=submitted, interval=0.005)
    assert _statuses(polled) == _statuses(recorded_runs) == [
        "queued", "in_progress", "requires_action", "queued", "in_progress", "completed"]
    recorded_by_status = {r["status"]: r for r in recorded_runs}
    for ours in polled:  # each of our runs against the recorded one in the same status
        _assert_fields_cover(ours, recorded_by_status[ours["status"]], f"run {ours['status']}")
    messages = oai.oai_list_messages(run["thread_id"], order="desc", classify_response=False)
    recorded_messages = entries[-1]["ResponseBody"]
    assert [m["role"] for m in messages["data"]] == [m["role"] for m in recorded_messages["data"]]
    for ours, theirs in zip(messages["data"], recorded_messages["data"]):
        _assert_fields_cover(ours, theirs, "message")
    assert "tacos" in messages["data"][0]["content"][0]["text"]["value"]


def _recorded_events(name: str) -> list[tuple[str, dict]]:
    return [(event, data) for event, data in parse_sse_text((RECORDED / name).read_text()) if event != "done"]


def _collapse(names):
    return [name for name, _ in itertools.groupby(names)]  # runs of deltas count once


def test_streaming_tool_call_has_the_recorded_event_sequence(paced_server):
    recorded_first = _recorded_events("openai-dotnet.StreamingToolCall.entry1.sse")
    recorded_second = _recorded_events("openai-dotnet.StreamingToolCall.entry2.sse")
    tool = load_entries("StreamingToolCall()")[0]["RequestBody"]["tools"]
    assistant = oai.oai_create_assistant("gpt-4o", tools=tool)
    first = [(e.event, e.data) for e in oai.oai_create_thread_and_run(
        assistant, thread={"messages": ["get_current_weather()"]}, stream=True, classify_response=False)]
    assert _collapse(n for n, _ in first) == _collapse(n for n, _ in recorded_first)
    run = first[-1][1]
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    second = [(e.event, e.data) for e in oai.oai_submit_tool_outputs(
        run["thread_id"], run["id"], [oai.oai_tool_output(call["id"], "warm and sunny")], stream=True,
        classify_response=False)]
    assert _collapse(n for n, _ in second) == _collapse(n for n, _ in recorded_second)
    ours_by_event = [next(group) for _, group in itertools.groupby(first + second, key=lambda e: e[0])]
    theirs_by_event = [next(group) for _, group in
                       itertools.groupby(recorded_first + recorded_second, key=lambda e: e[0])]
    for (name, ours), (_, theirs) in zip(ours_by_event, theirs_by_event):
        assert ours["object"] == theirs["object"]
        _assert_fields_cover(ours, theirs, name)


def test_basic_run_operations_give_the_same_shapes(paced_server):
    entries = load_entries("BasicRunOperationsWork")
    by_call = {(e["RequestMethod"], re.sub(r"(thread|run|asst|msg)_\w+", r"\1", e["RequestUri"].split("?")[0])):
               e["ResponseBody"] for e in entries}
    assistant = oai.oai_create_assistant("gpt-4o", classify_response=False)
    thread = oai.oai_create_thread(classify_response=False)
    empty = oai.oai_list_runs(thread["id"], classify_response=False)
    assert empty["data"] == [] and empty["has_more"] is False
    message = oai.oai_create_message(thread["id"], "Hello, assistant!", classify_response=False)
    run = oai.oai_create_run(thread["id"], assistant["id"], additional_messages=[],
                             include=["step_details.tool_calls[*].file_search.results[*].content"],
                             classify_response=False)
    done = wait_for(thread["id"], run["id"], ("completed",))
    runs = oai.oai_list_runs(thread["id"], classify_response=False)
    messages = oai.oai_list_messages(thread["id"], classify_response=False)
    base = "https://api.openai.com/v1"
    pairs = [(assistant, by_call[("POST", f"{base}/assistants")]),
             (thread, by_call[("POST", f"{base}/threads")]),
             (message, by_call[("POST", f"{base}/threads/thread/messages")]),
             (run, by_call[("POST", f"{base}/threads/thread/runs")]),
             (done, by_call[("GET", f"{base}/threads/thread/runs/run")]),
             (runs["data"][0], by_call[("GET", f"{base}/threads/thread/runs")]["data"][0]),
             (messages["data"][0], by_call[("GET", f"{base}/threads/thread/messages")]["data"][0])]
    for ours, theirs in pairs:
        assert ours["object"] == theirs["object"]
        _assert_fields_cover(ours, theirs, theirs["object"])
    assert [m["role"] for m in messages["data"]] == ["assistant", "user"]
