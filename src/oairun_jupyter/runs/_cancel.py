"""Cancelling a run this client can no longer drive, so nothing is left running on the server."""

from __future__ import annotations

import logging
from typing import Any

from ..api import oai_cancel_run, oai_retrieve_run
from ..protocol import APIError

__all__ = ["cancel_quietly", "cancel_quietly_async"]

log = logging.getLogger("oairun_jupyter.runs")

_SETTLE_POLLS = 40  # after a cancel, how many short polls wait for `cancelled` (about 2 s)


def cancel_quietly(run: Any) -> None:
    """Cancel on the server if the run is still going, and wait briefly until it is `cancelled`;
    a cancel that fails is only logged. Goes through the run's own client."""
    client = run._client
    try:
        run._set_payload(oai_cancel_run(run.thread_id, run.id, classify_response=False, client=client))
        for _ in range(_SETTLE_POLLS):
            if run.is_terminal:
                break
            client.config.clock.sleep(0.05)
            run._set_payload(oai_retrieve_run(run.thread_id, run.id, classify_response=False, client=client))
    except APIError as error:
        log.info("could not cancel run %s: %s", run.id, error)


async def cancel_quietly_async(run: Any) -> None:
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
    except APIError as error:
        log.info("could not cancel run %s: %s", run.id, error)
