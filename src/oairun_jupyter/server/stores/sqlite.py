"""The embedded store: one SQLite file (or memory), the default for one person.

WAL mode keeps readers off the writer's back; each write is one committed transaction, so a
killed server loses at most the write in flight. Several servers (one per kernel, and the CLI's)
may share the file: SQLite's locks order their writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ._migrations import migrate
from ._sql import Runner, SqlStore

__all__ = ["SQLiteStore", "default_db_path"]


def default_db_path() -> Path:
    """The database file in the user's data directory (made when missing)."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("oairun-jupyter", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)  # the user's threads: no other user may list or open them
    return folder / "runs.sqlite3"


def _private_file(path: str) -> None:
    """Make the database file readable and writable by its owner only (SQLite gives its WAL and
    shared-memory files the same mode)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(descriptor).st_uid == os.getuid():  # another user's file keeps the mode they chose
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


class SQLiteStore(SqlStore):
    """Objects as JSON documents in SQLite; `":memory:"` for a throwaway store."""

    dialect = "sqlite"
    _claim_rows = ""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _private_file(self.path)
        # a writer waits up to 30 s for another server's transaction on the same file
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
        with self._session(transaction=True) as run:
            self.upgraded_from = migrate(run, self.dialect, lambda name: bool(run(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchall()))

    @contextmanager
    def _session(self, transaction: bool = False) -> Iterator[Runner]:
        with self._lock:
            if not transaction:
                yield self._db.execute
                return
            self._db.execute("BEGIN IMMEDIATE")  # takes the write lock at once: no upgrade deadlock
            try:
                yield self._db.execute
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _is_conflict(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "objects.parent" in str(error)

    def integrity_check(self) -> str:
        return self._query("PRAGMA integrity_check")[0][0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
