"""A deadline for the loops of the tests: each wait ends with a message saying what did not happen,
instead of hanging until the suite's timeout (or forever)."""

from __future__ import annotations

import time

__all__ = ["Deadline"]


class Deadline:
    """`while not done: deadline.check(state)`: raises AssertionError once `seconds` have passed."""

    def __init__(self, seconds: float, waiting_for: str) -> None:
        self.seconds = seconds
        self.waiting_for = waiting_for
        self._end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() > self._end

    def check(self, state: object = None) -> None:
        if self.passed:
            seen = "" if state is None else f" (last seen: {state!r})"
            raise AssertionError(f"waited {self.seconds} s for {self.waiting_for}{seen}")
