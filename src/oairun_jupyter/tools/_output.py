"""The one place that turns a tool's result into the string the protocol carries."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .._text import valid_text

__all__ = ["tool_output_string", "MAX_OUTPUT_CHARS", "MAX_TABLE_ROWS"]

MAX_OUTPUT_CHARS = 100_000  # what a model is sent of one output; the rest is cut with a note
MAX_TABLE_ROWS = 200  # DataFrame rows sent as records


def _jsonable(value: Any) -> Any:
    """`value` as JSON data when there is a faithful way to make it so; raises TypeError if not."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic v2
        return value.model_dump(mode="json")
    module = type(value).__module__.split(".", 1)[0]
    if module == "pandas":
        if hasattr(value, "to_dict") and hasattr(value, "columns"):
            rows = json.loads(value.head(MAX_TABLE_ROWS).to_json(orient="records", date_format="iso"))
            if len(value) > MAX_TABLE_ROWS:
                return {"rows": rows, "note": f"first {MAX_TABLE_ROWS} of {len(value)} rows"}
            return rows
        if hasattr(value, "to_json"):
            return json.loads(value.to_json(date_format="iso"))
    if module == "numpy":
        return value.tolist() if hasattr(value, "tolist") else value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "isoformat"):  # datetime, date, time, pandas Timestamp
        return value.isoformat()
    if type(value).__name__ == "Decimal":
        return str(value)
    raise TypeError(type(value).__name__)


def _cut(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n[output cut: {len(text):,} characters, the first {MAX_OUTPUT_CHARS:,} sent]"


def tool_output_string(value: Any) -> str:
    """A tool result as an output string: strings as they are, JSON for data, the repr otherwise;
    always valid Unicode (see `valid_text`).

    Dataclasses, pydantic models, numpy values and pandas objects become JSON (a DataFrame as
    records, its first 200 rows); outputs past 100,000 characters are cut with a note.

    >>> tool_output_string({"ok": True, "n": 3})
    '{"ok": true, "n": 3}'
    >>> tool_output_string(None)
    ''
    """
    if isinstance(value, str):
        return _cut(valid_text(value))
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return _cut(bytes(value).decode("utf-8", "replace"))
    try:
        text = _json(value)
    except (TypeError, ValueError, RecursionError):  # no JSON for it (a cycle, an unknown type): its repr
        text = _safe_repr(value)
    return _cut(valid_text(text))


def _json(value: Any) -> str:
    """JSON text of `value`; NaN and infinities (JSON has none) become null, as pandas writes them."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_jsonable)
    except ValueError:  # a non-finite number somewhere, maybe inside a numpy array: read back without it
        loose = json.dumps(value, ensure_ascii=False, allow_nan=True, default=_jsonable)
        return json.dumps(json.loads(loose, parse_constant=lambda _: None), ensure_ascii=False, allow_nan=False)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as error:  # a repr that raises must not lose the call's result
        return f"<{type(value).__name__} object: its repr raised {type(error).__name__}>"
