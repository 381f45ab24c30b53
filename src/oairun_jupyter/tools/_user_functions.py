"""Which callables of a namespace may serve as tools: functions the user defined, never what
Python or IPython put in every namespace.

A name the model asks for is looked up in the user's namespace, and every IPython namespace
holds `open`, `exit`, `quit`, `get_ipython` and `display`, besides the builtins. A server that
declares a tool named `open` (a squatted port, a hijacked or compromised provider) must not get
`open(path, "w")` run in the kernel. So a tool is a `tool()` object, or a plain Python function
(or a method of one) defined outside Python's, IPython's and Jupyter's own modules.

When the names come from the server alone (a run this kernel did not create: see `_grants`),
`written_by_user_reason` also refuses functions of installed libraries and of the standard
library (`pandas.read_csv`, `shutil.rmtree`): only code the user wrote, in the notebook or in
their own modules, may run on the server's word.
"""

from __future__ import annotations

import functools
import inspect
import os
import site
import sysconfig
from typing import Any

from ._schema import FunctionTool

__all__ = ["user_defined_reason", "written_by_user_reason"]

_FOREIGN_MODULES = ("builtins", "IPython", "ipykernel", "jupyter_client", "jupyter_core", "ipywidgets",
                    "traitlets", "oairun_jupyter", "_io", "io", "os", "sys", "subprocess", "shutil")


def _module_root(fn: Any) -> str:
    return (getattr(fn, "__module__", None) or "").split(".", 1)[0]


def _function_of(target: Any) -> Any:
    return target.__func__ if inspect.ismethod(target) else target


def user_defined_reason(target: Any) -> str | None:
    """None when `target` may run as a tool; else why not, for the call's error output."""
    if isinstance(target, FunctionTool):  # a tool() object: made a tool on purpose
        return None
    function = _function_of(target)
    if not inspect.isfunction(function):
        kind = "class" if inspect.isclass(target) else "built-in" if inspect.isbuiltin(target) else type(target).__name__
        return f"is a {kind}, not a function you defined"
    if _module_root(function) in _FOREIGN_MODULES:
        return f"is {_module_root(function)}'s {getattr(function, '__qualname__', '?')}, not a function you defined"
    return None


@functools.lru_cache(maxsize=1)
def _library_folders() -> tuple[str, ...]:
    """Where the standard library and installed packages live (their code is not the user's),
    resolved, as a linked folder (/lib and /usr/lib on Debian) must not hide one."""
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if paths.get(key)}
    folders.update(getattr(site, "getsitepackages", lambda: [])())
    folders.add(site.getusersitepackages())
    return tuple(os.path.realpath(folder).rstrip("/") + "/" for folder in folders if folder)


def written_by_user_reason(target: Any) -> str | None:
    """`user_defined_reason`, and also not a function of an installed library or of the standard
    library: None when the user wrote it (or made it a tool() object); else why not."""
    reason = user_defined_reason(target)
    if reason is not None or isinstance(target, FunctionTool):
        return reason
    function = _function_of(target)
    filename = function.__code__.co_filename
    if filename.startswith("<frozen") or os.path.realpath(filename).startswith(_library_folders()):
        return (f"is {getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}, a "
                "library function; the server named it, and this kernel declared no tools for the run: "
                "pass tools=[...] to wait() or declare them when creating the run")
    return None
