"""How a run is waited for: the options every waiting method takes, and where tools are found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..tools import namespace_of

__all__ = ["WaitOptions", "namespace_for"]


@dataclass(frozen=True)
class WaitOptions:
    """How to wait: total timeout (None: forever), what a failing tool does, per-tool timeout."""

    timeout: float | None = 300.0
    on_tool_error: str = "submit"
    tool_timeout: float = 60.0
    confirm: bool = False  # each call waits for approval in the widget (async waits only)

    @classmethod
    def make(cls, timeout: float | None = 300.0, on_tool_error: str = "submit",
             tool_timeout: float = 60.0, confirm: bool = False) -> "WaitOptions":
        """Checked options; a bad value is a ValueError naming it."""
        if on_tool_error not in ("submit", "raise"):
            raise ValueError(f"on_tool_error must be 'submit' (the model sees the error) or 'raise', "
                             f"got {on_tool_error!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a number of seconds above 0 or None, got {timeout!r}")
        if tool_timeout <= 0:
            raise ValueError(f"tool_timeout must be a number of seconds above 0, got {tool_timeout!r}")
        return cls(timeout, on_tool_error, tool_timeout, confirm)


def namespace_for(env: Any) -> Mapping[str, Any]:
    """The tool namespace for a public Run method called with `env` (None: that method's caller)."""
    return namespace_of(env, depth=2)
