"""The server's tests run against both stores: in-memory SQLite and a real PostgreSQL."""

from __future__ import annotations

import pytest


@pytest.fixture
def server(store_db):
    """A real runs server on 127.0.0.1 (scripted backend at full speed) over `store_db`, with the
    default client pointed at it."""
    from oairun_jupyter import configure
    from oairun_jupyter.server import start_local_server

    local = start_local_server(db=store_db, pace=0, poll_after_ms=20)
    configure(base_url=local.base_url)
    yield local
    local.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_store_db(request):
    """`store_db` for a server shared by a whole module's tests."""
    if request.param == "sqlite":
        yield ":memory:"
        return
    cluster = request.getfixturevalue("postgres_cluster")
    url = cluster.new_database()
    yield url
    cluster.drop_database(url)
