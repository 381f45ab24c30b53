"""Who hears of a run's changes, and who approves its tool calls: tables kept beside the runs.

The display layer subscribes here (its widget bridge observes a run and approves its calls); a
Run carries none of it, so copying a run copies no subscription. The tables hold the run weakly
(entries go when the run does) and a bound method weakly too, so that a subscriber that refers
to the run (a bridge does) does not keep it alive: the method lives as long as its object is
kept elsewhere (a bridge, as long as its widget). Other callables are held as they are given.
"""

from __future__ import annotations

import threading
import types
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
_lock = threading.Lock()


def _held(fn: Callable[..., Any]) -> Callable[[], Any]:
    """A getter of `fn`: weak for a bound Python method, strong for anything else."""
    if isinstance(fn, types.MethodType):
        return weakref.WeakMethod(fn)
    return lambda: fn


def observe(run: Any, listener: Listener) -> None:
    """Call `listener(kind, data)` on every change of `run` (see `Listener`)."""
    with _lock:  # two threads observing one run at once must both be kept
        listeners = _listeners.get(run)
        if listeners is None:
            _listeners.set(run, [_held(listener)])
        else:
            listeners.append(_held(listener))


def notify(run: Any, kind: str, data: Any) -> None:
    """Tell the run's live listeners of a change."""
    for ref in _listeners.get(run, ()):
        listener = ref()
        if listener is not None:
            listener(kind, data)


def set_approver(run: Any, approve: Approver) -> None:
    """Who decides on the run's tool calls when it waits with `confirm=True`."""
    _approvers.set(run, _held(approve))


def approver_of(run: Any) -> Approver | None:
    """The run's approver, None when nothing that can ask the user is attached."""
    ref = _approvers.get(run)
    return ref() if ref is not None else None
