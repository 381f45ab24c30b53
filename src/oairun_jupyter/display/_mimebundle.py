"""How a Run shows itself: a live RunWidget in Jupyter, static HTML and text elsewhere.

Displaying an active Run in a notebook (the last expression of a cell, or `display(run)`)
shows its widget and, if nothing else drives the run in that cell, drives it once the cell's
code has run: the stream is read (or the run waited on) with tool calls answered from the
notebook's namespace, while the cell still runs, so `print` from a tool lands in that cell and
the kernel's stop button cancels the run.
"""

from __future__ import annotations

import asyncio
import sys
import weakref
from typing import Any

from .._weak_table import IdentityTable
from ..api import Endpoint, fetch
from ..protocol import APIError
from ..runs._errors import RunError
from ._bridge import RunWidgetBridge, flush_throttled
from ._transcript import pending_html, run_state, transcript_html, transcript_text

__all__ = ["run_mimebundle", "show_run", "widget_for", "bridge_of", "drive_elsewhere", "driving", "flush",
           "runs_driven_on_loop"]

# This layer's state about runs, kept beside them: each run's bridge (held weakly: a bridge lives
# as long as its widget does), and the runs whose driving someone else took on.
_bridges = IdentityTable()
_driven = IdentityTable()
_tasks: dict[asyncio.Task, Any] = {}  # async runs being driven on the kernel's loop (it holds tasks weakly)


def _kernel_shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def _backend_name(client: Any) -> str:
    try:
        info = fetch(Endpoint("GET", "/oairun/info"), client).payload
        return f"local {info.get('backend')}"
    except (APIError, AttributeError):
        return client.config.shown_base_url.split("//", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]


def bridge_of(run: Any) -> RunWidgetBridge | None:
    """The bridge keeping `run`'s widget up to date, None when the run was never shown."""
    ref = _bridges.get(run)
    return ref() if ref is not None else None


def widget_for(run: Any, namespace: Any = None) -> Any:
    """The RunWidget showing `run` (made once, then shared by every display of the run)."""
    bridge = bridge_of(run)
    if bridge is None:
        bridge = RunWidgetBridge(run, namespace=namespace, backend=_backend_name(run.client))
        _bridges.set(run, weakref.ref(bridge))
    return bridge.widget


def drive_elsewhere(run: Any) -> None:
    """Tell the display hook that the caller drives `run` (the magics do): showing it only shows it."""
    _driven.set(run, True)


def driving(run: Any, how: str | None) -> None:
    """Tell the run's widget (if it has one) how its Stop button reaches the run: "blocking" (a
    cell waits on it), "background", or None once nothing drives it."""
    bridge = bridge_of(run)
    if bridge is not None:
        bridge.set_driving(how)


def flush(run: Any) -> None:
    """Write the run's last changes to its widget now, if it has one."""
    bridge = bridge_of(run)
    if bridge is not None:
        bridge.flush()


async def _drive_async(run: Any, namespace: Any) -> None:
    problem = None
    driving(run, "background")
    try:
        await run.wait(env=namespace)  # an async Run's wait is awaitable
    except RunError as error:  # the run ended badly: its widget shows how
        problem = str(error)
    except Exception as error:  # it could not be driven: the widget says why (its cell has ended)
        problem = str(error) if isinstance(error, APIError) else f"{type(error).__name__}: {error}"
        bridge = bridge_of(run)
        if bridge is not None:
            bridge.note_drive_error(f"this kernel could not drive the run: {problem}")
    finally:
        driving(run, None)
        flush(run)
    if problem:
        print(f"oairun: {problem}", file=sys.stderr)  # where the kernel's output still goes


def _drive_on_kernel_loop(run: Any, namespace: Any) -> None:
    """An async run shown in a cell is driven by a task on the kernel's event loop (where its
    transport lives), from the end of the cell on: the kernel stays free meanwhile."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        print("this async run is not driven: no event loop runs in this kernel; `await run` in a cell "
              "drives it", file=sys.stderr)
        return
    task = loop.create_task(_drive_async(run, namespace))
    _tasks[task] = run
    task.add_done_callback(lambda done: _tasks.pop(done, None))


def runs_driven_on_loop() -> list[Any]:
    """The async runs shown in a cell that a task on the kernel's loop still drives."""
    return list(_tasks.values())


def _flush_at_cell_ends(shell: Any) -> None:
    """Each cell's last widget changes go out before the cell ends (see flush_throttled); once per shell."""
    if flush_throttled not in shell.events.callbacks["post_execute"]:
        shell.events.register("post_execute", flush_throttled)


def _drive_after_cell(shell: Any, run: Any) -> None:
    if _driven.get(run):
        return
    drive_elsewhere(run)

    def drive(*_: Any) -> None:
        shell.events.unregister("post_run_cell", drive)
        if run.is_terminal or getattr(run, "_reader", "unread") is None:
            return
        if run._async:
            _drive_on_kernel_loop(run, shell.user_ns)
            return
        driving(run, "blocking")
        try:
            run.wait(env=shell.user_ns)
        except KeyboardInterrupt:
            print(f"run {run.id} was cancelled (interrupted)", file=sys.stderr)
        except RunError as error:
            print(str(error), file=sys.stderr)
        finally:
            driving(run, None)
            flush(run)

    shell.events.register("post_run_cell", drive)


def run_mimebundle(run: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """A run's static display data: its transcript as HTML and text (the widget is shown by
    `show_run`, which IPython calls instead wherever it displays a run)."""
    state = run_state(run)
    return {"text/plain": transcript_text(state),
            "text/html": transcript_html(state) if run.is_terminal else pending_html(state["header"])}


def show_run(run: Any) -> None:
    """Display a run (`display(run)`, a cell's last expression, the magics): in a kernel, two
    outputs: its live widget, and its transcript, written again when the run ends, which is
    what a notebook saved without widget state, nbconvert and plain viewers show. Elsewhere the
    transcript alone. A run nothing else drives is driven once the cell's code has run."""
    from IPython.display import display

    shell = _kernel_shell()
    if shell is None:
        display(run_mimebundle(run), raw=True)
        return
    widget = widget_for(run, shell.user_ns)
    _flush_at_cell_ends(shell)
    bridge = bridge_of(run)
    display(widget)
    display(bridge.transcript_bundle(), raw=True, display_id=bridge.transcript_id)
    if not run.is_terminal:
        _drive_after_cell(shell, run)
