"""Which server works on which run, when several server processes share a PostgreSQL database.

Each server beats (writes the time into `workers`) every `lease_seconds / 3`; a server whose last
beat is older than `lease_seconds` is dead, whatever killed it, and the runs it was working on
are claimed by a survivor (see `SqlStore.claim_stranded`). The SQLite form of this, for servers
on one machine, is `_owners.RunOwners` (file locks: the kernel knows at once when a holder dies).
"""

from __future__ import annotations

import secrets
import time

from .stores import Store

__all__ = ["HeartbeatOwners"]


class HeartbeatOwners:
    """This server's identity and heartbeat in `store`."""

    def __init__(self, store: Store, lease_seconds: float = 10.0) -> None:
        self.id = secrets.token_hex(8)
        self.lease_seconds = lease_seconds
        self._store = store
        self.beat()

    def beat(self) -> None:
        self._store.beat(self.id, time.time())

    def dead_before(self) -> float:
        """A server whose last beat is older than this is dead."""
        return time.time() - self.lease_seconds

    def is_alive(self, owner: str | None) -> bool:
        if owner == self.id:
            return True
        if owner is None:
            return False
        seen = self._store.last_beat(owner)
        return seen is not None and seen >= self.dead_before()

    def close(self) -> None:
        """This server stops: it no longer counts as alive (its runs have ended with it)."""
        self._store.forget_worker(self.id)

    def __repr__(self) -> str:
        return f"<HeartbeatOwners {self.id} lease={self.lease_seconds}s>"
