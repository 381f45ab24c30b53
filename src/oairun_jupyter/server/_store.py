"""SQLite storage of the server's objects: one table, one JSON document per object.

Every object (assistant, thread, message, run, run step) is a row keyed by id with its kind,
its parent (thread or run) and a sequence number that orders objects created in the same
second. WAL mode keeps readers off the writer's back; each write is one committed transaction,
so a killed server loses at most the write in flight.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Store", "default_db_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    parent TEXT,
    created_at INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_by_parent ON objects (kind, parent, created_at, seq);
CREATE TABLE IF NOT EXISTS run_owners (
    run_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL
);
"""
_UPSERT = ("INSERT INTO objects (id, kind, parent, created_at, payload) VALUES (?, ?, ?, ?, ?) "
           "ON CONFLICT(id) DO UPDATE SET payload = excluded.payload")


def _row(kind: str, payload: dict[str, Any], parent: str | None) -> tuple[Any, ...]:
    # never a NaN or an infinity: SQLite's JSON functions (and every reader) refuse the file's row
    return (payload["id"], kind, parent, payload["created_at"],
            json.dumps(payload, separators=(",", ":"), allow_nan=False))


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


class Store:
    """Objects as JSON documents in SQLite; `":memory:"` for a throwaway store."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _private_file(self.path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def put(self, kind: str, payload: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
        """Insert or replace an object; returns the payload."""
        with self._lock:
            self._db.execute(_UPSERT, _row(kind, payload, parent))
        return payload

    def put_many(self, rows: Iterable[tuple[str, dict[str, Any], str | None]]) -> None:
        """Several `put`s in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for kind, payload, parent in rows:
                    self._db.execute(_UPSERT, _row(kind, payload, parent))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def get(self, kind: str, object_id: str) -> dict[str, Any] | None:
        """The object of that kind and id, or None."""
        with self._lock:
            row = self._db.execute("SELECT payload FROM objects WHERE id = ? AND kind = ?",
                                   (object_id, kind)).fetchone()
        return json.loads(row[0]) if row else None

    def parent_of(self, object_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT parent FROM objects WHERE id = ?", (object_id,)).fetchone()
        return row[0] if row else None

    def delete(self, kind: str, object_id: str) -> bool:
        """Delete an object and everything below it (a thread's messages, runs and steps)."""
        with self._lock:
            self._db.execute("BEGIN")
            deleted = self._db.execute("DELETE FROM objects WHERE id = ? AND kind = ?",
                                       (object_id, kind)).rowcount
            if deleted:
                self._db.execute(
                    "DELETE FROM objects WHERE parent IN (SELECT id FROM objects WHERE parent = ?)",
                    (object_id,))
                self._db.execute("DELETE FROM objects WHERE parent = ?", (object_id,))
            self._db.execute("COMMIT")
        return bool(deleted)

    def children(self, kind: str, parent: str | None, order: str = "asc") -> list[dict[str, Any]]:
        """All objects of a kind under a parent (None: top-level), oldest first or newest first."""
        direction = "DESC" if order == "desc" else "ASC"
        clause = "parent IS NULL" if parent is None else "parent = ?"
        args: tuple[Any, ...] = (kind,) if parent is None else (kind, parent)
        with self._lock:
            rows = self._db.execute(
                f"SELECT payload FROM objects WHERE kind = ? AND {clause} "
                f"ORDER BY created_at {direction}, seq {direction}", args).fetchall()
        return [json.loads(row[0]) for row in rows]

    def of_kind_where_status(self, kind: str, statuses: Iterable[str]) -> list[dict[str, Any]]:
        """Objects of a kind whose payload status is one of `statuses` (used at start-up)."""
        marks = ",".join("?" for _ in statuses)
        with self._lock:
            rows = self._db.execute(
                f"SELECT payload FROM objects WHERE kind = ? AND json_extract(payload, '$.status') "
                f"IN ({marks})", (kind, *statuses)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def set_owner(self, run_id: str, owner: str) -> None:
        """Record which server works on the run (see _owners.py)."""
        with self._lock:
            self._db.execute("INSERT INTO run_owners (run_id, owner) VALUES (?, ?) "
                             "ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner", (run_id, owner))

    def owner_of(self, run_id: str) -> str | None:
        """The server that last worked on the run (None: a database made before owners were kept)."""
        with self._lock:
            row = self._db.execute("SELECT owner FROM run_owners WHERE run_id = ?", (run_id,)).fetchone()
        return row[0] if row else None

    def integrity_check(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
