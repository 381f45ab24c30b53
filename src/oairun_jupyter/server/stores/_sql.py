"""What the SQLite and PostgreSQL stores share: every query, written once.

Every object (assistant, thread, message, run, run step) is a row keyed by id with its kind, its
parent (thread or run), a sequence number that orders objects created in the same second, its
status (runs only: the database itself keeps one active run per thread) and the user it belongs
to ('' when the server has no users). A dialect says how to connect, how a statement's
placeholders are written and how a transaction is opened; nothing else differs.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from ...protocol import TERMINAL_STATUSES

__all__ = ["SqlStore", "ActiveRunConflict", "StoreError", "Runner"]

Runner = Callable[..., Any]  # run(sql, args=()) -> a cursor; the statement's placeholders are `?`

_TERMINAL = ", ".join(f"'{status}'" for status in sorted(TERMINAL_STATUSES))
# A run, a step or a message never goes back from a final status (a server that was taken for
# dead and ended by a survivor must not write its work over that end), and a run never goes from
# `cancelling` to anything but `cancelled` (or `failed`, `expired`): a worker that has not yet seen a
# cancel made through another server process must not write over it, not even with its answer's end.
_UPSERT = (
    "INSERT INTO objects (id, kind, parent, created_at, payload, status, user_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, status = excluded.status "
    "WHERE objects.status IS NULL OR objects.status = excluded.status "
    f"OR (objects.status NOT IN ({_TERMINAL}) "
    "AND NOT (objects.status = 'cancelling' AND excluded.status NOT IN ('cancelled', 'failed', 'expired')))")


_WITH_STATUS = frozenset({"run", "step", "message"})  # kinds whose status is a column (see _UPSERT)


class StoreError(Exception):
    """The database cannot be used (a schema from a newer release, an unreachable server)."""


class ActiveRunConflict(Exception):
    """The thread already has an active run: the database refused a second one."""


def _json(payload: dict[str, Any]) -> str:
    # never a NaN or an infinity: SQLite's JSON functions (and every reader) refuse the row
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)


def _row(kind: str, payload: dict[str, Any], parent: str | None, user: str) -> tuple[Any, ...]:
    status = payload.get("status") if kind in _WITH_STATUS else None
    return (payload["id"], kind, parent, payload["created_at"], _json(payload), status, user)


class SqlStore:
    """Objects as JSON documents; a subclass provides `_session` and `dialect`."""

    dialect = ""
    path = ""  # shown to people and keyed on (never holds a password)
    # claiming rows: PostgreSQL locks them and skips those another server holds; SQLite's write
    # transaction already excludes every other writer
    _claim_rows = "FOR UPDATE OF o SKIP LOCKED"

    @contextmanager
    def _session(self, transaction: bool = False) -> Iterator[Runner]:
        """A runner for statements on this store's connection, alone or in one transaction."""
        raise NotImplementedError
        yield  # pragma: no cover

    def _is_conflict(self, error: Exception) -> bool:
        raise NotImplementedError

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._session() as run:
            return run(sql, args).fetchall()

    @contextmanager
    def _conflict_as_active_run(self, thread_id: str | None) -> Iterator[None]:
        """The database's refusal of a second active run, as ActiveRunConflict."""
        try:
            yield
        except Exception as error:
            if self._is_conflict(error):
                raise ActiveRunConflict(thread_id) from None
            raise

    # --- objects --------------------------------------------------------------------------

    def put(self, kind: str, payload: dict[str, Any], parent: str | None = None, user: str = "") -> dict[str, Any]:
        """Insert or replace an object; returns the payload (a change the status guard refuses is
        not written: see `put_guarded`)."""
        self.put_guarded(kind, payload, parent, user)
        return payload

    def put_guarded(self, kind: str, payload: dict[str, Any], parent: str | None = None, user: str = "") -> bool:
        """Insert or replace an object; False when the stored status forbids the change (a run,
        step or message that ended; a run being cancelled). ActiveRunConflict for a second active run."""
        with self._conflict_as_active_run(parent), self._session() as run:
            return run(_UPSERT, _row(kind, payload, parent, user)).rowcount > 0

    def transition(self, run: dict[str, Any], expected: str) -> bool:
        """Write the run only if its stored status is still `expected` (two servers answering or
        cancelling the same run at once: exactly one wins)."""
        with self._session() as execute:
            return execute("UPDATE objects SET payload = ?, status = ? WHERE id = ? AND kind = 'run' AND status = ?",
                           (_json(run), run["status"], run["id"], expected)).rowcount > 0

    def put_many(self, rows: Iterable[tuple[str, dict[str, Any], str | None]], user: str = "") -> None:
        """Several `put`s in one transaction: all are written or none."""
        with self._conflict_as_active_run(None), self._session(transaction=True) as run:
            for kind, payload, parent in rows:
                run(_UPSERT, _row(kind, payload, parent, user))

    def get(self, kind: str, object_id: str, user: str | None = None) -> dict[str, Any] | None:
        """The object of that kind and id (and of that user, when one is given), or None."""
        if "\x00" in object_id:  # no id holds one, and PostgreSQL's text refuses it
            return None
        sql, args = "SELECT payload FROM objects WHERE id = ? AND kind = ?", (object_id, kind)
        if user is not None:
            sql, args = sql + " AND user_id = ?", args + (user,)
        rows = self._query(sql, args)
        return json.loads(rows[0][0]) if rows else None

    def delete(self, kind: str, object_id: str, user: str | None = None) -> bool:
        """Delete an object and everything below it (a thread's messages, runs, steps and events)."""
        if "\x00" in object_id:
            return False
        sql, args = "DELETE FROM objects WHERE id = ? AND kind = ?", (object_id, kind)
        if user is not None:
            sql, args = sql + " AND user_id = ?", args + (user,)
        with self._session(transaction=True) as run:
            deleted = run(sql, args).rowcount
            if deleted:
                self._delete_below(run, object_id)
        return bool(deleted)

    def delete_run_leftovers(self, thread_id: str, run_id: str) -> None:
        """Delete what a run wrote under its thread after the thread was deleted (it had not heard)."""
        with self._session(transaction=True) as run:
            run("DELETE FROM run_events WHERE run_id = ?", (run_id,))
            run("DELETE FROM run_owners WHERE run_id = ?", (run_id,))
            run("DELETE FROM objects WHERE parent = ? OR parent = ? OR id = ?", (run_id, thread_id, run_id))

    @staticmethod
    def _delete_below(run: Runner, parent: str) -> None:
        below = "SELECT id FROM objects WHERE parent = ?"
        run(f"DELETE FROM run_events WHERE run_id IN ({below})", (parent,))
        run(f"DELETE FROM run_owners WHERE run_id IN ({below})", (parent,))
        run(f"DELETE FROM objects WHERE parent IN ({below})", (parent,))
        run("DELETE FROM objects WHERE parent = ?", (parent,))

    def children(self, kind: str, parent: str | None, order: str = "asc",
                 user: str | None = None) -> list[dict[str, Any]]:
        """All objects of a kind under a parent (None: top-level, of `user` when given), oldest
        first or newest first."""
        direction = "DESC" if order == "desc" else "ASC"
        clause, args = ("parent IS NULL", (kind,)) if parent is None else ("parent = ?", (kind, parent))
        if user is not None:
            clause, args = clause + " AND user_id = ?", args + (user,)
        rows = self._query(f"SELECT payload FROM objects WHERE kind = ? AND {clause} "
                           f"ORDER BY created_at {direction}, seq {direction}", args)
        return [json.loads(row[0]) for row in rows]

    def counts(self) -> dict[str, int]:
        """How many objects of each kind are stored."""
        return {kind: int(count) for kind, count in self._query("SELECT kind, COUNT(*) FROM objects GROUP BY kind")}

    def of_kind_where_status(self, kind: str, statuses: Iterable[str]) -> list[dict[str, Any]]:
        """Runs whose status is one of `statuses` (used at start-up and by the reaper)."""
        statuses = tuple(statuses)
        marks = ",".join("?" for _ in statuses)
        rows = self._query(f"SELECT payload FROM objects WHERE kind = ? AND status IN ({marks})",
                           (kind, *statuses))
        return [json.loads(row[0]) for row in rows]

    def statuses(self, run_ids: Iterable[str]) -> dict[str, str]:
        """The stored status of each of these runs (a worker learns of cancels made elsewhere)."""
        run_ids = tuple(run_ids)
        if not run_ids:
            return {}
        marks = ",".join("?" for _ in run_ids)
        rows = self._query(f"SELECT id, status FROM objects WHERE kind = 'run' AND id IN ({marks})", run_ids)
        return dict(rows)

    # --- who works on which run -----------------------------------------------------------

    def set_owner(self, run_id: str, owner: str) -> None:
        """Record which server works on the run."""
        with self._session() as run:
            run("INSERT INTO run_owners (run_id, owner) VALUES (?, ?) "
                "ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner", (run_id, owner))

    def owner_of(self, run_id: str) -> str | None:
        """The server that last worked on the run (None: a database made before owners were kept)."""
        rows = self._query("SELECT owner FROM run_owners WHERE run_id = ?", (run_id,))
        return rows[0][0] if rows else None

    # --- worker heartbeats (PostgreSQL: several server processes) --------------------------

    def beat(self, worker: str, alive_until: float) -> None:
        """Record that the worker counts as alive until `alive_until` (its own lease from now)."""
        with self._session() as run:
            run("INSERT INTO workers (id, alive_until) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until", (worker, alive_until))

    def alive_until(self, worker: str) -> float | None:
        rows = self._query("SELECT alive_until FROM workers WHERE id = ?", (worker,))
        return float(rows[0][0]) if rows else None

    def forget_worker(self, worker: str) -> None:
        with self._session() as run:
            run("DELETE FROM workers WHERE id = ?", (worker,))

    def claim_stranded(self, worker: str, at: float) -> list[dict[str, Any]]:
        """Runs in flight whose worker's lease ran out before time `at` (or that never beat), now
        owned by `worker`: each is claimed by exactly one of the surviving servers (rows another
        server is claiming are skipped, not waited for)."""
        with self._session(transaction=True) as run:
            rows = run("SELECT o.run_id FROM run_owners o JOIN objects r ON r.id = o.run_id "
                       "LEFT JOIN workers w ON w.id = o.owner "
                       "WHERE r.kind = 'run' AND r.status IN ('queued', 'in_progress', 'cancelling') "
                       "AND o.owner <> ? AND (w.id IS NULL OR w.alive_until < ?) "
                       f"{self._claim_rows}", (worker, at)).fetchall()
            claimed = [row[0] for row in rows]
            for run_id in claimed:
                run("UPDATE run_owners SET owner = ? WHERE run_id = ?", (worker, run_id))
            if not claimed:
                return []
            marks = ",".join("?" for _ in claimed)
            payloads = run(f"SELECT payload FROM objects WHERE id IN ({marks})", tuple(claimed)).fetchall()
        return [json.loads(row[0]) for row in payloads]

    def runs_owned(self, owner: str, status: str) -> list[dict[str, Any]]:
        """The runs in `status` that `owner` was the last to work on."""
        rows = self._query("SELECT r.payload FROM objects r JOIN run_owners o ON o.run_id = r.id "
                           "WHERE r.kind = 'run' AND r.status = ? AND o.owner = ?", (status, owner))
        return [json.loads(row[0]) for row in rows]

    # --- the run event log ----------------------------------------------------------------

    def append_events(self, run_id: str, events: list[tuple[int, str, str]]) -> None:
        """Append (sequence number, event name, JSON data) rows to the run's event log."""
        with self._session(transaction=True) as run:
            for start in range(0, len(events), 500):  # one statement per 500 rows: one round trip each
                batch = events[start:start + 500]
                rows = ", ".join("(?, ?, ?, ?)" for _ in batch)
                run(f"INSERT INTO run_events (run_id, seq, event, data) VALUES {rows} "
                    "ON CONFLICT (run_id, seq) DO NOTHING",
                    tuple(value for seq, event, data in batch for value in (run_id, seq, event, data)))

    def events_after(self, run_id: str, seq: int, limit: int = 5000) -> list[tuple[int, str, str]]:
        """The run's logged events after sequence number `seq`, in order."""
        rows = self._query("SELECT seq, event, data FROM run_events WHERE run_id = ? AND seq > ? "
                           "ORDER BY seq LIMIT ?", (run_id, seq, limit))
        return [(int(s), e, d) for s, e, d in rows]

    def event_seqs(self, run_id: str, event: str) -> list[int]:
        """The sequence numbers of the run's logged events of one name."""
        return [int(row[0]) for row in self._query(
            "SELECT seq FROM run_events WHERE run_id = ? AND event = ? ORDER BY seq", (run_id, event))]

    def last_event_seq(self, run_id: str) -> int:
        """The sequence number of the run's last logged event (0: none yet)."""
        rows = self._query("SELECT MAX(seq) FROM run_events WHERE run_id = ?", (run_id,))
        return int(rows[0][0] or 0)

    # --- users ----------------------------------------------------------------------------

    def add_user(self, name: str, key_hash: str, created_at: int) -> bool:
        """Record a user with the hash of their key; False when the name is taken."""
        with self._session() as run:
            return run("INSERT INTO users (name, key_hash, created_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (name) DO NOTHING", (name, key_hash, created_at)).rowcount > 0

    def user_of_key_hash(self, key_hash: str) -> str | None:
        rows = self._query("SELECT name FROM users WHERE key_hash = ?", (key_hash,))
        return rows[0][0] if rows else None

    def users(self) -> list[str]:
        return [row[0] for row in self._query("SELECT name FROM users ORDER BY name")]

    def remove_user(self, name: str) -> bool:
        with self._session() as run:
            return run("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0

    def schema_version(self) -> int:
        return int(self._query("SELECT version FROM schema_version")[0][0])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
