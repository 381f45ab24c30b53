"""Running a run's tool calls against a namespace: resolve, check, call, record.

Only the function tools declared for the run may be called, and only when the namespace holds
a callable of that name; anything else gets an error output and nothing runs. The calls of one
`requires_action` run concurrently (threads for plain functions, the event loop for coroutine
functions), each within a timeout. Every call leaves a `ToolCallRecord`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import itertools
import json
import re
import threading
from typing import Any, Callable, Mapping

from ._binding import bind_call
from ._grants import ToolGrant
from ._records import ToolCallRecord, now
from ._schema import FunctionTool
from ._user_functions import user_defined_reason, written_by_user_reason

__all__ = ["ToolExecutor", "MAX_ARGUMENT_BYTES", "MAX_CALL_ID_CHARS", "MAX_YIELDED"]

MAX_ARGUMENT_BYTES = 1_000_000
MAX_CALL_ID_CHARS = 200
MAX_YIELDED = 10_000  # items taken from a tool that yields its results
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # the API's rule for a function tool's name


def _resolve(namespace: Mapping[str, Any], name: str) -> Any:
    """What `name` calls: the namespace's entry of that name, else a `tool()` object in the
    namespace declared under that name (a tool name may hold '-', which no variable can)."""
    found = namespace.get(name) if name.isidentifier() else None
    if found is not None:
        return found
    for value in list(namespace.values()):
        if isinstance(value, FunctionTool) and value.name == name:
            return value
    return None


def _qualified(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return f"{module}.{name}" if module and module not in ("__main__", "builtins") else name


class ToolExecutor:
    """Resolves and runs tool calls against `namespace`, allowing only the names `grant` allows."""

    def __init__(self, namespace: Mapping[str, Any], grant: ToolGrant, *, timeout: float = 60.0,
                 approve: Callable[[ToolCallRecord], Any] | None = None,
                 still_open: Callable[[], Any] | None = None) -> None:
        self.namespace = namespace
        self.grant = grant
        self.timeout = timeout
        # async: (record) -> ("approve", arguments or None) | ("reject", None) | ("withdrawn", reason)
        self.approve = approve
        # async: () -> None while the approved calls may still run, else why not (the run ended
        # while the round's decisions came in)
        self.still_open = still_open

    def prepare(self, call: Mapping[str, Any], seen_ids: set[str] | None = None
                ) -> tuple[ToolCallRecord, Callable[..., Any] | None, dict]:
        """The record of a call and, when it may run, the function and its keyword arguments.

        `seen_ids` holds the ids of the round's earlier calls: a repeated id is refused, as its
        output could not be told apart from the first one's."""
        function = call.get("function") if isinstance(call.get("function"), Mapping) else {}
        name, raw = str(function.get("name", "")), function.get("arguments") or ""
        raw = raw if isinstance(raw, str) else json.dumps(raw, default=str)
        call_id = call.get("id")
        record = ToolCallRecord(str(call_id or ""), name, raw if len(raw) <= 10_000 else raw[:10_000] + "...")
        if not isinstance(call_id, str) or not call_id or len(call_id) > MAX_CALL_ID_CHARS \
                or not call_id.isprintable():
            return record.refuse(f"the call's id {call_id!r:.60} is not a tool-call id"), None, None
        if seen_ids is not None:
            if call_id in seen_ids:
                return record.refuse(f"the id {call_id!r} is used by another call of this round"), None, None
            seen_ids.add(call_id)
        if call.get("type", "function") != "function":
            return record.refuse(f"{call.get('type')} calls are run by the server, not here"), None, None
        if name not in self.grant.names:
            declared = ", ".join(sorted(self.grant.names)) or "none"
            return record.refuse(f"tool {name!r} is not declared for this run (allowed: {declared}; "
                                 f"rule: {self.grant.rule})"), None, None
        if not _TOOL_NAME.fullmatch(name) or name.startswith("__"):
            return record.refuse(f"{name!r} is not a name a tool may have"), None, None
        target = _resolve(self.namespace, name)
        if target is None:
            return record.refuse(f"no function {name!r} in the namespace; define it or pass env="), None, None
        if not callable(target):
            return record.refuse(f"{name!r} in the namespace is a {type(target).__name__}, not a function"), None, None
        foreign = (written_by_user_reason if self.grant.user_functions_only else user_defined_reason)(target)
        if foreign is not None:
            return record.refuse(f"{name!r} in the namespace {foreign}; a tool must be a function defined in "
                                 "your code or a tool() object"), None, None
        record.grant = self.grant  # declared and found: the debugger may re-run it
        size = len(raw.encode("utf-8", "surrogatepass"))  # a lone surrogate (valid JSON escape) is counted, not fatal
        if size > MAX_ARGUMENT_BYTES:
            return record.refuse(f"the arguments are {size:,} bytes, above the limit of "
                                 f"{MAX_ARGUMENT_BYTES:,}"), None, None
        try:
            arguments = json.loads(raw) if raw.strip() else {}
        except ValueError as error:
            return record.refuse(f"the arguments are not valid JSON ({error})"), None, None
        except RecursionError:
            return record.refuse("the arguments are nested too deeply to read"), None, None
        if not isinstance(arguments, dict):
            return record.refuse("the arguments must be a JSON object"), None, None
        record.parsed_arguments = arguments
        fn = target.fn if isinstance(target, FunctionTool) else target
        record.function = _qualified(fn)
        try:
            call = bind_call(fn, arguments)
        except (TypeError, ValueError, RecursionError) as error:
            return record.refuse(f"the arguments do not fit {name}{_signature(fn)}: {error}"), None, None
        return record, fn, call

    def run(self, calls: list[Mapping[str, Any]], on_record: Callable[[ToolCallRecord], None] | None = None
            ) -> list[ToolCallRecord]:
        """Run the calls concurrently, each on a thread of its own; returns their records in call
        order. An interrupt while they run ends the round at once: the calls still running are
        recorded as interrupted (their threads finish unseen, and never hold the process's exit)."""
        prepared = self._prepare_round(calls)
        futures: dict[concurrent.futures.Future, ToolCallRecord] = {}
        try:
            for record, fn, call in prepared:
                if fn is None:
                    continue
                record.started_at = now()
                if on_record:
                    on_record(record)
                future = _in_daemon_thread(functools.partial(_call_sync, call, self.timeout))
                # each call's own end, not the round's: a call that failed at once beside a slow
                # one took no time (done callbacks run on the call's thread as it finishes)
                future.add_done_callback(lambda _, record=record: record.ended_at or setattr(record, "ended_at", now()))
                futures[future] = record
            done, _ = concurrent.futures.wait(futures, timeout=self.timeout + 1)
            for future, record in futures.items():
                self._settle(record, future if future in done else None)
        except BaseException as error:
            for record in futures.values():
                if record.status == "running":
                    record.fail(_Interrupted(f"the round was interrupted ({type(error).__name__}) while "
                                             f"{record.name} ran; its result is not known"))
                    if on_record:
                        on_record(record)
            raise
        for record, _, _ in prepared:
            if on_record:
                on_record(record)
        return [record for record, _, _ in prepared]

    def _prepare_round(self, calls: list[Any]) -> list[tuple]:
        seen_ids: set[str] = set()
        return [self.prepare(call if isinstance(call, Mapping) else {}, seen_ids) for call in calls]

    def _settle(self, record: ToolCallRecord, future: concurrent.futures.Future | None) -> None:
        if future is None:
            record.time_out(self.timeout)
            return
        try:
            record.succeed(future.result())
        except (asyncio.TimeoutError, concurrent.futures.TimeoutError):
            record.time_out(self.timeout)
        except Exception as error:
            record.fail(error)

    async def run_async(self, calls: list[Mapping[str, Any]],
                        on_record: Callable[[ToolCallRecord], None] | None = None) -> list[ToolCallRecord]:
        """Run the calls concurrently on the running loop (plain functions in threads)."""
        prepared = self._prepare_round(calls)
        if self.approve is not None:
            prepared = await self._decide_round(calls, prepared)

        # An interrupt or exit raised inside a task would escape the event loop itself and leave the
        # run waiting on the server. Each call catches it where it is raised (`_stopping`), the other
        # calls of the round are cancelled at once, and it is raised again here, in the coroutine
        # that waits, which cancels the run.
        stopped: list[BaseException] = []
        tasks: list[asyncio.Task] = []

        async def one(record: ToolCallRecord, fn: Callable[..., Any], call: Callable[[], Any]) -> None:
            record.started_at = now()
            if on_record:
                on_record(record)
            try:
                if inspect.iscoroutinefunction(fn):
                    value = await asyncio.wait_for(_stopping(call()), self.timeout)
                else:  # a thread of its own: one stuck past its timeout must not hold asyncio.run's end
                    value = await asyncio.wait_for(
                        asyncio.wrap_future(_in_daemon_thread(functools.partial(_stopping_sync, call))),
                        self.timeout)
                    if inspect.isawaitable(value) or inspect.isasyncgen(value):
                        value = await asyncio.wait_for(
                            _stopping(_adrained(value) if inspect.isasyncgen(value) else value), self.timeout)
                if isinstance(value, _Stopped):
                    raise value.error
                record.succeed(value)
            except asyncio.TimeoutError:
                record.time_out(self.timeout)
            except asyncio.CancelledError:
                if not stopped:
                    raise  # the round itself was cancelled (an interrupted await cell)
                record.fail(RuntimeError("not finished: another call of this round was interrupted"))
            except Exception as error:
                record.fail(error)
            except (KeyboardInterrupt, SystemExit) as error:
                record.fail(error)
                stopped.append(error)
                for task in tasks:
                    if task is not asyncio.current_task():
                        task.cancel()

        tasks.extend(asyncio.ensure_future(one(r, f, k)) for r, f, k in prepared if f is not None)
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            if not stopped:
                raise
        if stopped:
            raise stopped[0]
        for record, _, _ in prepared:
            if on_record:
                on_record(record)
        return [record for record, _, _ in prepared]


    async def _decide_round(self, calls: list[Any], prepared: list[tuple]) -> list[tuple]:
        """Every call of the step awaits its own decision, at once; then, before any approved call
        runs, the run is looked at once more. A decision that fails ends the others' waits too."""
        deciding = [asyncio.ensure_future(self._decide(call, item)) for call, item in zip(calls, prepared)]
        try:
            decided = list(await asyncio.gather(*deciding))
        except BaseException:
            for task in deciding:
                task.cancel()
            await asyncio.gather(*deciding, return_exceptions=True)  # their cards stop asking now
            raise
        reason = await self.still_open() if self.still_open is not None else None
        if reason is not None:
            decided = [(record.refuse(reason), None, None) if fn is not None else (record, fn, call)
                       for record, fn, call in decided]
        return decided

    async def _decide(self, call: Mapping[str, Any], item: tuple) -> tuple:
        """Ask the user about a call that may run: approve (maybe with edited arguments), reject,
        or withdrawn (the run stopped waiting before a decision came)."""
        record, fn, _ = item
        if fn is None:
            return item
        decision, arguments = await self.approve(record)
        if decision == "withdrawn":
            return record.refuse(str(arguments)), None, None
        if decision != "approve":  # only an explicit Approve runs the call
            return record.refuse(f"the user rejected this call of {record.name}"), None, None
        if arguments is not None:
            edited = {**call, "function": {**(call.get("function") or {}), "arguments": arguments}}
            return self.prepare(edited)
        return item


class _Stopped:
    """An interrupt or exit raised by a tool, carried out of its task as a value (see run_async)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


async def _stopping(awaitable: Any) -> Any:
    try:
        return await awaitable
    except (KeyboardInterrupt, SystemExit) as error:
        return _Stopped(error)


def _stopping_sync(call: Callable[[], Any]) -> Any:
    try:
        return _drained(call())
    except (KeyboardInterrupt, SystemExit) as error:
        return _Stopped(error)


def _drained(value: Any) -> Any:
    """What a generator yields, as a list (at most MAX_YIELDED items): a tool that yields its
    results returns them. Drained on the tool's own thread, within its timeout."""
    if not inspect.isgenerator(value):
        return value
    try:
        return list(itertools.islice(value, MAX_YIELDED))
    finally:
        value.close()


async def _adrained(value: Any) -> Any:
    """`_drained` for an async generator, on the running loop."""
    if not inspect.isasyncgen(value):
        return value
    items: list[Any] = []
    try:
        async for item in value:
            items.append(item)
            if len(items) >= MAX_YIELDED:
                break
    finally:
        await value.aclose()
    return items


class _Interrupted(Exception):
    """What a call still running when its round was interrupted is recorded with."""


def _in_daemon_thread(call: Callable[[], Any]) -> concurrent.futures.Future:
    """Run `call` on a daemon thread of its own. A pool's threads are joined when the process
    exits and when `asyncio.run` ends: a tool stuck past its timeout would hold both."""
    future: concurrent.futures.Future = concurrent.futures.Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = call()
        except BaseException as error:  # a tool's sys.exit() too: raised again where it is awaited
            future.set_exception(error)
        else:
            future.set_result(result)
    threading.Thread(target=work, name="oairun-tool", daemon=True).start()
    return future


def _call_sync(call: Callable[[], Any], timeout: float) -> Any:
    """Make the call on this thread; a coroutine function gets an event loop of its own."""
    if inspect.iscoroutinefunction(call):
        return asyncio.run(asyncio.wait_for(call(), timeout))
    value = _drained(call())
    if inspect.isawaitable(value) or inspect.isasyncgen(value):
        async def settle() -> Any:
            return await asyncio.wait_for(_adrained(value) if inspect.isasyncgen(value) else value, timeout)
        return asyncio.run(settle())
    return value


def _signature(fn: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"
