"""Argument checks made before any request: each failure is a ValueError naming the argument
and what is allowed, so a mistake costs no round trip and never reaches the server."""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._objects import APIObject

__all__ = [
    "object_id", "check_metadata", "check_number", "check_int", "check_limit", "check_order",
    "check_choice", "check_bool", "check_tool_outputs", "check_list_of_dicts", "check_include",
    "check_dict", "list_params", "REASONING_EFFORTS",
]

_ID = re.compile(r"[A-Za-z0-9_\-]{1,128}")
METADATA_PAIRS = 16
METADATA_KEY_LENGTH = 64
METADATA_VALUE_LENGTH = 512
_KIND_NAMES = {"thread": "Thread", "thread.run": "Run", "assistant": "Assistant",
               "thread.run.step": "RunStep", "thread.message": "Message"}
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


def object_id(value: Any, name: str, kind: str | None = None) -> str:
    """The id of `value`: an id string, or an object whose `object` field is `kind`.

    Ids go into URL paths, so only letters, digits, `_` and `-` are accepted.
    """
    if kind is not None and isinstance(value, APIObject) and value.to_dict().get("object") == kind:
        value = value.id
    if not isinstance(value, str) or not _ID.fullmatch(value):
        kinds = f" or a {_KIND_NAMES.get(kind, kind)} object" if kind is not None else ""
        raise ValueError(
            f"{name} must be an id string (letters, digits, '_' and '-', like "
            f"'{_example_id(name)}'){kinds}, got {_show(value)}")
    return value


def _example_id(name: str) -> str:
    prefix = {"thread_id": "thread", "run_id": "run", "assistant_id": "asst",
              "step_id": "step", "message_id": "msg", "tool_call_id": "call"}.get(name, "obj")
    return f"{prefix}_abc123"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_metadata(value: Any, name: str = "metadata") -> Any:
    """At most 16 string pairs; keys up to 64 characters, values up to 512."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a dict of string keys to string values, got {_show(value)}")
    if len(value) > METADATA_PAIRS:
        raise ValueError(f"{name} may hold at most {METADATA_PAIRS} key-value pairs, got {len(value)}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ValueError(f"{name} keys and values must be strings, got {_show(key)}: {_show(item)}")
        if len(key) > METADATA_KEY_LENGTH:
            raise ValueError(f"{name} keys may be at most {METADATA_KEY_LENGTH} characters, "
                             f"{_show(key)} has {len(key)}")
        if len(item) > METADATA_VALUE_LENGTH:
            raise ValueError(f"{name} values may be at most {METADATA_VALUE_LENGTH} characters, "
                             f"the value of {key!r} has {len(item)}")
    return dict(value)


def check_number(value: Any, name: str, low: float, high: float) -> Any:
    """A number in [low, high], or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}, got {_show(value)}")
    return value


def check_int(value: Any, name: str, low: int, high: int | None = None) -> Any:
    """An integer of at least `low` (and at most `high`), or None."""
    if value is None:
        return None
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bound = f"from {low} to {high}" if high is not None else f"of {low} or more"
        raise ValueError(f"{name} must be an integer {bound}, got {_show(value)}")
    return value


def check_limit(value: Any, name: str = "limit", high: int | None = 100) -> Any:
    """A list limit: an integer from 1 (to 100 for one page)."""
    return check_int(value, name, 1, high)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> Any:
    """One of `choices`, or None."""
    if value is None:
        return None
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {_show(value)}")
    return value


def check_order(value: Any) -> Any:
    """'asc' or 'desc', or None."""
    return check_choice(value, "order", ("asc", "desc"))


def check_bool(value: Any, name: str) -> Any:
    """True, False, or None."""
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {_show(value)}")
    return value


def check_dict(value: Any, name: str, what: str) -> Any:
    """A dict (described by `what`), or None."""
    if value is not None and not isinstance(value, Mapping):
        raise ValueError(f"{name} must be {what}, got {_show(value)}")
    return None if value is None else dict(value)


def check_list_of_dicts(value: Any, name: str, what: str) -> Any:
    """A list of dicts (each described by `what`), or None."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError(f"{name} must be a list of {what}, got {_show(value)}")
    return [dict(v) for v in value]


def check_include(value: Any) -> Any:
    """A list of include paths (strings), or None; a single string is one path."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("include must be a list of field paths such as "
                         "'step_details.tool_calls[*].file_search.results[*].content', "
                         f"got {_show(value)}")
    return list(value)


def check_tool_outputs(value: Any) -> list[dict[str, str]]:
    """A non-empty list of `{"tool_call_id": str, "output": str}` (see `oai_tool_output`)."""
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError("tool_outputs must be a non-empty list of oai_tool_output(tool_call_id, "
                         f"output) entries, got {_show(value)}")
    seen: set[str] = set()
    for position, entry in enumerate(value):
        if not isinstance(entry, Mapping) or set(entry) - {"tool_call_id", "output"}:
            raise ValueError(f"tool_outputs[{position}] must be a dict with the keys 'tool_call_id' "
                             f"and 'output' only (build it with oai_tool_output), got {_show(entry)}")
        call_id = object_id(entry.get("tool_call_id"), f"tool_outputs[{position}]['tool_call_id']")
        if not isinstance(entry.get("output"), str):
            raise ValueError(f"tool_outputs[{position}]['output'] must be a string (oai_tool_output "
                             f"turns other values into one), got {_show(entry.get('output'))}")
        if call_id in seen:
            raise ValueError(f"tool_outputs answers the tool call {call_id!r} twice; send one output "
                             "per call")
        seen.add(call_id)
    return [dict(entry) for entry in value]


def list_params(limit: Any, order: Any, after: Any, before: Any) -> dict[str, Any]:
    """The checked cursor parameters of a list call (`limit` is applied page by page)."""
    check_limit(limit, high=None)
    params = {"order": check_order(order),
              "after": None if after is None else object_id(after, "after"),
              "before": None if before is None else object_id(before, "before")}
    return {name: value for name, value in params.items() if value is not None}
