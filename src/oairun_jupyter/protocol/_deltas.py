"""Merging streamed deltas into message and run-step snapshots: pure functions, no I/O.

List entries are matched by their `index` field, never by their position in the list: the
service numbers content parts, annotations, tool calls and code outputs, and a delta may
carry only the entry at index 1. Text fields are concatenated; every other value replaces.

The snapshot is updated in place and returned. Text is grown so that CPython can extend the
string where it lies, which keeps the cost linear in the total text (see bench/accumulation.py).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CONCATENATED_FIELDS",
    "copy_json",
    "merge_delta",
    "accumulate_message_delta",
    "accumulate_run_step_delta",
]

# Fields whose deltas are fragments of one growing string.
CONCATENATED_FIELDS = frozenset({"value", "arguments", "input", "logs", "name", "refusal"})


def merge_delta(snapshot: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """Merge `delta` into `snapshot` (in place) and return the snapshot.

    >>> merge_delta({"text": {"value": "Hel"}}, {"text": {"value": "lo"}})
    {'text': {'value': 'Hello'}}
    """
    for key, value in delta.items():
        if key not in snapshot or snapshot[key] is None:
            snapshot[key] = copy_json(value)
        elif value is None:
            continue  # a null in a delta says "nothing new", not "cleared"
        elif key in CONCATENATED_FIELDS and isinstance(value, str):
            old = snapshot[key]
            if not isinstance(old, str):
                snapshot[key] = value
                continue
            snapshot[key] = None  # drop the dict's reference so `+=` can grow `old` in place
            old += value
            snapshot[key] = old
        elif isinstance(value, dict) and isinstance(snapshot[key], dict):
            merge_delta(snapshot[key], value)
        elif isinstance(value, list) and isinstance(snapshot[key], list):
            _merge_indexed(snapshot[key], value)
        else:
            snapshot[key] = copy_json(value)
    return snapshot


def _merge_indexed(entries: list[Any], deltas: list[Any]) -> None:
    """Merge list deltas into `entries` by their `index` fields; unindexed lists are replaced."""
    if not all(isinstance(d, dict) and "index" in d for d in deltas):
        entries[:] = [copy_json(d) for d in deltas]
        return
    for delta in deltas:
        index = delta["index"]
        for entry in entries:
            if isinstance(entry, dict) and entry.get("index") == index:
                merge_delta(entry, delta)
                break
        else:
            entries.append(copy_json(delta))
            # deltas may arrive out of order; keep entries sorted by index
            if len(entries) > 1 and _index_of(entries[-2]) > index:
                entries.sort(key=_index_of)


def _index_of(entry: Any) -> int:
    return entry.get("index", -1) if isinstance(entry, dict) else -1


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data, so later merges never write into an object someone else holds."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def accumulate_message_delta(message: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """Apply a `thread.message.delta` payload to the message snapshot it belongs to."""
    delta = event.get("delta") or {}
    if _append_plain_text(message, delta):
        return message
    return merge_delta(message, delta)


def _append_plain_text(message: dict[str, Any], delta: dict[str, Any]) -> bool:
    """The common delta, one more piece of an existing text part, applied directly (the same
    result as `merge_delta`, at a third of its cost); False for any other shape."""
    content = delta.get("content")
    if len(delta) != 1 or not content or len(content) != 1:
        return False
    part = content[0]
    text = part.get("text")
    if len(part) != 3 or part.get("type") != "text" or not isinstance(text, dict) or len(text) != 1:
        return False
    piece = text.get("value")
    if not isinstance(piece, str):
        return False
    index = part.get("index")
    for existing in message.get("content") or ():
        if isinstance(existing, dict) and existing.get("index") == index:
            target = existing.get("text")
            if not isinstance(target, dict) or not isinstance(target.get("value"), str):
                return False
            old = target["value"]
            target["value"] = None  # drop the dict's reference so `+=` can grow `old` in place
            old += piece
            target["value"] = old
            return True
    return False


def accumulate_run_step_delta(step: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """Apply a `thread.run.step.delta` payload to the run-step snapshot it belongs to."""
    return merge_delta(step, event.get("delta") or {})
