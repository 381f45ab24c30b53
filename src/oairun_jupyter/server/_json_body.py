"""A request body's JSON, held to what every reply can carry back.

Python's `json` reads `NaN`, `Infinity`, the escape of a lone surrogate (`"\\ud800"`) and any
depth, none of which a reply can be written with (strict JSON, UTF-8): stored, such a value broke
every later read of its object. So a body is refused, naming the field, when it holds a
non-finite number, a string with a lone surrogate, or nesting deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import json
from typing import Any

from ._errors import invalid

__all__ = ["parse_json_body", "MAX_DEPTH"]

MAX_DEPTH = 64  # objects and arrays within one another; a tool's JSON schema needs far fewer


class _NonFinite:
    """Where the body had NaN or ±Infinity, until the walk finds its field."""

    def __init__(self, text: str) -> None:
        self.text = text


def _field(path: list[Any]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check(value: Any) -> None:
    """400 for the first value no reply could carry, naming where it is."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _NonFinite):
            raise invalid(f"Invalid value for '{_field(path)}': {item.text} is not a JSON number; send a finite "
                          "number (or null where the field allows it).", _field(path))
        if isinstance(item, str):
            if _has_lone_surrogate(item):
                raise invalid(f"Invalid value for '{_field(path)}': the string holds a lone UTF-16 surrogate "
                              "(an escape like \\ud800 without its pair), which is not text.", _field(path))
            continue
        if len(path) >= MAX_DEPTH and isinstance(item, (dict, list)):
            raise invalid(f"The request body is nested deeper than {MAX_DEPTH} levels at '{_field(path)}'.",
                          _field(path))
        if isinstance(item, dict):
            for key, inner in item.items():
                if _has_lone_surrogate(key):
                    raise invalid(f"Invalid key in '{_field(path)}': it holds a lone UTF-16 surrogate.", _field(path))
                stack.append((inner, [*path, key]))
        elif isinstance(item, list):
            stack.extend((inner, [*path, index]) for index, inner in enumerate(item))


def parse_json_body(raw: bytes) -> Any:
    """The body's JSON value, or a 400 that says what in it cannot be taken."""
    try:
        value = json.loads(raw, parse_constant=_NonFinite)
    except RecursionError:
        raise invalid(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError:  # UnicodeDecodeError too: the body is not UTF-8
        raise invalid("We could not parse the JSON body of your request. The body must be a JSON "
                      "object.") from None
    _check(value)
    return value
