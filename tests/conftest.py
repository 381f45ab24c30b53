"""Shared fixtures: a clean default client per test, pointed at a local server when asked."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from oairun_jupyter.transport import reset_default_client

from .support.processes import kill_survivors, survivors
from .support.sockets import listening_ports

_ports_before: set[int] = set()
_saved_tempdir: dict[str, object] = {}


def pytest_configure(config):
    """The session's temporary files go to a folder of its own (TMPDIR for every process it starts),
    so that what it leaves behind is told apart from what other sessions on the machine write."""
    root = Path(tempfile.mkdtemp(prefix="oairun-suite-"))
    _saved_tempdir.update(root=root, tempdir=tempfile.tempdir, env=os.environ.get("TMPDIR"))
    os.environ["TMPDIR"] = str(root)
    tempfile.tempdir = str(root)
    # the CLI server's key file: the session's own, never the developer's (nor written to their home)
    _saved_tempdir["key_file"] = os.environ.get("OAIRUN_SERVER_KEY_FILE")
    os.environ["OAIRUN_SERVER_KEY_FILE"] = str(root / "config" / "server-key")
    # the in-kernel server's database (the user's data directory): the session's own
    _saved_tempdir["data_home"] = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(root / "data")


def pytest_unconfigure(config):
    if not _saved_tempdir:
        return
    tempfile.tempdir = _saved_tempdir["tempdir"]
    for name, saved in (("TMPDIR", _saved_tempdir["env"]), ("OAIRUN_SERVER_KEY_FILE", _saved_tempdir["key_file"]),
                        ("XDG_DATA_HOME", _saved_tempdir["data_home"])):
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved
    shutil.rmtree(_saved_tempdir.pop("root"), ignore_errors=True)
    _saved_tempdir.clear()


def _our_temp_folders() -> list[Path]:
    """The folders of this project's own naming left in the session's temporary folder."""
    return sorted(_saved_tempdir["root"].glob("oairun-*"))


def pytest_sessionstart(session):
    _ports_before.update(listening_ports())


def pytest_sessionfinish(session, exitstatus):
    """The suite fails if it leaves a process it started, a port it listens on, or a temporary folder
    of its own behind."""
    deadline = time.monotonic() + 10  # kernels and servers being stopped may take a moment to exit
    while (left := survivors()) and time.monotonic() < deadline:
        time.sleep(0.2)
    folders = _our_temp_folders()
    ports = sorted(listening_ports() - _ports_before)
    problems = [f"still running after the suite: {item}" for item in left]
    problems += [f"still listening after the suite: 127.0.0.1:{port} (a server a test started and never stopped)"
                 for port in ports]
    problems += [f"temporary folder left behind: {folder.name}" for folder in folders]
    if problems:
        kill_survivors()
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("\n".join(problems), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _fresh_client(monkeypatch):
    """Each test starts from an environment with no key and no base URL of the developer's."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_ORGANIZATION",
                 "OPENAI_PROJECT_ID", "OPENAI_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    reset_default_client()
    yield
    reset_default_client()


class RecordingClock:
    """An injected clock: records each requested sleep instead of sleeping."""

    def __init__(self, now: float = 1_761_861_531.0) -> None:
        self.sleeps: list[float] = []
        self._now = now
        self._mono = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._mono += seconds
        self._now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock():
    return RecordingClock()


@pytest.fixture
def server():
    """A real runs server on 127.0.0.1 (scripted backend at full speed, in-memory SQLite),
    with the default client pointed at it."""
    from oairun_jupyter import configure
    from oairun_jupyter.server import start_local_server

    local = start_local_server(pace=0, poll_after_ms=20)
    configure(base_url=local.base_url)
    yield local
    local.stop()


@pytest.fixture(scope="session")
def postgres_cluster():
    """One real PostgreSQL server for the session (Debian's package), stopped at its end."""
    from .support.postgres import PostgresCluster

    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_db(postgres_cluster):
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = postgres_cluster.new_database()
    yield url
    postgres_cluster.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_db(request):
    """What a server test's runs server stores in: each such test runs once on each store."""
    if request.param == "sqlite":
        return ":memory:"
    return request.getfixturevalue("postgres_db")
