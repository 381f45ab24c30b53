"""Object ids shaped like the service's: a prefix and 24 random letters and digits."""

from __future__ import annotations

import secrets
import string
import time

__all__ = ["new_id", "now"]

_ALPHABET = string.ascii_letters + string.digits
PREFIXES = {"assistant": "asst", "thread": "thread", "message": "msg", "run": "run",
            "step": "step", "call": "call"}


def new_id(kind: str) -> str:
    """A fresh id for an object of `kind` ("assistant", "thread", "message", "run", "step", "call")."""
    return PREFIXES[kind] + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def now() -> int:
    """The current time as the service stamps it: whole seconds since the epoch."""
    return int(time.time())
