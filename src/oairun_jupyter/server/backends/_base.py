"""The one small interface between the run engine and a model backend.

A backend gets a `TurnContext` (the run, the thread's messages, the tool outputs submitted so
far) and yields `TurnEvent`s: text deltas, function tool-call deltas, built-in (hosted) tool
calls, items to carry to the next turn, usage, and one `Finish`. The engine turns them into run
steps, messages and events.

A hosted call ends the message in progress: the text after it is a new message, as the service's
runs did (message, tool step, message). Annotation offsets count from the start of that message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Protocol, Union

__all__ = ["TurnContext", "TextDelta", "ToolCallDelta", "CodeInterpreterCall", "FileSearchCall",
           "HostedCallDelta", "HostedCallDone", "Carried", "Usage", "Finish", "TurnEvent", "Backend",
           "BackendError", "count_tokens"]


@dataclass
class TurnContext:
    """What a backend sees of a run when it is asked for the next turn."""

    run: dict[str, Any]
    messages: list[dict[str, Any]]  # the thread's messages, oldest first
    tool_rounds: list[list[dict[str, Any]]] = field(default_factory=list)
    # each round: [{"id", "upstream_id", "step_id", "name", "arguments", "output"}] in call order
    carried: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what a backend asked to be given back (`Carried`: {"items", "before", "model"}), by the id of
    # the message or the function call it preceded
    tool_resources: dict[str, Any] = field(default_factory=dict)
    run_sequence: list[tuple[str, str]] = field(default_factory=list)
    # the run's steps in order: ("message", message id) or ("tool_calls", step id)
    # the assistant's and the thread's, joined: {"code_interpreter": {"file_ids"}, "file_search": {"vector_store_ids"}}

    @property
    def function_tools(self) -> dict[str, dict[str, Any]]:
        """The run's declared function tools by name."""
        return {tool["function"]["name"]: tool["function"] for tool in self.run.get("tools") or []
                if tool.get("type") == "function"}


@dataclass
class TextDelta:
    """A piece of the assistant's message; `annotations` as the protocol's delta annotations."""

    text: str
    annotations: list[dict[str, Any]] | None = None


@dataclass
class ToolCallDelta:
    """A piece of a function call: the first piece of an index carries its id and name."""

    index: int
    arguments: str = ""
    id: str | None = None
    name: str | None = None


@dataclass
class CodeInterpreterCall:
    """A finished code_interpreter call: its input and its logs."""

    input: str
    logs: str


@dataclass
class FileSearchCall:
    """A finished file_search call and its results."""

    results: list[dict[str, Any]]


@dataclass
class HostedCallDelta:
    """A piece of a built-in call the upstream runs itself: `type` is code_interpreter (`text` a
    piece of its code), file_search, web_search or reasoning (`text` a piece of its summary).
    The pieces and the end of one call share its `key` (the upstream's item id)."""

    key: str
    type: str
    text: str = ""


@dataclass
class HostedCallDone:
    """The end of a built-in call: `details` as the run step lists it under the call's type
    (for code_interpreter: {"input", "outputs"}), `status` "completed" or "failed"."""

    key: str
    type: str
    details: dict[str, Any]
    status: str = "completed"


@dataclass
class Carried:
    """Upstream items the backend wants back in the next turns' history (a reasoning model's
    encrypted reasoning), kept under the message or function call that follows them;
    `before` is the upstream's id of the item they preceded. Before a built-in call they are
    dropped: that call is not sent back either."""

    items: list[dict[str, Any]]
    before: str | None = None


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Finish:
    """The end of a turn: "stop" (message done), "tool_calls" (outputs needed), "length" (cut by
    the token budget), "content_filter" (stopped by the upstream's filter)."""

    reason: str


TurnEvent = Union[TextDelta, ToolCallDelta, CodeInterpreterCall, FileSearchCall, HostedCallDelta, HostedCallDone,
                  Carried, Usage, Finish]


class BackendError(Exception):
    """The backend failed; the run fails with `last_error` = {code, message}."""

    def __init__(self, message: str, code: str = "server_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Backend(Protocol):
    """Anything that can produce a turn of a run."""

    name: str

    def turn(self, context: TurnContext) -> AsyncIterator[TurnEvent]:
        """The events of the next turn of `context.run`."""
        ...


def count_tokens(text: str) -> int:
    """An estimate of a text's tokens (about four characters each), for usage and limits."""
    return math.ceil(len(text) / 4) if text else 0
