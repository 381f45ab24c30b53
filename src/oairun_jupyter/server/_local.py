"""Running the server: in-process on a free loopback port (notebooks, tests), or from the CLI."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ._app import create_app
from .backends import make_backend
from .stores import Store, open_store

__all__ = ["LocalServer", "start_local_server", "check_exposure", "HEADER_READ_SECONDS", "GRACEFUL_SHUTDOWN_SECONDS"]

HEADER_READ_SECONDS = 10.0  # a request's head must arrive within this, from its first byte or the connection
# once the runs have stopped, how long a request still being answered may take before it is cut
GRACEFUL_SHUTDOWN_SECONDS = 2


def check_exposure(host: str, server_key: str | None, users: bool = False) -> None:
    """Refuse to listen beyond loopback without a server key or users' keys: anyone could drive the runs."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not server_key and not users:
        raise ValueError(f"refusing to listen on {host} without a server key: drop --no-auth, set "
                         "the environment variable OAIRUN_SERVER_KEY (clients then send it as their "
                         "API key), or listen on 127.0.0.1")


class _GuardedH11Protocol(H11Protocol):
    """h11 with TCP_NODELAY and a header-read timeout.

    asyncio leaves Nagle on for accepted sockets, and a response written as headers then body
    would otherwise wait ~40 ms for the client's delayed ACK. And uvicorn waits forever for a
    request's head: a client that opens connections and sends a header line now and then would
    hold them all (slowloris). A connection whose request head is not complete within
    `header_seconds` (of its opening, or of the first byte of a kept-alive request) is closed.
    """

    header_seconds = HEADER_READ_SECONDS

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._watch_head()

    def _watch_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_seconds, self._head_too_slow)

    def _stop_watching_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._watch_head()  # part of a head: it must be complete in time
        else:
            self._stop_watching_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching_head()
        super().connection_lost(exc)


class _RunsFirstServer(uvicorn.Server):
    """uvicorn waits for the open responses to end before it tells the app to shut down, and a
    run's stream ends only with its run: so the runs are stopped first (they end `failed`, their
    streams say so and close), then uvicorn's own shutdown finds nothing left to wait for."""

    def __init__(self, config: uvicorn.Config, stop_runs: Any) -> None:
        super().__init__(config)
        self._stop_runs = stop_runs

    async def shutdown(self, sockets: Any = None) -> None:
        for server in self.servers:  # no new request while the runs stop
            server.close()
        await self._stop_runs()
        await super().shutdown(sockets)


class LocalServer:
    """A runs server on a thread of this process; `base_url` to talk to it, `stop()` to end it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0,
                 header_seconds: float = HEADER_READ_SECONDS) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = host, self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                http=self._protocol(header_seconds),
                                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
        self._server = _RunsFirstServer(config, app.state.engine.shutdown)
        self._thread = threading.Thread(target=self._serve, name="oairun-server", daemon=True)
        self._error: BaseException | None = None

    @staticmethod
    def _protocol(header_seconds: float) -> type:
        return type("GuardedH11Protocol", (_GuardedH11Protocol,), {"header_seconds": header_seconds})

    @property
    def base_url(self) -> str:
        """The URL clients use, e.g. http://127.0.0.1:54321/v1 (an IPv6 host in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def store(self) -> Store:
        return self.app.state.store

    def _serve(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as error:  # reported by start()
            self._error = error

    def start(self, timeout: float = 10.0) -> "LocalServer":
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the runs server did not start: {self._error!r}")
            if waited > timeout:
                raise RuntimeError("the runs server did not start within %.0f s" % timeout)
            threading.Event().wait(0.01)
            waited += 0.01
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (runs in flight end `failed` with a last_error saying so)."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LocalServer {self.base_url}>"


def start_local_server(*, db: str | Path = ":memory:", backend: str = "scripted", port: int = 0,
                       poll_after_ms: int = 200, run_expiry_seconds: int = 600, server_key: str | None = None,
                       lease_seconds: float = 10.0, users: bool = False, **backend_options: Any) -> LocalServer:
    """Start a runs server on 127.0.0.1 in a background thread and return it once it listens.
    With `server_key`, every request must carry it as its bearer key (the client's `api_key`).

    >>> server = start_local_server(pace=0)          # doctest: +SKIP
    >>> configure(base_url=server.base_url); ...; server.stop()
    """
    app = create_app(open_store(db), make_backend(backend, **backend_options), poll_after_ms=poll_after_ms,
                     run_expiry_seconds=run_expiry_seconds, server_key=server_key, lease_seconds=lease_seconds, users=users)
    return LocalServer(app, port=port).start()
