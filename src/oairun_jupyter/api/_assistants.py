"""Assistants: create, list, retrieve, modify, delete."""

from __future__ import annotations

from typing import Any

from ..protocol import REASONING_EFFORTS, check_choice, check_dict, check_metadata, check_number, list_params, object_id
from ..tools import tool_definitions
from ..transport import get_client
from ._declarations import assistant_grant, declaring
from ._request import Endpoint, compact, send, send_list

__all__ = ["oai_create_assistant", "oai_list_assistants", "oai_retrieve_assistant",
           "oai_modify_assistant", "oai_delete_assistant"]


def _path(assistant_id) -> str:
    return f"/assistants/{object_id(assistant_id, 'assistant_id', 'assistant')}"


def _text(value: Any, name: str) -> Any:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _assistant_body(model, name, description, instructions, tools, tool_resources, metadata,
                    temperature, top_p, response_format, reasoning_effort) -> dict[str, Any]:
    if response_format is not None and response_format != "auto":
        response_format = check_dict(response_format, "response_format",
                                     "'auto' or a dict such as {'type': 'json_object'}")
    return compact(
        model=_text(model, "model"), name=_text(name, "name"),
        description=_text(description, "description"), instructions=_text(instructions, "instructions"),
        tools=tool_definitions(tools),
        tool_resources=check_dict(tool_resources, "tool_resources", "a dict of tool resources"),
        metadata=check_metadata(metadata),
        temperature=check_number(temperature, "temperature", 0, 2),
        top_p=check_number(top_p, "top_p", 0, 1), response_format=response_format,
        reasoning_effort=check_choice(reasoning_effort, "reasoning_effort", REASONING_EFFORTS))


def oai_create_assistant(model, name=None, description=None, instructions=None, tools=None,
                         tool_resources=None, metadata=None, temperature=None, top_p=None,
                         response_format=None, reasoning_effort=None, classify_response=True,
                         async_=False, client=None):
    """Create an assistant on a model."""
    if not isinstance(model, str) or not model:
        raise ValueError(f"model must be a model name such as 'gpt-4o', got {model!r:.60}")
    body = _assistant_body(model, name, description, instructions, tools, tool_resources, metadata,
                           temperature, top_p, response_format, reasoning_effort)
    client = client or get_client()
    return declaring(send(Endpoint("POST", "/assistants", {}, body), classify_response=classify_response,
                          client=client, async_=async_), client, assistant_grant(body.get("tools")))


def oai_list_assistants(limit=None, order=None, after=None, before=None, classify_response=True,
                        async_=False, client=None):
    """List assistants. A `limit` above 100 follows the pages until it is reached."""
    return send_list(Endpoint("GET", "/assistants", list_params(limit, order, after, before)), limit,
                     classify_response=classify_response, client=client, async_=async_)


def oai_retrieve_assistant(assistant_id, classify_response=True, async_=False, client=None):
    """Retrieve an assistant."""
    return send(Endpoint("GET", _path(assistant_id)), classify_response=classify_response, client=client,
                async_=async_)


def oai_modify_assistant(assistant_id, model=None, name=None, description=None, instructions=None,
                         tools=None, tool_resources=None, metadata=None, temperature=None,
                         top_p=None, response_format=None, reasoning_effort=None,
                         classify_response=True, async_=False, client=None):
    """Change an assistant; fields left out keep their value."""
    body = _assistant_body(model, name, description, instructions, tools, tool_resources, metadata,
                           temperature, top_p, response_format, reasoning_effort)
    client = client or get_client()
    grant = assistant_grant(body["tools"]) if "tools" in body else None  # tools left out keep their grant
    return declaring(send(Endpoint("POST", _path(assistant_id), {}, body), classify_response=classify_response,
                          client=client, async_=async_), client, grant)


def oai_delete_assistant(assistant_id, classify_response=True, async_=False, client=None):
    """Delete an assistant; returns the service's deletion status (a dict)."""
    return send(Endpoint("DELETE", _path(assistant_id)), classify_response=classify_response, client=client,
                async_=async_)
