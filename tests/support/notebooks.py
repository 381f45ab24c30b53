"""Running notebooks in a real kernel (nbclient) and reading what they left behind."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable

import nbformat
from nbclient import NotebookClient


def make_notebook(*cells: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def execute(notebook: nbformat.NotebookNode, timeout: int = 120, **options: Any) -> nbformat.NotebookNode:
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", **options).execute()
    return notebook


class _InterruptingClient(NotebookClient):
    """Sends the kernel an interrupt (the stop button) once a cell has shown the state it waits for."""

    def __init__(self, notebook: nbformat.NotebookNode, interrupts: dict[int, Callable[[dict], bool]],
                 **options: Any) -> None:
        super().__init__(notebook, **options)
        self.interrupts = dict(interrupts)
        self.interrupted: list[int] = []

    def process_message(self, msg: dict[str, Any], cell: nbformat.NotebookNode, cell_index: int):
        seen = self.interrupts.get(cell_index)
        if seen is not None and seen(msg):
            del self.interrupts[cell_index]
            self.interrupted.append(cell_index)
            sent = self.km.interrupt_kernel()  # a coroutine with nbclient's async manager
            if inspect.isawaitable(sent):
                asyncio.ensure_future(sent)  # we are on nbclient's running loop
        return super().process_message(msg, cell, cell_index)


def execute_interrupting(notebook: nbformat.NotebookNode, interrupts: dict[int, Callable[[dict], bool]],
                         timeout: int = 120) -> nbformat.NotebookNode:
    """Run the notebook; cell i is interrupted when `interrupts[i](message)` first holds for one of its
    kernel messages. AssertionError if a cell ended without showing what its interrupt waited for."""
    client = _InterruptingClient(notebook, interrupts, timeout=timeout, kernel_name="python3", allow_errors=True)
    client.execute()
    assert not client.interrupts, f"cells {sorted(client.interrupts)} ended before the state to interrupt"
    return notebook


def printed(text: str) -> Callable[[dict], bool]:
    """A message predicate: the cell printed `text` (on stdout or stderr)."""
    return lambda msg: msg["msg_type"] == "stream" and text in msg["content"].get("text", "")


def streaming_text(msg: dict) -> bool:
    """A message predicate: a run's widget received streamed message text."""
    data = msg["content"].get("data") or {}
    pieces = (data.get("content") or {}).get("pieces") if msg["msg_type"] == "comm_msg" else None
    return any(piece[0] == "m" for piece in pieces or ())


def widget_states(notebook: nbformat.NotebookNode, model_name: str = "AnyModel") -> list[dict[str, Any]]:
    """The saved state of every widget model of a kind (anywidget's models are AnyModel)."""
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return [model["state"] for model in state.get("state", {}).values()
            if model.get("model_name") == model_name]


def outputs_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
