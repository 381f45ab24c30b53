"""Waiting for a run by polling: at the server's pace, answering tool calls, ending cleanly.

`wait_sync` and `wait_async` are twins. Both poll at the interval the server asks for
(`openai-poll-after-ms`, 1 s when absent), back off on transient errors, run the tools of a
`requires_action` and submit their outputs, and on a timeout or an interrupt cancel the run on
the server before raising, and so does any other way out (`_cancel.abandon`): nothing is left
waiting behind the user's back. Every request goes
through the run's own client.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from .._weak_table import IdentityTable
from ..api import Endpoint, fetch, fetch_async
from ..protocol import (
    FAILED_STATUSES,
    SUCCESSFUL_STATUSES,
    APIConnectionError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)
from ._cancel import abandon, abandon_async, cancel_quietly, cancel_quietly_async
from ._errors import RunError, RunTimeoutError
from ._options import WaitOptions
from ._tool_rounds import answered, require_approver, run_tools_async, run_tools_sync, still_asking

__all__ = ["wait_sync", "wait_async", "raise_for_status", "unanswered_for"]

log = logging.getLogger("oairun_jupyter.runs")

DEFAULT_POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
_TRANSIENT = (APIConnectionError, RateLimitError, InternalServerError)

# runs whose polls fail in a row: (when the first failed, on the run's clock; the last error)
_unanswered = IdentityTable()


def unanswered_for(run: Any) -> tuple[float, str] | None:
    """How long the polls of `run` have failed in a row (seconds, the last error), None while
    its server answers: a waiter can tell a run going on from a server gone (it is retried)."""
    entry = _unanswered.get(run)
    if entry is None:
        return None
    return run._client.config.clock.monotonic() - entry[0], entry[1]


def _answered(run: Any) -> None:
    if _unanswered.get(run) is not None:
        _unanswered.set(run, None)


def raise_for_status(run: Any) -> None:
    """RunError for a run that ended failed, cancelled or expired."""
    status = run.status
    if status in FAILED_STATUSES:
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


def _timeout_error(run: Any, options: WaitOptions) -> RunTimeoutError:
    return RunTimeoutError(f"run {run.id} did not finish within {options.timeout:g} s and was cancelled; "
                           "pass timeout= to wait longer (None waits forever)",
                           status=run.status, run=run)


def _backoff(run: Any, failures: int, error: Exception) -> float:
    """Seconds to wait after `failures` failed polls in a row (doubling, capped), said in the log."""
    delay = min(DEFAULT_POLL_SECONDS * 2 ** failures, MAX_BACKOFF_SECONDS)
    log.warning("polling run %s failed (%s); trying again in %.0f s", run.id, error, delay)
    since = _unanswered.get(run)
    _unanswered.set(run, (since[0] if since else run._client.config.clock.monotonic(), str(error)))
    return delay


def wait_sync(run: Any, namespace: Mapping[str, Any], options: WaitOptions) -> Any:
    """Poll `run` until it ends, answering its tool calls from `namespace` (see the module docs)."""
    clock = run._client.config.clock
    deadline = None if options.timeout is None else clock.monotonic() + options.timeout
    failures = 0
    try:
        while True:
            try:
                reply = fetch(_endpoint(run), run._client)
            except _TRANSIENT as error:
                failures += 1
                delay = _backoff(run, failures, error)
            else:
                failures = 0
                _answered(run)
                run._set_payload(reply.payload)
                if run.status in SUCCESSFUL_STATUSES:
                    return run
                raise_for_status(run)
                if run.status == "requires_action":
                    outputs, _ = run_tools_sync(run, namespace, options)
                    if still_asking(run):  # else cancelled meanwhile: the next poll sees how it ended
                        try:
                            run.submit_tool_outputs(outputs)
                        except BadRequestError:  # refused: it may have ended elsewhere meanwhile
                            run._set_payload(fetch(_endpoint(run), run._client).payload)
                            if still_asking(run):
                                raise
                            continue
                        answered(run, outputs)
                    continue
                delay = _poll_seconds(reply.headers)
            if deadline is not None and clock.monotonic() + delay > deadline:
                cancel_quietly(run)
                raise _timeout_error(run, options)
            clock.sleep(delay)
    except BaseException as error:  # anything: an interrupt, a tool's sys.exit(), a bug, a broken server
        abandon(run, error)
        raise


async def wait_async(run: Any, namespace: Mapping[str, Any], options: WaitOptions) -> Any:
    """`wait_sync` on the running event loop (an interrupted `await` cell cancels the run)."""
    if options.confirm:
        require_approver(run)  # before the run is even created: nothing starts that nobody can approve
    if run._pending is not None:
        await run._aretrieve()
    clock = run._client.config.clock
    deadline = None if options.timeout is None else clock.monotonic() + options.timeout
    failures = 0
    try:
        while True:
            try:
                reply = await fetch_async(_endpoint(run), run._client)
            except _TRANSIENT as error:
                failures += 1
                delay = _backoff(run, failures, error)
            else:
                failures = 0
                _answered(run)
                run._set_payload(reply.payload)
                if run.status in SUCCESSFUL_STATUSES:
                    return run
                raise_for_status(run)
                if run.status == "requires_action":
                    outputs, _ = await run_tools_async(run, namespace, options)
                    if still_asking(run):
                        try:
                            await run._asubmit(outputs)
                        except BadRequestError:
                            run._set_payload((await fetch_async(_endpoint(run), run._client)).payload)
                            if still_asking(run):
                                raise
                            continue
                        answered(run, outputs)
                    continue
                delay = _poll_seconds(reply.headers)
            if deadline is not None and clock.monotonic() + delay > deadline:
                await cancel_quietly_async(run)
                raise _timeout_error(run, options)
            await clock.async_sleep(delay)
    except BaseException as error:  # also asyncio's cancellation (an interrupted `await` cell)
        await abandon_async(run, error)
        raise
