"""How a Run shows itself: a live RunWidget in Jupyter, static HTML and text elsewhere.

Displaying an active Run in a notebook (the last expression of a cell, or `display(run)`)
shows its widget and, if nothing else drives the run in that cell, drives it once the cell's
code has run: the stream is read (or the run waited on) with tool calls answered from the
notebook's namespace, while the cell still runs, so `print` from a tool lands in that cell and
the kernel's stop button cancels the run.
"""

from __future__ import annotations

import sys
from typing import Any

from ._exceptions import APIError, RunError
from ._transcript import transcript_html, transcript_text

__all__ = ["run_mimebundle", "widget_for"]


def _kernel_shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def _backend_name(base_url: str) -> str:
    from ._request import Endpoint, fetch
    try:
        info = fetch(Endpoint("GET", "/oairun/info")).payload
        return f"local {info.get('backend')}"
    except (APIError, AttributeError):
        return base_url.split("//", 1)[-1].split("/", 1)[0]


def widget_for(run: Any, namespace: Any = None) -> Any:
    """The RunWidget showing `run` (made once, then shared by every display of the run)."""
    bridge = run.__dict__.get("_bridge")
    if bridge is None:
        from ._bridge import RunWidgetBridge
        from ._client import get_client
        bridge = RunWidgetBridge(run, namespace=namespace, backend=_backend_name(get_client().config.base_url))
        object.__setattr__(run, "_bridge", bridge)
    return bridge.widget


def _drive_after_cell(shell: Any, run: Any) -> None:
    if run.__dict__.get("_drive_scheduled"):
        return
    object.__setattr__(run, "_drive_scheduled", True)

    def drive(*_: Any) -> None:
        shell.events.unregister("post_run_cell", drive)
        if run.is_terminal or getattr(run, "_reader", "unread") is None:
            return
        try:
            run.wait(env=shell.user_ns)
        except KeyboardInterrupt:
            print(f"run {run.id} was cancelled (interrupted)", file=sys.stderr)
        except RunError as error:
            print(str(error), file=sys.stderr)
        finally:
            run._bridge.flush()

    shell.events.register("post_run_cell", drive)


def run_mimebundle(run: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """The display data of a Run: the widget where a kernel can show it, always HTML and text."""
    bundle = {"text/plain": transcript_text(run), "text/html": transcript_html(run)}
    shell = _kernel_shell()
    if shell is None:
        return bundle
    widget = widget_for(run, shell.user_ns)
    view = widget._repr_mimebundle_(include=include, exclude=exclude) or {}
    if isinstance(view, tuple):  # (data, metadata)
        view = view[0]
    bundle.update({k: v for k, v in view.items() if k != "text/plain"})
    if not run.is_terminal:
        _drive_after_cell(shell, run)
    return bundle
