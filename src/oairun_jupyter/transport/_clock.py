"""The clock the client waits on: injectable so tests measure delays without waiting them."""

from __future__ import annotations

import asyncio
import time

__all__ = ["Clock", "SYSTEM_CLOCK"]


class Clock:
    """Wall time and sleeping. Subclass it to record or skip waits in tests."""

    def now(self) -> float:
        """Seconds since the epoch (used to turn an HTTP date into a delay)."""
        return time.time()

    def monotonic(self) -> float:
        """A clock for measuring elapsed time (deadlines)."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """Wait `seconds` without blocking the event loop."""
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = Clock()
