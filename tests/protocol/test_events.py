"""The one place that names what an event is about, for every reader of events."""

from __future__ import annotations

import pytest

from oairun_jupyter.protocol import EventKind, event_kind


@pytest.mark.parametrize("name, kind", [
    ("thread.created", EventKind.THREAD),
    ("thread.run.created", EventKind.RUN), ("thread.run.requires_action", EventKind.RUN),
    ("thread.run.completed", EventKind.RUN), ("thread.run.cancelling", EventKind.RUN),
    ("thread.run.step.created", EventKind.STEP), ("thread.run.step.completed", EventKind.STEP),
    ("thread.run.step.delta", EventKind.STEP_DELTA),
    ("thread.message.created", EventKind.MESSAGE), ("thread.message.incomplete", EventKind.MESSAGE),
    ("thread.message.delta", EventKind.MESSAGE_DELTA),
    ("thread.run.some_future_status", EventKind.RUN),  # a new status still updates the run
    # not names of the protocol: nothing is kept from them
    ("thread.run.step", None), ("thread.message", None), ("thread.run", None), ("thread.run.", None),
    ("thread.run.step.", None), ("thread.run.step.delta.more", None), ("thread.message.delta.x", None),
    ("", None), ("error", None), ("done", None), ("x" * 10_000, None), ("thread.run.\ud800", EventKind.RUN),
])
def test_event_kinds(name, kind):
    assert event_kind(name) == kind
