"""When to retry a request and how long to wait first, as the official SDK does it.

Retried: connection errors, timeouts, 408, 409, 429 and every status >= 500, unless the server
says otherwise with `x-should-retry`. The wait is the server's `retry-after-ms` or `retry-after`
(seconds or an HTTP date) when it lies in (0, 60] seconds, else exponential back-off with jitter:
`min(0.5 * 2**n, 8) * (1 - 0.25 * random())`.
"""

from __future__ import annotations

import email.utils
import random
from typing import Callable, Mapping

__all__ = ["INITIAL_DELAY", "MAX_DELAY", "should_retry_status", "retry_delay"]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
_MAX_SERVER_DELAY = 60.0
_RETRIED_STATUSES = frozenset({408, 409, 429})


def should_retry_status(status_code: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with this status is worth another attempt."""
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status_code in _RETRIED_STATUSES or status_code >= 500


def _server_delay(headers: Mapping[str, str], now: float) -> float | None:
    """The delay the server asked for, in seconds, or None when it asked for none we accept."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return email.utils.mktime_tz(parsed) - now


def retry_delay(
    retries_done: int,
    headers: Mapping[str, str] | None,
    *,
    now: float,
    random_fraction: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `retries_done + 1`."""
    if headers:
        delay = _server_delay(headers, now)
        if delay is not None and 0 < delay <= _MAX_SERVER_DELAY:
            return delay
    backoff = min(INITIAL_DELAY * 2.0 ** retries_done, MAX_DELAY)
    return backoff * (1.0 - 0.25 * random_fraction())
