"""Approvals last as long as the run waits for them.

A call that awaits its Approve can outlive the run's wait on the server: the user cancels the
run (`%oai cancel`, `run.cancel()`, another process) or the server expires it. The round's
approvals then end as withdrawn, so the waiter goes on to see how the run ended, the card stops
asking, and a click that comes later finds nothing to approve. An Approve is checked against the
server once more before its call runs: a cancelled run's tool never runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..api import oai_retrieve_run
from ..protocol import APIConnectionError, APIError, InternalServerError, RateLimitError
from ._observers import Approver

__all__ = ["ApprovalWindow", "WATCH_SECONDS"]

WATCH_SECONDS = 1.0  # how often the run is looked at while its calls await a decision
_TRANSIENT = (APIConnectionError, RateLimitError, InternalServerError)


class ApprovalWindow:
    """The decisions of one round of calls, open while the run is `requires_action`.

    `approve(record)` answers ("approve", edited arguments or None), ("reject", None), or
    ("withdrawn", reason) once the run stopped waiting for outputs. Use as `async with`."""

    def __init__(self, run: Any, approver: Approver) -> None:
        self.run = run
        self._approver = approver
        self._closed: asyncio.Event | None = None
        self._watcher: asyncio.Task | None = None
        self._gone: str | None = None  # why the run can no longer be looked at

    async def __aenter__(self) -> "ApprovalWindow":
        self._closed = asyncio.Event()
        self._watcher = asyncio.ensure_future(self._watch())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._watcher.cancel()

    def _withdrawn(self) -> tuple[str, str] | None:
        if self._gone is not None:
            return "withdrawn", f"not run: {self._gone}"
        status = self.run.status
        if status == "requires_action":
            return None
        return "withdrawn", (f"not run: run {self.run.id} stopped waiting for tool outputs ({status}) "
                             "before this call was approved")

    async def _look(self) -> None:
        """The run as the server has it now; a passing failure changes nothing."""
        run = self.run
        try:
            run._set_payload(await oai_retrieve_run(run.thread_id, run.id, classify_response=False, async_=True,
                                                    client=run._client))
        except _TRANSIENT:
            pass
        except APIError as error:  # the run or its thread is gone: nothing can take an output
            self._gone = f"run {run.id} can no longer be read ({error})"

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
        if not decision.done() or decision.cancelled():
            return self._withdrawn() or ("reject", None)
        answer = decision.result()
        if answer[0] == "approve" and self._withdrawn() is None:
            await self._look()  # a click that came after a cancel elsewhere
        return self._withdrawn() or answer
