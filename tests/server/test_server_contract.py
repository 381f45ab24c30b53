"""Every object and every stream event the local server emits validates against the contract."""

from __future__ import annotations

import pytest

import oairun_jupyter as oai

from ..support import contract
from ..support.flows import make_assistant, streamed_run, wait_for


def _declared_events() -> set[str]:
    names = set()
    schemas = contract.contract()["components"]["schemas"]
    for group in ("ThreadStreamEvent", "RunStreamEvent", "RunStepStreamEvent", "MessageStreamEvent"):
        for branch in schemas[group]["oneOf"]:
            names.update(branch["properties"]["event"]["enum"])
    return names


_schema = contract.event_schema


SCRIPTS = {
    "text": "Hello there",
    "parallel tools": 'get_weather {"city": "Paris"} then get_weather {"city": "Oslo"}',
    "code_interpreter": "/code",
    "file_search with citation": "/search",
    "annotations": "/cite",
    "failed": "/fail rate_limit_exceeded too many requests",
    "long": "/long 300",
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_streamed_events_validate(server, script):
    assistant = make_assistant()
    events = streamed_run(assistant["id"], SCRIPTS[script])
    declared = _declared_events()
    for event, data in events:
        assert event in declared, event
        assert contract.errors(_schema(event), data) == [], (event, data)
    final = events[-1][1]
    run = oai.oai_retrieve_run(final["thread_id"], final["id"], classify_response=False)
    assert contract.errors("RunObject", run) == []
    steps = oai.oai_list_run_steps(final["thread_id"], final["id"], classify_response=False)
    assert contract.errors("ListRunStepsResponse", steps) == []
    messages = oai.oai_list_messages(final["thread_id"], classify_response=False)
    assert contract.errors("ListMessagesResponse", messages) == []
    for step in steps["data"]:
        one = oai.oai_retrieve_run_step(final["thread_id"], final["id"], step["id"], classify_response=False)
        assert contract.errors("RunStepObject", one) == []


def test_incomplete_and_cancelled_runs_validate(server):
    assistant = make_assistant()
    events = streamed_run(assistant["id"], "/long 3000", max_completion_tokens=256)
    assert events[-1][0] == "thread.run.incomplete"
    for event, data in events:
        assert contract.errors(_schema(event), data) == []
    run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/pace 5\n/long 100000"]},
                                        classify_response=False)
    wait_for(run["thread_id"], run["id"], ("in_progress",))
    cancelling = oai.oai_cancel_run(run["thread_id"], run["id"], classify_response=False)
    assert contract.errors("RunObject", cancelling) == []
    cancelled = wait_for(run["thread_id"], run["id"], ("cancelled",))
    assert contract.errors("RunObject", cancelled) == []
    for message in oai.oai_list_messages(run["thread_id"], classify_response=False)["data"]:
        assert contract.errors("MessageObject", message) == []


def test_object_endpoints_validate(server):
    assistant = make_assistant(description="d", instructions="Be brief.", metadata={"a": "b"})
    assert contract.errors("AssistantObject", assistant) == []
    assert contract.errors("AssistantObject", oai.oai_modify_assistant(
        assistant["id"], name="Renamed", classify_response=False)) == []
    assert contract.errors("ListAssistantsResponse", oai.oai_list_assistants(classify_response=False)) == []
    thread = oai.oai_create_thread(messages=["hi"], metadata={"k": "v"}, classify_response=False)
    assert contract.errors("ThreadObject", thread) == []
    assert contract.errors("ThreadObject", oai.oai_modify_thread(thread["id"], metadata={"k": "w"},
                                                                 classify_response=False)) == []
    message = oai.oai_create_message(thread["id"], "more", classify_response=False)
    assert contract.errors("MessageObject", message) == []
    assert contract.errors("MessageObject", oai.oai_modify_message(
        thread["id"], message["id"], metadata={"x": "y"}, classify_response=False)) == []
    run = oai.oai_create_run(thread["id"], assistant["id"], classify_response=False)
    assert contract.errors("RunObject", run) == []
    wait_for(thread["id"], run["id"], ("completed",))
    assert contract.errors("ListRunsResponse", oai.oai_list_runs(thread["id"], classify_response=False)) == []
    assert contract.errors("RunObject", oai.oai_modify_run(thread["id"], run["id"], metadata={"a": "1"},
                                                           classify_response=False)) == []
    for deleted, schema in ((oai.oai_delete_message(thread["id"], message["id"], classify_response=False),
                             "DeleteMessageResponse"),
                            (oai.oai_delete_thread(thread["id"], classify_response=False), "DeleteThreadResponse"),
                            (oai.oai_delete_assistant(assistant["id"], classify_response=False),
                             "DeleteAssistantResponse")):
        assert contract.errors(schema, deleted) == []
