"""Who hears of a run's changes, and who approves its tool calls: tables kept beside the runs.

The display layer subscribes here (its widget bridge observes a run and approves its calls); a
Run carries none of it, so copying a run copies no subscription. Both tables hold the run and
the subscriber weakly: a subscriber lives as long as its owner keeps it (a bridge, as long as
its widget), and entries go when the run does.
"""

from __future__ import annotations

import weakref
from typing import Any, Awaitable, Callable

from .._weak_table import IdentityTable

__all__ = ["observe", "notify", "set_approver", "approver_of", "Listener", "Approver"]

# listener(kind, data): kind is "run" (new fields), "event" (a stream event) or "tool" (a tool
# call started or ended, data is its ToolCallRecord)
Listener = Callable[[str, Any], None]
# approve(record) -> ("approve", edited arguments or None) | ("reject", None)
Approver = Callable[[Any], Awaitable[tuple]]

_listeners = IdentityTable()
_approvers = IdentityTable()


def _weak(fn: Callable[..., Any]) -> weakref.ref:
    return weakref.WeakMethod(fn) if hasattr(fn, "__self__") else weakref.ref(fn)


def observe(run: Any, listener: Listener) -> None:
    """Call `listener(kind, data)` on every change of `run` (see `Listener`) while it lives."""
    listeners = _listeners.get(run)
    if listeners is None:
        _listeners.set(run, [_weak(listener)])
    else:
        listeners.append(_weak(listener))


def notify(run: Any, kind: str, data: Any) -> None:
    """Tell the run's live listeners of a change."""
    for ref in _listeners.get(run, ()):
        listener = ref()
        if listener is not None:
            listener(kind, data)


def set_approver(run: Any, approve: Approver) -> None:
    """Who decides on the run's tool calls when it waits with `confirm=True`."""
    _approvers.set(run, _weak(approve))


def approver_of(run: Any) -> Approver | None:
    """The run's approver, None when nothing that can ask the user is attached."""
    ref = _approvers.get(run)
    return ref() if ref is not None else None
