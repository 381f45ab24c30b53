"""`IdentityTable`: values kept beside objects, keyed by the object's identity, not its equality.

A layer keeps its own state about objects of another layer here instead of on them (anywidget's
side table pattern). An entry holds its key weakly and goes when the key object is collected;
objects that compare by value (API objects do) still get one entry each.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

__all__ = ["IdentityTable"]


class IdentityTable:
    """A mapping from live objects (by identity, held weakly) to values."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        """The value kept for `key`, or `default`."""
        entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0]() is key else default

    def set(self, key: Any, value: Any) -> None:
        """Keep `value` for `key` until `key` is collected."""
        ident = id(key)
        entries = self._entries

        def forget(ref: weakref.ref) -> None:
            if entries.get(ident, (None,))[0] is ref:  # not an entry made since for a new object
                entries.pop(ident, None)
        with self._lock:
            entries[ident] = (weakref.ref(key, forget), value)
