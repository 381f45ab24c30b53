"""The widget's state as plain data: pure functions from a run's payloads to trait values.

`header_state`, `message_state`, `step_state` and `record_state` are what the RunWidget's
traits hold (and what a saved notebook keeps), so they stay small and JSON-only.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..protocol import text_of_message
from ..tools import ToolCallRecord

__all__ = ["header_state", "message_state", "step_state", "record_state", "ended_at", "search_text"]


def ended_at(run: dict[str, Any]) -> int | None:
    """When the run ended (completed, failed, cancelled), if it did."""
    for name in ("completed_at", "failed_at", "cancelled_at"):
        if run.get(name):
            return run[name]
    return None


def header_state(run: dict[str, Any], assistant_name: str | None, backend: str | None) -> dict[str, Any]:
    return {
        "status": run.get("status"), "run_id": run.get("id"), "thread_id": run.get("thread_id"),
        "assistant_id": run.get("assistant_id"), "assistant_name": assistant_name,
        "model": run.get("model"), "backend": backend, "created_at": run.get("created_at"),
        "started_at": run.get("started_at"), "ended_at": ended_at(run), "usage": run.get("usage"),
        "last_error": run.get("last_error"), "incomplete_details": run.get("incomplete_details"),
    }


def _annotations(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for part in message.get("content") or []:
        for annotation in (part.get("text") or {}).get("annotations") or [] if part.get("type") == "text" else []:
            found.append({key: annotation.get(key) for key in
                          ("type", "text", "start_index", "end_index", "file_citation", "file_path", "url_citation")
                          if annotation.get(key) is not None})
    return found


def message_state(message: dict[str, Any], with_text: bool = True) -> dict[str, Any]:
    """A message for the transcript; `with_text=False` while its text streams as appended pieces."""
    return {"id": message["id"], "role": message.get("role", "assistant"),
            "status": message.get("status") or "completed",
            "text": text_of_message(message) if with_text else "",
            "annotations": _annotations(message)}


def _call_state(call: dict[str, Any], with_arguments: bool) -> dict[str, Any]:
    kind = call.get("type", "function")
    state: dict[str, Any] = {"index": call.get("index", 0), "id": call.get("id"), "type": kind}
    if kind == "function":
        function = call.get("function") or {}
        state.update(name=function.get("name", ""), output=function.get("output"),
                     arguments=function.get("arguments", "") if with_arguments else "")
    elif kind == "code_interpreter":
        details = call.get("code_interpreter") or {}
        outputs = details.get("outputs") or []
        state.update(name="code_interpreter", code_input=details.get("input", ""),
                     logs="".join(o.get("logs", "") for o in outputs if o.get("type") == "logs"),
                     images=[(o.get("image") or {}).get("file_id") for o in outputs if o.get("type") == "image"])
    elif kind == "file_search":
        state.update(name="file_search", results=(call.get("file_search") or {}).get("results") or [])
    elif kind == "web_search":
        state.update(name="web_search", search=search_text((call.get("web_search") or {}).get("action")))
    elif kind == "reasoning":
        state.update(name="reasoning", summary=str((call.get("reasoning") or {}).get("summary") or ""))
    else:  # a kind this version does not know: named, shown without its details
        state.update(name=str(kind))
    return state


def search_text(action: Any) -> str:
    """A web search's query and the sources it read, a line each."""
    if not isinstance(action, dict):
        return ""
    lines = [f"query: {action['query']}"] if isinstance(action.get("query"), str) else []
    for source in action.get("sources") or []:
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            lines.append(source["url"])
    return "\n".join(lines)


def step_state(step: dict[str, Any], run_waiting: bool = False) -> dict[str, Any]:
    """A run step; function arguments are left out while they stream (sent as pieces)."""
    details = step.get("step_details") or {}
    complete = step.get("status") != "in_progress" or run_waiting
    calls = details.get("tool_calls") or []
    return {"id": step["id"], "type": step.get("type"), "status": step.get("status"),
            "message_id": (details.get("message_creation") or {}).get("message_id"),
            "tool_calls": [{**_call_state({**call, "index": call.get("index", i)}, complete),
                            **({"step_status": step.get("status")} if call.get("type") != "function" else {})}
                           for i, call in enumerate(calls)],
            "last_error": step.get("last_error")}


def record_state(records: Iterable[ToolCallRecord]) -> dict[str, Any]:
    """The tool-call records by call id, as the debugger shows them."""
    state = {}
    for record in records:
        state[record.call_id] = {
            "name": record.name, "function": record.function, "status": record.status,
            "arguments": record.arguments,  # what ran: the user may have edited it before approving
            "output": record.output, "error": record.error, "traceback": record.traceback,
            "duration": record.duration, "reruns": list(getattr(record, "reruns", [])),
            "allowed_by": record.allowed_by}
    return state
