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

import logging
from typing import Any, AsyncIterator, Callable, Iterator

from ..api import oai_list_messages, oai_list_run_steps, oai_submit_tool_outputs, register_stream_type
from ..protocol import (
    APIConnectionError,
    APIError,
    APIObject,
    APIStreamError,
    EventKind,
    RunEventData,
    StreamEvent,
    event_kind,
)
from ..transport import AsyncEventStream, Client, EventStream
from ._cancel import cancel_quietly, cancel_quietly_async
from ._errors import RunError, RunStreamError
from ._observers import notify
from ._options import WaitOptions, namespace_for
from ._polling import raise_for_status, wait_sync
from ._run import Run
from ._tool_rounds import answered, require_approver, run_tools_async, run_tools_sync

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


@register_stream_type
class RunStream(Run):
    """A streamed run (what `oai_create_run(..., stream=True)` returns). See the module docs."""

    def __init__(self, stream_reader: EventStream | AsyncEventStream, client: Client | None = None) -> None:
        self._init_state(isinstance(stream_reader, AsyncEventStream), client)
        self._set_payload({"object": self.OBJECT, "status": None})
        object.__setattr__(self, "event_data", RunEventData())
        object.__setattr__(self, "_reader", stream_reader)

    event_data: RunEventData

    def _take_reader(self) -> Any:
        reader = self._reader
        if reader is None:
            raise RuntimeError("this RunStream was already read; its final state is in the Run's "
                               "fields and in event_data")
        object.__setattr__(self, "_reader", None)
        return reader

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
                    reader = self._continuation(outputs)
        except BaseException as error:
            if isinstance(error, (KeyboardInterrupt, SystemExit, RunError)) and not isinstance(error, RunStreamError) \
                    and self._payload.get("id") and not self.is_terminal:
                cancel_quietly(self)
            raise

    def _continuation(self, outputs: list[dict[str, str]]) -> Any:
        reader = oai_submit_tool_outputs(self.thread_id, self.id, outputs, stream=True, async_=self._async,
                                         client=self._client)._reader
        answered(self, outputs)
        return reader

    # pragma: no mutate start -- these read the caller's frame (namespace_for); a mutation tool's
    # wrapper frame would stand in for the caller. Their logic lives in _iterate/_aiterate, mutated.
    def stream(self, on_message_delta: Callback | None = None, on_message: Callback | None = None,
               on_run_step_delta: Callback | None = None, on_run_step: Callback | None = None,
               on_event: Callback | None = None, env: Any = None, *, on_tool_error: str = "submit",
               tool_timeout: float = 60.0, tools: Any = None) -> "RunStream":
        """Read the whole stream, calling the callbacks (see the module docs for their order)."""
        callbacks = _Callbacks(on_message_delta, on_message, on_run_step_delta, on_run_step, on_event)
        options = WaitOptions.make(None, on_tool_error, tool_timeout, tools=tools)
        for event in self._iterate(namespace_for(env), options, True):
            callbacks(event)
        return self

    def wait(self, env: Any = None, *, timeout: float | None = None, on_tool_error: str = "submit",
             tool_timeout: float = 60.0, tools: Any = None) -> Any:
        """Read the stream to its end (running tools); raise RunError unless it completed.

        If the stream breaks once the run exists, waiting goes on by polling that same run (never
        by creating another), and `event_data` is refreshed from the server at the end.
        """
        if self._async:
            return self.wait_async(env, on_tool_error=on_tool_error, tool_timeout=tool_timeout, tools=tools)
        namespace = namespace_for(env)
        options = WaitOptions.make(timeout, on_tool_error, tool_timeout, tools=tools)
        if self._reader is not None:
            try:
                for _ in self._iterate(namespace, WaitOptions.make(None, on_tool_error, tool_timeout, tools=tools),
                                       True):
                    pass
            except RunStreamError as error:
                if not self._payload.get("id"):
                    raise
                log.warning("%s; following the run by polling instead", error)
                if not self.is_terminal:
                    wait_sync(self, namespace, options)
                self._refresh_event_data()
        raise_for_status(self)
        return self

    # pragma: no mutate end

    def _refresh_event_data(self) -> None:
        """The run's messages and steps as the server has them (after a broken stream)."""
        messages = oai_list_messages(self.thread_id, order="asc", run_id=self.id, limit=1000,
                                     classify_response=False, client=self._client)
        steps = oai_list_run_steps(self.thread_id, self.id, order="asc", limit=1000, classify_response=False,
                                   client=self._client)
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
                    reader = await self._acontinuation(outputs)
        except BaseException as error:
            interrupted = isinstance(error, (KeyboardInterrupt, SystemExit, RunError)) \
                or type(error).__name__ == "CancelledError"
            if interrupted and not isinstance(error, RunStreamError) and self._payload.get("id") \
                    and not self.is_terminal:
                await cancel_quietly_async(self)
            raise

    async def _acontinuation(self, outputs: list[dict[str, str]]) -> Any:
        reader = (await oai_submit_tool_outputs(self.thread_id, self.id, outputs, stream=True, async_=True,
                                                client=self._client))._reader
        answered(self, outputs)
        return reader

    async def _abroken(self, error: APIError) -> RunStreamError:
        if self._payload.get("id"):
            try:
                await self.retrieve()
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
        async for event in self._aiterate(namespace_for(env), options, True):
            callbacks(event)
        return self

    async def wait_async(self, env: Any = None, *, timeout: float | None = None, on_tool_error: str = "submit",
                         tool_timeout: float = 60.0, confirm: bool = False, tools: Any = None) -> "RunStream":
        """`wait` for async callers; `confirm=True` asks the widget's approval before each tool call."""
        if self._reader is not None:
            options = WaitOptions.make(None, on_tool_error, tool_timeout, confirm, tools)
            async for _ in self._aiterate(namespace_for(env), options, True):
                pass
        raise_for_status(self)
        return self

    def __await__(self):
        return self.wait_async(namespace_for(None)).__await__()

    # pragma: no mutate end

    def _repr_details(self) -> list[str]:
        state = "unread" if self._reader is not None else "read"
        return super()._repr_details() + [f"stream={state}"]
