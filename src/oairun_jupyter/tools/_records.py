"""`ToolCallRecord`: what the model asked of one tool call, what ran, and what came of it.

The run keeps one per call (`run.tool_calls`); the debugger shows them and adds its re-runs.
"""

from __future__ import annotations

import copy
import datetime as dt
import traceback
from dataclasses import dataclass, field
from typing import Any

from .._text import valid_text
from ._output import tool_output_string

__all__ = ["ToolCallRecord", "now"]


def _message(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # an exception whose __str__ raises
        return f"<{type(error).__name__} whose message could not be read>"


def now() -> dt.datetime:
    """The current UTC time (when a call starts and ends)."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class ToolCallRecord:
    """One tool call: what the model asked, what ran, and what came of it.

    `status` is "ok", "error" (the function raised), "refused" (nothing ran: undeclared,
    missing, bad arguments), "timeout" or "running".
    """

    call_id: str
    name: str
    arguments: str
    parsed_arguments: dict[str, Any] | None = None
    function: str | None = None
    output: str | None = None
    error: str | None = None
    traceback: str | None = None
    exception: BaseException | None = field(default=None, repr=False)
    status: str = "running"
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    reruns: list[dict[str, Any]] = field(default_factory=list)  # the debugger's re-runs
    grant: Any = field(default=None, repr=False)  # the ToolGrant that let this call run (None: refused)

    @property
    def allowed_by(self) -> str | None:
        """The rule that let this call run (None: its tool was not declared or not found)."""
        return self.grant.rule if self.grant is not None else None

    @property
    def duration(self) -> float | None:
        """Seconds the function ran (None if it never ran)."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def __copy__(self) -> "ToolCallRecord":
        twin = type(self).__new__(type(self))
        twin.__dict__.update(vars(self))
        return twin

    def __deepcopy__(self, memo: dict) -> "ToolCallRecord":
        # the exception is shared, not copied: many cannot be rebuilt from their args (an
        # __init__ with other parameters); the grant is immutable
        twin = type(self).__new__(type(self))
        memo[id(self)] = twin
        for name, value in vars(self).items():
            setattr(twin, name, value if name in ("exception", "grant") else copy.deepcopy(value, memo))
        return twin

    def __getstate__(self) -> dict[str, Any]:
        # a pickle keeps what the exception said (error, traceback), not the object: many cannot
        # be rebuilt when loaded, and the whole run's pickle would fail with it
        return {**vars(self), "exception": None}

    def refuse(self, reason: str) -> "ToolCallRecord":
        reason = valid_text(reason)
        self.status, self.output, self.error = "refused", f"Error: {reason}", reason
        return self

    def succeed(self, value: Any) -> None:
        self.ended_at = self.ended_at or now()  # set already when the call's thread saw it end
        self.status, self.output = "ok", tool_output_string(value)

    def fail(self, error: BaseException) -> None:
        self.ended_at = self.ended_at or now()
        self.exception = error
        self.error = valid_text(f"{type(error).__name__}: {_message(error)}")
        self.traceback = valid_text("".join(traceback.format_exception(type(error), error, error.__traceback__)))
        self.status, self.output = "error", f"Error: {self.error}"

    def time_out(self, seconds: float) -> None:
        self.ended_at = now()
        self.status = "timeout"
        self.error = f"{self.name} did not finish within {seconds:g} s"
        self.output = f"Error: {self.error}"
