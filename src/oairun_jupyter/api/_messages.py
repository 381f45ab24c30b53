"""Messages of a thread: create, list, retrieve, modify, delete."""

from __future__ import annotations

from ..protocol import check_choice, check_list_of_dicts, check_metadata, list_params, object_id
from ._request import Endpoint, compact, send, send_list

__all__ = ["oai_create_message", "oai_list_messages", "oai_retrieve_message",
           "oai_modify_message", "oai_delete_message"]


def _thread_path(thread_id) -> str:
    return f"/threads/{object_id(thread_id, 'thread_id', 'thread')}/messages"


def _message_path(thread_id, message_id) -> str:
    return f"{_thread_path(thread_id)}/{object_id(message_id, 'message_id', 'thread.message')}"


def oai_create_message(thread_id, content, role="user", attachments=None, metadata=None,
                       classify_response=True, async_=False, client=None):
    """Add a message to a thread. `content` is a string or a list of content parts."""
    if not isinstance(content, (str, list)) or not content:
        raise ValueError("content must be a non-empty string or a list of content parts such as "
                         f"{{'type': 'text', 'text': '...'}}, got {content!r:.60}")
    body = compact(role=check_choice(role, "role", ("user", "assistant")), content=content,
                   attachments=check_list_of_dicts(attachments, "attachments",
                                                   "dicts like {'file_id': ..., 'tools': [...]}"),
                   metadata=check_metadata(metadata))
    return send(Endpoint("POST", _thread_path(thread_id), {}, body),
                classify_response=classify_response, client=client, async_=async_)


def oai_list_messages(thread_id, limit=None, order=None, after=None, before=None, run_id=None,
                      classify_response=True, async_=False, client=None):
    """List a thread's messages (newest first unless `order='asc'`); `run_id` keeps one run's."""
    params = list_params(limit, order, after, before)
    if run_id is not None:
        params["run_id"] = object_id(run_id, "run_id", "thread.run")
    return send_list(Endpoint("GET", _thread_path(thread_id), params), limit,
                     classify_response=classify_response, client=client, async_=async_)


def oai_retrieve_message(thread_id, message_id, classify_response=True, async_=False, client=None):
    """Retrieve one message."""
    return send(Endpoint("GET", _message_path(thread_id, message_id)),
                classify_response=classify_response, client=client, async_=async_)


def oai_modify_message(thread_id, message_id, metadata=None, classify_response=True, async_=False, client=None):
    """Modify a message's metadata."""
    return send(Endpoint("POST", _message_path(thread_id, message_id), {},
                         compact(metadata=check_metadata(metadata))),
                classify_response=classify_response, client=client, async_=async_)


def oai_delete_message(thread_id, message_id, classify_response=True, async_=False, client=None):
    """Delete a message; returns the service's deletion status (a dict)."""
    return send(Endpoint("DELETE", _message_path(thread_id, message_id)),
                classify_response=classify_response, client=client, async_=async_)
