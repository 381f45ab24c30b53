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
_READ_AT_ONCE = 5000  # events read from the log in one query
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

    def publish(self, run_id: str, event: str, data: Any, logged: bool = True) -> None:
        """Number the event, send it to this process's streams of the run and (when `logged`: not
        for a run whose thread was deleted) to its log."""
        seq = self._seq.get(run_id)
        if seq is None:  # the first event here in this segment: the log says where the run is
            seq = self.store.last_event_seq(run_id)
        seq = self._seq[run_id] = seq + 1
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
        if logged:
            self._pending.setdefault(run_id, []).append((seq, event, text))
        queues = self._subscribers.get(run_id)
        if queues:
            chunk = _frame(seq, event, text)
            for queue in queues:
                queue.put_nowait((seq, chunk))
        if ends_segment(event):  # in the log as soon as the run is stored as settled (see `follow`)
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

    def discard(self, run_id: str) -> None:
        """Forget the run's events not logged yet (its thread was deleted)."""
        self._pending.pop(run_id, None)
        self._seq.pop(run_id, None)

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

    def logged_after(self, run_id: str, after: int) -> tuple[list[tuple[int, str, str]], bool]:
        """The run's events numbered after `after` (those in the log, then those not written yet),
        and whether that is all of them (a long log is read in parts)."""
        events = self.store.events_after(run_id, after, _READ_AT_ONCE)
        if len(events) == _READ_AT_ONCE:
            return events, False
        last = events[-1][0] if events else after
        return events + [event for event in self._pending.get(run_id, []) if event[0] > last], True

    def segment_start(self, run_id: str) -> int:
        """Where a stream joining without a last event id starts: after the last answered
        `requires_action` (the current segment; the whole log when there is none)."""
        pending = self._pending.get(run_id, [])
        last = max(self.store.last_event_seq(run_id), pending[-1][0] if pending else 0)
        waits = self.store.event_seqs(run_id, "thread.run.requires_action")
        waits += [seq for seq, event, _ in pending if event == "thread.run.requires_action"]
        answered = [seq for seq in waits if seq < last]
        return max(answered) if answered else 0

    async def follow(self, run_id: str, after: int | None, is_local: Callable[[], bool],
                     stored_run: Callable[[], dict[str, Any] | None]) -> AsyncIterator[bytes]:
        """The run's events after number `after` (None: its current segment) to the end of that
        segment, wherever the run is worked on: from the log, then through this process's queue
        (`is_local()`) or by reading the log as another process writes it."""
        last = self.segment_start(run_id) if after is None else after
        queue = self.subscribe(run_id)  # before reading the log: nothing falls between the two
        settled_seen = False
        try:
            while True:
                run = stored_run()
                events, complete = self.logged_after(run_id, last)
                batch, ended = [], False
                for seq, event, text in events:
                    batch.append(_frame(seq, event, text))
                    last = seq
                    if ends_segment(event):
                        ended = True
                        break
                settled = run is None or run["status"] in TERMINAL_STATUSES or run["status"] == "requires_action"
                if not batch and settled:
                    # a server stores a run, then logs its event: a run seen settled twice with
                    # nothing new logged in between has no event coming (a run older than the log)
                    if settled_seen or run is None:
                        if run is not None and last == 0:  # its stored state closes the segment
                            batch.append(sse(f"thread.run.{run['status']}", run))
                        ended = True
                    settled_seen = True
                if ended:
                    yield b"".join(batch) + DONE
                    return
                if batch:
                    yield b"".join(batch)
                if not complete:  # more in the log than one read gives: read on
                    continue
                if is_local() and not settled:  # worked on here: the rest comes through the queue
                    async for chunk in self.stream(run_id, queue, after=last):
                        yield chunk
                    return
                try:  # worked on by another process: its events reach the log in batches
                    await asyncio.wait_for(queue.get(), self.poll_seconds)
                except asyncio.TimeoutError:
                    pass
        finally:
            self.unsubscribe(run_id, queue)
