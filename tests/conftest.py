"""Shared fixtures: a clean default client per test, pointed at a local server when asked."""

from __future__ import annotations

import pytest

from oairun_jupyter.transport import reset_default_client


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
