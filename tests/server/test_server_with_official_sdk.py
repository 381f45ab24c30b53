"""The official `openai` SDK (2.54, a real client no one here wrote) drives the local server."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 2.x marks Assistants deprecated

openai = pytest.importorskip("openai", reason="the test extra pins openai==2.54.0; install '.[test]'")
from openai import AssistantEventHandler  # noqa: E402

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


@pytest.fixture
def client(server):
    with openai.OpenAI(base_url=server.base_url, api_key="sk-unused", max_retries=0) as sdk:
        yield sdk


class Collector(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.tool_calls_done = []

    def on_text_delta(self, delta, snapshot) -> None:
        self.text += delta.value or ""

    def on_tool_call_done(self, tool_call) -> None:
        self.tool_calls_done.append(tool_call)


def test_runs_stream_with_an_event_handler(client):
    assistant = client.beta.assistants.create(model="scripted", name="SDK", tools=TOOLS)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Stream me please"}])
    handler = Collector()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id,
                                         event_handler=handler) as stream:
        stream.until_done()
        final_run = stream.get_final_run()
        messages = stream.get_final_messages()
    assert handler.text == "You said: Stream me please"
    assert final_run.status == "completed" and final_run.usage.total_tokens > 0
    assert messages[0].content[0].text.value == "You said: Stream me please"


def test_tool_calls_with_submit_tool_outputs_stream(client):
    assistant = client.beta.assistants.create(model="scripted", tools=TOOLS)
    thread = client.beta.threads.create(messages=[{"role": "user", "content":
                                                   'get_weather {"city": "Paris"} get_weather {"city": "Rome"}'}])
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        stream.until_done()
        run = stream.current_run
    assert run.status == "requires_action"
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Rome"]
    handler = Collector()
    with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id, run_id=run.id, event_handler=handler,
            tool_outputs=[{"tool_call_id": c.id, "output": f"sunny in {json.loads(c.function.arguments)['city']}"}
                          for c in calls]) as stream:
        stream.until_done()
    assert handler.text == "The tools returned:\n- get_weather: sunny in Paris\n- get_weather: sunny in Rome"


def test_create_and_poll_and_submit_tool_outputs_and_poll(client):
    assistant = client.beta.assistants.create(model="scripted", tools=TOOLS)
    thread = client.beta.threads.create()
    client.beta.threads.messages.create(thread_id=thread.id, role="user", content='get_weather {"city": "Oslo"}')
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                   poll_interval_ms=10)
    assert run.status == "requires_action"
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": call.id, "output": "cold"}],
        poll_interval_ms=10)
    assert run.status == "completed"
    messages = client.beta.threads.messages.list(thread_id=thread.id, order="desc")
    assert messages.data[0].content[0].text.value == "get_weather returned: cold"
    steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id, order="asc")
    assert [s.type for s in steps.data] == ["tool_calls", "message_creation"]
    assert steps.data[0].step_details.tool_calls[0].function.output == "cold"
    one = client.beta.threads.runs.steps.retrieve(thread_id=thread.id, run_id=run.id, step_id=steps.data[1].id)
    assert one.step_details.message_creation.message_id == messages.data[0].id


def test_sdk_pagination_walks_every_page(client):
    created = [client.beta.assistants.create(model="scripted", name=f"P{i}").id for i in range(25)]
    seen = [a.id for a in client.beta.assistants.list(limit=4, order="asc")]  # auto-paginates
    assert seen == created


def test_sdk_errors_map_to_its_exceptions(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.threads.retrieve("thread_missing")
    assert caught.value.body["message"] == "No thread found with id 'thread_missing'."
    with pytest.raises(openai.BadRequestError):
        client.beta.assistants.create(model="scripted", temperature=5)
