"""The real service's per-field limits on request bodies, as its OpenAPI contract states them
(`maxLength` and `maxItems` of the Assistants v2 request schemas); a field over its limit is a 400
that names the field and the limit, before anything is stored.

A message's text (256,000 characters) and metadata (16 pairs, keys of 64 characters, values of
512) are checked where messages and metadata are; the whole body by `_gate.MAX_BODY_BYTES`.
"""

from __future__ import annotations

from typing import Any, Mapping

from ._errors import invalid

__all__ = ["ASSISTANT_LIMITS", "THREAD_LIMITS", "RUN_LIMITS", "THREAD_AND_RUN_LIMITS", "check_limits"]

Limits = Mapping[tuple[str, ...], int]

_TOOL_RESOURCES: Limits = {
    ("tool_resources", "code_interpreter", "file_ids"): 20,
    ("tool_resources", "file_search", "vector_store_ids"): 1,
    ("tool_resources", "file_search", "vector_stores"): 1,
}
ASSISTANT_LIMITS: Limits = {("name",): 256, ("description",): 512, ("instructions",): 256_000, ("tools",): 128,
                            **_TOOL_RESOURCES}
THREAD_LIMITS: Limits = _TOOL_RESOURCES
RUN_LIMITS: Limits = {("tools",): 20}
THREAD_AND_RUN_LIMITS: Limits = {("tools",): 20, **_TOOL_RESOURCES,
                                 **{("thread", *path): limit for path, limit in _TOOL_RESOURCES.items()}}


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(body, Mapping):
            return None
        body = body.get(name)
    return body


def check_limits(body: Mapping[str, Any], limits: Limits) -> None:
    """400 for the first string or list of `body` longer than its limit."""
    for path, limit in limits.items():
        value = _at(body, path)
        if isinstance(value, (str, list)) and len(value) > limit:
            field = ".".join(path)
            unit = "characters" if isinstance(value, str) else "items"
            raise invalid(f"Invalid '{field}': it may have at most {limit:,} {unit}, this one has {len(value):,}.",
                          field, code="string_above_max_length" if isinstance(value, str) else "array_above_max_length")
