"""`RunWidget`: the anywidget that shows a run live (its frontend is js/, bundled into static/)."""

from __future__ import annotations

import pathlib
import threading
import uuid

import anywidget
import traitlets

__all__ = ["RunWidget", "RunViewModule", "shared_module"]

_STATIC = pathlib.Path(__file__).parent.parent / "static"  # the bundle built from js/


class RunViewModule(anywidget.AnyWidget):
    """The widget's code, once per kernel: a model never shown whose module registers the run view
    for the page when its model is made (in a live kernel, or from a saved notebook's widget
    state). Each RunWidget carries only a small loader, so the code is sent and saved once."""

    _esm = _STATIC / "widget.js"


_module: RunViewModule | None = None
_module_lock = threading.Lock()


def shared_module() -> RunViewModule:
    """The kernel's RunViewModule, made on first use and kept (its model must outlive every run's)."""
    global _module
    with _module_lock:
        if _module is None or _module.comm is None:  # closed (Widget.close_all) or never made
            _module = RunViewModule()
        return _module


class RunWidget(anywidget.AnyWidget):
    """A run's header, transcript, steps and tool calls.

    The traits hold the authoritative state (and are what a saved notebook keeps); streamed text
    arrives as appended pieces in custom messages between two trait writes. Its code is the
    kernel's RunViewModule's (made first, so its model reaches the page first).
    """

    _esm = _STATIC / "loader.js"
    _css = _STATIC / "widget.css"

    header = traitlets.Dict().tag(sync=True)
    messages = traitlets.List().tag(sync=True)
    steps = traitlets.List().tag(sync=True)
    records = traitlets.Dict().tag(sync=True)
    confirm = traitlets.Dict().tag(sync=True)
    # the page keeps the widget's streamed text under this id from the moment its model is made,
    # for every view to read (js/pieces.js): anywidget gives each view a model object of its own
    stream_id = traitlets.Unicode().tag(sync=True)

    def __init__(self, **kwargs: object) -> None:
        shared_module()
        kwargs.setdefault("stream_id", uuid.uuid4().hex)
        super().__init__(**kwargs)
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
