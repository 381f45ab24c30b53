"""`RunWidget`: the anywidget that shows a run live (its frontend is js/, bundled into static/)."""

from __future__ import annotations

import pathlib

import anywidget
import traitlets

__all__ = ["RunWidget"]

_STATIC = pathlib.Path(__file__).parent.parent / "static"  # the bundle built from js/


class RunWidget(anywidget.AnyWidget):
    """A run's header, transcript, steps and tool calls.

    The traits hold the authoritative state (and are what a saved notebook keeps); streamed text
    arrives as appended pieces in custom messages between two trait writes.
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    header = traitlets.Dict().tag(sync=True)
    messages = traitlets.List().tag(sync=True)
    steps = traitlets.List().tag(sync=True)
    records = traitlets.Dict().tag(sync=True)
    confirm = traitlets.Dict().tag(sync=True)
    # how the Stop button reaches the run: {"driving": "blocking" | "background" | None,
    # "kernel_id": this kernel's id, for an interrupt while a blocking cell holds the kernel}
    control = traitlets.Dict().tag(sync=True)

    def _repr_mimebundle_(self, **kwargs: object) -> dict | tuple | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict) and "text/plain" in data:
            # not the traits' repr (the whole conversation) where the widget cannot show: the
            # run's transcript is the output beside this one
            data["text/plain"] = ""
        return bundle
