"""Which callables of a namespace may serve as tools: functions the user defined, never what
Python or IPython put in every namespace.

A name the model asks for is looked up in the user's namespace, and every IPython namespace
holds `open`, `exit`, `quit`, `get_ipython` and `display`, besides the builtins. A server that
declares a tool named `open` (a squatted port, a hijacked or compromised provider) must not get
`open(path, "w")` run in the kernel. So a tool is a `tool()` object, or a plain Python function
(or a method of one) defined outside Python's, IPython's and Jupyter's own modules.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._schema import FunctionTool

__all__ = ["user_defined_reason"]

_FOREIGN_MODULES = ("builtins", "IPython", "ipykernel", "jupyter_client", "jupyter_core", "ipywidgets",
                    "traitlets", "oairun_jupyter", "_io", "io", "os", "sys", "subprocess", "shutil")


def _module_root(fn: Any) -> str:
    return (getattr(fn, "__module__", None) or "").split(".", 1)[0]


def user_defined_reason(target: Any) -> str | None:
    """None when `target` may run as a tool; else why not, for the call's error output."""
    if isinstance(target, FunctionTool):  # a tool() object: made a tool on purpose
        return None
    function = target.__func__ if inspect.ismethod(target) else target
    if not inspect.isfunction(function):
        kind = "class" if inspect.isclass(target) else "built-in" if inspect.isbuiltin(target) else type(target).__name__
        return f"is a {kind}, not a function you defined"
    if _module_root(function) in _FOREIGN_MODULES:
        return f"is {_module_root(function)}'s {getattr(function, '__qualname__', '?')}, not a function you defined"
    return None
