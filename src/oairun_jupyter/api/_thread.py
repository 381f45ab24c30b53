"""`Thread`: a conversation thread that leads on to its messages and runs.

It sends through the client it came with, so `configure()` never moves a thread at hand.
"""

from __future__ import annotations

from typing import Any

from ..protocol import APIObject, register_object_type
from ._messages import oai_create_message, oai_list_messages
from ._runs import oai_create_run
from ._threads import oai_delete_thread, oai_retrieve_thread

__all__ = ["Thread"]


@register_object_type
class Thread(APIObject):
    """A conversation thread: `list_messages()`, `create_message(...)`, `create_run(...)`."""

    OBJECT = "thread"
    FIELDS = ("id", "object", "created_at", "metadata", "tool_resources")

    def list_messages(self, **kwargs: Any) -> Any:
        """The thread's messages; keyword arguments go to `oai_list_messages`."""
        return oai_list_messages(self.id, client=self._client, **kwargs)

    def create_message(self, content: Any, **kwargs: Any) -> Any:
        """Add a message (a user message unless `role=` says otherwise)."""
        return oai_create_message(self.id, content, client=self._client, **kwargs)

    def create_run(self, assistant_id: Any, **kwargs: Any) -> Any:
        """Start a run of `assistant_id` on this thread (a RunStream with `stream=True`)."""
        return oai_create_run(self.id, assistant_id, client=self._client, **kwargs)

    def retrieve(self) -> "Thread":
        """Refresh from the server."""
        self._set_payload(oai_retrieve_thread(self.id, classify_response=False, client=self._client))
        return self

    def delete(self) -> Any:
        """Delete the thread on the server."""
        return oai_delete_thread(self.id, client=self._client)
