"""Cancelling a run this client can no longer drive, so nothing is left running on the server."""

from __future__ import annotations

import logging
from typing import Any

from ..api import oai_cancel_run, oai_retrieve_run

__all__ = ["cancel_quietly", "cancel_quietly_async", "abandon", "abandon_async"]

log = logging.getLogger("oairun_jupyter.runs")

_SETTLE_POLLS = 40  # after a cancel, how many short polls wait for `cancelled` (about 2 s)


def cancel_quietly(run: Any) -> bool:
    """Cancel on the server if the run is still going, and wait briefly until it is `cancelled`;
    a cancel that fails (for any reason: it runs while another error is on its way out) is
    only logged. Goes through the run's own client. Whether the server took the cancel."""
    client = run._client
    try:
        run._set_payload(oai_cancel_run(run.thread_id, run.id, classify_response=False, client=client))
        for _ in range(_SETTLE_POLLS):
            if run.is_terminal:
                break
            client.config.clock.sleep(0.05)
            run._set_payload(oai_retrieve_run(run.thread_id, run.id, classify_response=False, client=client))
    except Exception as error:
        log.info("could not cancel run %s: %s", run.id, error)
        return False
    return True


async def cancel_quietly_async(run: Any) -> bool:
    """`cancel_quietly` on the running event loop."""
    client = run._client
    try:
        run._set_payload(await oai_cancel_run(run.thread_id, run.id, classify_response=False, async_=True,
                                              client=client))
        for _ in range(_SETTLE_POLLS):
            if run.is_terminal:
                break
            await client.config.clock.async_sleep(0.05)
            run._set_payload(await oai_retrieve_run(run.thread_id, run.id, classify_response=False, async_=True,
                                                    client=client))
    except Exception as error:
        log.info("could not cancel run %s: %s", run.id, error)
        return False
    return True


def _should_abandon(run: Any, error: BaseException) -> bool:
    # GeneratorExit: the caller stopped reading a stream on purpose (a later wait() follows the run)
    return bool(run._payload.get("id")) and not run.is_terminal and not isinstance(error, GeneratorExit) \
        and not getattr(error, "_oairun_abandoned", False)


def _say_cancelled(run: Any, error: BaseException, ended: bool) -> None:
    if ended:
        note = (f"oairun: run {run.id} could no longer be driven from here and was cancelled on the server "
                f"(now {run.status}); its thread takes new runs")
    else:
        note = (f"oairun: run {run.id} could no longer be driven from here, and cancelling it failed; "
                f"`oai_cancel_run({run.thread_id!r}, {run.id!r})` tries again")
    try:
        error._oairun_abandoned = True  # once, however many layers it leaves
        error.add_note(note)
    except AttributeError:  # an exception type with __slots__: the cancel itself still happened
        pass


def abandon(run: Any, error: BaseException) -> None:
    """Whatever ends a wait, a stream or a tool round early (any exception, an interrupt, a
    tool's sys.exit()), a run this client was driving is cancelled, not left waiting for outputs
    that will never come (its thread would refuse new runs until it expires)."""
    if _should_abandon(run, error):
        _say_cancelled(run, error, cancel_quietly(run))


async def abandon_async(run: Any, error: BaseException) -> None:
    """`abandon` on the running event loop."""
    if _should_abandon(run, error):
        _say_cancelled(run, error, await cancel_quietly_async(run))
