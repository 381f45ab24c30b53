"""The display layer: the anywidget `RunWidget` (frontend in js/, bundled into static/), the
throttled bridge from a run's changes to its widget, the widget's state as plain data, the static
transcript for frontends without widgets, and a run's display data. Display state lives here, in
tables beside the runs, never on them.

Importing this package loads anywidget and ipywidgets; the rest of the package does so only when a
run is first displayed.
"""

from ._bridge import DEFAULT_RATE, RunWidgetBridge
from ._mimebundle import bridge_of, drive_elsewhere, driving, flush, run_mimebundle, runs_driven_on_loop, show_run, widget_for
from ._transcript import run_state, transcript_html, transcript_text
from ._widget import RunWidget
from ._widget_state import ended_at, header_state, message_state, record_state, step_state

__all__ = [
    "RunWidget", "RunWidgetBridge", "DEFAULT_RATE",
    "run_mimebundle", "show_run", "widget_for", "bridge_of", "drive_elsewhere", "driving", "flush",
    "runs_driven_on_loop",
    "transcript_html", "transcript_text", "run_state",
    "header_state", "message_state", "step_state", "record_state", "ended_at",
]
