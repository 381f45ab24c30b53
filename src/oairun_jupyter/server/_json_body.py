"""A request body's JSON, held to what every reply can carry back.

Python's `json` reads `NaN`, `Infinity`, numbers too large for a float (`1e999`), the escape of a
lone surrogate (`"\\ud800"`) and any depth, none of which a reply can be written with (strict
JSON, UTF-8): stored, such a value broke every later read of its object. So a body is refused,
naming the field, when it holds a non-finite number, a string with a lone surrogate, or nesting
deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import json
import math
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


def _float(text: str) -> Any:
    """A JSON number with a fraction or exponent; one too large for a float (1e999) is as
    non-finite as Infinity."""
    number = float(text)
    return number if math.isfinite(number) else _NonFinite(text)


def _path(node: tuple | None) -> list[Any]:
    parts: list[Any] = []
    while node is not None:
        node, key = node
        parts.append(key)
    return parts[::-1]


def _check(value: Any) -> None:
    """400 for the first value no reply could carry, naming where it is. Paths are kept as links
    to their parent (made into a name only for the error): a large, deep body costs its size,
    not its size times its depth."""
    stack: list[tuple[Any, tuple | None, int]] = [(value, None, 0)]
    while stack:
        item, link, depth = stack.pop()
        if isinstance(item, str):
            if _has_lone_surrogate(item):
                path = _path(link)
                raise invalid(f"Invalid value for '{_field(path)}': the string holds a lone UTF-16 surrogate "
                              "(an escape like \\ud800 without its pair), which is not text.", _field(path))
            continue
        if isinstance(item, (dict, list)) and depth >= MAX_DEPTH:
            path = _path(link)
            raise invalid(f"The request body is nested deeper than {MAX_DEPTH} levels at '{_field(path)}'.",
                          _field(path))
        if isinstance(item, dict):
            for key, inner in item.items():
                if _has_lone_surrogate(key):
                    path = _path(link)
                    raise invalid(f"Invalid key in '{_field(path)}': it holds a lone UTF-16 surrogate.", _field(path))
                stack.append((inner, (link, key), depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, (link, index), depth + 1) for index, inner in enumerate(item))
        elif isinstance(item, _NonFinite):
            path = _path(link)
            raise invalid(f"Invalid value for '{_field(path)}': {item.text} is not a JSON number; send a finite "
                          "number (or null where the field allows it).", _field(path))


def parse_json_body(raw: bytes) -> Any:
    """The body's JSON value, or a 400 that says what in it cannot be taken."""
    try:
        value = json.loads(raw, parse_constant=_NonFinite, parse_float=_float)
    except RecursionError:
        raise invalid(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError:  # UnicodeDecodeError too: the body is not UTF-8
        raise invalid("We could not parse the JSON body of your request. The body must be a JSON "
                      "object.") from None
    _check(value)
    return value
