"""How a run is waited for: the options every waiting method takes, and where tools are found."""

from __future__ import annotations

import decimal
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

from ..tools import names_of_tools, namespace_of

__all__ = ["WaitOptions", "namespace_for", "MAX_TOOL_TIMEOUT"]

MAX_TOOL_TIMEOUT = 365 * 24 * 3600.0


@dataclass(frozen=True)
class WaitOptions:
    """How to wait: total timeout (None: forever), what a failing tool does, per-tool timeout,
    approval, and the tools the caller names (`tools=`: exactly these may run)."""

    timeout: float | None = 300.0
    on_tool_error: str = "submit"
    tool_timeout: float = 60.0
    confirm: bool = False  # each call waits for approval in the widget (async waits only)
    tools: frozenset[str] | None = None

    @classmethod
    def make(cls, timeout: float | None = 300.0, on_tool_error: str = "submit",
             tool_timeout: float = 60.0, confirm: bool = False, tools: Any = None) -> "WaitOptions":
        """Checked options; a bad value is a ValueError naming it."""
        if on_tool_error not in ("submit", "raise"):
            raise ValueError(f"on_tool_error must be 'submit' (the model sees the error) or 'raise', "
                             f"got {on_tool_error!r}")
        seconds = None if timeout is None else _seconds(timeout)
        if timeout is not None and not (seconds is not None and seconds > 0):  # NaN too: it would wait forever
            raise ValueError(f"timeout must be a number of seconds above 0 or None, got {timeout!r}")
        tool_seconds = _seconds(tool_timeout)
        # NaN and infinity too: the clocks cannot wait that
        if not (tool_seconds is not None and 0 < tool_seconds <= MAX_TOOL_TIMEOUT):
            raise ValueError(f"tool_timeout must be a number of seconds above 0 and at most {MAX_TOOL_TIMEOUT:g} "
                             f"(a year), got {tool_timeout!r}")
        timeout, tool_timeout = seconds, tool_seconds
        if tools is not None and (isinstance(tools, (str, bytes)) or not hasattr(tools, "__iter__")):
            raise ValueError(f"tools= takes a list of functions, tool() objects or names (tools=[] for "
                             f"none), got {type(tools).__name__}")
        return cls(timeout, on_tool_error, tool_timeout, confirm,
                   None if tools is None else names_of_tools(tools))


def _seconds(value: Any) -> float | None:
    """A number of seconds as a float (numpy's numbers, Fraction and Decimal too), else None."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, decimal.Decimal)):
        return None
    return float(value)


def namespace_for(env: Any) -> Mapping[str, Any]:
    """The tool namespace for a public Run method called with `env` (None: that method's caller)."""
    return namespace_of(env, depth=2)
