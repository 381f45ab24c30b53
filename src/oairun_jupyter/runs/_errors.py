"""The errors of driving a run, on top of the API's error tree (`protocol/_errors.py`)."""

from __future__ import annotations

from typing import Any, Mapping

from ..protocol import APIError, APIStreamError

__all__ = ["RunError", "RunTimeoutError", "ToolCallError", "RunStreamError", "RunProtocolError"]


class RunError(APIError):
    """A run did not end well: `status` is failed, cancelled or expired; `last_error` says why.

    `run` is the Run in its final state.
    """

    def __init__(self, message: str, *, status: str | None = None, last_error: Any = None,
                 run: Any = None, **fields: Any) -> None:
        if isinstance(last_error, Mapping):
            fields.setdefault("code", last_error.get("code"))
        super().__init__(message, **fields)
        self.status = status
        self.last_error = last_error
        self.run = run


class RunTimeoutError(RunError):
    """Waiting for the run took longer than its timeout; the run was cancelled on the server."""


class ToolCallError(RunError):
    """A tool raised while `on_tool_error="raise"`; the run was cancelled. `record` is the call."""

    def __init__(self, message: str, *, record: Any = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.record = record


class RunProtocolError(RunError):
    """The server asked for what the protocol does not allow, such as a tool call this client
    already answered (a misbehaving or hostile server would otherwise keep the tool running in a
    loop); the run was cancelled."""


class RunStreamError(RunError, APIStreamError):
    """The stream broke (an `error` event or a dropped connection); `run` holds the retrieved state
    and `__cause__` the error that broke it."""
