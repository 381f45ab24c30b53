"""The throttled bridge from a run's changes to its RunWidget.

The run tells the bridge of every change (new fields, stream events, tool calls). The bridge
gathers them and writes the widget at most `rate` times a second: the traits that changed, in
one update (`hold_sync`), and the text that streamed since the last write as appended pieces
in one custom message. So two widget messages per write, whatever the delta rate. Message
text goes into the traits when a message ends, and everything at the end of the run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
import uuid
import weakref
from typing import Any, Mapping

from ..api import oai_list_messages, oai_list_run_steps, oai_retrieve_assistant
from ..protocol import TERMINAL_STATUSES, APIError, EventKind, event_kind
from ..runs._cancel import cancel_quietly, cancel_quietly_async
from ..runs._observers import observe, set_approver
from ..tools import ToolCallRecord
from ._transcript import pending_html, transcript_html, transcript_text
from ._widget import RunWidget
from ._widget_state import header_state, message_state, record_state, step_state

__all__ = ["RunWidgetBridge", "DEFAULT_RATE", "flush_throttled"]

log = logging.getLogger("oairun_jupyter.display")

MAX_READ_RETRIES = 6  # a failed read is tried again this many times, after 0.5 s, 1 s, ... 16 s

DEFAULT_RATE = 10.0  # writes a second: 20 widget messages a second at most


# bridges holding changes back for their next write (the throttle's timer runs)
_throttled: "weakref.WeakSet[RunWidgetBridge]" = weakref.WeakSet()


def flush_throttled() -> None:
    """Write now what every bridge holds back. Called as a cell ends: nbclient (and so a notebook
    executed headless) keeps a widget message only while the cell that sent it runs, so a write
    the throttle would send after the cell was lost from the saved widget state."""
    for bridge in list(_throttled):
        try:
            bridge.flush()
        except Exception:  # a hook of every cell: one widget's failure must not print in each (the
            # kernel's loggers have no handler, so a warning would reach the cell's stderr); the
            # timer writes the widget again, and the run's end writes it whole
            log.info("the widget of run %s could not be written", bridge.run.to_dict().get("id"), exc_info=True)


def _prompt_of(run_id: str | None, newest_first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's prompt: the user's messages just before its own, oldest first. Messages of
    later turns (a run shown after the fact) come before the run's own in `newest_first`."""
    own = [i for i, m in enumerate(newest_first) if m.get("run_id") == run_id]
    prompt = []
    for message in newest_first[own[-1] + 1 if own else 0:]:
        if message.get("role") != "user":
            break
        prompt.append(message)
    return prompt[::-1]


def _kernel_id() -> str | None:
    """This kernel's id as its Jupyter server knows it (its connection file is kernel-<id>.json)."""
    try:
        from ipykernel.connect import get_connection_file
        name = os.path.basename(get_connection_file())
    except Exception:  # not in a kernel
        return None
    found = re.fullmatch(r"kernel-([0-9a-fA-F-]{8,64})\.json", name)
    return found.group(1) if found else None


class RunWidgetBridge:
    """Keeps one RunWidget up to date with one Run."""

    def __init__(self, run: Any, *, rate: float = DEFAULT_RATE, namespace: Mapping[str, Any] | None = None,
                 backend: str | None = None) -> None:
        self.run = run
        self.widget = RunWidget()
        self.interval = 1.0 / rate
        self.namespace = namespace if namespace is not None else {}
        self.backend = backend
        self.assistant_name: str | None = None
        self.history: list[dict[str, Any]] | None = None  # this run's prompt (the user's messages)
        self._assistant_asked = False
        self._lock = threading.RLock()
        self._pieces: dict[str, list[Any]] = {}  # key -> [kind, id, offset, [texts]] since the last write
        self._sent: dict[str, int] = {}
        self._dirty: set[str] = {"header", "messages", "steps", "records"}
        self._last_flush = 0.0
        self._polled_status: str | None = None
        self._timer: threading.Timer | None = None
        self._decisions: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._read_failures = 0  # polled reads that failed in a row (see _read_again_later)
        self.drive_error: str | None = None  # why this kernel could not drive the run (see note_drive_error)
        # the outputs showing the run's transcript (see show_run): written again when the run ends
        self.transcript_id = f"oairun-transcript-{uuid.uuid4().hex}"
        self._transcript_written: str | None = None
        self._stopping: set[asyncio.Task] = set()  # cancels of async runs under way (the loop holds tasks weakly)
        self._seen_ending: int | None = None
        self.messages_sent = 0
        observe(run, self._on_change)
        set_approver(run, self.approve)
        self.widget.on_msg(self._on_widget_message)
        self.flush()

    # --- changes from the run -------------------------------------------------------------

    def _on_change(self, kind: str, data: Any) -> None:
        with self._lock:
            self._read_failures = 0  # the run changed: reads get their retries afresh
            if kind == "event":
                self._on_event(data.event, data.data)
            elif kind == "tool":
                self._dirty.add("records")
            else:
                self._dirty.add("header")
                status = getattr(self.run, "status", None)
                # a polled run tells no events: its messages and steps are asked for at each new
                # status (a message written before the tool calls shows while they wait)
                if getattr(self.run, "event_data", None) is None and status != self._polled_status:
                    self._polled_status = status
                    self._dirty.update(("messages", "steps"))
        self._maybe_flush()

    def _on_event(self, name: str, data: Any) -> None:
        payload = data.to_dict() if hasattr(data, "to_dict") else data
        kind = event_kind(name)
        if kind == EventKind.MESSAGE_DELTA:
            for part in payload["delta"].get("content") or []:
                text = (part.get("text") or {}).get("value")
                if text:
                    self._piece("m", payload["id"], text)
        elif kind == EventKind.STEP_DELTA:
            calls = ((payload["delta"].get("step_details") or {}).get("tool_calls")) or []
            for call in calls:
                fragment = (call.get("function") or {}).get("arguments")
                if fragment:
                    self._piece("a", f"{payload['id']}:{call.get('index', 0)}", fragment)
        elif kind == EventKind.MESSAGE:
            self._dirty.add("messages")
        elif kind == EventKind.STEP:
            self._dirty.add("steps")
        elif kind == EventKind.RUN:
            self._dirty.update(("header", "steps") if name.endswith("requires_action") else ("header",))

    def _piece(self, kind: str, key: str, text: str) -> None:
        """Queue streamed text; pieces of one message between two writes travel as one."""
        sent_key = f"{kind}:{key}"
        offset = self._sent.get(sent_key, 0)
        pending = self._pieces.get(sent_key)
        if pending is None:
            self._pieces[sent_key] = [kind, key, offset, [text]]
        else:
            pending[3].append(text)
        self._sent[sent_key] = offset + len(text)

    # --- writing the widget ---------------------------------------------------------------

    def note_drive_error(self, message: str) -> None:
        """Show in the widget why the run could not be driven (a run driven after its cell ended
        has no cell to print in)."""
        with self._lock:
            self.drive_error = message
            self._dirty.add("header")
        self.flush()

    def _maybe_flush(self) -> None:
        with self._lock:  # a flush on another thread may cancel and clear the timer meanwhile
            wait = self._last_flush + self.interval - time.monotonic()
            if wait > 0:
                if self._timer is None:
                    timer = threading.Timer(wait, self._timed_flush)
                    timer.daemon = True
                    timer.start()
                    self._timer = timer
                    _throttled.add(self)
                return
        self.flush()

    def _timed_flush(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        except Exception:  # on the timer's own thread: nobody else would hear of it
            log.exception("the widget of run %s could not be written", self.run.to_dict().get("id"))

    def flush(self) -> None:
        """Write what changed now (also called at the end of a run)."""
        with self._lock:
            self._last_flush = time.monotonic()
            _throttled.discard(self)
            if self._timer is not None:  # this write covers what the timer was waiting to write
                self._timer.cancel()
                self._timer = None
            dirty, self._dirty = self._dirty, set()
            final = self.run.is_terminal
            if final:
                dirty.update(("header", "messages", "steps", "records"))
            changes = self._state(dirty, final)
            # text a message trait carries in full in this write need not travel as pieces too
            complete = {f"m:{m['id']}" for m in changes.get("messages", ()) if m["status"] != "in_progress"}
            pieces = [[kind, key, offset, "".join(texts)] for name, (kind, key, offset, texts)
                      in self._pieces.items() if name not in complete]
            self._pieces = {}
            if changes:
                with self.widget.hold_sync():
                    for name, value in changes.items():
                        setattr(self.widget, name, value)
                self.messages_sent += 1
            if pieces:
                self.widget.send({"type": "append", "pieces": pieces})
                self.messages_sent += 1
            if final:
                self._write_transcript()

    def transcript_bundle(self) -> dict[str, str]:
        """The run's transcript as display data: final once the run ended, a line before."""
        state = {name: getattr(self.widget, name) for name in ("header", "messages", "steps", "records")}
        return {"text/html": transcript_html(state) if self.run.is_terminal else pending_html(state["header"]),
                "text/plain": transcript_text(state)}

    def _write_transcript(self) -> None:
        """The ended run's transcript to every output showing it (called under the lock)."""
        bundle = self.transcript_bundle()
        if bundle["text/html"] == self._transcript_written:
            return
        self._transcript_written = bundle["text/html"]
        try:
            from IPython.display import update_display
            update_display(bundle, raw=True, display_id=self.transcript_id)
        except Exception as error:  # no kernel output any more (a closed channel): the widget has it all
            log.info("could not write run %s's transcript (%s)", self.run.to_dict().get("id"), error)

    def _look_up(self, payload: dict[str, Any]) -> None:
        """The assistant's name and the thread's earlier messages, asked once the ids are known."""
        client = self.run.client
        try:
            if payload.get("assistant_id") and not self._assistant_asked:
                self._assistant_asked = True
                self.assistant_name = oai_retrieve_assistant(payload["assistant_id"], client=client).name
            if payload.get("thread_id") and self.history is None:
                # newest first: a thread of any length has this run's prompt among its last messages
                listed = oai_list_messages(payload["thread_id"], order="desc", limit=100, classify_response=False,
                                           client=client)["data"]
                self.history = _prompt_of(payload.get("id"), listed)
        except APIError:
            self.history = self.history or []  # the header shows ids only

    def _state(self, dirty: set[str], final: bool) -> dict[str, Any]:
        run = self.run
        payload = run.to_dict()
        self._look_up(payload)
        changes: dict[str, Any] = {}
        if "header" in dirty:
            changes["header"] = header_state(payload, self.assistant_name, self.backend)
            if payload.get("status") in TERMINAL_STATUSES and changes["header"]["ended_at"] is None:
                # an incomplete or expired run carries no end time: when this kernel saw it end
                self._seen_ending = self._seen_ending or int(time.time())
                changes["header"]["ended_at"] = self._seen_ending
            if self.drive_error and not payload.get("last_error"):  # shown where the run's own error would be
                changes["header"]["last_error"] = {"code": "not_driven", "message": self.drive_error}
        own = self._listed("messages", dirty)
        if own is not None:
            history = [m for m in self.history or [] if m.get("run_id") != payload.get("id")]
            changes["messages"] = [message_state(m) for m in history] + [
                message_state(m, with_text=final or m.get("status") != "in_progress") for m in own]
        steps = self._listed("steps", dirty)
        if steps is not None:
            waiting = payload.get("status") == "requires_action"
            changes["steps"] = [step_state(s, waiting or final) for s in steps if "type" in s]
        if "records" in dirty:
            changes["records"] = record_state(run.tool_calls)
        return changes

    def _listed(self, what: str, dirty: set[str]) -> list[dict[str, Any]] | None:
        """The run's messages or steps when `what` changed (None: unchanged, or not readable now).

        A streamed run's come from its events; a polled run's are asked of the server, and a
        failed read is tried again at the next write: it never stops the run it shows."""
        run = self.run
        if what not in dirty:
            return None
        event_data = getattr(run, "event_data", None)
        if event_data is not None:
            seen = list((event_data.messages if what == "messages" else event_data.run_steps).values())
            # a stream read no further (stopped, interrupted) has not seen its run's last events:
            # once the run ended, what it left in progress is read from the server
            if not (run.is_terminal and any(item.get("status") == "in_progress" for item in seen)):
                return seen
        if not run.to_dict().get("id"):
            return []
        lister = oai_list_run_steps if what == "steps" else oai_list_messages
        options = {} if what == "steps" else {"run_id": run.id}
        try:
            listed = lister(*((run.thread_id, run.id) if what == "steps" else (run.thread_id,)), order="asc",
                            limit=1000, classify_response=False, client=run.client, **options)["data"]
            self._read_failures = 0
            return listed
        except APIError as error:
            log.info("could not read run %s's %s for its widget (%s); trying again", run.id, what, error)
            self._dirty.add(what)
            self._read_again_later()
            return None

    def _read_again_later(self) -> None:
        """A write whose read failed is made again on a timer, backing off: the run may have ended,
        and then no other write would come (called under the lock, within a flush)."""
        self._read_failures += 1
        if self._read_failures > MAX_READ_RETRIES or self._timer is not None:
            return
        timer = threading.Timer(min(0.5 * 2 ** (self._read_failures - 1), 30.0), self._timed_flush)
        timer.daemon = True
        timer.start()
        self._timer = timer

    # --- the debugger ---------------------------------------------------------------------

    def _on_widget_message(self, widget: Any, content: dict[str, Any], buffers: Any) -> None:
        if content.get("type") == "stop":
            self.stop()
        elif content.get("type") == "rerun":
            self.rerun(content.get("call_id", ""), content.get("arguments", ""))
        elif content.get("type") == "decide":
            waiting = self._decisions.get(content.get("call_id", ""))
            if waiting is not None:
                loop, future = waiting
                edited = content.get("arguments")
                answer = (content.get("decision"), edited if isinstance(edited, str) else None)
                # the run may wait on another thread's loop (a background run)
                loop.call_soon_threadsafe(lambda: future.done() or future.set_result(answer))

    # --- the Stop button ------------------------------------------------------------------

    def set_driving(self, how: str | None) -> None:
        """Tell the widget how the run is driven: "blocking" (a cell waits on it: the Stop button
        interrupts the kernel, whose interrupt cancels the run), "background" (the kernel is free:
        the button's message reaches `stop`), None (nothing drives it)."""
        self.widget.control = {"driving": how, "kernel_id": _kernel_id()}

    def stop(self) -> None:
        """A Stop click that reached the kernel: cancel the run on the server, off this thread
        (the kernel's messages wait meanwhile). Its driver sees `cancelled` and ends."""
        run = self.run
        if run.is_terminal or not run.to_dict().get("id"):
            return
        if run._async:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:  # its client lives on the kernel's loop
                task = loop.create_task(cancel_quietly_async(run))
                self._stopping.add(task)
                task.add_done_callback(self._stopping.discard)
                return
        threading.Thread(target=cancel_quietly, args=(run,), name="oairun-stop", daemon=True).start()

    def rerun(self, call_id: str, arguments: str) -> ToolCallRecord | None:
        """A Re-run click: the call again against the current namespace, beside the old result."""
        try:
            again = self.run.rerun_tool(call_id, arguments, env=self.namespace)
        except ValueError:
            return None
        self.flush()
        return again

    def awaiting_decisions(self) -> int:
        """How many of the run's tool calls wait for Approve or Reject on their card now."""
        return len(self._decisions)

    async def approve(self, record: ToolCallRecord) -> tuple[str, str | None]:
        """Wait for Approve, Edit or Reject on this call's card."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._decisions[record.call_id] = (loop, future)
        with self._lock:
            self.widget.confirm = {**self.widget.confirm, record.call_id: "pending"}
            self._dirty.add("steps")
        self.flush()
        try:
            decision, arguments = await future
        finally:
            self._decisions.pop(record.call_id, None)
            self.widget.confirm = {k: v for k, v in self.widget.confirm.items() if k != record.call_id}
        # only an explicit Approve runs the call: anything else a message may hold is a rejection
        return ("approve", arguments) if decision == "approve" else ("reject", None)
