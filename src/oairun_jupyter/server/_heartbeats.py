"""Which server works on which run, when several server processes share a PostgreSQL database.

Each server writes into `workers` the time until which it counts as alive (now plus its own
lease), every third of its lease, from a thread of its own: a server whose event loop is busy
(a huge answer being stored) still lives. A server whose time has passed is dead, whatever killed
it, and the runs it was working on are claimed by a survivor (see `SqlStore.claim_stranded`).
Each server is judged by the lease it announced, not by the judge's own. The SQLite form of this,
for servers on one machine, is `_owners.RunOwners` (file locks: the kernel knows at once when a
holder dies).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

from .stores import Store

__all__ = ["HeartbeatOwners"]

log = logging.getLogger("oairun_jupyter.server")


class HeartbeatOwners:
    """This server's identity and heartbeat in `store`."""

    def __init__(self, store: Store, lease_seconds: float = 10.0) -> None:
        self.id = secrets.token_hex(8)
        self.lease_seconds = lease_seconds
        self._store = store
        self._stopped = threading.Event()
        self.beat()
        self._beater = threading.Thread(target=self._beat_until_closed, name=f"oairun-heartbeat-{self.id}",
                                         daemon=True)
        self._beater.start()

    def beat(self) -> None:
        self._store.beat(self.id, time.time() + self.lease_seconds)

    def _beat_until_closed(self) -> None:
        while not self._stopped.wait(self.lease_seconds / 3):
            try:
                self.beat()
            except Exception as error:  # the database is away: the next beat tries again
                log.warning("heartbeat not written (%s): the next one tries again", type(error).__name__)

    def is_alive(self, owner: str | None) -> bool:
        if owner == self.id:
            return True
        if owner is None:
            return False
        until = self._store.alive_until(owner)
        return until is not None and until >= time.time()

    def close(self) -> None:
        """This server stops: it no longer counts as alive (its runs have ended with it)."""
        self._stopped.set()
        self._beater.join(5)
        try:
            self._store.forget_worker(self.id)
        except Exception:  # the database is away: the lease runs out on its own
            log.warning("could not remove this server's heartbeat; it runs out with its lease")

    def __repr__(self) -> str:
        return f"<HeartbeatOwners {self.id} lease={self.lease_seconds}s>"
