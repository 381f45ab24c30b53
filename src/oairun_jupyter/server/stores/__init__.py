"""Where the runs server keeps its objects: SQLite (embedded, the default) or PostgreSQL (a team)."""

from __future__ import annotations

from ._open import open_store
from ._sql import ActiveRunConflict, SqlStore, StoreError
from .postgres import PostgresStore, is_postgres_url
from .sqlite import SQLiteStore, default_db_path

__all__ = ["open_store", "Store", "SQLiteStore", "PostgresStore", "ActiveRunConflict", "StoreError",
           "default_db_path", "is_postgres_url"]

Store = SqlStore  # the interface both stores implement

