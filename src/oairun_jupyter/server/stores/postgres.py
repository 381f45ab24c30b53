"""The team store: PostgreSQL (psycopg 3), shared by any number of server processes.

The schema is the SQLite store's (same migrations); the statements are the same, with
PostgreSQL's placeholders. Each statement commits on its own unless it is part of a transaction.
A connection the database dropped (a restart, a failover) is opened again on the next statement.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from ._migrations import migrate
from ._sql import Runner, SqlStore, StoreError

__all__ = ["PostgresStore", "is_postgres_url", "shown_url"]

_SESSION_OPTIONS = "-c lock_timeout=5000 -c idle_in_transaction_session_timeout=5000"  # milliseconds
_MIGRATION_LOCK = 0x6F61_6972_756E  # pg_advisory_xact_lock key: servers starting at once migrate one by one


def is_postgres_url(db: object) -> bool:
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs: read by hand, not by a URL parser,
    because a password may hold what a parser takes for the URL's end (`#`, `/`, `?`, `@`)."""
    scheme, _, rest = url.partition("://")
    at = rest.rfind("@")
    if at != -1 and ":" in rest[:at]:
        rest = rest[:rest.index(":")] + ":***" + rest[at:]
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", f"{scheme}://{rest}")


def _password_of(url: str) -> str | None:
    rest = url.partition("://")[2]
    at = rest.rfind("@")
    userinfo = rest[:at] if at != -1 else ""
    found = userinfo.partition(":")[2] if ":" in userinfo else None
    query = re.search(r"(?i)password=([^&]*)", url)
    return found or (query.group(1) if query else None)


class PostgresStore(SqlStore):
    """Objects as JSON documents in PostgreSQL at `url` (postgresql://user@host:port/db)."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError("a postgresql:// database needs psycopg: pip install 'oairun-jupyter[postgres]'") from None
        self._psycopg = psycopg
        self._url = url
        self.path = shown_url(url)
        self._lock = threading.Lock()
        self._db = self._connect()
        with self._session(transaction=True) as run:
            run("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            self.upgraded_from = migrate(run, self.dialect, lambda name: run(
                "SELECT to_regclass(?)", (name,)).fetchone()[0] is not None)

    def _connect(self) -> Any:
        try:
            # a server stopped inside a transaction (SIGSTOP, a hung host) must not hold its row locks
            # for long, nor keep another server's event loop waiting on them
            return self._psycopg.connect(self._url, autocommit=True, connect_timeout=10, options=_SESSION_OPTIONS)
        except UnicodeError:
            raise StoreError(f"the database URL {self.path!r} holds characters that are not text "
                             "(a byte that is not UTF-8): write it again") from None
        except (self._psycopg.OperationalError, self._psycopg.ProgrammingError) as error:
            # the driver's message names host and port; a password in it is masked all the same
            said = str(error).strip()
            password = _password_of(self._url)
            if password:
                said = said.replace(password, "***")
            raise StoreError(f"cannot connect to {self.path}: {said}") from None

    def _runner(self) -> Runner:
        def run(sql: str, args: tuple[Any, ...] = ()) -> Any:
            return self._db.execute(sql.replace("?", "%s"), args or None)
        return run

    @contextmanager
    def _session(self, transaction: bool = False) -> Iterator[Runner]:
        with self._lock:
            if self._db.closed or self._db.broken:
                self._db = self._connect()
            if not transaction:
                yield self._runner()
                return
            with self._db.transaction():
                yield self._runner()

    def _is_conflict(self, error: Exception) -> bool:
        return isinstance(error, self._psycopg.errors.UniqueViolation) and \
            error.diag.constraint_name == "one_active_run_per_thread"

    def close(self) -> None:
        with self._lock:
            self._db.close()
