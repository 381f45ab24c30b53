"""Typed views of API payloads, chosen by each payload's `object` field.

An object keeps the payload it was built from, unchanged: `to_dict()` gives it back exactly.
Fields read as attributes; `*_at` fields read as timezone-aware datetimes. Fields the class
does not list (added to the protocol later) still read as attributes.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, ClassVar, Iterator

__all__ = ["APIObject", "Assistant", "Thread", "Message", "RunStep", "ListObject",
           "OBJECT_TYPES", "classify", "register_object_type", "text_of_message"]


class APIObject:
    """Base of the typed objects: a payload plus attribute access to its fields."""

    OBJECT: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "object", "created_at")
    _payload: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]):
        """Wrap a payload without any request."""
        self = cls.__new__(cls)
        self._set_payload(payload)
        return self

    def _set_payload(self, payload: dict[str, Any]) -> None:
        object.__setattr__(self, "_payload", payload)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            payload = object.__getattribute__(self, "_payload")
        except AttributeError:
            raise AttributeError(name) from None
        if name in payload:
            value = payload[name]
            if name.endswith("_at") and isinstance(value, (int, float)):
                return _dt.datetime.fromtimestamp(value, tz=_dt.timezone.utc)
            return value
        if name in type(self).FIELDS:
            return None
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.FIELDS) | set(self._payload))

    def to_dict(self) -> dict[str, Any]:
        """The payload exactly as the server sent it."""
        return self._payload

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable: refreshed objects change

    def _repr_details(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        parts = [type(self).__name__, str(self._payload.get("id", "?"))]
        parts += self._repr_details()
        return "<" + " ".join(parts) + ">"


class Assistant(APIObject):
    """An assistant: model, instructions and tools."""

    OBJECT = "assistant"
    FIELDS = ("id", "object", "created_at", "name", "description", "model", "instructions",
              "tools", "tool_resources", "metadata", "temperature", "top_p", "response_format",
              "reasoning_effort")

    def _repr_details(self) -> list[str]:
        return [f"name={self._payload.get('name')!r}", f"model={self._payload.get('model')!r}"]


class Thread(APIObject):
    """A conversation thread: `list_messages()`, `create_message(...)`, `create_run(...)`."""

    OBJECT = "thread"
    FIELDS = ("id", "object", "created_at", "metadata", "tool_resources")

    def list_messages(self, **kwargs: Any) -> Any:
        """The thread's messages; keyword arguments go to `oai_list_messages`."""
        from ._api_messages import oai_list_messages
        return oai_list_messages(self.id, **kwargs)

    def create_message(self, content: Any, **kwargs: Any) -> Any:
        """Add a message (a user message unless `role=` says otherwise)."""
        from ._api_messages import oai_create_message
        return oai_create_message(self.id, content, **kwargs)

    def create_run(self, assistant_id: Any, **kwargs: Any) -> Any:
        """Start a run of `assistant_id` on this thread (a RunStream with `stream=True`)."""
        from ._api_runs import oai_create_run
        return oai_create_run(self.id, assistant_id, **kwargs)

    def retrieve(self) -> "Thread":
        """Refresh from the server."""
        from ._api_threads import oai_retrieve_thread
        self._set_payload(oai_retrieve_thread(self.id, classify_response=False))
        return self

    def delete(self) -> Any:
        """Delete the thread on the server."""
        from ._api_threads import oai_delete_thread
        return oai_delete_thread(self.id)


def text_of_message(payload: dict[str, Any]) -> str:
    """The concatenated text parts of a message payload."""
    parts = payload.get("content") or []
    return "".join(part.get("text", {}).get("value", "") for part in parts
                   if isinstance(part, dict) and part.get("type") == "text")


class Message(APIObject):
    """A message of a thread; `text` joins its text parts."""

    OBJECT = "thread.message"
    FIELDS = ("id", "object", "created_at", "thread_id", "status", "incomplete_details",
              "completed_at", "incomplete_at", "role", "content", "assistant_id", "run_id",
              "attachments", "metadata")

    @property
    def text(self) -> str:
        """All text parts of the message, joined."""
        return text_of_message(self._payload)

    def _repr_details(self) -> list[str]:
        text = self.text
        short = text if len(text) <= 40 else text[:37] + "..."
        return [f"role={self._payload.get('role')!r}", repr(short)]


class RunStep(APIObject):
    """One step of a run: a message creation or a set of tool calls."""

    OBJECT = "thread.run.step"
    FIELDS = ("id", "object", "created_at", "run_id", "assistant_id", "thread_id", "type",
              "status", "step_details", "last_error", "expired_at", "cancelled_at", "failed_at",
              "completed_at", "metadata", "usage")

    def _repr_details(self) -> list[str]:
        return [f"type={self._payload.get('type')!r}", f"status={self._payload.get('status')!r}"]


class ListObject(APIObject):
    """A page (or several pages joined) of a list: iterable, with `first_id`, `last_id`, `has_more`."""

    OBJECT = "list"
    FIELDS = ("object", "data", "first_id", "last_id", "has_more")
    data: list[Any]

    def _set_payload(self, payload: dict[str, Any]) -> None:
        super()._set_payload(payload)
        object.__setattr__(self, "data", [classify(item) for item in payload.get("data") or []])

    def __iter__(self) -> Iterator[Any]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Any:
        return self.data[index]

    def __repr__(self) -> str:
        kinds = sorted({type(item).__name__ for item in self.data})
        return (f"<ListObject {len(self.data)} x {'/'.join(kinds) or 'nothing'}"
                f" has_more={self._payload.get('has_more')}>")


OBJECT_TYPES: dict[str, type[APIObject]] = {
    cls.OBJECT: cls for cls in (Assistant, Thread, Message, RunStep, ListObject)}


def register_object_type(cls: type[APIObject]) -> type[APIObject]:
    """Make `classify` build `cls` for payloads whose `object` is `cls.OBJECT` (used by Run)."""
    OBJECT_TYPES[cls.OBJECT] = cls
    return cls


def classify(payload: Any) -> Any:
    """The typed object for a payload, or the payload itself when its kind has no class."""
    if isinstance(payload, dict):
        cls = OBJECT_TYPES.get(payload.get("object"))  # type: ignore[arg-type]
        if cls is not None:
            return cls.from_payload(payload)
    return payload
