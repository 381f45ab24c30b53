"""Bad arguments fail before any request is sent, with a message naming the argument."""

from __future__ import annotations

import pytest

import oairun_jupyter as oai
from oairun_jupyter import configure

from ..support.http_server import LoopbackServer, json_reply

BAD_CALLS = [
    ("metadata", lambda: oai.oai_create_run("thread_1", "asst_1", metadata={f"k{i}": "v" for i in range(17)})),
    ("metadata", lambda: oai.oai_modify_run("thread_1", "run_1", metadata={"k" * 65: "v"})),
    ("metadata", lambda: oai.oai_modify_run("thread_1", "run_1", metadata={"k": "v" * 513})),
    ("metadata", lambda: oai.oai_modify_run("thread_1", "run_1", metadata={"k": 1})),
    ("temperature", lambda: oai.oai_create_run("thread_1", "asst_1", temperature=2.5)),
    ("temperature", lambda: oai.oai_create_thread_and_run("asst_1", temperature="hot")),
    ("top_p", lambda: oai.oai_create_run("thread_1", "asst_1", top_p=-0.1)),
    ("limit", lambda: oai.oai_list_runs("thread_1", limit=0)),
    ("limit", lambda: oai.oai_list_run_steps("thread_1", "run_1", limit=2.5)),
    ("order", lambda: oai.oai_list_runs("thread_1", order="newest")),
    ("tool_outputs", lambda: oai.oai_submit_tool_outputs("thread_1", "run_1", [])),
    ("tool_outputs", lambda: oai.oai_submit_tool_outputs("thread_1", "run_1", [{"id": "call_1", "output": "x"}])),
    ("tool_outputs", lambda: oai.oai_submit_tool_outputs("thread_1", "run_1", [{"tool_call_id": "call_1", "output": 3}])),
    ("tool_outputs", lambda: oai.oai_submit_tool_outputs(
        "thread_1", "run_1", [oai.oai_tool_output("call_1", "a"), oai.oai_tool_output("call_1", "b")])),
    ("thread_id", lambda: oai.oai_retrieve_run("../assistants", "run_1")),
    ("thread_id", lambda: oai.oai_retrieve_run(None, "run_1")),
    ("run_id", lambda: oai.oai_cancel_run("thread_1", "run 1")),
    ("step_id", lambda: oai.oai_retrieve_run_step("thread_1", "run_1", "")),
    ("assistant_id", lambda: oai.oai_create_run("thread_1", 42)),
    ("max_prompt_tokens", lambda: oai.oai_create_run("thread_1", "asst_1", max_prompt_tokens=100)),
    ("max_completion_tokens", lambda: oai.oai_create_thread_and_run("asst_1", max_completion_tokens=True)),
    ("tool_choice", lambda: oai.oai_create_run("thread_1", "asst_1", tool_choice="always")),
    ("response_format", lambda: oai.oai_create_run("thread_1", "asst_1", response_format="xml")),
    ("truncation_strategy", lambda: oai.oai_create_run("thread_1", "asst_1", truncation_strategy={"type": "middle"})),
    ("reasoning_effort", lambda: oai.oai_create_run("thread_1", "asst_1", reasoning_effort="extreme")),
    ("parallel_tool_calls", lambda: oai.oai_create_run("thread_1", "asst_1", parallel_tool_calls="yes")),
    ("stream", lambda: oai.oai_create_run("thread_1", "asst_1", stream="yes")),
    ("additional_messages", lambda: oai.oai_create_run("thread_1", "asst_1", additional_messages=[{"role": "system", "content": "x"}])),
    ("thread", lambda: oai.oai_create_thread_and_run("asst_1", thread={"message": ["hi"]})),
    ("tools", lambda: oai.oai_create_run("thread_1", "asst_1", tools=["get_weather"])),
    ("include", lambda: oai.oai_list_run_steps("thread_1", "run_1", include=[1])),
    ("tool_call_id", lambda: oai.oai_tool_output("", "x")),
    ("content", lambda: oai.oai_create_message("thread_1", "")),
    ("model", lambda: oai.oai_create_assistant("")),
]


@pytest.mark.parametrize("argument,call", BAD_CALLS, ids=[f"{i}-{a}" for i, (a, _) in enumerate(BAD_CALLS)])
def test_bad_argument_fails_before_any_request(argument, call):
    with LoopbackServer(lambda request: json_reply(200, {})) as server:
        configure(base_url=server.base_url)
        with pytest.raises(ValueError) as caught:
            call()
    assert argument in str(caught.value)
    assert server.received == []


def test_objects_are_accepted_wherever_an_id_is():
    run = oai.Run(resp={"id": "run_1", "object": "thread.run", "thread_id": "thread_1", "status": "queued"})
    thread = oai.Thread.from_payload({"id": "thread_1", "object": "thread"})
    step = oai.RunStep.from_payload({"id": "step_1", "object": "thread.run.step"})
    with LoopbackServer(lambda request: json_reply(200, {"id": "step_1", "object": "thread.run.step"})) as server:
        configure(base_url=server.base_url)
        oai.oai_retrieve_run_step(thread, run, step)
    assert server.received[0].path == "/v1/threads/thread_1/runs/run_1/steps/step_1"


def test_an_object_of_the_wrong_kind_is_refused():
    thread = oai.Thread.from_payload({"id": "thread_1", "object": "thread"})
    with pytest.raises(ValueError, match="run_id"):
        oai.oai_retrieve_run("thread_1", thread)


def test_configuration_mistakes_are_named():
    with pytest.raises(ValueError, match="base_url"):
        configure(base_url="127.0.0.1:8000")
    with pytest.raises(ValueError, match="max_retries"):
        configure(max_retries=-1)
    with pytest.raises(ValueError, match="read"):
        configure(read_timeout=0)
    with pytest.raises(ValueError, match="api_key"):
        oai.oai_set_api_key("  ")
