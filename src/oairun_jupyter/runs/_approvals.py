"""Approvals last as long as the run waits for them.

A call that awaits its Approve can outlive the run's wait on the server: the user cancels the
run (`%oai cancel`, `run.cancel()`, another process) or the server expires it. The round's
approvals then end as withdrawn, so the waiter goes on to see how the run ended, the card stops
asking, and a click that comes later finds nothing to approve. Once the round's decisions are in,
the run is looked at once more before any approved call runs: a cancelled run's tool never runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..api import oai_retrieve_run
from ..protocol import APIError
from ._observers import Approver

__all__ = ["ApprovalWindow", "WATCH_SECONDS"]

log = logging.getLogger("oairun_jupyter.runs")

WATCH_SECONDS = 1.0  # how often the run is looked at while its calls await a decision


class ApprovalWindow:
    """The decisions of one round of calls, open while the run is `requires_action`.

    `approve(record)` answers ("approve", edited arguments or None), ("reject", None), or
    ("withdrawn", reason) once the run stopped waiting for outputs; `still_open()` looks at the
    run once more before the approved calls run. Use as `async with`."""

    def __init__(self, run: Any, approver: Approver) -> None:
        self.run = run
        self._approver = approver
        self._closed: asyncio.Event | None = None
        self._watcher: asyncio.Task | None = None

    async def __aenter__(self) -> "ApprovalWindow":
        self._closed = asyncio.Event()
        self._watcher = asyncio.ensure_future(self._watch())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closed.set()  # a decision still awaited (the round failed) is not awaited any longer
        self._watcher.cancel()

    def _withdrawn(self) -> str | None:
        status = self.run.status
        if status == "requires_action":
            return None
        return f"not run: run {self.run.id} stopped waiting for tool outputs ({status}) before this call ran"

    async def _look(self) -> None:
        """The run as the server has it now. A failed look changes nothing: only the run's own
        status withdraws a call (a passing 404 or 401 from a proxy must not answer for the user)."""
        run = self.run
        try:
            run._set_payload(await oai_retrieve_run(run.thread_id, run.id, classify_response=False, async_=True,
                                                    client=run._client))
        except APIError as error:
            log.info("could not look at run %s while its calls await approval: %s", run.id, error)

    async def _watch(self) -> None:
        clock = self.run._client.config.clock
        while self._withdrawn() is None:
            await clock.async_sleep(WATCH_SECONDS)
            await self._look()
        self._closed.set()

    async def approve(self, record: Any) -> tuple[str, Any]:
        """The user's decision on `record`, unless the run stops waiting first."""
        decision = asyncio.ensure_future(self._approver(record))
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({decision, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            decision.cancel()  # a decision still awaited: its card stops asking
        reason = self._withdrawn()
        if reason is not None:
            return "withdrawn", reason
        if not decision.done() or decision.cancelled():
            return "reject", None
        return decision.result()

    async def still_open(self) -> str | None:
        """None while the run still waits for this round; else why its approved calls must not run
        (a cancel elsewhere that came while the decisions did)."""
        if self._withdrawn() is None:
            await self._look()
        return self._withdrawn()
