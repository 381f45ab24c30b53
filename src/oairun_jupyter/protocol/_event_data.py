"""The state a run's event stream builds up: the R package's `event_data`, done right.

`RunEventData.apply(event, data)` folds one stream event into the thread, the run, and the
messages and run steps keyed by id. It carries on across the streams of one run (a
submit_tool_outputs stream continues the run's first stream), so a delta for a step created
in an earlier stream finds its snapshot.
"""

from __future__ import annotations

from typing import Any

from ._deltas import accumulate_message_delta, accumulate_run_step_delta, copy_json
from ._events import EventKind, event_kind
from ._statuses import TERMINAL_STATUSES

__all__ = ["RunEventData", "TERMINAL_SUFFIXES"]

# A full object on these events replaces whatever was accumulated (messages and steps end with
# the same five words as runs).
TERMINAL_SUFFIXES = tuple(sorted(TERMINAL_STATUSES))
# On these, the full object updates the snapshot but keeps the streamed content.
_STREAMED_PARTS = {"thread.message": "content", "thread.run.step": "step_details"}


class RunEventData:
    """Thread, run, messages and run steps accumulated from stream events.

    `messages` and `run_steps` are dicts keyed by id, in the order the objects appeared.
    """

    __slots__ = ("thread", "run", "messages", "run_steps")

    def __init__(self) -> None:
        self.thread: dict[str, Any] | None = None
        self.run: dict[str, Any] | None = None
        self.messages: dict[str, dict[str, Any]] = {}
        self.run_steps: dict[str, dict[str, Any]] = {}

    def apply(self, event: str, data: Any, kind: str | None = None) -> None:
        """Fold one event (its name and its decoded JSON payload) into the state; `kind` is the
        event's `event_kind` when the caller has it already (it is looked up otherwise)."""
        kind = kind or event_kind(event)
        if kind == EventKind.MESSAGE_DELTA:
            accumulate_message_delta(self._snapshot(self.messages, data, "thread.message"), data)
        elif kind == EventKind.STEP_DELTA:
            accumulate_run_step_delta(self._snapshot(self.run_steps, data, "thread.run.step"), data)
        elif kind == EventKind.MESSAGE:
            self._store(self.messages, event, data, "thread.message")
        elif kind == EventKind.STEP:
            self._store(self.run_steps, event, data, "thread.run.step")
        elif kind == EventKind.RUN:
            self.run = data
        elif kind == EventKind.THREAD:
            self.thread = data

    def to_dict(self) -> dict[str, Any]:
        """The state as plain data (the shape of R's `event_data`)."""
        return {"thread": self.thread, "run": self.run,
                "messages": self.messages, "run_steps": self.run_steps}

    @staticmethod
    def _snapshot(table: dict[str, dict[str, Any]], delta: dict[str, Any], kind: str) -> dict[str, Any]:
        """The snapshot a delta belongs to; a skeleton when its creation event was not seen."""
        snapshot = table.get(delta["id"])
        if snapshot is None:
            snapshot = table[delta["id"]] = {"id": delta["id"], "object": kind}
        return snapshot

    @staticmethod
    def _store(table: dict[str, dict[str, Any]], event: str, data: dict[str, Any], kind: str) -> None:
        data = copy_json(data)  # deltas will grow it; the event's own payload stays as sent
        old = table.get(data["id"])
        if old is None or event.endswith(TERMINAL_SUFFIXES):
            table[data["id"]] = data
            return
        part = _STREAMED_PARTS[kind]
        kept = old.get(part)
        table[data["id"]] = data
        if kept and _is_empty(data.get(part)):
            table[data["id"]] = {**data, part: kept}


def _is_empty(value: Any) -> bool:
    """Whether a content list or step-details object carries nothing streamed yet."""
    if not value:
        return True
    if isinstance(value, dict):
        return not value.get("tool_calls") and not value.get("message_creation")
    return False
