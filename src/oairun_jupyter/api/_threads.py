"""Threads: create, retrieve, modify, delete (what `Run.thread()` and the magics need)."""

from __future__ import annotations

from ..protocol import check_dict, check_metadata, messages_list, object_id
from ._request import Endpoint, compact, send

__all__ = ["oai_create_thread", "oai_retrieve_thread", "oai_modify_thread", "oai_delete_thread"]


def _path(thread_id) -> str:
    return f"/threads/{object_id(thread_id, 'thread_id', 'thread')}"


def oai_create_thread(messages=None, tool_resources=None, metadata=None, classify_response=True,
                      async_=False, client=None):
    """Create a thread, optionally with first messages (dicts, or strings for user messages)."""
    body = compact(messages=messages_list(messages, "messages"),
                   tool_resources=check_dict(tool_resources, "tool_resources", "a dict of tool resources"),
                   metadata=check_metadata(metadata))
    return send(Endpoint("POST", "/threads", {}, body), classify_response=classify_response, client=client,
                async_=async_)


def oai_retrieve_thread(thread_id, classify_response=True, async_=False, client=None):
    """Retrieve a thread."""
    return send(Endpoint("GET", _path(thread_id)), classify_response=classify_response, client=client, async_=async_)


def oai_modify_thread(thread_id, tool_resources=None, metadata=None, classify_response=True,
                      async_=False, client=None):
    """Modify a thread's tool resources or metadata."""
    body = compact(tool_resources=check_dict(tool_resources, "tool_resources", "a dict of tool resources"),
                   metadata=check_metadata(metadata))
    return send(Endpoint("POST", _path(thread_id), {}, body), classify_response=classify_response, client=client,
                async_=async_)


def oai_delete_thread(thread_id, classify_response=True, async_=False, client=None):
    """Delete a thread; returns the service's deletion status (a dict)."""
    return send(Endpoint("DELETE", _path(thread_id)), classify_response=classify_response, client=client,
                async_=async_)
