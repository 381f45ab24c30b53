"""Shared fixtures: a clean default client per test, pointed at a local server when asked."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from oairun_jupyter.transport import reset_default_client

from .support.processes import kill_survivors, survivors
from .support.sockets import listening_ports

_TEMP = Path(tempfile.gettempdir())
_temp_before: set[str] = set()
_ports_before: set[int] = set()


def _our_temp_folders() -> set[str]:
    return {path.name for path in _TEMP.glob("oairun-*")}


def pytest_sessionstart(session):
    _temp_before.update(_our_temp_folders())
    _ports_before.update(listening_ports())


def pytest_sessionfinish(session, exitstatus):
    """The suite fails if it leaves a process it started, a port it listens on, or a temporary folder
    of its own behind."""
    deadline = time.monotonic() + 10  # kernels and servers being stopped may take a moment to exit
    while (left := survivors()) and time.monotonic() < deadline:
        time.sleep(0.2)
    folders = sorted(_our_temp_folders() - _temp_before)
    ports = sorted(listening_ports() - _ports_before)
    problems = [f"still running after the suite: {item}" for item in left]
    problems += [f"still listening after the suite: 127.0.0.1:{port} (a server a test started and never stopped)"
                 for port in ports]
    problems += [f"temporary folder left behind: {_TEMP / name}" for name in folders]
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
