"""The chat-completions backend against a local upstream that replays real recorded chat streams.

Ground truth: tests/data/recorded/chat-completions (see data/PROVENANCE.md).
"""

from __future__ import annotations

import json
import logging
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import oairun_jupyter as oai
from oairun_jupyter.server import start_local_server

from ..support.flows import backend_behind, stream_events, thread_and_run_events, wait_for
from ..support.http_server import LoopbackServer, json_reply
from ..support.replay import RECORDED

UPSTREAM_KEY = "sk-upstream-SECRET-0123456789abcdef"
CHAT = RECORDED / "chat-completions"
WEATHER = {"type": "function", "function": {"name": "GetWeatherArgs", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"},
                                     "units": {"type": "string"}}}}}
STOCK = {"type": "function", "function": {"name": "get_stock_price", "parameters": {
    "type": "object", "properties": {"ticker": {"type": "string"}, "exchange": {"type": "string"}}}}}


def _recorded(name: str) -> tuple[str, list[dict], dict, dict]:
    """(text, tool calls, usage) the recorded chat stream carries."""
    text, calls, usage = "", {}, {}
    for line in (CHAT / name).read_text().splitlines():
        if line.startswith("data: {"):
            chunk = json.loads(line[6:])
            for choice in chunk["choices"]:
                text += choice["delta"].get("content") or ""
                for call in choice["delta"].get("tool_calls") or []:
                    entry = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                    entry["id"] += call.get("id") or ""
                    entry["name"] += (call.get("function") or {}).get("name") or ""
                    entry["arguments"] += (call.get("function") or {}).get("arguments") or ""
            usage = chunk.get("usage") or usage
    return text, [calls[i] for i in sorted(calls)], usage


class Upstream:
    """A fake chat-completions server answering with recorded streams, in the order queued."""

    def __init__(self) -> None:
        self.queue: list[object] = []
        self.server = LoopbackServer(self._answer)

    def _answer(self, request):
        reply = self.queue.pop(0)
        if isinstance(reply, tuple):
            return reply
        raw = (CHAT / reply).read_bytes()
        return 200, {"Content-Type": "text/event-stream"}, [raw[i:i + 97] for i in range(0, len(raw), 97)]


@pytest.fixture
def upstream():
    fake = Upstream()
    with backend_behind("chat-completions", fake.server, UPSTREAM_KEY):
        yield fake


_run = thread_and_run_events


def test_text_stream_becomes_message_deltas(upstream):
    upstream.queue.append("text.sse")
    text, _, usage = _recorded("text.sse")
    assistant = oai.oai_create_assistant("gpt-4o", instructions="You are terse.")
    events = _run(assistant, "What's the weather in SF?", temperature=0.3, top_p=0.9)
    deltas = [d["delta"]["content"][0]["text"]["value"] for e, d in events if e == "thread.message.delta"]
    assert "".join(deltas) == text and len(deltas) > 10
    run = events[-1][1]
    assert events[-1][0] == "thread.run.completed"
    assert run["usage"]["prompt_tokens"] == usage["prompt_tokens"]
    assert run["usage"]["completion_tokens"] == usage["completion_tokens"]
    sent = upstream.server.received[0].json()
    assert sent["messages"] == [{"role": "system", "content": "You are terse."},
                                {"role": "user", "content": "What's the weather in SF?"}]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert (sent["temperature"], sent["top_p"], sent["model"]) == (0.3, 0.9, "gpt-4o")
    assert upstream.server.received[0].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_a_tool_call_becomes_a_step_then_requires_action_then_tool_messages(upstream):
    upstream.queue += ["tool-call.sse", "text.sse"]
    _, (call,), _ = _recorded("tool-call.sse")
    assistant = oai.oai_create_assistant("gpt-4o", tools=[WEATHER])
    events = _run(assistant, "Weather in Edinburgh?", tool_choice="required", parallel_tool_calls=False,
                  response_format={"type": "json_object"})
    assert events[-1][0] == "thread.run.requires_action"
    (pending,) = events[-1][1]["required_action"]["submit_tool_outputs"]["tool_calls"]
    # the server's own id (an upstream's may hold any character, or repeat); the upstream gets its own back
    assert pending["id"].startswith("call_") and pending["id"] != call["id"]
    assert pending == {"id": pending["id"], "type": "function",
                       "function": {"name": call["name"], "arguments": call["arguments"]}}
    assert [e for e, _ in events if e.startswith("thread.run.step")][:2] == [
        "thread.run.step.created", "thread.run.step.in_progress"]
    sent = upstream.server.received[0].json()
    assert sent["tools"] == [WEATHER] and sent["tool_choice"] == "required"
    assert sent["parallel_tool_calls"] is False and sent["response_format"] == {"type": "json_object"}
    run = events[-1][1]
    after = stream_events(oai.oai_submit_tool_outputs(run["thread_id"], run["id"],
                                                      [oai.oai_tool_output(pending["id"], "12 C, rain")],
                                                      stream=True, classify_response=False))
    assert after[-1][0] == "thread.run.completed"
    followup = upstream.server.received[1].json()["messages"]
    assert followup[-2] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]}
    assert followup[-1] == {"role": "tool", "tool_call_id": call["id"], "content": "12 C, rain"}


def test_parallel_tool_calls_keep_their_indexes(upstream):
    upstream.queue.append("parallel-tool-calls.sse")
    _, calls, _ = _recorded("parallel-tool-calls.sse")
    assistant = oai.oai_create_assistant("gpt-4o", tools=[WEATHER, STOCK])
    events = _run(assistant, "Weather and AAPL?")
    pending = events[-1][1]["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert [(p["function"]["name"], p["function"]["arguments"]) for p in pending] == [
        (c["name"], c["arguments"]) for c in calls]
    assert len({p["id"] for p in pending}) == 2 and not {p["id"] for p in pending} & {c["id"] for c in calls}
    indexes = {tc["index"] for e, d in events if e == "thread.run.step.delta"
               for tc in d["delta"]["step_details"]["tool_calls"]}
    assert indexes == {0, 1}


def test_finish_reason_length_ends_the_run_incomplete(upstream):
    upstream.queue.append("max-tokens-reached.sse")
    assistant = oai.oai_create_assistant("gpt-4o")
    events = _run(assistant, "Answer in JSON", max_completion_tokens=256)
    assert events[-1][0] == "thread.run.incomplete"
    assert events[-1][1]["incomplete_details"] == {"reason": "max_completion_tokens"}
    assert upstream.server.received[0].json()["max_tokens"] == 256


def test_upstream_errors_fail_the_run_and_never_show_the_key(upstream, caplog):
    caplog.set_level(logging.DEBUG)
    upstream.queue.append(json_reply(429, {"error": {"message": f"Rate limit for key {UPSTREAM_KEY}",
                                                     "type": "rate_limit"}}))
    upstream.queue.append(json_reply(401, {"error": {
        "message": f"Incorrect API key provided: {UPSTREAM_KEY[:8]}****{UPSTREAM_KEY[-4:]}"}}))
    assistant = oai.oai_create_assistant("gpt-4o")
    limited = _run(assistant, "hi")
    assert limited[-1][0] == "thread.run.failed"
    assert limited[-1][1]["last_error"]["code"] == "rate_limit_exceeded"
    refused = _run(assistant, "hi again")
    assert refused[-1][1]["last_error"]["code"] == "server_error"
    everything = json.dumps([limited, refused]) + caplog.text
    everything += json.dumps(oai.oai_list_runs(limited[-1][1]["thread_id"], classify_response=False))
    assert UPSTREAM_KEY not in everything and UPSTREAM_KEY[:8] + "*" not in everything
    assert "Rate limit for key ***" in limited[-1][1]["last_error"]["message"]


# --- an upstream that does not give a whole answer (issue 15) ------------------------------

ENDS = {"text.sse": "thread.run.completed", "max-tokens-reached.sse": "thread.run.incomplete",
        "tool-call.sse": "thread.run.requires_action", "strict-tool-call.sse": "thread.run.requires_action",
        "non-strict-tool-call.sse": "thread.run.requires_action",
        "parallel-tool-calls.sse": "thread.run.requires_action"}
TOOLS = [WEATHER, STOCK]
SPLICED_ERROR = b'data: {"error": {"message": "upstream overloaded", "type": "server_error", "code": null}}\n\n'


def _sse(raw: bytes) -> tuple[int, dict, list[bytes]]:
    return 200, {"Content-Type": "text/event-stream"}, [raw[i:i + 97] for i in range(0, len(raw), 97)] or [b""]


def _finished_by(raw: bytes) -> int:
    """The offset just past the event that carries the recorded stream's finish_reason."""
    at = max(raw.find(b'"finish_reason":"'), 0)
    return raw.index(b"\n\n", at) + 2


@pytest.mark.parametrize("name", sorted(ENDS))
def test_a_recorded_stream_cut_anywhere_or_with_an_error_never_ends_completed_with_part_of_its_answer(
        upstream, name):
    """Cut at random points (seeded by the file's name), and with an error object spliced in
    between two events: a run ends as the whole recording does only when the cut left its
    finish_reason; otherwise `failed`, with a last_error that says what happened."""
    raw = (CHAT / name).read_bytes()
    rng = random.Random(name)
    assistant = oai.oai_create_assistant("gpt-4o", tools=TOOLS)
    blocks = [block + b"\n\n" for block in raw.split(b"\n\n") if block.strip()]
    trials = [(raw[:rng.randrange(1, len(raw))], None) for _ in range(6)]
    for _ in range(3):
        at = rng.randrange(0, len(blocks))
        trials.append((b"".join(blocks[:at]) + SPLICED_ERROR + b"".join(blocks[at:]), "upstream overloaded"))
    for body, spliced in trials:
        upstream.queue.append(_sse(body))
        events = _run(assistant, "go")
        last, run = events[-1]
        if spliced is None and len(body) >= _finished_by(raw):
            assert last == ENDS[name], (name, len(body), last)
            continue
        assert last == "thread.run.failed", (name, len(body), spliced, last)
        expected = spliced or "ended its stream before its answer (no finish_reason and no [DONE])"
        assert expected in run["last_error"]["message"], run["last_error"]
        assert events[-2][0] != "thread.message.completed"  # the partial text was not passed off as whole


@pytest.mark.filterwarnings("ignore:.*deprecated.*:DeprecationWarning")  # the SDK's own notice about Assistants
def test_the_official_sdk_sees_a_cut_upstream_stream_as_a_failed_run(upstream):
    openai = pytest.importorskip("openai", reason="the test extra pins openai==2.54.0; install '.[test]'")
    raw = (CHAT / "text.sse").read_bytes()
    upstream.queue.append(_sse(raw[:len(raw) // 2]))
    with openai.OpenAI(base_url=oai.get_client().config.base_url, api_key="sk-unused", max_retries=0) as sdk:
        assistant = sdk.beta.assistants.create(model="gpt-4o")
        thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "hi"}])
        with sdk.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
            stream.until_done()
            run = stream.get_final_run()
    assert run.status == "failed" and "ended its stream before its answer" in run.last_error.message


def test_one_json_answer_to_a_streamed_request_is_taken_and_only_choice_zero_is_used(upstream):
    assistant = oai.oai_create_assistant("gpt-4o")
    upstream.queue.append(json_reply(200, {"object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"},
        {"index": 1, "message": {"role": "assistant", "content": "another"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2}}))
    events = _run(assistant, "hi")
    assert events[-1][0] == "thread.run.completed"
    (message,) = [d for e, d in events if e == "thread.message.completed"]
    assert message["content"][0]["text"]["value"] == "whole answer"
    assert upstream.server.received[0].json()["n"] == 1
    # several choices in a stream: choice 0 alone is the message
    two = b"".join(
        line + b"\n\n" + line.replace(b'"index":0', b'"index":1').replace(b'"content":"', b'"content":"X')
        + b"\n\n" for line in (CHAT / "text.sse").read_bytes().split(b"\n\n") if line.startswith(b"data: {"))
    upstream.queue.append(_sse(two + b"data: [DONE]\n\n"))
    events = _run(assistant, "hi")
    text, _, _ = _recorded("text.sse")
    (message,) = [d for e, d in events if e == "thread.message.completed"]
    assert message["content"][0]["text"]["value"] == text


@pytest.mark.parametrize("reply, problem", [
    (json_reply(200, {"error": {"message": "model not loaded"}}), "The model server reported an error: model not loaded"),
    ((200, {"Content-Type": "text/event-stream"}, [b"data: {not json\n\n"]), "sent something that is not JSON"),
    ((200, {"Content-Type": "application/json"}, b"<html>gateway</html>"), "sent something that is not JSON"),
])
def test_an_upstream_answer_that_is_no_completion_fails_the_run_naming_it(upstream, reply, problem):
    assistant = oai.oai_create_assistant("gpt-4o")
    upstream.queue.append(reply)
    events = _run(assistant, "hi")
    assert events[-1][0] == "thread.run.failed" and problem in events[-1][1]["last_error"]["message"]


def _chunks(*chunks: object, done: bool = True) -> tuple[int, dict, list[bytes]]:
    body = b"".join(b"data: " + (c if isinstance(c, bytes) else json.dumps(c).encode()) + b"\n\n" for c in chunks)
    return 200, {"Content-Type": "text/event-stream"}, [body + (b"data: [DONE]\n\n" if done else b"")]


def _choice(delta: object, finish: object = None, **more: object) -> dict:
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                                            **more}]}


@pytest.mark.parametrize("reply, problem", [
    # numbers no reply can carry: stored, they broke every read of the run and the next start-up
    (_chunks(_choice({"content": "hi"}), b'{"choices": [], "usage": {"prompt_tokens": NaN, "completion_tokens": 1}}'),
     "sent something that is not JSON"),
    (_chunks(_choice({"content": "hi"}, "stop"), b'{"choices": [], "usage": {"prompt_tokens": 1e999}}'),
     "sent something that is not JSON"),
    (_chunks(b'{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": NaN, "function": {"name": "f"}}]}}]}'),
     "sent something that is not JSON"),
    # shapes no chat completion has: named, never "The server failed" with a traceback
    (_chunks(_choice("text")), "a choice's delta was"),
    (_chunks(_choice({"tool_calls": {"index": 0}})), "'tool_calls' was"),
    (_chunks(_choice({"tool_calls": [{"index": 0, "function": "f"}]})), "a tool call's function was"),
    (_chunks(_choice({"tool_calls": [{"index": [0], "function": {"name": "f"}}]})), "a tool call's index was"),
    (_chunks(_choice({"tool_calls": [{"index": 0, "function": {"name": 5}}]})), "a tool call's name was"),
    (_chunks(_choice({"content": "hi"}, ["stop"])), "a finish_reason was"),
    (_chunks(_choice({"content": 5})), "a choice's content was"),
    (_chunks({"choices": [{"index": "0", "delta": {"content": "hi"}}]}), "a choice's index was"),
    # nothing at all before [DONE]
    (_chunks(), "ended its stream with no answer"),
])
def test_a_hostile_upstream_fails_the_run_saying_what_it_sent(upstream, reply, problem, caplog):
    assistant = oai.oai_create_assistant("gpt-4o", tools=[WEATHER])
    upstream.queue.append(reply)
    events = _run(assistant, "hi")
    assert events[-1][0] == "thread.run.failed", events[-1]
    message = events[-1][1]["last_error"]["message"]
    assert problem in message and "The server failed" not in message, message
    assert "Traceback" not in caplog.text
    run = events[-1][1]
    assert oai.oai_retrieve_run(run["thread_id"], run["id"]).status == "failed"  # and it reads back


def test_what_an_upstream_sends_whole_or_again_or_after_done_is_read_as_meant(upstream):
    """Arguments sent as an object, a name repeated in every piece, content as a list of parts,
    usage counts that are not numbers (left to the local count), data after [DONE] (ignored)."""
    assistant = oai.oai_create_assistant("gpt-4o", tools=[WEATHER])
    upstream.queue.append(_chunks(
        _choice({"content": [{"type": "text", "text": "Looking "}]}),
        _choice({"tool_calls": [{"index": 0, "id": "x", "function": {"name": "GetWeatherArgs", "arguments": {"city": "Oslo"}}}]}),
        _choice({"tool_calls": [{"index": 0, "function": {"name": "GetWeatherArgs", "arguments": ""}}]}),
        _choice({}, "tool_calls"), {"choices": [], "usage": {"prompt_tokens": "3", "completion_tokens": None}}))
    events = _run(assistant, "hi")
    assert events[-1][0] == "thread.run.requires_action", events[-1]
    (call,) = events[-1][1]["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["function"] == {"name": "GetWeatherArgs", "arguments": '{"city": "Oslo"}'}
    run = events[-1][1]
    oai.oai_submit_tool_outputs(run["thread_id"], run["id"], [{"tool_call_id": call["id"], "output": "sunny"}])
    status, headers, (body,) = _chunks(_choice({"content": "done"}, "stop"))
    upstream.queue.append((status, headers, [body + b"data: " + json.dumps(_choice({"content": " MORE"})).encode()
                                             + b"\n\n"]))
    final = wait_for(run["thread_id"], run["id"], ("completed", "failed"))
    assert final["status"] == "completed"
    (answer,) = oai.oai_list_messages(run["thread_id"], run_id=run["id"], order="desc")[:1]
    assert answer.text == "done"  # what came after [DONE] is not the answer


def test_a_token_limit_in_the_middle_of_a_tool_call_ends_its_step(upstream):
    assistant = oai.oai_create_assistant("gpt-4o", tools=[WEATHER])
    upstream.queue.append(_chunks(
        _choice({"tool_calls": [{"index": 0, "id": "x", "function": {"name": "GetWeatherArgs", "arguments": '{"ci'}}]}),
        _choice({}, "length")))
    events = _run(assistant, "hi")
    assert events[-1][0] == "thread.run.incomplete"
    run = events[-1][1]
    steps = oai.oai_list_run_steps(run["thread_id"], run["id"])
    assert [s.status for s in steps] and all(s.status != "in_progress" for s in steps), [s.status for s in steps]


def test_a_password_in_the_upstream_url_is_never_shown():
    from oairun_jupyter.server.backends.chat_completions import ChatCompletionsBackend

    backend = ChatCompletionsBackend("http://ana:hunter2@127.0.0.1:9/v1")
    assert "hunter2" not in repr(backend) and backend.shown_url == "http://127.0.0.1:9/v1"
    with start_local_server(backend="chat-completions", base_url="http://ana:hunter2@127.0.0.1:9/v1") as local:
        oai.configure(base_url=local.base_url)
        events = _run(oai.oai_create_assistant("gpt-4o"), "hi")
    assert events[-1][0] == "thread.run.failed"
    assert "hunter2" not in json.dumps(events) and "http://127.0.0.1:9/v1" in events[-1][1]["last_error"]["message"]
    with pytest.raises(ValueError) as refused:
        ChatCompletionsBackend("ftp://ana:hunter2@127.0.0.1:9/v1")
    assert "hunter2" not in str(refused.value)


def test_deltas_that_arrive_in_one_read_travel_as_one():
    """A fast upstream's small chunks cost one delta per network read (bench/server.py measures
    the gain); a call's first piece (its id and name) and annotated text stay pieces of their own."""
    from oairun_jupyter.server.backends import TextDelta, ToolCallDelta
    from oairun_jupyter.server.backends.chat_completions import merged

    cited = TextDelta("[1]", [{"type": "file_citation"}])
    arrived = [TextDelta("a"), TextDelta("b"), cited, TextDelta("c"), ToolCallDelta(0, "", id="x", name="f"),
               ToolCallDelta(0, '{"a"'), ToolCallDelta(0, ":1}"), ToolCallDelta(1, "", id="y", name="g"),
               ToolCallDelta(1, "{}")]
    assert merged(arrived) == [TextDelta("ab"), cited, TextDelta("c"), ToolCallDelta(0, '{"a":1}', id="x", name="f"),
                               ToolCallDelta(1, "{}", id="y", name="g")]


_TEXTS = st.sampled_from(["", "a", " w1", "é", "\ud83d", "\ude00", "\ud800x", "😀"])
_DELTAS = st.one_of(
    st.fixed_dictionaries({"content": _TEXTS}),
    st.fixed_dictionaries({"role": st.just("assistant"), "content": st.sampled_from(["", None])}),
    st.fixed_dictionaries({"content": st.one_of(st.none(), st.integers(), _TEXTS)},
                          optional={"tool_calls": st.lists(st.fixed_dictionaries(
                              {"index": st.integers(0, 1)},
                              optional={"id": st.just("c1"), "function": st.fixed_dictionaries(
                                  {}, optional={"name": st.just("f"), "arguments": _TEXTS})}), max_size=2)}),
    st.none(), st.just({}))
_CHOICES = st.fixed_dictionaries({"delta": _DELTAS}, optional={
    "index": st.sampled_from([0, 1]), "finish_reason": st.sampled_from([None, "stop", "length", "tool_calls"]),
    "message": st.fixed_dictionaries({"content": _TEXTS})})
_CHUNKS = st.fixed_dictionaries({"choices": st.one_of(st.lists(_CHOICES, max_size=2), st.none())}, optional={
    "usage": st.one_of(st.none(), st.just({"prompt_tokens": 3, "completion_tokens": 4}))})


@settings(max_examples=400, deadline=None)
@given(st.lists(_CHUNKS, max_size=12))
@example([{"choices": [{"delta": {"content": "\ud83d"}}]}, {"choices": [{"delta": {"content": "\ude00"}}]}])
def test_chunks_read_together_give_what_they_give_one_by_one(chunks):
    """The fast read of one network read's chunks (plain text pieces joined without an event each)
    gives the same events, finish and usage as reading each chunk alone and merging: whatever the
    chunks' shapes, and a surrogate pair split over two chunks stays two U+FFFD either way."""
    from oairun_jupyter.server.backends.chat_completions import MalformedChunk, batch_events, chunk_events, merged

    one_by_one, finish, usage = [], None, None
    try:
        for chunk in chunks:
            events, chunk_finish, chunk_usage = chunk_events(chunk)
            one_by_one += events
            finish, usage = chunk_finish or finish, chunk_usage or usage
    except MalformedChunk:  # a shape no chat completion has: refused either way
        with pytest.raises(MalformedChunk):
            batch_events(chunks)
        return
    assert batch_events(chunks) == (merged(one_by_one), finish, usage)


def test_a_bad_event_among_good_ones_in_one_read_is_named(upstream):
    """The events of one network read are parsed together; a bad one among them is still the one
    the run's last_error names."""
    good = b"".join(line + b"\n\n" for line in (CHAT / "text.sse").read_bytes().split(b"\n\n")[:5] if line)
    upstream.queue.append((200, {"Content-Type": "text/event-stream"}, [good + b"data: {oops\n\n" + good]))
    events = _run(oai.oai_create_assistant("gpt-4o"), "hi")
    assert events[-1][0] == "thread.run.failed"
    assert "sent something that is not JSON: '{oops'" in events[-1][1]["last_error"]["message"]
