"""A run's events: numbered, sent at once to the streams open in this process, and logged.

Every event of a run gets the run's next sequence number (the SSE `id`). It goes to this
process's subscribers at once and to the run's event log in the store: deltas in batches (within
`DELTA_FLUSH_SECONDS`), other events when the event loop's current step ends, and an event that
ends a segment at once, before the run's new status is stored. From the
log a dropped stream resumes (`Last-Event-ID`) and a stream served by one server process follows
a run executed by another. A segment (what one streaming request gets) ends at
`thread.run.requires_action` or at the run's terminal event.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator, Callable

from ..protocol import TERMINAL_STATUSES
from .stores import Store

__all__ = ["RunEvents", "sse", "DONE", "ends_segment"]

log = logging.getLogger("oairun_jupyter.server")

DONE = b"event: done\ndata: [DONE]\n\n"
DELTA_FLUSH_SECONDS = 0.05
_SEGMENT_ENDS = TERMINAL_STATUSES | {"requires_action"}  # of thread.run.*, never of a step or message
_END = (0, b"")  # marks the end of a segment in a subscriber queue
Queue = asyncio.Queue  # of (sequence number, SSE bytes)


def sse(event: str, data: Any) -> bytes:
    """An SSE frame with no id (not part of a run's log)."""
    return b"event: %s\ndata: %s\n\n" % (event.encode(),
                                          json.dumps(data, separators=(",", ":"), allow_nan=False).encode())


def _frame(seq: int, event: str, text: str) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (seq, event.encode(), text.encode())


def ends_segment(event: str) -> bool:
    """Whether a stream's segment ends with this event (the run waits for outputs, or it ended)."""
    return event.startswith("thread.run.") and event[len("thread.run."):] in _SEGMENT_ENDS


class RunEvents:
    """Numbering, fan-out and log of the events of the runs this process publishes."""

    def __init__(self, store: Store, poll_seconds: float = 0.1) -> None:
        self.store = store
        self.poll_seconds = poll_seconds  # how often a stream following another process reads the log
        self._subscribers: dict[str, list[Queue]] = {}
        self._seq: dict[str, int] = {}  # the last number given to each run's events in this segment
        self._pending: dict[str, list[tuple[int, str, str]]] = {}  # events not in the log yet
        self._flush_soon: asyncio.TimerHandle | None = None

    # --- publishing -----------------------------------------------------------------------

    def publish(self, run_id: str, event: str, data: Any) -> None:
        seq = self._seq.get(run_id)
        if seq is None:  # the first event here in this segment: the log says where the run is
            seq = self.store.last_event_seq(run_id)
        seq = self._seq[run_id] = seq + 1
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
        self._pending.setdefault(run_id, []).append((seq, event, text))
        queues = self._subscribers.get(run_id)
        if queues:
            chunk = _frame(seq, event, text)
            for queue in queues:
                queue.put_nowait((seq, chunk))
        if ends_segment(event):  # logged before the run is stored as settled (see `follow`)
            self.flush()
        elif self._flush_soon is None:  # the rest in batches: a delta soon, anything else at once after this step
            delay = DELTA_FLUSH_SECONDS if event.endswith(".delta") else 0
            self._flush_soon = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        """Write every pending event to the log."""
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        pending, self._pending = self._pending, {}
        for run_id, events in pending.items():
            try:
                self.store.append_events(run_id, events)
            except Exception:  # the log serves resuming and other processes: the run goes on without it
                log.exception("could not write %d event(s) of run %s to the log", len(events), run_id)

    def end_segment(self, run_id: str) -> None:
        """The run waits or ended: its streams end, and whoever continues it (this process or another,
        after a submit) numbers on from the log."""
        self.flush()
        self._seq.pop(run_id, None)
        for queue in self._subscribers.get(run_id, []):
            queue.put_nowait(_END)

    # --- reading --------------------------------------------------------------------------

    def subscribe(self, run_id: str) -> Queue:
        """A queue that receives the run's events from now on, until the segment ends."""
        queue: Queue = asyncio.Queue()
        self._subscribers.setdefault(run_id, []).append(queue)
        return queue

    def unsubscribe(self, run_id: str, queue: Queue) -> None:
        queues = self._subscribers.get(run_id, [])
        if queue in queues:
            queues.remove(queue)
        if not queues:
            self._subscribers.pop(run_id, None)

    async def stream(self, run_id: str, queue: Queue, after: int = 0) -> AsyncIterator[bytes]:
        """SSE bytes for the rest of the segment from `queue`, then `done`: what is already queued
        goes in one write; events numbered up to `after` (already sent) are skipped."""
        try:
            while True:
                item = await queue.get()
                batch = [item]
                while item is not _END and not queue.empty():
                    item = queue.get_nowait()
                    batch.append(item)
                ended = batch[-1] is _END
                chunks = [chunk for seq, chunk in batch if seq > after]
                if ended:
                    chunks.append(DONE)
                yield b"".join(chunks)
                if ended:
                    return
        finally:
            self.unsubscribe(run_id, queue)

    def logged_after(self, run_id: str, after: int) -> list[tuple[int, str, str]]:
        """The run's events numbered after `after`: those in the log, then those not written yet."""
        events = self.store.events_after(run_id, after)
        events += [event for event in self._pending.get(run_id, []) if event[0] > after]
        return events

    def segment_start(self, run_id: str) -> int:
        """Where a stream joining without a last event id starts: after the last answered
        `requires_action` (the current segment; the whole log when there is none)."""
        events = self.logged_after(run_id, 0)
        last = events[-1][0] if events else 0
        waits = [seq for seq, event, _ in events if event == "thread.run.requires_action" and seq < last]
        return waits[-1] if waits else 0

    async def follow(self, run_id: str, after: int | None, is_local: Callable[[], bool],
                     stored_run: Callable[[], dict[str, Any] | None]) -> AsyncIterator[bytes]:
        """The run's events after number `after` (None: its current segment) to the end of that
        segment, wherever the run is worked on: from the log, then through this process's queue
        (`is_local()`) or by reading the log as another process writes it."""
        last = self.segment_start(run_id) if after is None else after
        queue = self.subscribe(run_id)  # before reading the log: nothing falls between the two
        try:
            while True:
                # the run's state before the log: a server logs a run's event before it stores the
                # run, so a run seen settled here has its last event in the log read next
                run = stored_run()
                batch, ended = [], False
                for seq, event, text in self.logged_after(run_id, last):
                    batch.append(_frame(seq, event, text))
                    last = seq
                    if ends_segment(event):
                        ended = True
                        break
                if not batch and (run is None or run["status"] in TERMINAL_STATUSES
                                  or run["status"] == "requires_action"):
                    if run is not None and last == 0:  # a run older than the log: its stored state
                        batch.append(sse(f"thread.run.{run['status']}", run))
                    ended = True
                if ended:
                    yield b"".join(batch) + DONE
                    return
                if batch:
                    yield b"".join(batch)
                if is_local():  # worked on here: the rest comes through the queue
                    async for chunk in self.stream(run_id, queue, after=last):
                        yield chunk
                    return
                try:  # worked on by another process: its events reach the log in batches
                    await asyncio.wait_for(queue.get(), self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            self.unsubscribe(run_id, queue)
