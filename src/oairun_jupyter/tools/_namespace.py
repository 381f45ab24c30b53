"""Where a run's tool functions are looked up: the caller's namespace, as R's `parent.frame()`.

`namespace_of(env)` accepts None (the frame that called the public method: its locals over its
globals, which in a notebook cell is the user namespace), a mapping, a module, or a list of
functions / `tool()` objects. Builtins are never part of it: `eval` is only found if defined.
"""

from __future__ import annotations

import inspect
import types
from collections import ChainMap
from typing import Any, Mapping

__all__ = ["namespace_of", "caller_namespace", "ListedFunctions"]


class ListedFunctions(dict):
    """The namespace made from an `env=` list: the caller named these functions, so they are also
    the run's tools (as `tools=` would make them)."""


def caller_namespace(depth: int = 1) -> Mapping[str, Any]:
    """The namespace of the frame `depth` levels above the caller of this function."""
    frame = inspect.currentframe()
    try:
        for _ in range(depth + 1):
            frame = frame.f_back if frame is not None else None
        if frame is None:
            return {}
        # a snapshot of the locals (taken now: R's lazy default looked too late) over the live globals
        return ChainMap(dict(frame.f_locals), frame.f_globals)
    finally:
        del frame


def namespace_of(env: Any, depth: int = 1) -> Mapping[str, Any]:
    """The mapping tool names are looked up in; `depth` locates the caller when `env` is None."""
    if env is None:
        return caller_namespace(depth + 1)
    if isinstance(env, Mapping):
        return env
    if isinstance(env, types.ModuleType):
        return vars(env)
    if isinstance(env, (list, tuple)):
        names = ListedFunctions()
        for item in env:
            name = getattr(item, "name", None) or getattr(item, "__name__", None)
            if not callable(item) or not name:
                raise ValueError(f"env lists must hold functions or tool() objects, got {item!r:.60}")
            names[name] = item
        return names
    raise ValueError("env must be None (the caller's namespace), a dict, a module or a list of "
                     f"functions, got {type(env).__name__}")
