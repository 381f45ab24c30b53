"""The one place that turns a tool's result into the string the protocol carries."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["tool_output_string"]


def tool_output_string(value: Any) -> str:
    """A tool result as an output string: strings as they are, JSON for data, `str()` otherwise.

    >>> tool_output_string({"ok": True, "n": 3})
    '{"ok": true, "n": 3}'
    >>> tool_output_string(None)
    ''
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return str(value)
