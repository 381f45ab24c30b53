"""Running notebooks in a real kernel (nbclient) and reading what they left behind."""

from __future__ import annotations

from typing import Any

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


def widget_states(notebook: nbformat.NotebookNode, model_name: str = "AnyModel") -> list[dict[str, Any]]:
    """The saved state of every widget model of a kind (anywidget's models are AnyModel)."""
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return [model["state"] for model in state.get("state", {}).values()
            if model.get("model_name") == model_name]


def outputs_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
