"""`RunStream`: a Run that arrives as an event stream, and keeps streaming through tool calls.

Iterate it (`for event in run_stream`, `async for ...`) or call `stream(...)` /
`stream_async(...)` with the seed's five callbacks. On `thread.run.requires_action` the tools
run against `env`, the outputs are submitted with `stream=True`, and the continuation flows
into the same iteration and callbacks. For every event, in this order:

1. `event_data` (thread, messages and run steps by id) and the run's own fields are updated;
2. `on_event(event)`;
3. `on_message_delta(delta)` for `thread.message.delta`, `on_message(message)` for the other
   `thread.message.*` events, `on_run_step_delta(delta)` for `thread.run.step.delta`,
   `on_run_step(step)` for the other `thread.run.step.*` events.

An `error` event or a dropped connection ends in a RunStreamError after the run's state has
been retrieved; what was received stays in `event_data`.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import dataclasses
import logging
import weakref
from typing import Any, AsyncIterator, Callable, Iterator

from ..api import oai_list_messages, oai_list_run_steps, oai_submit_tool_outputs, register_stream_type
from ..protocol import (
    APIConnectionError,
    APIError,
    APIObject,
    APIStreamError,
    BadRequestError,
    EventKind,
    RunEventData,
    StreamEvent,
    event_kind,
)
from ..transport import AsyncEventStream, Client, EventStream
from ._cancel import abandon, abandon_async
from ._errors import RunStreamError, RunTimeoutError
from ._observers import notify
from ._options import WaitOptions, namespace_for
from ._polling import raise_for_status, wait_async, wait_sync
from ._run import Run
from ._tool_rounds import answered, require_approver, run_tools_async, run_tools_sync, still_asking

__all__ = ["RunStream"]

log = logging.getLogger("oairun_jupyter.runs")

Callback = Callable[[Any], Any]


def _plain(data: Any) -> Any:
    return data.to_dict() if isinstance(data, APIObject) else data


class _Callbacks:
    def __init__(self, on_message_delta: Callback | None, on_message: Callback | None,
                 on_run_step_delta: Callback | None, on_run_step: Callback | None,
                 on_event: Callback | None) -> None:
        self.on_event = on_event
        self.by_kind = {EventKind.MESSAGE_DELTA: on_message_delta, EventKind.MESSAGE: on_message,
                        EventKind.STEP_DELTA: on_run_step_delta, EventKind.STEP: on_run_step}

    def __call__(self, event: StreamEvent) -> None:
        if self.on_event:
            self.on_event(event)
        callback = self.by_kind.get(event_kind(event.event))
        if callback:
            callback(event.data)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _close_reader(reader: Any, loop: asyncio.AbstractEventLoop | None) -> None:
    """Close the stream of a RunStream dropped unread (an async one on its own loop, if it runs)."""
    if isinstance(reader, AsyncEventStream):
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(reader.aclose()))
        return
    reader.close()


@register_stream_type
class RunStream(Run):
    """A streamed run (what `oai_create_run(..., stream=True)` returns). See the module docs."""

    def __init__(self, stream_reader: EventStream | AsyncEventStream, client: Client | None = None) -> None:
        self._init_state(isinstance(stream_reader, AsyncEventStream), client)
        self._set_payload({"object": self.OBJECT, "status": None})
        object.__setattr__(self, "event_data", RunEventData())
        object.__setattr__(self, "_reader", stream_reader)
        # dropped unread, the stream's connection goes back to the pool (else 100 of them starve it)
        object.__setattr__(self, "_reader_closer", weakref.finalize(self, _close_reader, stream_reader,
                                                                   _running_loop()))

    event_data: RunEventData

    def _take_reader(self) -> Any:
        reader = self._reader
        if reader is None:
            raise RuntimeError("this RunStream was already read; its final state is in the Run's "
                               "fields and in event_data")
        object.__setattr__(self, "_reader", None)
        self._reader_closer.detach()  # whoever reads it now closes it
        return reader

    def clone(self, deep: bool = False) -> "RunStream":
        """A copy of this RunStream's state (with `deep=True`, of its events' data too). The live
        stream stays with this one, which alone reads it; the copy, waited on, follows the run by
        polling."""
        twin = super().clone(deep)
        # a snapshot: the original's message dicts grow in place as it reads on
        object.__setattr__(twin, "event_data", copy.deepcopy(self.event_data))
        twin._without_reader()
        return twin

    def _without_reader(self) -> None:
        object.__setattr__(self, "_reader", None)
        closer = weakref.finalize(self, _close_reader, None, None)
        closer.detach()  # nothing of its own to close
        object.__setattr__(self, "_reader_closer", closer)

    def __copy__(self) -> "RunStream":
        return self.clone()

    def __deepcopy__(self, memo: dict) -> "RunStream":
        return self.clone(deep=True)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_reader", None)  # a live connection is not pickled: the copy follows the run by polling
        state.pop("_reader_closer", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._without_reader()

    def _absorb_event(self, event: StreamEvent) -> None:
        data = _plain(event.data)
        kind = event_kind(event.event)  # once per event, for both uses
        self.event_data.apply(event.event, data, kind)
        if kind == EventKind.RUN:
            self._set_payload(data)
        notify(self, "event", event)

    def _broken(self, error: APIError) -> RunStreamError:
        state = "unknown (it could not be retrieved)"
        if self._payload.get("id"):
            try:
                self.retrieve() if not self._async else None
                state = self._payload.get("status")
            except APIError:
                pass
        return RunStreamError(f"the stream of run {self._payload.get('id')} broke ({error}); the run is "
                              f"{state} on the server", status=self._payload.get("status"), run=self)

    # --- sync -----------------------------------------------------------------------------

    # pragma: no mutate start -- these read the caller's frame (namespace_for); a mutation tool's
    # wrapper frame would stand in for the caller. Their logic lives in _iterate/_aiterate, mutated.
    def events(self, env: Any = None, *, run_tools: bool = True, on_tool_error: str = "submit",
               tool_timeout: float = 60.0, tools: Any = None) -> Iterator[StreamEvent]:
        """The run's events, across tool-output continuations when `run_tools` is True."""
        return self._iterate(namespace_for(env), WaitOptions.make(None, on_tool_error, tool_timeout, tools=tools),
                             run_tools)

    def __iter__(self) -> Iterator[StreamEvent]:
        return self._iterate(namespace_for(None), WaitOptions.make(None), True)

    # pragma: no mutate end

    def _iterate(self, namespace: Any, options: WaitOptions, run_tools: bool) -> Iterator[StreamEvent]:
        if self._async:
            raise TypeError("this RunStream was opened for async reading (async_=True): read it with `async for`, "
                            "`await rs.stream_async(...)` or `await rs.wait_async()`")
        reader = self._take_reader()
        try:
            while reader is not None:
                try:
                    for event in reader:
                        self._absorb_event(event)
                        yield event
                except (APIStreamError, APIConnectionError) as error:
                    raise self._broken(error) from error
                reader = None
                if run_tools and self.status == "requires_action":
                    outputs, _ = run_tools_sync(self, namespace, options)
                    # cancelled meanwhile: no continuation to read (wait() follows it by polling)
                    reader = self._continuation(outputs) if still_asking(self) else None
        except RunStreamError:
            raise  # the run goes on; wait() follows it by polling, the caller decides
        except BaseException as error:  # anything else: the run is cancelled, not left waiting
            abandon(self, error)
            raise
        finally:
            if reader is not None:  # the reader stopped early (a break): its connection goes back
                reader.close()

    def _continuation(self, outputs: list[dict[str, str]]) -> Any:
        """The stream after the outputs; None when the server refused them because the run ended
        meanwhile (cancelled or expired elsewhere: wait() then follows it by polling)."""
        try:
            reader = oai_submit_tool_outputs(self.thread_id, self.id, outputs, stream=True, async_=self._async,
                                             client=self._client)._take_reader()
        except BadRequestError:
            self.retrieve()
            if still_asking(self):
                raise
            return None
        answered(self, outputs)
        return reader

    # pragma: no mutate start -- these read the caller's frame (namespace_for); a mutation tool's
    # wrapper frame would stand in for the caller. Their logic lives in _iterate/_aiterate, mutated.
    def stream(self, on_message_delta: Callback | None = None, on_message: Callback | None = None,
               on_run_step_delta: Callback | None = None, on_run_step: Callback | None = None,
               on_event: Callback | None = None, env: Any = None, *, on_tool_error: str = "submit",
               tool_timeout: float = 60.0, tools: Any = None) -> "RunStream":
        """Read the whole stream, calling the callbacks (see the module docs for their order).
        A callback that raises, or a stream that breaks, ends the run (cancelled) with the error."""
        callbacks = _Callbacks(on_message_delta, on_message, on_run_step_delta, on_run_step, on_event)
        options = WaitOptions.make(None, on_tool_error, tool_timeout, tools=tools)
        try:
            for event in self._iterate(namespace_for(env), options, True):
                callbacks(event)
        except BaseException as error:
            abandon(self, error)
            raise
        return self

    def wait(self, env: Any = None, *, timeout: float | None = None, on_tool_error: str = "submit",
             tool_timeout: float = 60.0, tools: Any = None) -> Any:
        """Read the stream to its end (running tools); raise RunError unless it completed.

        If the stream breaks once the run exists, or was read only in part, waiting goes on by
        polling that same run (never by creating another), and `event_data` is refreshed from
        the server at the end. `timeout` (seconds, None: none) covers both; past it the run is
        cancelled and RunTimeoutError raised. On an async stream, returns the awaitable of
        `wait_async`.
        """
        namespace = namespace_for(env)
        options = WaitOptions.make(timeout, on_tool_error, tool_timeout, tools=tools)
        if self._async:
            return self._wait_async(namespace, options)
        return self._wait_sync(namespace, options)

    # pragma: no mutate end

    def _wait_sync(self, namespace: Any, options: WaitOptions) -> "RunStream":
        clock = self._client.config.clock
        deadline = None if options.timeout is None else clock.monotonic() + options.timeout
        read_to_the_end = False
        try:
            if self._reader is not None:
                try:
                    for _ in self._iterate(namespace, options, True):
                        if deadline is not None and clock.monotonic() > deadline:
                            raise self._timed_out(options)
                    read_to_the_end = self.is_terminal  # else it ended meanwhile (a cancel): polled below
                except RunStreamError as error:
                    if not self._payload.get("id"):
                        raise
                    log.warning("%s; following the run by polling instead", error)
            if self._payload.get("id") and not read_to_the_end:  # broken, or read in part before
                if not self.is_terminal:
                    left = None if deadline is None else max(deadline - clock.monotonic(), 0.001)
                    wait_sync(self, namespace, dataclasses.replace(options, timeout=left))
                self._refresh_event_data()
        except BaseException as error:
            abandon(self, error)
            raise
        raise_for_status(self)
        return self

    async def _wait_async(self, namespace: Any, options: WaitOptions) -> "RunStream":
        clock = self._client.config.clock
        deadline = None if options.timeout is None else clock.monotonic() + options.timeout
        read_to_the_end = False
        try:
            if self._reader is not None:
                try:
                    if self._async:
                        async for _ in self._aiterate(namespace, options, True):
                            if deadline is not None and clock.monotonic() > deadline:
                                raise self._timed_out(options)
                        read_to_the_end = self.is_terminal  # else it ended meanwhile (a cancel): polled below
                    else:  # a sync stream awaited: read on a worker thread, so that the loop goes on;
                        await self._read_sync_stream_aside(namespace, options, deadline)  # tools: below
                except RunStreamError as error:
                    if not self._payload.get("id"):
                        raise
                    log.warning("%s; following the run by polling instead", error)
            if self._payload.get("id") and not read_to_the_end:  # broken, or read in part before
                if not self.is_terminal:
                    left = None if deadline is None else max(deadline - clock.monotonic(), 0.001)
                    await wait_async(self, namespace, dataclasses.replace(options, timeout=left))
                await self._arefresh_event_data()
        except BaseException as error:
            await abandon_async(self, error)
            raise
        raise_for_status(self)
        return self

    async def _read_sync_stream_aside(self, namespace: Any, options: WaitOptions, deadline: float | None) -> None:
        """Read a sync stream's segment on a worker thread, within the deadline (its tool calls
        are then answered by polling, on the caller's loop, where approvals can be asked)."""
        read = asyncio.to_thread(collections.deque, self._iterate(namespace, options, False), 0)
        left = None if deadline is None else max(deadline - self._client.config.clock.monotonic(), 0.001)
        try:
            await asyncio.wait_for(read, left)
        except asyncio.TimeoutError:
            raise self._timed_out(options) from None

    def _timed_out(self, options: WaitOptions) -> RunTimeoutError:
        return RunTimeoutError(f"run {self.id} did not finish within {options.timeout:g} s and was cancelled; "
                               "pass timeout= to wait longer (None waits forever)", status=self.status, run=self)

    def _refresh_event_data(self) -> None:
        """The run's messages and steps as the server has them (after a broken stream)."""
        self._take_listed(
            oai_list_messages(self.thread_id, order="asc", run_id=self.id, limit=1000, classify_response=False,
                              client=self._client),
            oai_list_run_steps(self.thread_id, self.id, order="asc", limit=1000, classify_response=False,
                               client=self._client))

    async def _arefresh_event_data(self) -> None:
        """`_refresh_event_data` on the running event loop."""
        self._take_listed(
            await oai_list_messages(self.thread_id, order="asc", run_id=self.id, limit=1000,
                                    classify_response=False, async_=True, client=self._client),
            await oai_list_run_steps(self.thread_id, self.id, order="asc", limit=1000, classify_response=False,
                                     async_=True, client=self._client))

    def _take_listed(self, messages: Any, steps: Any) -> None:
        for message in messages["data"]:
            self.event_data.messages[message["id"]] = message
        for step in steps["data"]:
            self.event_data.run_steps[step["id"]] = step
        self.event_data.run = self._payload
        notify(self, "run", self._payload)

    # --- async ----------------------------------------------------------------------------

    # pragma: no mutate start -- these read the caller's frame (namespace_for); a mutation tool's
    # wrapper frame would stand in for the caller. Their logic lives in _iterate/_aiterate, mutated.
    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._aiterate(namespace_for(None), WaitOptions.make(None), True)

    def aevents(self, env: Any = None, *, run_tools: bool = True, on_tool_error: str = "submit",
                tool_timeout: float = 60.0, tools: Any = None) -> AsyncIterator[StreamEvent]:
        """`events` for `async for`."""
        return self._aiterate(namespace_for(env), WaitOptions.make(None, on_tool_error, tool_timeout, tools=tools),
                              run_tools)

    # pragma: no mutate end

    async def _aiterate(self, namespace: Any, options: WaitOptions, run_tools: bool) -> AsyncIterator[StreamEvent]:
        if not self._async:
            raise TypeError("this RunStream reads synchronously (it was made without async_=True): read it with "
                            "`for`, `rs.stream(...)` or `rs.wait()`; `await rs` also works")
        if options.confirm and run_tools:
            require_approver(self)  # approval fails closed: nothing is read or run that nobody can approve
        reader = self._take_reader()
        try:
            while reader is not None:
                try:
                    async for event in reader:
                        self._absorb_event(event)
                        yield event
                except (APIStreamError, APIConnectionError) as error:
                    raise await self._abroken(error) from error
                reader = None
                if run_tools and self.status == "requires_action":
                    outputs, _ = await run_tools_async(self, namespace, options)
                    reader = await self._acontinuation(outputs) if still_asking(self) else None
        except RunStreamError:
            raise
        except BaseException as error:  # also asyncio's cancellation (an interrupted `await` cell)
            await abandon_async(self, error)
            raise
        finally:
            if reader is not None:
                await reader.aclose()

    async def _acontinuation(self, outputs: list[dict[str, str]]) -> Any:
        """`_continuation` on the running event loop."""
        try:
            reader = (await oai_submit_tool_outputs(self.thread_id, self.id, outputs, stream=True, async_=True,
                                                    client=self._client))._take_reader()
        except BadRequestError:
            await self._aretrieve()
            if still_asking(self):
                raise
            return None
        answered(self, outputs)
        return reader

    async def _abroken(self, error: APIError) -> RunStreamError:
        if self._payload.get("id"):
            try:
                await self._aretrieve()
            except APIError:
                pass
        return RunStreamError(f"the stream of run {self._payload.get('id')} broke ({error}); the run is "
                              f"{self._payload.get('status')} on the server",
                              status=self._payload.get("status"), run=self)

    # pragma: no mutate start -- these read the caller's frame (namespace_for); a mutation tool's
    # wrapper frame would stand in for the caller. Their logic lives in _iterate/_aiterate, mutated.
    async def stream_async(self, on_message_delta: Callback | None = None, on_message: Callback | None = None,
                           on_run_step_delta: Callback | None = None, on_run_step: Callback | None = None,
                           on_event: Callback | None = None, env: Any = None, *,
                           on_tool_error: str = "submit", tool_timeout: float = 60.0,
                           confirm: bool = False, tools: Any = None) -> "RunStream":
        """`stream` for async readers (the seed's `stream_async`); `confirm=True` asks the
        widget's approval before each tool call."""
        callbacks = _Callbacks(on_message_delta, on_message, on_run_step_delta, on_run_step, on_event)
        options = WaitOptions.make(None, on_tool_error, tool_timeout, confirm, tools)
        try:
            async for event in self._aiterate(namespace_for(env), options, True):
                callbacks(event)
        except BaseException as error:
            await abandon_async(self, error)
            raise
        return self

    async def wait_async(self, env: Any = None, *, timeout: float | None = None, on_tool_error: str = "submit",
                         tool_timeout: float = 60.0, confirm: bool = False, tools: Any = None) -> "RunStream":
        """`wait` for async callers; `confirm=True` asks the widget's approval before each tool call."""
        return await self._wait_async(namespace_for(env),
                                      WaitOptions.make(timeout, on_tool_error, tool_timeout, confirm, tools))

    def __await__(self):
        return self._wait_async(namespace_for(None), WaitOptions.make(None)).__await__()

    # pragma: no mutate end

    def _repr_details(self) -> list[str]:
        state = "unread" if self._reader is not None else "read"
        return super()._repr_details() + [f"stream={state}"]
