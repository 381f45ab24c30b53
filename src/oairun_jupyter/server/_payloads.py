"""The server's objects as the protocol spells them: every field the contract requires, filled."""

from __future__ import annotations

from typing import Any

from ._ids import new_id, now

__all__ = ["assistant_payload", "thread_payload", "message_payload", "run_payload",
           "step_payload", "text_part", "RUN_EXPIRY_SECONDS"]

RUN_EXPIRY_SECONDS = 600  # the service gave a run ten minutes (expires_at - created_at)


def assistant_payload(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("assistant"), "object": "assistant", "created_at": now(),
        "name": body.get("name"), "description": body.get("description"),
        "model": body["model"], "instructions": body.get("instructions"),
        "tools": body.get("tools") or [], "tool_resources": body.get("tool_resources") or {},
        "metadata": body.get("metadata") or {},
        "temperature": body.get("temperature", 1.0), "top_p": body.get("top_p", 1.0),
        "reasoning_effort": body.get("reasoning_effort"),
        "response_format": body.get("response_format", "auto"),
    }


def thread_payload(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id("thread"), "object": "thread", "created_at": now(),
            "metadata": body.get("metadata") or {}, "tool_resources": body.get("tool_resources") or {}}


def text_part(value: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": annotations or []}}


def _content(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [text_part(content)]
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append(text_part(part.get("text", "")))
        else:
            parts.append(part)  # image_file / image_url parts are kept as sent
    return parts


def message_payload(thread_id: str, body: dict[str, Any], *, run_id: str | None = None,
                    assistant_id: str | None = None, status: str = "completed") -> dict[str, Any]:
    created = now()
    return {
        "id": new_id("message"), "object": "thread.message", "created_at": created,
        "assistant_id": assistant_id, "thread_id": thread_id, "run_id": run_id,
        "status": status, "incomplete_details": None,
        "completed_at": created if status == "completed" else None, "incomplete_at": None,
        "role": body.get("role", "user"), "content": _content(body.get("content", [])),
        "attachments": body.get("attachments") or [], "metadata": body.get("metadata") or {},
    }


def run_payload(thread_id: str, assistant: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    created = now()
    instructions = body.get("instructions")
    if instructions is None:
        instructions = assistant.get("instructions") or ""
    if body.get("additional_instructions"):
        instructions = f"{instructions}\n\n{body['additional_instructions']}".strip()
    tools = body.get("tools")
    return {
        "id": new_id("run"), "object": "thread.run", "created_at": created,
        "assistant_id": assistant["id"], "thread_id": thread_id, "status": "queued",
        "started_at": None, "expires_at": created + RUN_EXPIRY_SECONDS, "cancelled_at": None,
        "failed_at": None, "completed_at": None, "required_action": None, "last_error": None,
        "model": body.get("model") or assistant["model"], "instructions": instructions,
        "tools": tools if tools is not None else assistant.get("tools") or [],
        "tool_resources": assistant.get("tool_resources") or {},
        "metadata": body.get("metadata") or {},
        "temperature": body.get("temperature", assistant.get("temperature", 1.0)),
        "top_p": body.get("top_p", assistant.get("top_p", 1.0)),
        "reasoning_effort": body.get("reasoning_effort", assistant.get("reasoning_effort")),
        "max_completion_tokens": body.get("max_completion_tokens"),
        "max_prompt_tokens": body.get("max_prompt_tokens"),
        "truncation_strategy": body.get("truncation_strategy") or {"type": "auto", "last_messages": None},
        "incomplete_details": None, "usage": None,
        "response_format": body.get("response_format", assistant.get("response_format", "auto")),
        "tool_choice": body.get("tool_choice", "auto"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
    }


def step_payload(run: dict[str, Any], step_type: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("step"), "object": "thread.run.step", "created_at": now(),
        "run_id": run["id"], "assistant_id": run["assistant_id"], "thread_id": run["thread_id"],
        "type": step_type, "status": "in_progress", "cancelled_at": None, "completed_at": None,
        "expires_at": run["expires_at"], "expired_at": None, "failed_at": None, "last_error": None, "step_details": details,
        "usage": None, "metadata": {},
    }
