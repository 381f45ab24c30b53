"""Which server works on which run, when several servers share one database file.

Every kernel that starts its local server on the default file, and the CLI server, may use the
same SQLite file at once. A server starting up ends the runs that a dead server left in flight;
it must not end the runs another live server is working on. Each server holds an exclusive lock
on a file of its own for its whole life (the operating system drops the lock when the process
dies, however it dies), and records itself as the owner of each run it works on: a run whose
owner's lock can be taken was left by a dead server.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; every other server counts as dead (the old rule)
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunOwners"]

log = logging.getLogger("oairun_jupyter.server")


class RunOwners:
    """This server's identity and lock beside the database at `db_path` (none for ":memory:")."""

    def __init__(self, db_path: str) -> None:
        self.id = secrets.token_hex(8)
        self._folder: Path | None = None
        self._lock_file = None
        if db_path == ":memory:" or fcntl is None:
            return
        folder = Path(db_path + ".owners")
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            self._lock_file = open(folder / f"{self.id}.lock", "w")
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:  # a folder this user cannot write: as without locks
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None
            log.warning("cannot keep run owners beside %s (%s): a server starting on this file will "
                        "end every run in flight", db_path, error)
            return
        self._folder = folder
        self._sweep()

    def _sweep(self) -> None:
        """Remove the lock files of servers that are gone (a server stopped by a signal leaves its
        file behind): the folder holds one file per live server."""
        for path in self._folder.glob("*.lock"):
            owner = path.name[:-len(".lock")]
            if owner != self.id:
                self.is_alive(owner)  # removes the file when its lock is free

    def is_alive(self, owner: str | None) -> bool:
        """Whether the server `owner` still runs (this one does; an unknown or dead one does not)."""
        if owner == self.id:
            return True
        if owner is None or self._folder is None or not owner.isalnum():
            return False
        path = self._folder / f"{owner}.lock"
        try:
            with open(path) as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except FileNotFoundError:
            return False
        except BlockingIOError:
            return True  # its server holds the lock: it lives
        path.unlink(missing_ok=True)  # the lock was free: its server is gone
        return False

    def close(self) -> None:
        """Release the lock (the server is stopping: its runs end with it)."""
        if self._lock_file is not None:
            self._lock_file.close()
            (self._folder / f"{self.id}.lock").unlink(missing_ok=True)
            self._lock_file = None

    def __repr__(self) -> str:
        return f"<RunOwners {self.id}>"
