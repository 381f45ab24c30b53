"""The functional API drives recorded real sessions against a replay server on 127.0.0.1.

Each request the client sends must equal the recorded one (method, path, query, JSON body,
OpenAI-Beta header) and each result must equal the recorded payload, typed by its `object`.
Ground truth: tests/data/recorded/session-records (see data/PROVENANCE.md).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import oairun_jupyter as oai
from oairun_jupyter import Assistant, ListObject, Message, Run, RunStep, Thread, configure

from ..support.deadline import Deadline
from ..support.replay import ReplayServer, load_entries, parse_sse_text, recorded_path_and_query

FLOWS = [
    "FunctionToolsWork",
    "BasicRunOperationsWork",
    "BasicRunStepFunctionalityWorks",
    "StreamingToolCall()",
    "StreamingRunWorks",
    "BasicThreadOperationsWork",
    "BasicMessageOperationsWork",
    "BasicAssistantOperationsWork",
    "ThreadWithInitialMessagesWorks",
    "Pagination_CanPageThroughAssistantCollection",
    "Pagination_CanRehydrateAssistantPageCollectionFromBytes",
    "Pagination_CanRehydrateAssistantPageCollectionFromPageToken",
    "Pagination_CanRehydrateRunStepPageCollectionFromBytes",
]

EXPECTED_TYPE = {"assistant": Assistant, "thread": Thread, "thread.run": Run,
                 "thread.message": Message, "thread.run.step": RunStep, "list": ListObject}


class Driver:
    """Turns each recorded request into the oai_* call that must produce it.

    Objects returned earlier are passed instead of ids where the call accepts them, so the
    id-or-object path is exercised too.
    """

    def __init__(self, async_: bool = False) -> None:
        self.async_ = async_
        self.objects: dict[str, Any] = {}

    def arg(self, object_id: str) -> Any:
        return self.objects.get(object_id, object_id)

    def call(self, entry: dict[str, Any]) -> Any:
        path, query = recorded_path_and_query(entry)
        method, body = entry["RequestMethod"], dict(entry["RequestBody"] or {})
        params: dict[str, Any] = {}
        for name, value in query:
            if name == "include[]":
                params.setdefault("include", []).append(value)
            else:
                params[name] = int(value) if name == "limit" else value
        parts = path.removeprefix("/v1/").split("/")
        fn, args = self._route(method, parts)
        result = fn(*[self.arg(a) for a in args], **body, **params, async_=self.async_)
        if self.async_:
            result = asyncio.run(_await_all(result))
        self._remember(result)
        return result

    @staticmethod
    def _route(method: str, parts: list[str]):
        table = {
            ("POST", "assistants"): oai.oai_create_assistant,
            ("GET", "assistants"): oai.oai_list_assistants,
            ("GET", "assistants", "*"): oai.oai_retrieve_assistant,
            ("POST", "assistants", "*"): oai.oai_modify_assistant,
            ("DELETE", "assistants", "*"): oai.oai_delete_assistant,
            ("POST", "threads"): oai.oai_create_thread,
            ("POST", "threads", "runs"): oai.oai_create_thread_and_run,
            ("GET", "threads", "*"): oai.oai_retrieve_thread,
            ("POST", "threads", "*"): oai.oai_modify_thread,
            ("DELETE", "threads", "*"): oai.oai_delete_thread,
            ("POST", "threads", "*", "messages"): oai.oai_create_message,
            ("GET", "threads", "*", "messages"): oai.oai_list_messages,
            ("GET", "threads", "*", "messages", "*"): oai.oai_retrieve_message,
            ("POST", "threads", "*", "messages", "*"): oai.oai_modify_message,
            ("DELETE", "threads", "*", "messages", "*"): oai.oai_delete_message,
            ("POST", "threads", "*", "runs"): oai.oai_create_run,
            ("GET", "threads", "*", "runs"): oai.oai_list_runs,
            ("GET", "threads", "*", "runs", "*"): oai.oai_retrieve_run,
            ("POST", "threads", "*", "runs", "*"): oai.oai_modify_run,
            ("POST", "threads", "*", "runs", "*", "cancel"): oai.oai_cancel_run,
            ("POST", "threads", "*", "runs", "*", "submit_tool_outputs"): oai.oai_submit_tool_outputs,
            ("GET", "threads", "*", "runs", "*", "steps"): oai.oai_list_run_steps,
            ("GET", "threads", "*", "runs", "*", "steps", "*"): oai.oai_retrieve_run_step,
        }
        fixed = {"assistants", "threads", "messages", "runs", "steps", "cancel", "submit_tool_outputs"}
        key = tuple(p if p in fixed else "*" for p in parts)
        if parts[:2] == ["threads", "runs"]:
            key = ("threads", "runs")
        args = [p for p, k in zip(parts, key) if k == "*"]
        return table[(method, *key)], args

    def _remember(self, result: Any) -> None:
        items = result if isinstance(result, ListObject) else [result]
        for item in items:
            if isinstance(item, (Assistant, Thread, Run, Message, RunStep)):
                self.objects[item.id] = item


async def _await_all(result):
    result = await result
    if isinstance(result, oai.RunStream):
        return [event async for event in result.aevents(run_tools=False)]
    return result


def _recorded_stream(lines: list[str]) -> list[tuple[str, Any]]:
    return [(event, data) for event, data in parse_sse_text("".join(lines)) if data != "[DONE]"]


def _check_result(entry: dict[str, Any], result: Any) -> None:
    recorded = entry["ResponseBody"]
    if isinstance(recorded, list):  # a stream
        events = list(result.events(run_tools=False)) if isinstance(result, oai.RunStream) else result
        assert [(e.event, e.data.to_dict() if hasattr(e.data, "to_dict") else e.data) for e in events] \
            == _recorded_stream(recorded)
        return
    expected = EXPECTED_TYPE.get(recorded.get("object"), dict)
    assert type(result) is expected, (recorded.get("object"), type(result))
    assert (result.to_dict() if expected is not dict else result) == recorded
    if expected is ListObject:
        assert [type(item) for item in result] == [EXPECTED_TYPE[d["object"]] for d in recorded["data"]]
        assert (result.first_id, result.last_id, result.has_more) == (
            recorded["first_id"], recorded["last_id"], recorded["has_more"])


def _replayable(name: str) -> list[dict[str, Any]]:
    # Files are not part of this package's API; the runs that use them are.
    return [e for e in load_entries(name) if "/v1/files" not in e["RequestUri"]]


@pytest.mark.parametrize("name", FLOWS)
def test_recorded_flow_replays_exactly(name):
    entries = _replayable(name)
    with ReplayServer(entries) as server:
        configure(base_url=server.base_url, api_key="sk-replay-test-key")
        driver = Driver()
        for entry in entries:
            result = driver.call(entry)
            assert not server.mismatches, server.mismatches
            _check_result(entry, result)
        assert server.finished
        assert all(r.headers["authorization"] == "Bearer sk-replay-test-key" for r in server.received)


@pytest.mark.parametrize("name", ["FunctionToolsWork", "StreamingToolCall()",
                                  "Pagination_CanPageThroughAssistantCollection"])
def test_recorded_flow_replays_with_the_async_client(name):
    entries = _replayable(name)
    with ReplayServer(entries) as server:
        configure(base_url=server.base_url)
        driver = Driver(async_=True)
        for entry in entries:
            result = driver.call(entry)
            assert not server.mismatches, server.mismatches
            _check_result(entry, result)
        assert server.finished


def test_function_tools_flow_written_as_a_user_would():
    """FunctionToolsWork, driven by hand: objects for ids, oai_tool_output, polling to the end."""
    entries = _replayable("FunctionToolsWork")
    with ReplayServer(entries) as server:
        configure(base_url=server.base_url)
        assistant = oai.oai_create_assistant(**entries[0]["RequestBody"])
        run = oai.oai_create_thread_and_run(
            assistant, thread={"messages": ["What should I eat on Thursday?"]})
        assert isinstance(run, Run) and run.status == "queued"
        deadline = Deadline(30, "the replayed run to wait on its tool")
        while run.status != "requires_action" or server.entries[server.position]["RequestMethod"] == "GET":
            deadline.check(run.status)
            run = oai.oai_retrieve_run(run.thread_id, run)
        (call,) = run.required_action["submit_tool_outputs"]["tool_calls"]
        assert call["function"]["name"] == "get_favorite_food_for_day_of_week"
        assert json.loads(call["function"]["arguments"]) == {"day_of_week": "Thursday"}
        run = oai.oai_submit_tool_outputs(run.thread_id, run, [oai.oai_tool_output(call["id"], "tacos")])
        deadline = Deadline(30, "the replayed run to complete")
        while run.status != "completed":
            deadline.check(run.status)
            run = oai.oai_retrieve_run(run.thread_id, run)
        assert run.completed_at.tzinfo is not None and run.usage["total_tokens"] > 0
        messages = oai.oai_list_messages(run.thread_id, order="desc")
        assert "taco" in messages[0].text.lower()
        assert server.finished, server.mismatches


def test_raw_dicts_when_classify_response_is_false():
    entries = _replayable("BasicRunOperationsWork")[:1]
    with ReplayServer(entries) as server:
        configure(base_url=server.base_url)
        result = oai.oai_create_assistant("gpt-4o", classify_response=False)
        assert type(result) is dict and result == entries[0]["ResponseBody"]
