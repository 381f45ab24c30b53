"""Waiting for a run: polling at the server's pace, answering tool calls, ending cleanly.

`wait_sync` and `wait_async` are twins. Both poll at the interval the server asks for
(`openai-poll-after-ms`, 1 s when absent), back off on transient errors, run the tools of a
`requires_action` and submit their outputs, and on a timeout or an interrupt cancel the run on
the server before raising, so nothing is left running behind the user's back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

from ._client import get_client
from ._exceptions import (APIConnectionError, APIError, InternalServerError, RateLimitError,
                          RunError, RunTimeoutError, ToolCallError)
from ._request import Endpoint, fetch, fetch_async
from ._tool_calls import ToolCallRecord, ToolExecutor, declared_function_names
from ._tool_namespace import namespace_of

__all__ = ["WaitOptions", "namespace_for", "wait_sync", "wait_async", "run_tools_sync",
           "run_tools_async", "raise_for_status"]

log = logging.getLogger("oairun_jupyter.runs")

DEFAULT_POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
_TRANSIENT = (APIConnectionError, RateLimitError, InternalServerError)


@dataclass(frozen=True)
class WaitOptions:
    """How to wait: total timeout (None: forever), what a failing tool does, per-tool timeout."""

    timeout: float | None = 300.0
    on_tool_error: str = "submit"
    tool_timeout: float = 60.0
    confirm: bool = False  # each call waits for approval in the widget (async waits only)

    @classmethod
    def make(cls, timeout: float | None = 300.0, on_tool_error: str = "submit",
             tool_timeout: float = 60.0, confirm: bool = False) -> "WaitOptions":
        if on_tool_error not in ("submit", "raise"):
            raise ValueError(f"on_tool_error must be 'submit' (the model sees the error) or 'raise', "
                             f"got {on_tool_error!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a number of seconds above 0 or None, got {timeout!r}")
        if tool_timeout <= 0:
            raise ValueError(f"tool_timeout must be a number of seconds above 0, got {tool_timeout!r}")
        return cls(timeout, on_tool_error, tool_timeout, confirm)


def namespace_for(env: Any) -> Mapping[str, Any]:
    """The tool namespace for a public Run method called with `env` (None: that method's caller)."""
    return namespace_of(env, depth=2)


def raise_for_status(run: Any) -> None:
    """RunError for a run that ended failed, cancelled or expired."""
    status = run.status
    if status in ("failed", "cancelled", "expired"):
        error = run.last_error or {}
        detail = f": {error.get('message')} ({error.get('code')})" if error else ""
        raise RunError(f"run {run.id} {status}{detail}", status=status, last_error=run.last_error, run=run)


def _poll_seconds(headers: Mapping[str, str]) -> float:
    try:
        return max(int(headers.get("openai-poll-after-ms", "")) / 1000.0, 0.0)
    except ValueError:
        return DEFAULT_POLL_SECONDS


def _endpoint(run: Any) -> Endpoint:
    return Endpoint("GET", f"/threads/{run.thread_id}/runs/{run.id}")


def _declared(run: Any) -> set[str]:
    names = declared_function_names(run.tools)
    if not names and not run.tools:  # the run inherits the assistant's tools
        from ._api_assistants import oai_retrieve_assistant
        names = declared_function_names(oai_retrieve_assistant(run.assistant_id).tools)
    return names


def _pending_calls(run: Any) -> list[dict[str, Any]]:
    action = run.required_action or {}
    return list((action.get("submit_tool_outputs") or {}).get("tool_calls") or [])


def _tracker(run: Any):
    """A callback that keeps each record in `run.tool_calls` from its start and tells observers."""
    def track(record: ToolCallRecord) -> None:
        if not any(known is record for known in run.tool_calls):
            run.tool_calls.append(record)
        run._notify("tool", record)
    return track


def _outputs(run: Any, records: list[ToolCallRecord], options: WaitOptions) -> list[dict[str, str]]:
    failed = [r for r in records if r.status in ("error", "timeout")]
    if failed and options.on_tool_error == "raise":
        record = failed[0]
        raise ToolCallError(f"tool {record.name} failed: {record.error}; the run was cancelled",
                            record=record, status=run.status, run=run)
    return [{"tool_call_id": r.call_id, "output": r.output or ""} for r in records]


def run_tools_sync(run: Any, namespace: Mapping[str, Any], options: WaitOptions,
                   on_record: Any = None) -> tuple[list[dict[str, str]], list[ToolCallRecord]]:
    """Run the pending calls; (outputs to submit, records)."""
    executor = ToolExecutor(namespace, _declared(run), timeout=options.tool_timeout)
    if options.confirm:
        raise ValueError("confirm=True waits for clicks, which a blocking call cannot receive: use "
                         "`await run.wait_async(confirm=True)` or a background run")
    records = executor.run(_pending_calls(run), on_record or _tracker(run))
    return _outputs(run, records, options), records


async def run_tools_async(run: Any, namespace: Mapping[str, Any], options: WaitOptions,
                          on_record: Any = None) -> tuple[list[dict[str, str]], list[ToolCallRecord]]:
    """`run_tools_sync` on the running event loop."""
    executor = ToolExecutor(namespace, _declared(run), timeout=options.tool_timeout,
                            approve=getattr(run, "_approver", None) if options.confirm else None)
    records = await executor.run_async(_pending_calls(run), on_record or _tracker(run))
    return _outputs(run, records, options), records


_SETTLE_POLLS = 40  # after a cancel, how many short polls wait for `cancelled` (about 2 s)


def rerun_tool_call(run: Any, call_id: str, arguments: str | None, namespace: Mapping[str, Any]) -> ToolCallRecord:
    """Call a recorded tool again and keep the result beside the original (see Run.rerun_tool)."""
    record = next((r for r in run.tool_calls if r.call_id == call_id), None)
    if record is None:
        known = ", ".join(r.call_id for r in run.tool_calls) or "none"
        raise ValueError(f"no tool call {call_id!r} in this run (its calls: {known})")
    arguments = record.arguments if arguments is None else arguments
    executor = ToolExecutor(namespace, {record.name})
    (again,) = executor.run([{"id": call_id, "type": "function",
                              "function": {"name": record.name, "arguments": arguments}}])
    record.reruns.append({"arguments": arguments, "status": again.status, "output": again.output,
                          "error": again.error, "function": again.function, "duration": again.duration})
    run._notify("tool", record)
    return again


def cancel_quietly(run: Any) -> None:
    """Cancel on the server if the run is still going, and wait briefly until it is `cancelled`;
    a cancel that fails is only logged."""
    from ._api_runs import oai_cancel_run, oai_retrieve_run
    clock = get_client().config.clock
    try:
        run._set_payload(oai_cancel_run(run.thread_id, run.id, classify_response=False))
        for _ in range(_SETTLE_POLLS):
            if run.is_terminal:
                break
            clock.sleep(0.05)
            run._set_payload(oai_retrieve_run(run.thread_id, run.id, classify_response=False))
    except APIError as error:
        log.info("could not cancel run %s: %s", run.id, error)


async def cancel_quietly_async(run: Any) -> None:
    from ._api_runs import oai_cancel_run, oai_retrieve_run
    clock = get_client().config.clock
    try:
        run._set_payload(await oai_cancel_run(run.thread_id, run.id, classify_response=False, async_=True))
        for _ in range(_SETTLE_POLLS):
            if run.is_terminal:
                break
            await clock.async_sleep(0.05)
            run._set_payload(await oai_retrieve_run(run.thread_id, run.id, classify_response=False, async_=True))
    except APIError as error:
        log.info("could not cancel run %s: %s", run.id, error)


def _timeout_error(run: Any, options: WaitOptions) -> RunTimeoutError:
    return RunTimeoutError(f"run {run.id} did not finish within {options.timeout:g} s and was cancelled; "
                           "pass timeout= to wait longer (None waits forever)",
                           status=run.status, run=run)


def wait_sync(run: Any, namespace: Mapping[str, Any], options: WaitOptions) -> Any:
    clock = get_client().config.clock
    deadline = None if options.timeout is None else clock.monotonic() + options.timeout
    failures = 0
    try:
        while True:
            try:
                reply = fetch(_endpoint(run))
            except _TRANSIENT as error:
                failures += 1
                delay = min(DEFAULT_POLL_SECONDS * 2 ** failures, MAX_BACKOFF_SECONDS)
                log.warning("polling run %s failed (%s); trying again in %.0f s", run.id, error, delay)
            else:
                failures = 0
                run._set_payload(reply.payload)
                if run.status in ("completed", "incomplete"):
                    return run
                raise_for_status(run)
                if run.status == "requires_action":
                    outputs, _ = run_tools_sync(run, namespace, options)
                    run.submit_tool_outputs(outputs)
                    continue
                delay = _poll_seconds(reply.headers)
            if deadline is not None and clock.monotonic() + delay > deadline:
                cancel_quietly(run)
                raise _timeout_error(run, options)
            clock.sleep(delay)
    except (KeyboardInterrupt, ToolCallError):
        cancel_quietly(run)
        raise


async def wait_async(run: Any, namespace: Mapping[str, Any], options: WaitOptions) -> Any:
    if run._pending is not None:
        await run.retrieve()
    clock = get_client().config.clock
    deadline = None if options.timeout is None else clock.monotonic() + options.timeout
    failures = 0
    try:
        while True:
            try:
                reply = await fetch_async(_endpoint(run))
            except _TRANSIENT as error:
                failures += 1
                delay = min(DEFAULT_POLL_SECONDS * 2 ** failures, MAX_BACKOFF_SECONDS)
                log.warning("polling run %s failed (%s); trying again in %.0f s", run.id, error, delay)
            else:
                failures = 0
                run._set_payload(reply.payload)
                if run.status in ("completed", "incomplete"):
                    return run
                raise_for_status(run)
                if run.status == "requires_action":
                    outputs, _ = await run_tools_async(run, namespace, options)
                    await run.submit_tool_outputs(outputs)
                    continue
                delay = _poll_seconds(reply.headers)
            if deadline is not None and clock.monotonic() + delay > deadline:
                await cancel_quietly_async(run)
                raise _timeout_error(run, options)
            await clock.async_sleep(delay)
    except (KeyboardInterrupt, ToolCallError):
        await cancel_quietly_async(run)
        raise
    except BaseException as error:  # asyncio cancellation (an interrupted `await` cell)
        if type(error).__name__ == "CancelledError":
            await cancel_quietly_async(run)
        raise
