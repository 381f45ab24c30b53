"""Versioned schema migrations, for SQLite and PostgreSQL alike.

A database records its schema version in `schema_version`. On start a store applies, in one
transaction, every migration newer than that version (several servers starting at once on one
database wait for each other: SQLite's write lock, PostgreSQL's advisory lock). A database file
made before versions were kept (release 0.1.0: an `objects` table and no version) is version 1.
A database from a newer release is refused, never changed.
"""

from __future__ import annotations

import json
from typing import Callable

from ...protocol import ACTIVE_STATUSES
from ._sql import Runner, StoreError

__all__ = ["LATEST_VERSION", "migrate"]

_ACTIVE = ", ".join(f"'{status}'" for status in sorted(ACTIVE_STATUSES))


def _v1_objects(run: Runner, dialect: str) -> None:
    """Release 0.1.0: objects as JSON documents, and which server works on each run."""
    seq = "seq INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "seq BIGSERIAL PRIMARY KEY"
    run(f"CREATE TABLE IF NOT EXISTS objects ({seq}, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, "
        "parent TEXT, created_at BIGINT NOT NULL, payload TEXT NOT NULL)")
    run("CREATE INDEX IF NOT EXISTS objects_by_parent ON objects (kind, parent, created_at, seq)")
    run("CREATE TABLE IF NOT EXISTS run_owners (run_id TEXT PRIMARY KEY, owner TEXT NOT NULL)")


def _end_extra_active_runs(run: Runner) -> None:
    """Before the one-active-run constraint: a thread with several active runs (a race the old
    check-then-write allowed) keeps its newest; the others end `failed`, saying why."""
    rows = run("SELECT id, parent, payload FROM objects WHERE kind = 'run' AND status IN "
               f"({_ACTIVE}) ORDER BY created_at DESC, seq DESC").fetchall()
    seen: set[str] = set()
    for run_id, thread_id, payload in rows:
        if thread_id not in seen:
            seen.add(thread_id)
            continue
        ended = json.loads(payload)
        ended.update(status="failed", required_action=None, expires_at=None, failed_at=ended["created_at"],
                     last_error={"code": "server_error", "message":
                                 "Another run of this thread was active at the same time; start a new run."})
        run("UPDATE objects SET payload = ?, status = 'failed' WHERE id = ?",
            (json.dumps(ended, separators=(",", ":")), run_id))


def _v2_team(run: Runner, dialect: str) -> None:
    """The team server: the status (of runs, steps, messages) and owning user as columns, one
    active run per thread as a constraint, the run event log, worker heartbeats and users."""
    run("ALTER TABLE objects ADD COLUMN status TEXT")
    run("ALTER TABLE objects ADD COLUMN user_id TEXT NOT NULL DEFAULT ''")
    for object_id, payload in run("SELECT id, payload FROM objects WHERE kind IN ('run', 'step', 'message')").fetchall():
        run("UPDATE objects SET status = ? WHERE id = ?", (json.loads(payload).get("status"), object_id))
    _end_extra_active_runs(run)
    run("CREATE UNIQUE INDEX one_active_run_per_thread ON objects (parent) "
        f"WHERE kind = 'run' AND status IN ({_ACTIVE})")
    run("CREATE INDEX objects_by_status ON objects (kind, status)")
    run("CREATE INDEX objects_by_user ON objects (kind, user_id, created_at, seq)")
    run("CREATE TABLE run_events (run_id TEXT NOT NULL, seq BIGINT NOT NULL, event TEXT NOT NULL, "
        "data TEXT NOT NULL, PRIMARY KEY (run_id, seq))")
    run("CREATE TABLE workers (id TEXT PRIMARY KEY, alive_until DOUBLE PRECISION NOT NULL)")
    run("CREATE TABLE users (name TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)")


_MIGRATIONS: list[tuple[int, Callable[[Runner, str], None]]] = [(1, _v1_objects), (2, _v2_team)]
LATEST_VERSION = _MIGRATIONS[-1][0]


def migrate(run: Runner, dialect: str, has_table: Callable[[str], bool]) -> int:
    """Bring the schema to the latest version inside the caller's transaction; returns the version
    the database had (0: a new database)."""
    run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    rows = run("SELECT version FROM schema_version").fetchall()
    if rows:
        found = int(rows[0][0])
    else:
        found = 1 if has_table("objects") else 0
        run("INSERT INTO schema_version (version) VALUES (?)", (found,))
    if found > LATEST_VERSION:
        raise StoreError(f"the database has schema version {found}, made by a newer oairun-jupyter; this "
                         f"release knows versions up to {LATEST_VERSION}: upgrade oairun-jupyter to open it")
    for version, step in _MIGRATIONS:
        if version > found:
            step(run, dialect)
    run("UPDATE schema_version SET version = ?", (LATEST_VERSION,))
    return found
