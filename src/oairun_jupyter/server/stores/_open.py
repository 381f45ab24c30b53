"""Which store a `--db` value names."""

from __future__ import annotations

from pathlib import Path

from ._sql import SqlStore
from .postgres import PostgresStore, is_postgres_url
from .sqlite import SQLiteStore

__all__ = ["open_store"]


def open_store(db: str | Path = ":memory:") -> SqlStore:
    """The store for `db`: a postgresql:// URL, a SQLite file path, or ":memory:"."""
    if is_postgres_url(db):
        return PostgresStore(str(db))
    return SQLiteStore(db)
