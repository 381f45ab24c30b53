"""Typed views of API payloads, chosen by each payload's `object` field.

An object keeps the payload it was built from, unchanged: `to_dict()` gives it back exactly.
Fields read as attributes; `*_at` fields read as timezone-aware datetimes. Fields the class
does not list (added to the protocol later) still read as attributes.

An object also keeps the client it came from (opaque here): the objects that act (`Thread` in
`api/`, `Run` in `runs/`) send their requests through it, so `configure()` never redirects an
object already at hand. Those classes register themselves with `register_object_type`.
"""

from __future__ import annotations

import copy
import datetime as _dt
from typing import Any, ClassVar, Iterator

__all__ = ["APIObject", "Assistant", "Message", "RunStep", "ListObject",
           "OBJECT_TYPES", "classify", "register_object_type", "text_of_message"]


class APIObject:
    """Base of the typed objects: a payload plus attribute access to its fields."""

    OBJECT: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[str, ...]] = ("id", "object", "created_at")
    _payload: dict[str, Any]
    _client: Any = None  # the client the object came through (None: made from a payload at hand)

    @classmethod
    def from_payload(cls, payload: dict[str, Any], client: Any = None):
        """Wrap a payload without any request; `client` is where the object's own requests go."""
        self = cls.__new__(cls)
        if client is not None:
            object.__setattr__(self, "_client", client)
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

    def __copy__(self):
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    def __deepcopy__(self, memo: dict):
        client = self.__dict__.get("_client")
        if client is not None:
            memo[id(client)] = client  # a copy sends through the same client: it is not copied
        twin = type(self).__new__(type(self))
        memo[id(self)] = twin
        twin.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return twin

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_client", None)  # a pickle carries the payload, never a key or connections
        return state

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
        object.__setattr__(self, "data", [classify(item, self._client) for item in payload.get("data") or []])

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
    cls.OBJECT: cls for cls in (Assistant, Message, RunStep, ListObject)}


def register_object_type(cls: type[APIObject]) -> type[APIObject]:
    """Make `classify` build `cls` for payloads whose `object` is `cls.OBJECT` (Thread, Run)."""
    OBJECT_TYPES[cls.OBJECT] = cls
    return cls


def classify(payload: Any, client: Any = None) -> Any:
    """The typed object for a payload, or the payload itself when its kind has no class;
    `client` is the client it came through."""
    if isinstance(payload, dict):
        cls = OBJECT_TYPES.get(payload.get("object"))  # type: ignore[arg-type]
        if cls is not None:
            return cls.from_payload(payload, client)
    return payload
