"""The run engine: a run's life from `queued` to its terminal status, and who hears of it.

Each active run has a task on the server's event loop that asks the backend for turns. Every
change is written to the store and published as a numbered event (see _events.py): to the
streams open here at once, to the run's log for resumed streams and other server processes.
Status rules are the service's: one active run per thread (kept by the database itself), all
pending tool calls answered at once, expiry of runs waiting for outputs, cancel through
`cancelling`, token budgets ending `incomplete`. A watcher task notices cancels made through
other server processes on the same database and, on PostgreSQL, beats this server's heartbeat
and ends the runs of servers that stopped beating.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, AsyncIterator

from ..protocol import ACTIVE_STATUSES, TERMINAL_STATUSES
from ._errors import invalid, not_found
from ._events import RunEvents, sse
from ._heartbeats import HeartbeatOwners
from ._ids import now
from ._owners import RunOwners
from ._turn import Turn, usage_payload
from .backends import Backend, BackendError, Finish, TurnContext, count_tokens
from .stores import ActiveRunConflict, Store

__all__ = ["Engine", "sse"]

_CANCEL_ENDS = frozenset({"cancelled", "failed", "expired"})  # the ends a cancelling run may reach

log = logging.getLogger("oairun_jupyter.server")


class Engine:
    """Starts, continues, cancels and expires runs; fans their events out to subscribers."""

    def __init__(self, store: Store, backend: Backend, *, run_expiry_seconds: int = 600,
                 owners: RunOwners | HeartbeatOwners | None = None, watch_seconds: float = 0.25) -> None:
        self.store = store
        self.owners = owners or RunOwners(":memory:")  # who works on which run, for a shared database
        self.backend = backend
        self.run_expiry_seconds = run_expiry_seconds
        self.watch_seconds = watch_seconds
        self.events = RunEvents(store)
        self._watcher: asyncio.Task[None] | None = None
        self._let_go: set[str] = set()  # runs ended by another server while this one worked on them
        self._unsaved: dict[str, str] = {}  # runs whose end could not be stored (the database was away)
        self._cancelling_seen: set[str] = set()  # runs of this server left `cancelling` with no task
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._live: dict[str, dict[str, Any]] = {}  # runs being worked on: one dict shared by all
        self._deleted_threads: set[str] = set()  # their runs' last writes go nowhere
        self._stopping = False

    # --- events ---------------------------------------------------------------------------

    def _publish(self, run_id: str, event: str, data: Any, thread_id: str | None = None) -> None:
        self.events.publish(run_id, event, data, logged=thread_id not in self._deleted_threads)

    def _end_segment(self, run_id: str) -> None:
        self.events.end_segment(run_id)

    def subscribe(self, run_id: str) -> asyncio.Queue:
        """A queue that receives the run's events from now on, until the segment ends."""
        return self.events.subscribe(run_id)

    def stream(self, run_id: str, queue: asyncio.Queue) -> AsyncIterator[bytes]:
        """SSE bytes for one segment of the run, then `done`."""
        return self.events.stream(run_id, queue)

    def follow(self, run: dict[str, Any], after: int | None) -> AsyncIterator[bytes]:
        """The run's events after number `after` (None: its current segment) to the segment's end,
        whichever server process works on the run."""
        return self.events.follow(run["id"], after, lambda: run["id"] in self._tasks,
                                  lambda: self._live.get(run["id"]) or self.store.get("run", run["id"]))

    # --- runs -----------------------------------------------------------------------------

    def save_run(self, run: dict[str, Any], event: str | None = None) -> bool:
        """Store the run and publish `event`; False (and no event) when the store refused the
        change: the run ended, or is being cancelled, through another server."""
        if run["thread_id"] not in self._deleted_threads:
            if not self.store.put_guarded("run", run, run["thread_id"]):
                log.info("run %s: %s not stored, the run changed elsewhere", run["id"], run["status"])
                return False
        if event:
            self._publish(run["id"], event, run, run["thread_id"])
        return True

    def delete_thread(self, thread_id: str) -> None:
        """A thread is about to be deleted: its run in progress is cancelled (its stream says so)
        and nothing of it is written under the thread again."""
        self._deleted_threads.add(thread_id)
        for run_id, run in list(self._live.items()):
            task = self._tasks.get(run_id)
            if run["thread_id"] == thread_id and task is not None:
                task.cancel()

    def load_run(self, thread_id: str, run_id: str) -> dict[str, Any]:
        """The run, 404 when it is not in that thread; a run waiting past `expires_at` expires, a run
        left in flight by a server that died (another kernel, killed) ends as it would at start-up."""
        run = self._live.get(run_id) or self.store.get("run", run_id)
        if run is None or run["thread_id"] != thread_id:
            raise not_found("run", run_id)
        return self._expire_if_due(self._recover_if_stranded(run))

    def _recover_if_stranded(self, run: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.owners, HeartbeatOwners):
            return run  # on a shared PostgreSQL one survivor claims a dead server's runs (the watcher)
        if run["status"] in ("queued", "in_progress", "cancelling") and run["id"] not in self._tasks \
                and not self.owners.is_alive(self.store.owner_of(run["id"])):
            self._end_stranded(run)
        return run

    def _expire_if_due(self, run: dict[str, Any]) -> dict[str, Any]:
        if run["status"] == "requires_action" and run["expires_at"] and now() >= run["expires_at"]:
            self._finalize_waiting(run, "expired")
        return run

    def active_run(self, thread_id: str) -> dict[str, Any] | None:
        """The thread's run that is not finished yet, if any."""
        for run in self.store.children("run", thread_id, "desc"):
            if run["status"] in ACTIVE_STATUSES and \
                    self._expire_if_due(self._recover_if_stranded(run))["status"] in ACTIVE_STATUSES:
                return run
        return None

    def start(self, run: dict[str, Any], rows: list[tuple[str, dict[str, Any], str | None]] = (),
              first: list[tuple[str, Any]] = (), user: str = "") -> None:
        """Store a new (queued) run with the objects it brings (its additional messages, a new
        thread) in one transaction, announce it (after the `first` events) and start working on it.
        A 400 when the thread already has an active run: the database refuses a second one. What
        is stored belongs to `user` (a new thread above all)."""
        run["expires_at"] = run["created_at"] + self.run_expiry_seconds
        try:
            self.store.put_many([*rows, ("run", run, run["thread_id"])], user=user)
        except ActiveRunConflict:
            active = self.active_run(run["thread_id"])
            raise invalid(f"Thread {run['thread_id']} already has an active run"
                          + (f" {active['id']}." if active else ".")) from None
        for event, data in first:
            self._publish(run["id"], event, data)
        self._publish(run["id"], "thread.run.created", run)
        self._publish(run["id"], "thread.run.queued", run)
        self._launch(run)

    def _launch(self, run: dict[str, Any]) -> None:
        run_id = run["id"]
        self.store.set_owner(run_id, self.owners.id)
        task = asyncio.get_running_loop().create_task(self._drive(run))
        self._tasks[run_id] = task
        self._live[run_id] = run

        def forget(finished: asyncio.Task[None]) -> None:
            self._tasks.pop(run_id, None)
            self._live.pop(run_id, None)
            self._let_go.discard(run_id)  # (let go before `_drive` ever ran)
            if finished.cancelled() and run["status"] not in TERMINAL_STATUSES:
                self._end(run, "cancelled")  # cancelled before `_drive` ever ran
            if run["thread_id"] in self._deleted_threads:  # what it wrote before it heard goes too
                self.events.discard(run_id)
                try:
                    self.store.delete_run_leftovers(run["thread_id"], run_id)
                except Exception:
                    log.exception("could not remove what run %s wrote under its deleted thread", run_id)
        task.add_done_callback(forget)

    def check_outputs(self, run: dict[str, Any], outputs: list[dict[str, str]]) -> None:
        """400 unless `outputs` answer every pending call of a run waiting for them, once each."""
        if run["status"] != "requires_action":
            raise invalid(f"Runs in status \"{run['status']}\" do not accept tool outputs.", "tool_outputs")
        pending = {c["id"] for c in run["required_action"]["submit_tool_outputs"]["tool_calls"]}
        given = [o["tool_call_id"] for o in outputs]
        unknown = [i for i in given if i not in pending]
        if unknown:
            raise invalid(f"No tool call found with id '{unknown[0]}'.", "tool_outputs")
        if len(set(given)) != len(given):
            raise invalid("Each tool call may be answered only once.", "tool_outputs")
        missing = sorted(pending - set(given))
        if missing:
            raise invalid(f"Expected tool outputs for call_ids {sorted(pending)}, got {sorted(given)}; "
                          f"missing {missing}.", "tool_outputs")

    def submit(self, run: dict[str, Any], outputs: list[dict[str, str]]) -> None:
        """Answer the pending calls: the tool step completes and the run goes on."""
        self.check_outputs(run, outputs)
        run.update(status="queued", required_action=None)
        if not self.store.transition(run, "requires_action"):  # answered (or cancelled) meanwhile elsewhere
            status = (self.store.get("run", run["id"]) or {}).get("status", "deleted")
            raise invalid(f"Runs in status \"{status}\" do not accept tool outputs.", "tool_outputs")
        step = self._waiting_step(run)  # once the run is ours: another answer may have ended it
        answers = {o["tool_call_id"]: o["output"] for o in outputs}
        for call in step["step_details"]["tool_calls"]:
            if call["type"] == "function":
                call["function"]["output"] = answers.get(call["id"])
        step.update(status="completed", completed_at=now(), usage=usage_payload(0, 0))
        self.store.put("step", step, run["id"])
        self._publish(run["id"], "thread.run.step.completed", step)
        self._publish(run["id"], "thread.run.queued", run)
        self._launch(run)

    def _waiting_step(self, run: dict[str, Any]) -> dict[str, Any]:
        steps = [s for s in self.store.children("step", run["id"]) if s["status"] == "in_progress"
                 and s["type"] == "tool_calls"]
        return steps[-1]

    def cancel(self, run: dict[str, Any]) -> dict[str, Any]:
        """Move the run to `cancelling` (a compare-and-set on its stored status: a run answered,
        started or ended meanwhile through another server is read again); it reaches `cancelled`
        as soon as its work stops, here or in the server that works on it."""
        for _ in range(20):
            status = run["status"]
            if status in TERMINAL_STATUSES or status == "cancelling":
                raise invalid(f"Cannot cancel run with status '{status}'.")
            if self.store.transition({**run, "status": "cancelling"}, status):
                break
            stored = self.store.get("run", run["id"])
            if stored is None:
                raise not_found("run", run["id"])
            run = self._live.get(run["id"]) or stored
        else:
            raise invalid(f"Run {run['id']} changed too often to be cancelled now; try again.")
        run["status"] = "cancelling"
        task = self._tasks.get(run["id"])
        if task is not None and not task.done():
            self._publish(run["id"], "thread.run.cancelling", run, run["thread_id"])
            task.cancel()
        elif status == "requires_action":  # no task works on a waiting run: it ends here
            self._publish(run["id"], "thread.run.cancelling", run, run["thread_id"])
            answer = dict(run)
            self._finalize_waiting(run, "cancelled")
            return answer
        # else another live server works on it: its watcher sees the cancel in the database
        return dict(run)

    def _finalize_waiting(self, run: dict[str, Any], status: str) -> None:
        """End a run that no task works on (waiting for outputs, or being cancelled), if its stored
        status is still the one read: of two servers ending it at once, one does, once."""
        expected, stamp = run["status"], now()
        run.update(status=status, required_action=None, **{f"{status}_at": stamp})
        if run["thread_id"] not in self._deleted_threads and not self.store.transition(run, expected):
            run.update(self.store.get("run", run["id"]) or {})  # ended meanwhile elsewhere: as it is
            return
        for step in self.store.children("step", run["id"]):
            if step["status"] == "in_progress":
                step.update(status=status, **{f"{status}_at": stamp})
                self.store.put("step", step, run["id"])
                self._publish(run["id"], f"thread.run.step.{status}", step, run["thread_id"])
        self._publish(run["id"], f"thread.run.{status}", run, run["thread_id"])
        self._end_segment(run["id"])

    # --- the worker -----------------------------------------------------------------------

    def _context(self, run: dict[str, Any]) -> TurnContext:
        rounds, sequence = [], []
        upstream = {m["id"]: m["upstream_id"] for m in self.store.children("upstream_call", run["id"])}
        for step in self.store.children("step", run["id"]):
            message_id = (step["step_details"].get("message_creation") or {}).get("message_id")
            sequence.append(("message", message_id) if message_id else ("tool_calls", step["id"]))
            calls = [c for c in step["step_details"].get("tool_calls", []) if c["type"] == "function"]
            if calls and step["status"] == "completed":
                rounds.append([{"id": c["id"], "upstream_id": upstream.get(c["id"]), "step_id": step["id"],
                                "name": c["function"]["name"], "arguments": c["function"]["arguments"],
                                "output": c["function"]["output"]} for c in calls])
        carried = {c["anchor"]: {"items": c["items"], "before": c.get("before"), "model": c.get("model")}
                   for c in self.store.children("carried", run["thread_id"])}
        return TurnContext(run, self.store.children("message", run["thread_id"]), rounds, carried,
                           self._tool_resources(run), sequence)

    def _tool_resources(self, run: dict[str, Any]) -> dict[str, Any]:
        """The files and vector stores of the run's assistant and of its thread, joined."""
        thread = self.store.get("thread", run["thread_id"]) or {}
        joined: dict[str, Any] = {}
        for owner in (run.get("tool_resources") or {}, thread.get("tool_resources") or {}):
            for tool, key in (("code_interpreter", "file_ids"), ("file_search", "vector_store_ids")):
                ids = (owner.get(tool) or {}).get(key) or []
                if ids:
                    known = joined.setdefault(tool, {key: []})[key]
                    known += [i for i in ids if i not in known]
        return joined

    async def _drive(self, run: dict[str, Any]) -> None:
        try:
            await self._work(run)
        except Exception:  # its end could not be stored (the database is away), however it ended
            log.warning("run %s: its end could not be stored; it is stored when the database answers", run["id"])
            self._unsaved[run["id"]] = ("The server lost its database while this run was in progress; "
                                        "start a new run.")
            self.events.end_segment(run["id"])

    async def _work(self, run: dict[str, Any]) -> None:
        """The run's turn, and its end (whatever stops it) stored and published."""
        run_id = run["id"]
        turn = None
        prompt = 0  # the prompt's tokens, counted here (a backend reports its own when a turn ends)
        try:
            run.update(status="in_progress", started_at=now())
            self.save_run(run, "thread.run.in_progress")
            context = self._context(run)
            prompt = count_tokens(run.get("instructions") or "") + sum(
                count_tokens(json.dumps(m["content"])) for m in context.messages)
            if run.get("max_prompt_tokens") and prompt > run["max_prompt_tokens"]:
                return self._end(run, "incomplete", incomplete_details={"reason": "max_prompt_tokens"})
            turn = Turn(run, lambda kind, payload, parent: self._save(run, kind, payload, parent),
                        lambda e, d: self._publish(run_id, e, d, run["thread_id"]),
                        self._completion_budget(run))
            finish = await self._consume(turn, context)
            self._add_usage(run, turn)
            if finish == "tool_calls" and turn.calls:
                turn.finish_tool_calls()
                run.update(status="requires_action", required_action={
                    "type": "submit_tool_outputs",
                    "submit_tool_outputs": {"tool_calls": turn.pending_calls()}})
                self.save_run(run, "thread.run.requires_action")
                self._end_segment(run_id)
            elif finish == "content_filter":  # the upstream stopped the answer: it ends where it stopped
                turn.finish_message("incomplete", "content_filter")
                turn.abandon("cancelled")
                self._end(run, "incomplete", incomplete_details={"reason": "content_filter"})
            elif finish == "length":
                turn.finish_message("incomplete")
                turn.abandon("cancelled")  # a tool call cut by the token limit never runs: its step ends
                self._end(run, "incomplete", incomplete_details={"reason": "max_completion_tokens"})
            else:
                turn.finish_message("completed")
                self._end(run, "completed")
        except asyncio.CancelledError:
            if run_id in self._let_go:  # another server ended it: this work is dropped, and what it
                self._let_go.discard(run_id)  # began after that end (a message) ends as that end says
                stored = self.store.get("run", run_id)
                if stored is not None and stored["status"] in TERMINAL_STATUSES:
                    self._end_open_parts(stored, stored["status"], now())
                self.events.end_segment(run_id)
                return
            if turn is not None:  # a run stopped early used its prompt and what it wrote so far
                self._add_usage(run, turn, prompt)
            if self._stopping:
                self._fail(run, turn, "server_error", "The server was stopped while this run was in progress.")
            else:
                if turn is not None:
                    turn.abandon("cancelled")
                self._end(run, "cancelled")
        except BackendError as error:
            self._fail(run, turn, error.code, error.message)
        except Exception as error:  # a bug must not leave the run in_progress forever
            log.exception("run %s failed inside the server", run_id)
            self._fail(run, turn, "server_error", f"The server failed: {type(error).__name__}.")

    async def _consume(self, turn: Turn, context: TurnContext) -> str:
        events = self.backend.turn(context)
        try:
            async for event in events:
                if isinstance(event, Finish):
                    return event.reason
                if not turn.on_event(event):
                    return "length"
            return "stop"
        finally:
            await events.aclose()

    @staticmethod
    def _completion_budget(run: dict[str, Any]) -> int | None:
        limit = run.get("max_completion_tokens")
        if limit is None:
            return None
        used = (run.get("usage") or {}).get("completion_tokens", 0)
        return max(limit - used, 0)

    @staticmethod
    def _add_usage(run: dict[str, Any], turn: Turn, prompt_estimate: int = 0) -> None:
        before = run.get("usage") or usage_payload(0, 0)
        prompt, completion = turn.token_counts()
        prompt = prompt or prompt_estimate
        run["usage"] = usage_payload(before["prompt_tokens"] + prompt, before["completion_tokens"] + completion)

    def _save(self, run: dict[str, Any], kind: str, payload: dict[str, Any], parent: str) -> None:
        if run["thread_id"] not in self._deleted_threads:  # a message or step of a thread deleted meanwhile
            self.store.put(kind, payload, parent)

    def _end(self, run: dict[str, Any], status: str, **fields: Any) -> None:
        stamp_field = {"completed": "completed_at", "failed": "failed_at",
                       "cancelled": "cancelled_at"}.get(status)
        run.update(status=status, required_action=None, expires_at=None, **fields)
        if stamp_field:
            run[stamp_field] = now()
        if run.get("usage") is None:
            run["usage"] = usage_payload(0, 0)
        if not self.save_run(run, f"thread.run.{status}") and status not in _CANCEL_ENDS:
            stored = self.store.get("run", run["id"]) or {}
            if stored.get("status") == "cancelling":  # cancelled through another server as it ended: the cancel wins
                run.pop(stamp_field, None)
                run.pop("incomplete_details", None)
                return self._end(run, "cancelled")
        self._end_segment(run["id"])

    def _fail(self, run: dict[str, Any], turn: Turn | None, code: str, message: str) -> None:
        if turn is not None:
            turn.abandon("failed")
        self._end(run, "failed", last_error={"code": code, "message": message})

    # --- start-up and shut-down -----------------------------------------------------------

    def recover(self) -> int:
        """Runs left in flight by a server that died become terminal; returns how many. The runs
        of another live server on the same database (another kernel's, another worker's) are left to it."""
        if isinstance(self.owners, HeartbeatOwners):
            stranded = self.store.claim_stranded(self.owners.id, time.time())
        else:
            stranded = [run for run in self.store.of_kind_where_status("run", ("queued", "in_progress", "cancelling"))
                        if not self.owners.is_alive(self.store.owner_of(run["id"]))]
        for run in stranded:
            self._end_stranded(run)
        return len(stranded)

    def _end_stranded(self, run: dict[str, Any],
                      reason: str = "The server stopped while this run was in progress; start a new run.") -> None:
        """End a run its dead server left in flight: `failed` (saying so), or `cancelled` if it was
        cancelling; its open step and message end with it."""
        stamp = now()
        status = "cancelled" if run["status"] == "cancelling" else "failed"
        self._end_open_parts(run, status, stamp)
        run.update(status=status, required_action=None, expires_at=None, **{f"{status}_at": stamp})
        if status == "failed":
            run["last_error"] = {"code": "server_error", "message": reason}
        self.save_run(run, f"thread.run.{status}")  # a stream following the run from another server ends
        self._end_segment(run["id"])

    def _end_open_parts(self, run: dict[str, Any], status: str, stamp: int) -> None:
        """End the run's steps and messages still in progress as its end `status` ends them."""
        for step in self.store.children("step", run["id"]):
            if step["status"] == "in_progress":
                step.update(status=status, **{f"{status}_at": stamp})
                self.store.put("step", step, run["id"])
        for message in self.store.children("message", run["thread_id"]):
            if message["run_id"] == run["id"] and message["status"] == "in_progress":
                message.update(status="incomplete", incomplete_at=stamp,
                               incomplete_details={"reason": f"run_{status}"})
                self.store.put("message", message, run["thread_id"])

    # --- the watcher ----------------------------------------------------------------------

    def watch(self) -> None:
        """Start watching for cancels made elsewhere and (PostgreSQL) for dead servers' runs."""
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watch_seconds)
            try:
                self.watch_once()
            except Exception:  # a database hiccup: the next round tries again
                log.exception("the run watcher failed; it goes on")

    def watch_once(self) -> None:
        if isinstance(self.owners, HeartbeatOwners):  # (its heartbeat beats on a thread of its own)
            for run in self.store.claim_stranded(self.owners.id, time.time()):
                log.warning("run %s was left in flight by a server whose lease ran out: it ends", run["id"])
                self._end_stranded(run)
        for run_id, reason in list(self._unsaved.items()):  # runs whose end the database missed
            stored = self.store.get("run", run_id)
            if stored is not None and stored["status"] not in TERMINAL_STATUSES:
                self._end_stranded(stored, reason)
            del self._unsaved[run_id]
        if self._tasks:
            stored = self.store.statuses(list(self._tasks))
            for run_id, task in list(self._tasks.items()):
                live, status = self._live.get(run_id), stored.get(run_id)
                if live is None or task.done():
                    continue
                if status is None:  # its thread was deleted through another server
                    self._deleted_threads.add(live["thread_id"])
                    task.cancel()
                elif status in TERMINAL_STATUSES:  # ended by another server (this one was taken for dead)
                    log.warning("run %s was ended by another server while this one worked on it: "
                                "this work is dropped", run_id)
                    self._let_go.add(run_id)
                    task.cancel()
                elif status == "cancelling" and live["status"] != "cancelling":
                    live["status"] = "cancelling"  # cancelled through another server
                    self._publish(run_id, "thread.run.cancelling", live, live["thread_id"])
                    task.cancel()
        # a run cancelled elsewhere just as its work here ended (its next status was refused): ended
        # here once seen twice, so that a server that is ending it itself at this moment goes first
        seen, self._cancelling_seen = self._cancelling_seen, set()
        for run in self.store.runs_owned(self.owners.id, "cancelling"):
            if run["id"] in self._tasks:
                continue
            if run["id"] in seen:
                self._finalize_waiting(run, "cancelled")
            else:
                self._cancelling_seen.add(run["id"])

    async def shutdown(self) -> None:
        """Stop every run's work; their runs end `failed` with a last_error that says why."""
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.events.flush()
        close = getattr(self.backend, "aclose", None)  # a backend's connections to its upstream
        if close is not None:
            await close()
