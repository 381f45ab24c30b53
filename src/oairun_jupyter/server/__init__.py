"""The local Assistants-compatible runs server: Starlette on uvicorn, SQLite or PostgreSQL, pluggable backends.

    oairun-jupyter serve                 # scripted backend, offline, on 127.0.0.1:8765
    oairun-jupyter serve --backend chat-completions --upstream-base-url http://127.0.0.1:11434/v1

or in-process: `server = start_local_server(); configure(base_url=server.base_url)`.
"""

from ._app import create_app
from ._local import LocalServer, start_local_server
from .stores import PostgresStore, SQLiteStore, Store, default_db_path, open_store

__all__ = ["create_app", "start_local_server", "LocalServer", "Store", "SQLiteStore", "PostgresStore",
           "open_store", "default_db_path"]
