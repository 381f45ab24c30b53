"""A backend for any OpenAI-compatible `/v1/chat/completions` endpoint, streamed.

The run's instructions and the thread's messages become chat messages; the run's function
tools become chat tools; submitted outputs become `tool` messages after the assistant's
`tool_calls` message. Content deltas become message deltas, tool-call deltas become a
tool_calls step, `finish_reason: length` ends the run `incomplete`, and upstream errors fail
the run with `last_error` (429 as `rate_limit_exceeded`).
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator

import httpx

from ..._text import valid_text
from ...protocol import SSEDecoder
from ._base import Finish, TextDelta, ToolCallDelta, TurnContext, TurnEvent, Usage
from ._merge import merged
from ._upstream import UpstreamClient, json_able, remaining_budget, shown

__all__ = ["ChatCompletionsBackend", "chat_request", "batch_events", "merged"]

_FINISH = {"stop": "stop", "tool_calls": "tool_calls", "function_call": "tool_calls",
           "length": "length", "content_filter": "stop"}


def _message_text(message: dict[str, Any]) -> str:
    return "".join(part["text"]["value"] for part in message.get("content", [])
                   if part.get("type") == "text")


def chat_messages(context: TurnContext) -> list[dict[str, Any]]:
    """The conversation of a run as chat messages."""
    run = context.run
    messages: list[dict[str, Any]] = []
    if run.get("instructions"):
        messages.append({"role": "system", "content": run["instructions"]})
    for message in context.messages:
        messages.append({"role": message["role"], "content": _message_text(message)})
    for round_ in context.tool_rounds:  # each call under the upstream's own id, as it gave it
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": c.get("upstream_id") or c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c["arguments"]}} for c in round_]})
        messages += [{"role": "tool", "tool_call_id": c.get("upstream_id") or c["id"], "content": c["output"] or ""}
                     for c in round_]
    return messages


def chat_request(context: TurnContext, max_tokens: int | None = None) -> dict[str, Any]:
    """The chat-completions request body for the next turn of a run."""
    run = context.run
    body: dict[str, Any] = {"model": run["model"], "messages": chat_messages(context), "stream": True,
                            "stream_options": {"include_usage": True}, "n": 1}  # one answer: some default to more
    for name in ("temperature", "top_p"):
        if run.get(name) is not None:
            body[name] = run[name]
    tools = [{"type": "function", "function": fn} for fn in context.function_tools.values()]
    if tools:
        body["tools"] = tools
        choice = run.get("tool_choice") or "auto"
        body["tool_choice"] = choice if isinstance(choice, str) else {
            "type": "function", "function": {"name": choice["function"]["name"]}}
        body["parallel_tool_calls"] = run.get("parallel_tool_calls", True)
    if isinstance(run.get("response_format"), dict):
        body["response_format"] = run["response_format"]
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


class MalformedChunk(ValueError):
    """A chunk whose shape is not a chat completion's: the run fails saying what came."""


def _of(value: Any, kinds: tuple[type, ...], what: str) -> Any:
    if value is None or (isinstance(value, kinds) and not isinstance(value, bool)):
        return value
    raise MalformedChunk(f"{what} was {shown(json.dumps(value) if json_able(value) else repr(value))}")



def _content_text(content: Any) -> str:
    """A delta's content: text, or a list of text parts (some servers send those)."""
    if isinstance(content, list):
        return "".join(part["text"] for part in content
                       if isinstance(part, dict) and isinstance(part.get("text"), str))
    return _of(content, (str,), "a choice's content") or ""


def _arguments(value: Any) -> str:
    """A call's arguments piece: text; an object some servers send whole is written as JSON."""
    if isinstance(value, (dict, list)) and json_able(value):
        return json.dumps(value)
    return _of(value, (str,), "a tool call's arguments") or ""


def _usage(usage: Any) -> Usage | None:
    """Usage as the upstream counted it; counts that are not whole numbers are left to the local count."""
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if all(type(n) is int and n >= 0 for n in (prompt, completion)):
        return Usage(prompt, completion)
    return None


def chunk_events(chunk: dict[str, Any]) -> tuple[list[TurnEvent], str | None, Usage | None]:
    """The turn events of one `chat.completion.chunk` (of its choice 0: a server that answers
    several choices does not get them mixed into one message), its finish reason and its usage.
    A non-streamed `chat.completion` (its choices hold a whole `message`) is read the same way.
    A shape that is not a chat completion's raises MalformedChunk naming what came."""
    events: list[TurnEvent] = []
    finish = None
    for choice in _of(chunk.get("choices"), (list,), "'choices'") or []:
        _of(choice, (dict,), "a choice")
        if _of(choice.get("index", 0), (int,), "a choice's index") not in (0, None):
            continue
        delta = _of(choice.get("delta") or choice.get("message"), (dict,), "a choice's delta") or {}
        text = _content_text(delta.get("content"))
        if text:
            events.append(TextDelta(valid_text(text)))
        for position, call in enumerate(_of(delta.get("tool_calls"), (list,), "'tool_calls'") or []):
            _of(call, (dict,), "a tool call")
            function = _of(call.get("function"), (dict,), "a tool call's function") or {}
            events.append(ToolCallDelta(
                _of(call.get("index", position), (int,), "a tool call's index") or 0,
                valid_text(_arguments(function.get("arguments"))),
                id=_of(call.get("id"), (str,), "a tool call's id"),
                name=_of(function.get("name"), (str,), "a tool call's name")))
        reason = _of(choice.get("finish_reason"), (str,), "a finish_reason")
        if reason:
            finish = _FINISH.get(reason, "stop")
    return events, finish, _usage(chunk.get("usage"))


def batch_events(chunks: list[dict[str, Any]]) -> tuple[list[TurnEvent], str | None, Usage | None]:
    """`chunk_events` of chunks that arrived in one network read, `merged`: their events, the
    last finish reason and usage among them. The usual chunk (one choice, a piece of text, nothing
    else) is read here without making an event of its own: most of a fast upstream's stream is
    that, and the per-chunk work is most of the backend's cost (bench/server.py)."""
    arrived: list[TurnEvent] = []
    text: list[str] = []  # pieces of text in a row, an event once something else comes
    finish, usage = None, None
    for chunk in chunks:
        choices = chunk.get("choices")
        if type(choices) is list and len(choices) == 1 and chunk.get("usage") is None:
            choice = choices[0]
            delta = choice.get("delta") if type(choice) is dict else None
            if (type(delta) is dict and type(delta.get("content")) is str and not delta.get("tool_calls")
                    and not choice.get("finish_reason") and choice.get("index", 0) == 0):
                if delta["content"]:  # the first chunk's "" (with the role) is no text
                    text.append(delta["content"])
                continue
        if text:
            arrived.append(_text_delta(text))
            text = []
        events, chunk_finish, chunk_usage = chunk_events(chunk)
        arrived += events
        finish = chunk_finish or finish
        usage = chunk_usage or usage
    if text:
        arrived.append(_text_delta(text))
    return merged(arrived), finish, usage


def _text_delta(pieces: list[str]) -> TextDelta:
    joined = "".join(pieces)
    try:
        joined.encode("utf-8")  # fails on any surrogate
        return TextDelta(joined)
    except UnicodeEncodeError:  # made valid piece by piece, as chunk_events does: how the pieces
        # fell into network reads must not change the text (a pair split over two chunks stays two U+FFFD)
        return TextDelta("".join(valid_text(piece) for piece in pieces))


class ChatCompletionsBackend(UpstreamClient):
    """Turns through an upstream chat-completions endpoint; the key stays in this object.

    Whatever the upstream does short of a whole answer fails the run with `last_error` naming it:
    an HTTP error, an error object in the stream, a stream cut before its finish (no
    `finish_reason`, no `[DONE]`), a body that is not JSON. An upstream that ignores
    `stream: true` and answers one JSON body is read as that answer."""

    name = "chat-completions"

    def _checked(self, value: Any, data: str | bytes) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self._error(f"The model server at {self.shown_url} sent {self._shown(data)} instead of a chat completion.")
        if value.get("error") is not None:
            error = value["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise self._error(f"The model server reported an error: {message}")
        return value

    async def turn(self, context: TurnContext) -> AsyncIterator[TurnEvent]:
        finish, usage, done, answered = None, None, False, False
        try:
            async with self._posted("/chat/completions", chat_request(context, remaining_budget(context.run))) \
                    as response:
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # one JSON answer to a streamed request: taken whole (it has its finish)
                    events, finish, usage = chunk_events(self._decoded(await response.aread()))
                    for event in events:
                        yield event
                    done, answered = True, bool(events)
                else:
                    decoder = SSEDecoder()
                    async for raw in response.aiter_bytes():
                        datas = [sse.data for sse in decoder.feed(raw)]  # what one read of the network brought
                        if "[DONE]" in datas:  # the end: whatever follows it is not the answer
                            datas = datas[:datas.index("[DONE]")]
                            done = True
                        events, read_finish, read_usage = batch_events(self._decoded_all(datas))
                        finish = read_finish or finish
                        usage = read_usage or usage
                        answered = answered or bool(events)
                        for event in events:
                            yield event
                        if done:
                            break
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        except MalformedChunk as error:
            raise self._error(f"The model server at {self.shown_url} sent something that is not a chat "
                              f"completion: {error}.") from None
        if finish is None and done and not answered:
            raise self._error(f"The model server at {self.shown_url} ended its stream with no answer (no text, no "
                              "tool call, no finish_reason).")
        if finish is None and not done:
            raise self._error(f"The model server at {self.shown_url} ended its stream before its answer "
                              "(no finish_reason and no [DONE]): the connection was cut; start a new run.")
        if usage is not None:
            yield usage
        yield Finish(finish or "stop")
