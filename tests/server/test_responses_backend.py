"""The responses backend against a local upstream that answers with real recorded Responses traffic.

Ground truth: tests/data/recorded/responses (see data/PROVENANCE.md) and the official contracts
(tests/data/responses.openapi.yaml for what is sent upstream, assistants-v2.openapi.yaml for what
our clients get).
"""

from __future__ import annotations

import json
import logging
import random
import re

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import oairun_jupyter as oai
from oairun_jupyter.server import start_local_server

from ..support import contract
from ..support.flows import backend_behind, stream_events, thread_and_run_events
from ..support.http_server import LoopbackServer, json_reply
from ..support.replay import RECORDED

UPSTREAM_KEY = "sk-upstream-SECRET-responses-0123456789"
RESPONSES = RECORDED / "responses"
WEATHER = {"type": "function", "function": {
    "name": "get_weather_at_location", "description": "Gets the weather at a specified location",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"},
                                                    "unit": {"type": "string", "enum": ["C", "F", "K"]}},
                   "required": ["location"]}}}
MARKER = re.compile("\u3010\\d+\u2020[^\u3011]*\u3011")
# what our steps hold that the Assistants contract has no type for (documented in the README's
# "A real model"): reasoning summaries and web searches as tool calls of their own type, and the
# url citations of a web search answer
EXTENSIONS = {"reasoning", "web_search", "url_citation"}


def recorded_replies(name: str) -> list[dict]:
    """The recorded answers to `POST /responses` of a session, in order."""
    entries = json.loads((RESPONSES / f"{name}.json").read_text())["Entries"]
    return [e for e in entries if e["RequestMethod"] == "POST" and e["RequestUri"].endswith("/responses")]


def recorded_response(entry: dict) -> dict:
    """The final Response object of a recorded answer (streamed or not)."""
    body = entry["ResponseBody"]
    if isinstance(body, dict):
        return body
    final = None
    for line in "".join(body).splitlines():
        if line.startswith("data: ") and '"response.' in line:
            event = json.loads(line[6:])
            if event["type"] in ("response.completed", "response.incomplete", "response.failed"):
                final = event["response"]
    return final


def as_reply(entry: dict, chunk: int = 97):
    body = entry["ResponseBody"]
    if isinstance(body, dict):
        return json_reply(entry["StatusCode"], body)
    raw = "".join(body).encode()
    return 200, {"Content-Type": "text/event-stream"}, [raw[i:i + chunk] for i in range(0, len(raw), chunk)]


class Upstream:
    """A fake Responses server: answers `POST /responses` with the queued replies, in order, and
    `GET /models` with a list."""

    def __init__(self) -> None:
        self.queue: list[object] = []
        self.server = LoopbackServer(self._answer)

    def _answer(self, request):
        if request.method == "GET" and request.path.endswith("/models"):
            return json_reply(200, {"object": "list", "data": [
                {"id": "gpt-5-mini", "object": "model", "created": 1, "owned_by": "openai"},
                {"id": "o3-mini", "object": "model", "created": 2, "owned_by": "openai"}]})
        reply = self.queue.pop(0)
        return reply if isinstance(reply, tuple) else as_reply(reply)

    @property
    def sent(self) -> list[dict]:
        return [r.json() for r in self.server.received if r.method == "POST"]


@pytest.fixture
def upstream():
    fake = Upstream()
    with backend_behind("responses", fake.server, UPSTREAM_KEY):
        yield fake


_run = thread_and_run_events


def _outcome(response: dict) -> dict:
    """What a recorded response carries: message texts, function calls, code, citations, usage."""
    messages, calls, code, cited = [], [], [], []
    for item in response["output"]:
        if item["type"] == "message":
            messages.append("".join(p["text"] for p in item["content"] if p["type"] == "output_text"))
            cited += [a["file_id"] for p in item["content"] for a in p.get("annotations") or []
                      if a["type"] == "file_citation"]
        elif item["type"] == "function_call":
            calls.append((item["name"], item["arguments"]))
        elif item["type"] == "code_interpreter_call":
            code.append(item["code"])
    return {"messages": messages, "calls": calls, "code": code, "cited": cited,
            "usage": (response["usage"]["input_tokens"], response["usage"]["output_tokens"])}


def _without_extensions(node):
    if isinstance(node, list):
        return [_without_extensions(n) for n in node if not (isinstance(n, dict) and n.get("type") in EXTENSIONS)]
    if isinstance(node, dict):
        return {k: _without_extensions(v) for k, v in node.items()}
    return node


def _contract_errors(schema: str, payload) -> list[str]:
    """Contract errors of a payload, its documented extensions (EXTENSIONS) set aside: everything
    else in it must conform."""
    return contract.errors(schema, _without_extensions(payload))


FLOWS = {  # recorded session -> what the run ends as
    "StreamingResponses": "completed", "HelloWorldStreaming(gpt-4o-mini)": "completed",
    "MessageHistoryWorks": "completed", "StructuredOutputs(gpt-4o-mini)": "completed",
    "FunctionCallStreamingWorks": "requires_action", "FunctionCallWorks": "requires_action",
    "MaxTokens": "incomplete", "CanStreamBackgroundResponses": "completed",
    "StreamingResponsesWithReasoningSummary": "completed", "ReasoningWithStoreDisabled": "completed",
    "CodeInterpreterToolStreaming": "completed", "CodeInterpreterToolWithoutFileIds": "completed",
    "FileSearchCallStreaming": "completed", "FileSearch": "completed",
    "WebSearchCallStreaming": "completed", "WebSearchCall": "completed", "MCPToolStreamingWorks": "completed",
}
TOOLS = [WEATHER, {"type": "code_interpreter"}, {"type": "file_search"}, {"type": "web_search"}]


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_a_recorded_flow_gives_its_text_calls_code_citations_and_usage_in_valid_runs_steps_and_messages(
        upstream, name):
    first = recorded_replies(name)[0]
    upstream.queue.append(first)
    expected = _outcome(recorded_response(first))
    assistant = oai.oai_create_assistant("gpt-4o-mini", tools=TOOLS, tool_resources={
        "file_search": {"vector_store_ids": ["vs_recorded"]}})
    events = _run(assistant, "go")
    assert events[-1][0] == f"thread.run.{FLOWS[name]}", events[-1]
    for event, data in events:
        assert _contract_errors(contract.event_schema(event), data) == [], (event, data)
    run = events[-1][1]
    assert (run["usage"]["prompt_tokens"], run["usage"]["completion_tokens"]) == expected["usage"]
    messages = oai.oai_list_messages(run["thread_id"], order="asc", classify_response=False)["data"]
    answers = [m for m in messages if m["role"] == "assistant"]
    texts = [MARKER.sub("", m["content"][0]["text"]["value"]) for m in answers]
    assert texts == expected["messages"]
    cited = [a["file_citation"]["file_id"] for m in answers for a in m["content"][0]["text"]["annotations"]
             if a["type"] == "file_citation"]
    assert cited == expected["cited"]
    for message in answers:  # a citation's text is where it says, as clients replace it
        value = message["content"][0]["text"]["value"]
        for note in message["content"][0]["text"]["annotations"]:
            assert value[note["start_index"]:note["end_index"]] == note["text"]
    steps = oai.oai_list_run_steps(run["thread_id"], run["id"], order="asc", classify_response=False)
    assert _contract_errors("ListRunStepsResponse", steps) == []
    calls = [c for s in steps["data"] if s["type"] == "tool_calls" for c in s["step_details"]["tool_calls"]]
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in calls if c["type"] == "function"] \
        == expected["calls"]
    assert [c["code_interpreter"]["input"] for c in calls if c["type"] == "code_interpreter"] == expected["code"]
    sent = upstream.sent[0]
    assert contract.responses_errors("CreateResponse", sent) == []
    assert sent["store"] is False and "reasoning.encrypted_content" in sent["include"]
    assert sent["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}]


def test_code_deltas_stream_as_the_step_input_and_the_message_is_cut_around_the_call(upstream):
    upstream.queue.append(recorded_replies("CodeInterpreterToolStreaming")[0])
    assistant = oai.oai_create_assistant("gpt-4o-mini", tools=[{"type": "code_interpreter"}])
    events = _run(assistant, "factorial")
    code = "".join(c["code_interpreter"].get("input", "") for e, d in events if e == "thread.run.step.delta"
                   for c in d["delta"]["step_details"]["tool_calls"])
    assert code == _outcome(recorded_response(recorded_replies("CodeInterpreterToolStreaming")[0]))["code"][0]
    kinds = [d["type"] for e, d in events if e == "thread.run.step.created"]
    assert kinds == ["message_creation", "tool_calls", "message_creation"]


def test_a_reasoning_summary_is_a_step_of_its_own_and_the_answer_follows(upstream):
    upstream.queue.append(recorded_replies("StreamingResponsesWithReasoningSummary")[0])
    assistant = oai.oai_create_assistant("o3-mini", reasoning_effort="high")
    events = _run(assistant, "plan my trip")
    (step,) = [d for e, d in events if e == "thread.run.step.completed" and d["type"] == "tool_calls"]
    (call,) = step["step_details"]["tool_calls"]
    recorded = recorded_response(recorded_replies("StreamingResponsesWithReasoningSummary")[0])
    summary = "\n\n".join(p["text"] for p in recorded["output"][0]["summary"])
    assert call["type"] == "reasoning" and call["reasoning"]["summary"] == summary
    sent = upstream.sent[0]
    assert sent["reasoning"] == {"effort": "high", "summary": "auto"}


def test_the_next_turn_carries_the_encrypted_reasoning_and_the_function_call_it_led_to(upstream):
    """Stateless reasoning across a tool call and a follow-up run: turn 2 sends the reasoning item
    of turn 1 in front of its function call, with the call's output; turn 3 (a new run on the
    thread) sends the reasoning in front of the answer it led to."""
    first = recorded_replies("ReasoningWithStoreDisabled")[0]["ResponseBody"]
    reasoning = first["output"][0]
    call_item = {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_up_1",
                 "name": "get_weather_at_location", "arguments": '{"location":"Paris"}'}
    upstream.queue.append(json_reply(200, {**first, "output": [reasoning, call_item]}))
    upstream.queue.append(json_reply(200, first))  # reasoning, then the answer
    upstream.queue.append(recorded_replies("StreamingResponses")[0])
    assistant = oai.oai_create_assistant("gpt-5-mini", tools=[WEATHER], classify_response=False)
    events = _run(assistant["id"], "Weather in Paris?")
    run = events[-1][1]
    (pending,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert pending["id"] != "call_up_1" and pending["function"]["name"] == "get_weather_at_location"
    after = stream_events(oai.oai_submit_tool_outputs(run["thread_id"], run["id"],
                                                      [oai.oai_tool_output(pending["id"], "18 C")],
                                                      stream=True, classify_response=False))
    assert after[-1][0] == "thread.run.completed"
    second = upstream.sent[1]["input"]
    assert second[0]["role"] == "user"
    assert second[1] == {k: reasoning[k] for k in ("type", "id", "summary", "encrypted_content")}
    assert second[2] == {"type": "function_call", "id": "fc_1", "call_id": "call_up_1",
                         "name": "get_weather_at_location", "arguments": '{"location":"Paris"}'}
    assert second[3] == {"type": "function_call_output", "call_id": "call_up_1", "output": "18 C"}
    later = stream_events(oai.oai_create_run(run["thread_id"], assistant["id"], stream=True, classify_response=False,
                                             additional_messages=[{"role": "user", "content": "And tomorrow?"}]))
    assert later[-1][0] == "thread.run.completed"
    third = upstream.sent[2]["input"]
    answer = first["output"][1]
    assert [i.get("type") for i in third] == ["message", "reasoning", "message", "message"]
    assert third[1]["encrypted_content"] == first["output"][0]["encrypted_content"]
    assert third[2]["id"] == answer["id"] and third[2]["role"] == "assistant"
    assert third[2]["content"][0]["text"] == answer["content"][0]["text"]
    assert third[3]["content"][0]["text"] == "And tomorrow?"
    for body in upstream.sent:
        assert contract.responses_errors("CreateResponse", body) == [], body


def test_run_options_pass_through_as_the_responses_api_names_them(upstream):
    upstream.queue.append(recorded_replies("StructuredOutputs(gpt-4o-mini)")[0])
    schema = {"name": "data_list", "strict": True, "schema": {"type": "object", "properties": {
        "animal_data_list": {"type": "array", "items": {"type": "string"}}}, "required": ["animal_data_list"],
        "additionalProperties": False}}
    assistant = oai.oai_create_assistant("gpt-4o-mini", instructions="Be brief.", tools=[WEATHER, {"type": "web_search"}],
                                         classify_response=False)
    thread = oai.oai_create_thread(messages=["five animals"], classify_response=False)
    events = stream_events(oai.oai_create_run(
        thread["id"], assistant["id"], stream=True, classify_response=False, temperature=0.2, top_p=0.5,
        parallel_tool_calls=False, tool_choice={"type": "function", "function": {"name": "get_weather_at_location"}},
        response_format={"type": "json_schema", "json_schema": schema}, max_completion_tokens=500,
        additional_instructions="Answer in JSON."))
    assert events[-1][0] == "thread.run.completed"
    sent = upstream.sent[0]
    assert contract.responses_errors("CreateResponse", sent) == []
    assert sent["instructions"] == "Be brief.\n\nAnswer in JSON."
    assert (sent["temperature"], sent["top_p"], sent["parallel_tool_calls"]) == (0.2, 0.5, False)
    assert sent["tool_choice"] == {"type": "function", "name": "get_weather_at_location"}
    assert sent["text"] == {"format": {"type": "json_schema", **schema}}
    assert sent["max_output_tokens"] == 500
    assert sent["tools"][1] == {"type": "web_search"}
    assert "web_search_call.action.sources" in sent["include"]


def test_file_search_gets_the_vector_stores_of_the_assistant_and_the_thread(upstream):
    upstream.queue.append(recorded_replies("FileSearchCallStreaming")[0])
    assistant = oai.oai_create_assistant("gpt-4o-mini", tools=[{"type": "file_search"}], tool_resources={
        "file_search": {"vector_store_ids": ["vs_assistant"]}}, classify_response=False)
    thread = oai.oai_create_thread(messages=["Travis?"], tool_resources={
        "file_search": {"vector_store_ids": ["vs_thread"]}}, classify_response=False)
    events = stream_events(oai.oai_create_run(thread["id"], assistant["id"], stream=True, classify_response=False))
    assert events[-1][0] == "thread.run.completed"
    assert upstream.sent[0]["tools"] == [{"type": "file_search", "vector_store_ids": ["vs_assistant", "vs_thread"]}]
    (message,) = [d for e, d in events if e == "thread.message.completed"]
    (note,) = message["content"][0]["text"]["annotations"]
    assert note["text"] in message["content"][0]["text"]["value"] and note["text"].endswith("test_favorite_foods.txt\u3011")


# --- failures: never `completed` ---------------------------------------------------------

def _sse(raw: bytes):
    return 200, {"Content-Type": "text/event-stream"}, [raw[i:i + 97] for i in range(0, len(raw), 97)] or [b""]


def _terminal_at(raw: bytes) -> int:
    return raw.index(b"event: response.completed")


@pytest.mark.parametrize("name", ["StreamingResponses", "FunctionCallStreamingWorks", "CodeInterpreterToolStreaming",
                                  "FileSearchCallStreaming"])
def test_a_recorded_stream_cut_anywhere_or_with_an_error_event_ends_failed(upstream, name):
    raw = "".join(recorded_replies(name)[0]["ResponseBody"]).encode()
    rng = random.Random(name)
    assistant = oai.oai_create_assistant("gpt-4o-mini", tools=TOOLS, tool_resources={
        "file_search": {"vector_store_ids": ["vs_1"]}})
    blocks = [b + b"\n\n" for b in raw.split(b"\n\n") if b.strip()]
    trials = [(raw[:rng.randrange(1, _terminal_at(raw))], "ended its stream before its answer") for _ in range(4)]
    at = rng.randrange(1, len(blocks) - 1)
    trials.append((b"".join(blocks[:at]) + b'event: error\ndata: {"type":"error","code":"server_error",'
                   b'"message":"upstream overloaded","param":null,"sequence_number":99}\n\n' + b"".join(blocks[at:]),
                   "error: upstream overloaded"))
    failed = json.dumps({"type": "response.failed", "response": {"id": "resp_x", "status": "failed", "error": {
        "code": "server_error", "message": "The model crashed"}, "output": []}})
    trials.append((b"".join(blocks[:at]) + f"event: response.failed\ndata: {failed}\n\n".encode(),
                   "the response failed: The model crashed"))
    for body, problem in trials:
        upstream.queue.append(_sse(body))
        events = _run(assistant, "go")
        assert events[-1][0] == "thread.run.failed", (len(body), events[-1][0])
        assert problem in events[-1][1]["last_error"]["message"], events[-1][1]["last_error"]
        assert not any(e == "thread.run.completed" for e, _ in events)


def test_http_errors_fail_the_run_and_never_show_the_key(upstream, caplog):
    caplog.set_level(logging.DEBUG)
    upstream.queue.append(json_reply(429, {"error": {"message": f"Rate limit reached for {UPSTREAM_KEY}"}}))
    upstream.queue.append(json_reply(500, {"error": {"message": "The server had an error"}}))
    upstream.queue.append((502, {"Content-Type": "text/html"}, b"<html>bad gateway</html>"))
    assistant = oai.oai_create_assistant("gpt-4o-mini")
    runs = [_run(assistant, "hi") for _ in range(3)]
    assert [r[-1][0] for r in runs] == ["thread.run.failed"] * 3
    errors = [r[-1][1]["last_error"] for r in runs]
    assert errors[0]["code"] == "rate_limit_exceeded" and "Rate limit reached for ***" in errors[0]["message"]
    assert "answered 500: The server had an error" in errors[1]["message"]
    assert "answered 502" in errors[2]["message"]
    everything = json.dumps(runs) + caplog.text + json.dumps(oai.oai_list_runs(runs[0][-1][1]["thread_id"],
                                                                               classify_response=False))
    assert UPSTREAM_KEY not in everything
    assert upstream.server.received[0].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"


@pytest.mark.parametrize("reply, problem", [
    ((200, {"Content-Type": "text/event-stream"}, [b"data: {not json\n\n"]), "sent something that is not JSON"),
    ((200, {"Content-Type": "text/event-stream"},
      [b'data: {"type":"response.output_text.delta","delta":NaN}\n\n']), "sent something that is not JSON"),
    ((200, {"Content-Type": "text/event-stream"},
      [b'data: {"type":"response.output_text.delta","delta":5}\n\n']), "an output_text delta was int"),
    ((200, {"Content-Type": "text/event-stream"},
      [b'data: {"type":"response.output_item.added","item":"x"}\n\n']), "an output item was str"),
    (json_reply(200, {"error": {"message": "model not loaded"}}), "reported an error: model not loaded"),
    ((200, {"Content-Type": "application/json"}, b"[1, 2]"), "instead of a response event"),
])
def test_a_hostile_upstream_fails_the_run_saying_what_it_sent(upstream, reply, problem, caplog):
    assistant = oai.oai_create_assistant("gpt-4o-mini", tools=[WEATHER])
    upstream.queue.append(reply)
    events = _run(assistant, "hi")
    assert events[-1][0] == "thread.run.failed", events[-1]
    assert problem in events[-1][1]["last_error"]["message"], events[-1][1]["last_error"]
    assert "Traceback" not in caplog.text


def test_models_lists_the_upstreams_and_the_scripted_backend_its_own(upstream):
    base_url = oai.get_client().config.base_url
    listed = httpx.get(f"{base_url}/models").json()
    assert [m["id"] for m in listed["data"]] == ["gpt-5-mini", "o3-mini"]
    assert httpx.get(f"{base_url}/models/o3-mini").json()["owned_by"] == "openai"
    missing = httpx.get(f"{base_url}/models/gpt-none")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No model found with id 'gpt-none'."
    assert UPSTREAM_KEY in upstream.server.received[0].headers["authorization"]
    with start_local_server() as scripted:
        assert [m["id"] for m in httpx.get(f"{scripted.base_url}/models").json()["data"]] == ["scripted"]


def test_models_of_an_upstream_that_fails_are_a_502_naming_it():
    with LoopbackServer(lambda request: json_reply(401, {"error": {"message": f"bad key {UPSTREAM_KEY}"}})) as fake, \
            start_local_server(backend="responses", base_url=fake.base_url, api_key=UPSTREAM_KEY) as local:
        answer = httpx.get(f"{local.base_url}/models")
    assert answer.status_code == 502
    assert answer.json()["error"]["message"] == "The model server answered 401: bad key ***"


# --- the official SDK reads every flow ----------------------------------------------------

@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 2.x marks Assistants deprecated
@pytest.mark.parametrize("name", sorted(FLOWS))
def test_the_official_sdk_streams_every_recorded_flow_to_its_end(upstream, name):
    openai = pytest.importorskip("openai", reason="the test extra pins openai==2.54.0; install '.[test]'")

    class Collector(openai.AssistantEventHandler):
        def __init__(self) -> None:
            super().__init__()
            self.text, self.calls_done, self.steps_done = "", [], []

        def on_text_delta(self, delta, snapshot) -> None:
            self.text += delta.value or ""

        def on_tool_call_done(self, tool_call) -> None:
            self.calls_done.append(tool_call.type)

        def on_run_step_done(self, run_step) -> None:
            self.steps_done.append(run_step.type)

    first = recorded_replies(name)[0]
    upstream.queue.append(first)
    expected = _outcome(recorded_response(first))
    handler = Collector()
    with openai.OpenAI(base_url=oai.get_client().config.base_url, api_key="sk-unused", max_retries=0) as sdk:
        assistant = sdk.beta.assistants.create(model="gpt-4o-mini", tools=TOOLS, tool_resources={
            "file_search": {"vector_store_ids": ["vs_recorded"]}})
        thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "go"}])
        with sdk.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id,
                                          event_handler=handler) as stream:
            stream.until_done()
            run = stream.get_final_run()
        messages = sdk.beta.threads.messages.list(thread_id=thread.id, order="asc").data
        steps = sdk.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert run.status == FLOWS[name]
    assert MARKER.sub("", handler.text) == "".join(expected["messages"])
    assert [MARKER.sub("", m.content[0].text.value) for m in messages if m.role == "assistant"] == expected["messages"]
    kinds = {"code_interpreter_call": "code_interpreter", "file_search_call": "file_search",
             "web_search_call": "web_search"}
    built_in = [kinds[i["type"]] for i in recorded_response(first)["output"] if i["type"] in kinds]
    assert [t for t in handler.calls_done if t != "reasoning"][:len(built_in)] == built_in
    assert len(steps) == len(handler.steps_done) + (1 if run.status == "requires_action" else 0)


def test_cancelling_a_run_closes_its_upstream_request():
    """The upstream streams slowly; a cancel mid-stream ends the run `cancelled` and the server
    hangs up on the upstream (its next write fails), writing nothing more to the thread."""
    import threading

    hung_up = threading.Event()
    started = threading.Event()

    def slow_stream():
        started.set()
        head = b'event: response.created\ndata: {"type":"response.created","response":{"id":"r","status":"in_progress"}}\n\n'
        yield head
        for n in range(400):  # the server's write fails once the client hung up, and this is closed
            try:
                yield (b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
                       b'"delta":"w%d "}\n\n' % n)
            except GeneratorExit:
                hung_up.set()
                raise
            threading.Event().wait(0.05)

    with LoopbackServer(lambda request: (200, {"Content-Type": "text/event-stream"}, slow_stream())) as fake, \
            start_local_server(backend="responses", base_url=fake.base_url, poll_after_ms=10) as local:
        oai.configure(base_url=local.base_url)
        assistant = oai.oai_create_assistant("gpt-4o-mini", classify_response=False)
        run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["long story"]},
                                            classify_response=False)
        assert started.wait(10)
        from ..support.deadline import Deadline
        from ..support.flows import wait_for
        deadline = Deadline(10, "the answer to start")
        while len(oai.oai_list_messages(run["thread_id"], classify_response=False)["data"]) < 2:
            deadline.check()
            threading.Event().wait(0.02)
        oai.oai_cancel_run(run["thread_id"], run["id"], classify_response=False)
        final = wait_for(run["thread_id"], run["id"], ("cancelled", "failed", "completed"))
        assert final["status"] == "cancelled"
        assert hung_up.wait(10), "the server kept reading the upstream after the cancel"
        answer = oai.oai_list_messages(run["thread_id"], order="desc", classify_response=False)["data"][0]
        assert answer["role"] == "assistant" and answer["content"][0]["text"]["value"].startswith("w0 ")
        frozen = json.dumps(answer)
        threading.Event().wait(0.3)
        again = oai.oai_list_messages(run["thread_id"], order="desc", classify_response=False)["data"][0]
        assert json.dumps(again) == frozen and again["status"] == "incomplete"


_PIECES = st.sampled_from(["", "a", " w1", "é", "\ud83d", "\ude00", "😀"])
_EVENTS = st.one_of(
    st.fixed_dictionaries({"type": st.just("response.output_text.delta"), "delta": st.one_of(_PIECES, st.just(5))}),
    st.just({"type": "response.output_item.added", "item": {"type": "message", "id": "msg_1"}}),
    st.just({"type": "response.output_item.added", "item": {"type": "function_call", "id": "fc_1", "call_id": "c",
                                                            "name": "f", "arguments": ""}}),
    st.fixed_dictionaries({"type": st.just("response.function_call_arguments.delta"), "item_id": st.just("fc_1"),
                           "delta": _PIECES}),
    st.just({"type": "response.output_text.annotation.added", "annotation": {
        "type": "file_citation", "file_id": "file-1", "filename": "a.txt", "index": 0}}),
    st.just({"type": "response.completed", "response": {"status": "completed", "usage": {
        "input_tokens": 1, "output_tokens": 2}}}),
    st.just({"type": "response.in_progress"}))


@settings(max_examples=300, deadline=None)
@given(st.lists(_EVENTS, max_size=14))
@example([{"type": "response.output_text.delta", "delta": "\ud83d"},
          {"type": "response.output_text.delta", "delta": "\ude00"}])
def test_events_read_together_give_what_they_give_one_by_one(events):
    """The fast read of one network read's events (text deltas joined without an event each)
    gives the same turn events, finish and usage as reading each alone and merging, whatever
    the events; a surrogate pair split over two deltas stays two U+FFFD either way."""
    from oairun_jupyter.server.backends._merge import merged
    from oairun_jupyter.server.backends._responses_events import ResponsesReader, ResponsesStreamError

    alone, together = ResponsesReader(), ResponsesReader()
    try:
        one_by_one = []
        for event in events:
            if alone.finish is not None:
                break
            one_by_one += alone.read(event)
    except ResponsesStreamError as error:
        with pytest.raises(ResponsesStreamError, match=re.escape(str(error))):
            together.read_all(events)
        return
    assert merged(together.read_all(events)) == merged(one_by_one)
    assert (together.finish, together.usage) == (alone.finish, alone.usage)


# --- what a breaker found (each failed on the first version) -------------------------------

def _events(*events: dict):
    body = b"".join(b"event: " + e["type"].encode() + b"\ndata: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return 200, {"Content-Type": "text/event-stream"}, [body]


def _completed(status="completed", **more):
    return {"type": f"response.{status if status != 'failed' else 'completed'}", "response": {
        "id": "resp_1", "status": status, "usage": {"input_tokens": 3, "output_tokens": 4}, **more}}


def test_reasoning_goes_back_only_to_the_model_that_wrote_it_and_defaults_are_not_sent(upstream):
    first = recorded_replies("ReasoningWithStoreDisabled")[0]["ResponseBody"]
    upstream.queue += [json_reply(200, first), json_reply(200, first), json_reply(200, first)]
    assistant = oai.oai_create_assistant("gpt-5-mini", classify_response=False)
    thread = _run(assistant["id"], "hi")[-1][1]["thread_id"]
    for model in ("gpt-4o-mini", "gpt-5-mini"):
        stream_events(oai.oai_create_run(thread, assistant["id"], model=model, stream=True, classify_response=False))
    other, same = upstream.sent[1], upstream.sent[2]
    assert [i["type"] for i in other["input"]] == ["message"] * 2  # gpt-4o-mini cannot read gpt-5-mini's reasoning
    # and gpt-5-mini gets its own back, not what the answer of the gpt-4o-mini run carried
    assert [i["type"] for i in same["input"]] == ["message", "reasoning", "message", "message"]
    assert not {"temperature", "top_p"} & set(upstream.sent[0])  # reasoning models refuse them, even at 1


def test_an_upstream_that_streams_only_the_end_gives_its_answer_and_calls(upstream):
    call = {"id": "fc_1", "type": "function_call", "call_id": "up_1", "name": "get_weather_at_location",
            "arguments": '{"location":"Oslo"}', "status": "completed"}
    message = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "Checking.", "annotations": []}]}
    upstream.queue.append(_events({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
                                  _completed(output=[message, call])))
    events = _run(oai.oai_create_assistant("gpt-4o-mini", tools=[WEATHER]), "Oslo?")
    assert events[-1][0] == "thread.run.requires_action"
    (pending,) = events[-1][1]["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert pending["function"] == {"name": "get_weather_at_location", "arguments": '{"location":"Oslo"}'}
    (said,) = [d for e, d in events if e == "thread.message.completed"]
    assert said["content"][0]["text"]["value"] == "Checking."


def test_a_filtered_answer_ends_incomplete_saying_so_and_a_failed_status_fails(upstream):
    upstream.queue.append(_events({"type": "response.output_text.delta", "delta": "Once upon"},
                                  _completed("incomplete", incomplete_details={"reason": "content_filter"})))
    upstream.queue.append(_events({"type": "response.output_text.delta", "delta": "Once"},
                                  _completed("failed", error={"code": "server_error", "message": "it broke"})))
    assistant = oai.oai_create_assistant("gpt-4o-mini")
    filtered = _run(assistant, "a story")
    assert filtered[-1][0] == "thread.run.incomplete"
    assert filtered[-1][1]["incomplete_details"] == {"reason": "content_filter"}
    (message,) = [d for e, d in filtered if e == "thread.message.incomplete"]
    assert message["incomplete_details"] == {"reason": "content_filter"}
    failed = _run(assistant, "a story")
    assert failed[-1][0] == "thread.run.failed" and "it broke" in failed[-1][1]["last_error"]["message"]


def test_parallel_calls_keep_the_reasoning_in_front_of_each(upstream):
    def reasoning(n):
        return {"id": f"rs_{n}", "type": "reasoning", "summary": [], "encrypted_content": f"enc-{n}"}

    def call(n):
        return {"id": f"fc_{n}", "type": "function_call", "call_id": f"up_{n}", "name": "get_weather_at_location",
                "arguments": json.dumps({"location": f"city {n}"}), "status": "completed"}
    output = [reasoning(1), call(1), reasoning(2), call(2)]
    upstream.queue.append(json_reply(200, {"id": "resp_1", "status": "completed", "output": output,
                                           "usage": {"input_tokens": 1, "output_tokens": 1}}))
    upstream.queue.append(recorded_replies("StreamingResponses")[0])
    events = _run(oai.oai_create_assistant("gpt-5-mini", tools=[WEATHER]), "two cities")
    run = events[-1][1]
    outputs = [oai.oai_tool_output(c["id"], f"sunny {n}")
               for n, c in enumerate(run["required_action"]["submit_tool_outputs"]["tool_calls"], 1)]
    stream_events(oai.oai_submit_tool_outputs(run["thread_id"], run["id"], outputs, stream=True, classify_response=False))
    sent = upstream.sent[1]["input"]
    assert [(i["type"], i.get("id")) for i in sent[1:]] == [
        ("reasoning", "rs_1"), ("function_call", "fc_1"), ("reasoning", "rs_2"), ("function_call", "fc_2"),
        ("function_call_output", None), ("function_call_output", None)]
    assert contract.responses_errors("CreateResponse", upstream.sent[1]) == []


def test_no_part_of_the_key_shows_where_an_upstreams_words_are_cut(upstream):
    padding = "x" * (300 - 30)
    upstream.queue.append(json_reply(400, {"error": {"message": f"{padding} key {UPSTREAM_KEY} refused"}}))
    upstream.queue.append((200, {"Content-Type": "text/event-stream"},
                           [b"data: " + ("y" * 100 + UPSTREAM_KEY).encode() + b"\n\n"]))
    assistant = oai.oai_create_assistant("gpt-4o-mini")
    for _ in range(2):
        error = _run(assistant, "hi")[-1][1]["last_error"]["message"]
        assert UPSTREAM_KEY[:12] not in error, error


@pytest.mark.parametrize("reply, problem", [
    (_events({"type": "response.reasoning_summary_part.added", "item_id": "rs_1", "summary_index": "1"},
             _completed()), None),
    (json_reply(200, {"status": "completed", "output": [{"type": "message", "content": [
        {"type": "output_text", "text": 5}]}]}), "an output_text's text was int"),
    ((200, {"Content-Type": "text/event-stream"}, [b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n"]),
     "sent something that is not JSON"),
    (json_reply(200, {"status": "queued", "output": []}), "a response that is not finished (status 'queued')"),
    (_events({"type": "response.output_text.delta", "delta": "short"}, {
        "type": "response.output_text.annotation.added", "annotation": {
            "type": "url_citation", "start_index": 0, "end_index": 1000, "url": "https://x.example", "title": "x"}},
        _completed()), None),
])
def test_odd_upstream_shapes_are_named_or_read_never_a_server_failure(upstream, reply, problem, caplog):
    upstream.queue.append(reply)
    events = _run(oai.oai_create_assistant("gpt-4o-mini"), "hi")
    last, run = events[-1]
    if problem is None:
        assert last == "thread.run.completed", run
        for message in oai.oai_list_messages(run["thread_id"], classify_response=False)["data"]:
            assert message["content"] == [] or message["content"][0]["text"]["annotations"] == []
    else:
        assert last == "thread.run.failed" and problem in run["last_error"]["message"], run["last_error"]
    assert "The server failed" not in json.dumps(run) and "Traceback" not in caplog.text


def test_models_of_an_upstream_that_answers_nesting_too_deep_are_a_502():
    deep = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with LoopbackServer(lambda request: (200, {"Content-Type": "application/json"}, deep)) as fake, \
            start_local_server(backend="responses", base_url=fake.base_url) as local:
        answer = httpx.get(f"{local.base_url}/models")
    assert answer.status_code == 502 and "no model list" in answer.json()["error"]["message"]


def test_a_code_interpreter_calls_logs_and_images_become_its_outputs(upstream):
    """The recorded code interpreter flows did not ask for outputs; a run that gets them (the
    backend asks with include) shows the logs, and an image by its URL, never a data: URL."""
    call = {"id": "ci_1", "type": "code_interpreter_call", "status": "completed", "code": "print(120)",
            "container_id": "cntr_1", "outputs": [{"type": "logs", "logs": "120\n"},
                                                  {"type": "image", "url": "data:image/png;base64," + "A" * 10_000},
                                                  {"type": "image", "url": "https://files.example/plot.png"}]}
    message = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "It is 120.", "annotations": []}]}
    upstream.queue.append(json_reply(200, {"id": "resp_1", "status": "completed", "output": [call, message],
                                           "usage": {"input_tokens": 5, "output_tokens": 6}}))
    events = _run(oai.oai_create_assistant("gpt-4o-mini", tools=[{"type": "code_interpreter"}]), "5!")
    assert events[-1][0] == "thread.run.completed"
    assert "code_interpreter_call.outputs" in upstream.sent[0]["include"]
    (step,) = [d for e, d in events if e == "thread.run.step.completed" and d["type"] == "tool_calls"]
    (done,) = step["step_details"]["tool_calls"]
    assert done["code_interpreter"] == {"input": "print(120)", "outputs": [
        {"type": "logs", "logs": "120\n"}, {"type": "image", "image": {"file_id": "inline image"}},
        {"type": "image", "image": {"file_id": "https://files.example/plot.png"}}]}
    assert _contract_errors("RunStepObject", step) == []


def test_a_whole_answer_keeps_each_calls_arguments_and_citations_where_they_point(upstream):
    """One JSON body with two function calls that have no item id, and citations pointing before
    the text, past it and out of order: each call keeps its own arguments, every marker lands in
    the text, and nothing of the text is lost or repeated."""
    calls = [{"type": "function_call", "call_id": f"up_{n}", "name": "get_weather_at_location",
              "arguments": json.dumps({"location": city})} for n, city in enumerate(("Oslo", "Rome"))]
    text = "Oslo is cold. Rome is warm."
    notes = [{"type": "file_citation", "file_id": f"file-{n}", "filename": "w.txt", "index": index}
             for n, index in enumerate((13, -4, 999))]
    message = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": text, "annotations": notes}]}
    upstream.queue.append(json_reply(200, {"id": "resp_1", "status": "completed", "output": [message, *calls],
                                           "usage": {"input_tokens": 1, "output_tokens": 1}}))
    events = _run(oai.oai_create_assistant("gpt-4o-mini", tools=[WEATHER]), "weather?")
    pending = events[-1][1]["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert [json.loads(c["function"]["arguments"]) for c in pending] == [{"location": "Oslo"}, {"location": "Rome"}]
    (said,) = [d for e, d in events if e == "thread.message.completed"]
    value = said["content"][0]["text"]["value"]
    assert MARKER.sub("", value) == text and len(MARKER.findall(value)) == 3
    for note in said["content"][0]["text"]["annotations"]:
        assert value[note["start_index"]:note["end_index"]] == note["text"]
