"""Reading a Responses API stream as turn events.

Each upstream event becomes what the runs protocol shows: `output_text` deltas are message text;
a `function_call` item is a function tool call (its argument deltas streamed); code interpreter,
file search, web search and reasoning summaries are built-in calls (steps of their own); the
encrypted reasoning items are carried to the next turn; the terminal event gives the usage and
how the turn ended. A `response.failed`, an `error` event, or a shape no Responses stream has
raises `ResponsesStreamError` naming it.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..._text import valid_text
from ._base import Carried, HostedCallDelta, HostedCallDone, TextDelta, ToolCallDelta, TurnEvent, Usage

__all__ = ["ResponsesReader", "ResponsesStreamError", "response_events"]

_HOSTED = {"code_interpreter_call": "code_interpreter", "file_search_call": "file_search",
           "web_search_call": "web_search"}
_RANKING = {"ranker": "default_2024_08_21", "score_threshold": 0.0}


class ResponsesStreamError(ValueError):
    """The upstream's stream said the response failed, or held something no Responses stream has."""


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ResponsesStreamError(f"{what} was {type(value).__name__}, not text")
    return valid_text(value)


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResponsesStreamError(f"{what} was {type(value).__name__}, not an object")
    return value


class ResponsesReader:
    """Turns the events of one response, in order, into turn events (see the module).

    `finish` is set once the terminal event has come: "stop", "tool_calls" or "length"."""

    def __init__(self) -> None:
        self.finish: str | None = None
        self.usage: Usage | None = None
        self._functions: dict[str, int] = {}  # upstream item id -> the call's index in this turn
        self._reasoning: list[dict[str, Any]] = []  # encrypted reasoning waiting for what follows it
        self._summaries: dict[str, list[str]] = {}  # reasoning item id -> its summary so far
        self._message_length = 0  # of the message the server is writing (a built-in call starts another)
        self._item_start = 0  # where the current upstream message item's text starts in it
        self._item_text: list[str] = []
        self._annotations = 0  # in the message the server is writing
        self._items = 0  # output items announced so far

    def read_all(self, events: list[dict[str, Any]]) -> list[TurnEvent]:
        """The turn events of the upstream events one network read brought, up to the terminal
        one. Text deltas in a row are joined into one piece without an event each: most of a fast
        upstream's stream is that, and the per-event work is most of the backend's cost."""
        out: list[TurnEvent] = []
        text: list[str] = []
        for event in events:
            if self.finish is not None:
                break  # the answer is whole: whatever follows is not part of it
            if event.get("type") == "response.output_text.delta" and type(event.get("delta")) is str:
                if event["delta"]:
                    text.append(event["delta"])
                continue
            if text:
                out.append(self._joined(text))
                text = []
            out += self.read(event)
        if text:
            out.append(self._joined(text))
        return out

    def _joined(self, pieces: list[str]) -> TextDelta:
        joined = "".join(pieces)
        try:
            joined.encode("utf-8")  # fails on any surrogate
        except UnicodeEncodeError:  # each piece made valid alone, as `read` does: how the pieces fell
            joined = "".join(valid_text(piece) for piece in pieces)  # into reads must not change the text
        self._message_length += len(joined)
        self._item_text.append(joined)
        return TextDelta(joined)

    def read(self, event: dict[str, Any]) -> list[TurnEvent]:
        """The turn events of one upstream event."""
        kind = event.get("type")
        if kind == "response.output_text.delta":  # most of a stream: read first
            text = _text(event.get("delta"), "an output_text delta")
            if not text:
                return []
            self._message_length += len(text)
            self._item_text.append(text)
            return [TextDelta(text)]
        if kind == "response.function_call_arguments.delta":
            index = self._functions.get(event.get("item_id"))
            if index is None:
                return []  # arguments of a call never announced: nothing to add them to
            return [ToolCallDelta(index, _text(event.get("delta"), "a function call's arguments delta"))]
        if kind == "response.output_item.added":
            return self._item_added(_dict(event.get("item"), "an output item"))
        if kind == "response.output_item.done":
            return self._item_done(_dict(event.get("item"), "an output item"))
        if kind == "response.reasoning_summary_text.delta":
            key = _text(event.get("item_id"), "a reasoning item id")
            piece = _text(event.get("delta"), "a reasoning summary delta")
            if key not in self._summaries:  # its step ends the message in progress, as any built-in call
                self._message_length, self._annotations = 0, 0
            self._summaries.setdefault(key, []).append(piece)
            return [HostedCallDelta(key, "reasoning", piece)] if piece else []
        if kind == "response.reasoning_summary_part.added" and type(event.get("summary_index")) is int \
                and event["summary_index"] > 0:
            key = _text(event.get("item_id"), "a reasoning item id")
            if self._summaries.get(key):
                self._summaries[key].append("\n\n")
                return [HostedCallDelta(key, "reasoning", "\n\n")]
            return []
        if kind == "response.code_interpreter_call_code.delta":
            piece = _text(event.get("delta"), "a code delta")
            return [HostedCallDelta(_text(event.get("item_id"), "an item id"), "code_interpreter", piece)] \
                if piece else []
        if kind == "response.output_text.annotation.added":
            return self._annotation(_dict(event.get("annotation"), "an annotation"))
        if kind in ("response.completed", "response.incomplete"):
            return self._ended(_dict(event.get("response"), "a response"))
        if kind == "response.failed":
            response = _dict(event.get("response"), "a response")
            error = response.get("error") if isinstance(response.get("error"), dict) else {}
            raise ResponsesStreamError(f"the response failed: {error.get('message') or error.get('code') or 'no reason given'}")
        if kind == "error":
            raise ResponsesStreamError(f"error: {event.get('message') or event.get('code') or 'no message'}")
        return []  # created, in_progress, content parts, the .done of a text: nothing new

    def _carry(self, before: str | None) -> list[TurnEvent]:
        if not self._reasoning:
            return []
        carried = Carried(self._reasoning, before)
        self._reasoning = []
        return [carried]

    def _item_added(self, item: dict[str, Any]) -> list[TurnEvent]:
        self._items += 1
        kind = item.get("type")
        item_id = item.get("id") if isinstance(item.get("id"), str) else None
        if kind == "message":
            self._item_start, self._item_text = self._message_length, []
            return self._carry(item_id)
        if kind == "function_call":
            index = len(self._functions)
            self._functions[item_id or f"#{index}"] = index
            return self._carry(item_id) + [ToolCallDelta(
                index, _text(item.get("arguments"), "a function call's arguments"),
                id=_text(item.get("call_id"), "a function call's call_id") or item_id or f"call_{index}",
                name=_text(item.get("name"), "a function call's name"))]
        if kind in _HOSTED and item_id:
            self._reasoning = []  # a built-in call is not sent back, nor what led to it
            self._message_length, self._annotations = 0, 0
            code = _text(item.get("code"), "a code interpreter's code") if kind == "code_interpreter_call" else ""
            return [HostedCallDelta(item_id, _HOSTED[kind], code)]
        return []

    def _item_done(self, item: dict[str, Any]) -> list[TurnEvent]:
        kind = item.get("type")
        item_id = item.get("id") if isinstance(item.get("id"), str) else ""
        if kind == "reasoning":
            if item.get("encrypted_content"):
                self._reasoning.append(item)
            summary = self._summaries.pop(item_id, None)
            if summary is not None:
                return [HostedCallDone(item_id, "reasoning", {"summary": "".join(summary)})]
            return []
        if kind not in _HOSTED or not item_id:
            return []
        status = "failed" if item.get("status") == "failed" else "completed"
        if kind == "code_interpreter_call":
            details = {"input": _text(item.get("code"), "a code interpreter's code"),
                       "outputs": [_code_output(o) for o in item.get("outputs") or [] if isinstance(o, dict)]}
        elif kind == "file_search_call":
            details = {"ranking_options": dict(_RANKING),
                       "results": [_search_result(r) for r in item.get("results") or [] if isinstance(r, dict)]}
            queries = [q for q in item.get("queries") or [] if isinstance(q, str)]
            if queries:
                details["queries"] = queries
        else:
            action = item.get("action") if isinstance(item.get("action"), dict) else {}
            details = {"action": action}
        return [HostedCallDone(item_id, _HOSTED[kind], details, status)]

    def _annotation(self, annotation: dict[str, Any]) -> list[TurnEvent]:
        kind = annotation.get("type")
        index = self._annotations
        if kind == "file_citation":
            # the service's citations were markers in the text, and clients replace `text`: one is written
            name = _text(annotation.get("filename"), "a citation's filename") or "source"
            marker = f"\u3010{index + 1}\u2020{name}\u3011"
            start = self._message_length
            self._message_length += len(marker)
            self._item_text.append(marker)
            self._annotations += 1
            return [TextDelta(marker, [{"index": index, "type": "file_citation", "text": marker,
                                        "start_index": start, "end_index": start + len(marker),
                                        "file_citation": {"file_id": _text(annotation.get("file_id"),
                                                                           "a citation's file_id")}}])]
        if kind == "url_citation":
            start, end = annotation.get("start_index"), annotation.get("end_index")
            text = "".join(self._item_text)
            if not (type(start) is int and type(end) is int and 0 <= start <= end <= len(text)):
                return []  # a citation of text that is not there
            text = text[start:end]
            self._annotations += 1
            return [TextDelta("", [{"index": index, "type": "url_citation", "text": text,
                                    "start_index": self._item_start + start, "end_index": self._item_start + end,
                                    "url_citation": {"url": _text(annotation.get("url"), "a citation's url"),
                                                     "title": _text(annotation.get("title"), "a citation's title")}}])]
        return []

    def _ended(self, response: dict[str, Any]) -> list[TurnEvent]:
        events: list[TurnEvent] = []
        if not self._items and isinstance(response.get("output"), list) and response["output"]:
            # an upstream that streams only the end (some compatible servers): its output, read whole
            for event in response_events({"output": response["output"]}):
                events += self.read(event)
        usage = response.get("usage")
        if isinstance(usage, dict) and all(type(usage.get(k)) is int and 0 <= usage[k] < 2 ** 53
                                           for k in ("input_tokens", "output_tokens")):
            self.usage = Usage(usage["input_tokens"], usage["output_tokens"])
        status = response.get("status")
        if status == "failed":
            error = response.get("error") if isinstance(response.get("error"), dict) else {}
            raise ResponsesStreamError(f"the response failed: {error.get('message') or 'no reason given'}")
        if status == "incomplete":
            details = response.get("incomplete_details") if isinstance(response.get("incomplete_details"), dict) else {}
            self.finish = "content_filter" if details.get("reason") == "content_filter" else "length"
        else:
            self.finish = "tool_calls" if self._functions else "stop"
        return events


def _code_output(output: dict[str, Any]) -> dict[str, Any]:
    if output.get("type") == "image":
        url = output.get("url") if isinstance(output.get("url"), str) else ""
        # a data: URL can be megabytes: the step names the image, the container keeps it
        return {"type": "image", "image": {"file_id": url if url.startswith("http") else "inline image"}}
    return {"type": "logs", "logs": _text(output.get("logs"), "a code interpreter's logs")}


def _search_result(result: dict[str, Any]) -> dict[str, Any]:
    entry = {"file_id": _text(result.get("file_id"), "a search result's file_id"),
             "file_name": _text(result.get("filename"), "a search result's filename"),
             "score": result.get("score") if isinstance(result.get("score"), (int, float)) else 0.0}
    if isinstance(result.get("text"), str):
        entry["content"] = [{"type": "text", "text": result["text"]}]
    return entry


def response_events(response: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The stream events a whole (not streamed) response stands for, for an upstream that
    answered a streamed request with one JSON body."""
    for item in response.get("output") or []:
        if not isinstance(item, dict):
            raise ResponsesStreamError("an output item was not an object")
        yield {"type": "response.output_item.added", "item": item}  # a call's arguments and code come whole
        if item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    annotations = [a for a in part.get("annotations") or [] if isinstance(a, dict)]
                    text = _text(part.get("text"), "an output_text's text")
                    # file citations point into the text: each is written where it points
                    at = 0
                    for note in sorted((a for a in annotations if a.get("type") == "file_citation"),
                                       key=lambda a: a.get("index") if type(a.get("index")) is int else len(text)):
                        cut = note.get("index") if type(note.get("index")) is int else len(text)
                        cut = min(max(cut, at), len(text))  # a point in the text, after the last one
                        yield {"type": "response.output_text.delta", "delta": text[at:cut]}
                        yield {"type": "response.output_text.annotation.added", "annotation": note}
                        at = cut
                    yield {"type": "response.output_text.delta", "delta": text[at:]}
                    for note in annotations:
                        if note.get("type") == "url_citation":
                            yield {"type": "response.output_text.annotation.added", "annotation": note}
        elif item.get("type") == "reasoning":
            for number, part in enumerate(item.get("summary") or []):
                if isinstance(part, dict) and part.get("text"):
                    yield {"type": "response.reasoning_summary_part.added", "item_id": item.get("id"),
                           "summary_index": number}
                    yield {"type": "response.reasoning_summary_text.delta", "item_id": item.get("id"),
                           "delta": part["text"]}
        yield {"type": "response.output_item.done", "item": item}
    status = response.get("status")
    if status == "failed":
        yield {"type": "response.failed", "response": response}
    elif status in ("completed", "incomplete"):
        yield {"type": f"response.{status}", "response": response}
    elif "status" in response:  # queued, in_progress: a background response, not an answer
        raise ResponsesStreamError(f"a response that is not finished (status {str(status)[:40]!r}); this "
                                   "backend asks for streamed answers and does not poll background ones")
