"""Routes for assistants, threads and messages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..protocol import (
    REASONING_EFFORTS,
    check_choice,
    check_metadata,
    check_number,
)
from ._body import checked, read_body
from ._errors import invalid, not_found
from ._limits import ASSISTANT_LIMITS, THREAD_LIMITS
from ._pagination import page, page_params
from ._payloads import assistant_payload, message_payload, thread_payload
from ._shapes import check_attachments, check_content_parts, check_response_format, check_tool_resources, check_tools
from ._users import OWNED_KINDS, request_user

__all__ = ["object_routes", "load", "message_rows", "thread_rows"]

_ASSISTANT_FIELDS = {"model", "name", "description", "instructions", "tools", "tool_resources",
                     "metadata", "temperature", "top_p", "response_format", "reasoning_effort"}


def load(request: Request, kind: str, object_id: str, label: str | None = None) -> dict[str, Any]:
    """The stored object or a 404 worded like the service's (also when it is another user's)."""
    found = request.app.state.store.get(kind, object_id, user=request_user(request) if kind in OWNED_KINDS else None)
    if found is None:
        raise not_found(label or kind, object_id)
    return found


def _check_assistant(body: dict[str, Any]) -> dict[str, Any]:
    for name in ("model", "name", "description", "instructions"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise invalid(f"Invalid type for '{name}': expected a string.", name)
    check_tools(body.get("tools"))
    check_tool_resources(body.get("tool_resources"))
    check_response_format(body.get("response_format"))
    checked(check_metadata, body.get("metadata"))
    checked(check_number, body.get("temperature"), "temperature", 0, 2)
    checked(check_number, body.get("top_p"), "top_p", 0, 1)
    checked(check_choice, body.get("reasoning_effort"), "reasoning_effort", REASONING_EFFORTS)
    return body


def _listing(request: Request, items_of) -> JSONResponse:
    params = page_params(request.query_params)
    return JSONResponse(page(items_of(params["order"]), params["limit"], params["after"], params["before"]))


def _delete(request: Request, kind: str) -> JSONResponse:
    """Delete a top-level object (and what lies under it) named by the path's `{kind}_id`."""
    object_id = request.path_params[f"{kind}_id"]
    if not request.app.state.store.delete(kind, object_id, user=request_user(request)):
        raise not_found(kind, object_id)
    return JSONResponse({"id": object_id, "object": f"{kind}.deleted", "deleted": True})


# --- assistants ---------------------------------------------------------------------------

async def create_assistant(request: Request) -> JSONResponse:
    body = _check_assistant(await read_body(request, _ASSISTANT_FIELDS, ("model",), ASSISTANT_LIMITS))
    return JSONResponse(request.app.state.store.put("assistant", assistant_payload(body),
                                                    user=request_user(request) or ""))


async def list_assistants(request: Request) -> JSONResponse:
    return _listing(request, lambda order: request.app.state.store.children("assistant", None, order,
                                                                            user=request_user(request)))


async def retrieve_assistant(request: Request) -> JSONResponse:
    return JSONResponse(load(request, "assistant", request.path_params["assistant_id"]))


async def modify_assistant(request: Request) -> JSONResponse:
    assistant = load(request, "assistant", request.path_params["assistant_id"])
    body = _check_assistant(await read_body(request, _ASSISTANT_FIELDS, limits=ASSISTANT_LIMITS))
    assistant.update({k: v for k, v in body.items() if v is not None})
    return JSONResponse(request.app.state.store.put("assistant", assistant))


async def delete_assistant(request: Request) -> JSONResponse:
    return _delete(request, "assistant")


# --- threads ------------------------------------------------------------------------------

Rows = list[tuple[str, dict[str, Any], str]]  # (kind, payload, parent) for Store.put_many


def message_rows(thread_id: str, messages: Any, param: str) -> Rows:
    """A thread's first (or a run's additional) messages, every one checked, none stored yet: a
    request refused for its last message leaves nothing of the others behind."""
    if messages is None:
        return []
    if not isinstance(messages, list):  # the client's plain-string convenience is the client's, not the wire's
        raise invalid(f"Invalid type for '{param}': expected an array of messages such as "
                      '{"role": "user", "content": "..."}.', param)
    rows = []
    for position, message in enumerate(messages):
        where = f"{param}[{position}]"
        if not isinstance(message, dict):
            raise invalid(f"Invalid type for '{where}': expected a message object such as "
                          '{"role": "user", "content": "..."}.', where)
        unknown = set(message) - {"role", "content", "attachments", "metadata"}
        if unknown:
            raise invalid(f"Unrecognized request argument supplied: {where}.{sorted(unknown)[0]}", where)
        for required in ("role", "content"):
            if message.get(required) is None:
                raise invalid(f"Missing required parameter: '{where}.{required}'.", f"{where}.{required}")
        checked(check_choice, message["role"], f"{where}.role", ("user", "assistant"))
        _check_content(message.get("content"), f"{where}.content")
        check_attachments(message.get("attachments"), f"{where}.attachments")
        checked(check_metadata, message.get("metadata"), f"{where}.metadata")
        rows.append(("message", message_payload(thread_id, message), thread_id))
    return rows


MAX_MESSAGE_CHARACTERS = 256_000  # the real service's limit on a message's text


def _check_content(content: Any, param: str) -> None:
    characters = check_content_parts(content, param)
    if characters > MAX_MESSAGE_CHARACTERS:
        raise invalid(f"Invalid '{param}': a message's text may have at most {MAX_MESSAGE_CHARACTERS:,} "
                      f"characters, this one has {characters:,}.", param, code="string_above_max_length")


def thread_rows(body: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any], Rows]:
    """A thread (and its first messages) from a createThread-shaped body, checked, not stored."""
    checked(check_metadata, body.get("metadata"), f"{prefix}metadata")
    check_tool_resources(body.get("tool_resources"), f"{prefix}tool_resources")
    thread = thread_payload(body)
    return thread, [("thread", thread, None), *message_rows(thread["id"], body.get("messages"), f"{prefix}messages")]


async def create_thread(request: Request) -> JSONResponse:
    body = await read_body(request, {"messages", "tool_resources", "metadata"}, limits=THREAD_LIMITS)
    thread, rows = thread_rows(body)
    request.app.state.store.put_many(rows, user=request_user(request) or "")
    return JSONResponse(thread)


async def retrieve_thread(request: Request) -> JSONResponse:
    return JSONResponse(load(request, "thread", request.path_params["thread_id"]))


async def modify_thread(request: Request) -> JSONResponse:
    thread = load(request, "thread", request.path_params["thread_id"])
    body = await read_body(request, {"tool_resources", "metadata"}, limits=THREAD_LIMITS)
    checked(check_metadata, body.get("metadata"))
    check_tool_resources(body.get("tool_resources"))
    thread.update({k: v for k, v in body.items() if v is not None})
    return JSONResponse(request.app.state.store.put("thread", thread))


async def delete_thread(request: Request) -> JSONResponse:
    thread = load(request, "thread", request.path_params["thread_id"])
    request.app.state.engine.delete_thread(thread["id"])
    return _delete(request, "thread")


# --- messages -----------------------------------------------------------------------------

async def create_message(request: Request) -> JSONResponse:
    thread = load(request, "thread", request.path_params["thread_id"])
    body = await read_body(request, {"role", "content", "attachments", "metadata"}, ("role", "content"))
    if request.app.state.engine.active_run(thread["id"]) is not None:
        raise invalid(f"Can't add messages to {thread['id']} while a run is active.")
    checked(check_choice, body["role"], "role", ("user", "assistant"))
    _check_content(body["content"], "content")
    check_attachments(body.get("attachments"), "attachments")
    checked(check_metadata, body.get("metadata"))
    message = message_payload(thread["id"], body)
    return JSONResponse(request.app.state.store.put("message", message, thread["id"]))


async def list_messages(request: Request) -> JSONResponse:
    thread = load(request, "thread", request.path_params["thread_id"])
    run_id = request.query_params.get("run_id")

    def items(order: str) -> list[dict[str, Any]]:
        messages = request.app.state.store.children("message", thread["id"], order)
        return [m for m in messages if run_id is None or m["run_id"] == run_id]
    return _listing(request, items)


def _message(request: Request) -> dict[str, Any]:
    thread = load(request, "thread", request.path_params["thread_id"])
    message = load(request, "message", request.path_params["message_id"])
    if message["thread_id"] != thread["id"]:
        raise not_found("message", message["id"])
    return message


async def retrieve_message(request: Request) -> JSONResponse:
    return JSONResponse(_message(request))


async def modify_message(request: Request) -> JSONResponse:
    message = _message(request)
    body = await read_body(request, {"metadata"})
    if body.get("metadata") is not None:  # replaced whole, as on every modify route: {} clears it
        message["metadata"] = checked(check_metadata, body["metadata"])
    return JSONResponse(request.app.state.store.put("message", message, message["thread_id"]))


async def delete_message(request: Request) -> JSONResponse:
    message = _message(request)
    request.app.state.store.delete("message", message["id"])
    return JSONResponse({"id": message["id"], "object": "thread.message.deleted", "deleted": True})


object_routes = [
    Route("/v1/assistants", create_assistant, methods=["POST"]),
    Route("/v1/assistants", list_assistants, methods=["GET"]),
    Route("/v1/assistants/{assistant_id}", retrieve_assistant, methods=["GET"]),
    Route("/v1/assistants/{assistant_id}", modify_assistant, methods=["POST"]),
    Route("/v1/assistants/{assistant_id}", delete_assistant, methods=["DELETE"]),
    Route("/v1/threads", create_thread, methods=["POST"]),
    Route("/v1/threads/{thread_id}", retrieve_thread, methods=["GET"]),
    Route("/v1/threads/{thread_id}", modify_thread, methods=["POST"]),
    Route("/v1/threads/{thread_id}", delete_thread, methods=["DELETE"]),
    Route("/v1/threads/{thread_id}/messages", create_message, methods=["POST"]),
    Route("/v1/threads/{thread_id}/messages", list_messages, methods=["GET"]),
    Route("/v1/threads/{thread_id}/messages/{message_id}", retrieve_message, methods=["GET"]),
    Route("/v1/threads/{thread_id}/messages/{message_id}", modify_message, methods=["POST"]),
    Route("/v1/threads/{thread_id}/messages/{message_id}", delete_message, methods=["DELETE"]),
]
