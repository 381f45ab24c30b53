"""Run stream events: what one SSE event means, and the one place that names the kinds of events.

`interpret_sse` turns a decoded SSE event into a `StreamEvent` (or the `[DONE]` marker, or an
APIStreamError for an `error` event); `event_kind` says what an event name is about, for every
reader of events (the event-data accumulator, RunStream's callbacks, the widget bridge).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ._errors import APIStreamError, error_fields
from ._sse import ServerSentEvent

__all__ = ["StreamEvent", "interpret_sse", "DONE", "event_kind", "EventKind"]

DONE = object()  # what interpret_sse returns for the `data: [DONE]` end marker


class EventKind:
    """What an event is about (the values `event_kind` returns)."""

    THREAD = "thread"  # thread.created
    RUN = "run"  # thread.run.* (the run's own fields)
    STEP = "step"  # thread.run.step.* but the delta: a whole step
    STEP_DELTA = "step_delta"  # thread.run.step.delta
    MESSAGE = "message"  # thread.message.* but the delta: a whole message
    MESSAGE_DELTA = "message_delta"  # thread.message.delta


def _kind_of(name: str) -> str | None:
    """The kind by the name's shape: `thread.message.X`, `thread.run.step.X`, `thread.run.X`."""
    parts = name.split(".")
    if name == "thread.created":
        return EventKind.THREAD
    if len(parts) == 3 and parts[:2] == ["thread", "message"] and parts[2]:
        return EventKind.MESSAGE_DELTA if parts[2] == "delta" else EventKind.MESSAGE
    if len(parts) == 4 and parts[:3] == ["thread", "run", "step"] and parts[3]:
        return EventKind.STEP_DELTA if parts[3] == "delta" else EventKind.STEP
    if len(parts) == 3 and parts[:2] == ["thread", "run"] and parts[2] and parts[2] != "step":
        return EventKind.RUN
    return None  # not a name of the protocol: nothing the client keeps


# The contract's event names, looked up rather than matched on the per-event path.
_CONTRACT_EVENTS = (
    "thread.created",
    *(f"thread.run.{s}" for s in ("created", "queued", "in_progress", "requires_action", "completed",
                                  "incomplete", "failed", "cancelling", "cancelled", "expired")),
    *(f"thread.run.step.{s}" for s in ("created", "in_progress", "delta", "completed", "failed",
                                       "cancelled", "expired")),
    *(f"thread.message.{s}" for s in ("created", "in_progress", "delta", "completed", "incomplete")),
)
_KINDS = {name: _kind_of(name) for name in _CONTRACT_EVENTS}


def event_kind(name: str) -> str | None:
    """The `EventKind` of an event name, None for events about nothing the client keeps.

    >>> event_kind("thread.message.delta")
    'message_delta'
    """
    kind = _KINDS.get(name)
    return kind if kind is not None else _kind_of(name)


class StreamEvent:
    """One event of a run stream: its name (`thread.message.delta`, ...) and its payload."""

    __slots__ = ("event", "data")

    def __init__(self, event: str, data: Any) -> None:
        self.event = event
        self.data = data

    def __repr__(self) -> str:
        return f"StreamEvent({self.event!r})"


def interpret_sse(sse: ServerSentEvent, convert: Callable[[Any], Any]) -> StreamEvent | object:
    """The StreamEvent for one SSE event, `DONE` for the end marker; raises on `error` events."""
    if sse.data == "[DONE]":
        return DONE
    try:
        payload = json.loads(sse.data)
    except ValueError as exc:
        raise APIStreamError(f"the {sse.event!r} event carried data that is not JSON ({exc})") from None
    if sse.event == "error":
        fields = error_fields(payload)
        message = fields.pop("message", None) or "the server reported an error in the stream"
        raise APIStreamError(message, body=payload, **fields)
    return StreamEvent(sse.event, convert(payload))
