"""The one small interface between the run engine and a model backend.

A backend gets a `TurnContext` (the run, the thread's messages, the tool outputs submitted so
far) and yields `TurnEvent`s: text deltas, function tool-call deltas, finished built-in tool
steps, usage, and one `Finish`. The engine turns them into run steps, messages and events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Protocol, Union

__all__ = ["TurnContext", "TextDelta", "ToolCallDelta", "CodeInterpreterCall", "FileSearchCall",
           "Usage", "Finish", "TurnEvent", "Backend", "BackendError", "count_tokens"]


@dataclass
class TurnContext:
    """What a backend sees of a run when it is asked for the next turn."""

    run: dict[str, Any]
    messages: list[dict[str, Any]]  # the thread's messages, oldest first
    tool_rounds: list[list[dict[str, Any]]] = field(default_factory=list)
    # each round: [{"id", "name", "arguments", "output"}] in call order

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
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Finish:
    """The end of a turn: "stop" (message done), "tool_calls" (outputs needed), "length" (cut)."""

    reason: str


TurnEvent = Union[TextDelta, ToolCallDelta, CodeInterpreterCall, FileSearchCall, Usage, Finish]


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
