"""The official OpenAPI contract, both ways: what the client sends, and what the service sent.

Contract: tests/data/assistants-v2.openapi.yaml (see data/PROVENANCE.md).
"""

from __future__ import annotations

import json
import re

import pytest

import oairun_jupyter as oai
from oairun_jupyter import configure

from ..support import contract
from ..support.http_server import LoopbackServer, json_reply
from ..support.replay import RECORDED, SESSION_RECORDS, parse_sse_text, recorded_path_and_query

_event_schema = contract.event_schema


def _recorded_entries():
    for path in sorted(SESSION_RECORDS.glob("*.json")):
        for number, entry in enumerate(json.loads(path.read_text())["Entries"]):
            if "/v1/files" not in entry["RequestUri"] and entry["StatusCode"] == 200:
                yield pytest.param(entry, id=f"{path.stem}-{number}")


@pytest.mark.parametrize("entry", list(_recorded_entries()))
def test_every_recorded_response_validates(entry):
    path, _ = recorded_path_and_query(entry)
    template = contract.path_template(path)
    body = entry["ResponseBody"]
    if isinstance(body, list):
        for event, data in parse_sse_text("".join(body)):
            if event != "done":
                assert contract.service_errors(_event_schema(event), data) == []
        return
    schema = contract.response_schema(entry["RequestMethod"], template)
    assert contract.service_errors(schema, body) == []


@pytest.mark.parametrize("name", sorted(p.name for p in RECORDED.glob("*.sse")))
def test_every_recorded_stream_event_validates(name):
    for event, data in parse_sse_text((RECORDED / name).read_text()):
        if event == "done":
            assert contract.errors("DoneEvent", {"event": event, "data": data}) == []
        else:
            assert contract.service_errors(_event_schema(event), data) == []


def test_the_tolerated_deviations_are_all_really_seen():
    """The deviation list may not grow beyond what the recorded service really did."""
    seen = set()
    for param in _recorded_entries():
        entry = param.values[0]
        body = entry["ResponseBody"]
        if isinstance(body, dict):
            schema = contract.response_schema(entry["RequestMethod"], contract.path_template(
                recorded_path_and_query(entry)[0]))
            seen |= {(schema, re.sub(r"data/\d+", "data/*", e)) for e in contract.errors(schema, body)}
    for name in RECORDED.glob("*.sse"):
        for event, data in parse_sse_text(name.read_text()):
            if event != "done":
                seen |= {(_event_schema(event), e) for e in contract.errors(_event_schema(event), data)}
    assert contract.SERVICE_DEVIATIONS <= seen


@pytest.fixture
def capture():
    """A local server that accepts anything and keeps what it was sent."""
    def answer(request):
        if request.headers.get("accept") == "text/event-stream":
            return 200, {"Content-Type": "text/event-stream"}, b"event: done\ndata: [DONE]\n\n"
        if request.method == "GET" and request.path.endswith(("/runs", "/steps", "/messages", "/assistants")):
            return json_reply(200, {"object": "list", "data": [], "first_id": None, "last_id": None,
                                    "has_more": False})
        return json_reply(200, {"id": "obj_1", "object": "echo"})

    with LoopbackServer(answer) as server:
        configure(base_url=server.base_url)
        yield server


FULL_RUN_OPTIONS = dict(
    model="gpt-4o", instructions="Be brief.",
    tools=[{"type": "function", "function": {"name": "f", "description": "d", "parameters": {
        "type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"],
        "additionalProperties": False}, "strict": True}}, {"type": "code_interpreter"}],
    metadata={"k": "v"}, temperature=0.5, top_p=0.9, max_prompt_tokens=1000,
    max_completion_tokens=500, truncation_strategy={"type": "last_messages", "last_messages": 4},
    tool_choice={"type": "function", "function": {"name": "f"}},
    response_format={"type": "json_object"}, parallel_tool_calls=False)

CALLS = {
    "create_run minimal": lambda: oai.oai_create_run("thread_1", "asst_1"),
    "create_run full": lambda: oai.oai_create_run(
        "thread_1", "asst_1", additional_instructions="More.", reasoning_effort="low",
        additional_messages=["hi", {"role": "assistant", "content": "hello"}],
        include=["step_details.tool_calls[*].file_search.results[*].content"], **FULL_RUN_OPTIONS),
    "create_run stream": lambda: list(oai.oai_create_run("thread_1", "asst_1", stream=True)),
    "create_thread_and_run full": lambda: oai.oai_create_thread_and_run(
        "asst_1", thread={"messages": ["hi"], "metadata": {"a": "b"},
                          "tool_resources": {"code_interpreter": {"file_ids": ["file_1"]}}},
        tool_resources={"code_interpreter": {"file_ids": []}}, **FULL_RUN_OPTIONS),
    "create_thread_and_run tool_choice string": lambda: oai.oai_create_thread_and_run(
        "asst_1", tool_choice="required", response_format="auto"),
    "modify_run": lambda: oai.oai_modify_run("thread_1", "run_1", metadata={"a": "b"}),
    "submit_tool_outputs": lambda: oai.oai_submit_tool_outputs(
        "thread_1", "run_1", [oai.oai_tool_output("call_1", {"t": 21}), oai.oai_tool_output("call_2", "x")]),
    "submit_tool_outputs stream": lambda: list(oai.oai_submit_tool_outputs(
        "thread_1", "run_1", [oai.oai_tool_output("call_1", "ok")], stream=True)),
    "create_thread": lambda: oai.oai_create_thread(messages=["hi"], metadata={"a": "b"}),
    "modify_thread": lambda: oai.oai_modify_thread("thread_1", metadata={"a": "b"}),
    "create_message": lambda: oai.oai_create_message("thread_1", "hi", metadata={"a": "b"}),
    "modify_message": lambda: oai.oai_modify_message("thread_1", "msg_1", metadata={"a": "b"}),
    "create_assistant": lambda: oai.oai_create_assistant(
        "gpt-4o", name="n", description="d", instructions="i", tools=[{"type": "file_search"}],
        metadata={"a": "b"}, temperature=1, top_p=1, response_format="auto", reasoning_effort="high"),
    "modify_assistant": lambda: oai.oai_modify_assistant("asst_1", name="m", temperature=0.2),
    "list calls": lambda: [oai.oai_list_runs("thread_1", limit=5, order="asc", after="run_0"),
                           oai.oai_list_run_steps("thread_1", "run_1", include=["x.y"]),
                           oai.oai_list_messages("thread_1", run_id="run_1"),
                           oai.oai_list_assistants(before="asst_9")],
    "cancel and deletes": lambda: [oai.oai_cancel_run("thread_1", "run_1"),
                                   oai.oai_delete_thread("thread_1"),
                                   oai.oai_delete_message("thread_1", "msg_1"),
                                   oai.oai_delete_assistant("asst_1")],
}


@pytest.mark.parametrize("name", CALLS)
def test_every_request_body_validates(capture, name):
    CALLS[name]()
    assert capture.received
    for request in capture.received:
        template = contract.path_template(request.path)
        operation = contract.contract()["paths"][template][request.method.lower()]
        if request.body:
            schema = contract.request_schema(request.method, template)
            assert contract.errors(schema, request.json()) == [], (request.method, request.path)
        else:  # no body is fine only where the contract does not require one
            assert not operation.get("requestBody", {}).get("required"), (request.method, request.path)
        declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        assert {name for name, _ in request.query} <= declared, request.query
