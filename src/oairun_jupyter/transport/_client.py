"""The client the functional API talks through, and the process-wide default one.

`configure(...)` and `oai_set_api_key(...)` replace the default client; every `oai_*` call
uses whichever default is current when it is made, unless it is given a `client=`. Objects keep
the client they came through, so the old default is not closed by `configure()`: its
connections close when the last object using it is gone.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import httpx

from ._clock import Clock
from ._config import ClientConfig, Timeouts, config_from_env
from ._http import AsyncTransport, SyncTransport

__all__ = ["Client", "configure", "oai_set_api_key", "get_client"]


class Client:
    """A sync transport and one async transport per event loop, for one configuration.

    `http_transport` / `async_http_transport` replace the network layer (for tests that inject
    faults a real server cannot produce).
    """

    def __init__(self, config: ClientConfig | None = None, *,
                 http_transport: httpx.BaseTransport | None = None,
                 async_http_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config or config_from_env()
        self._http_transport = http_transport
        self._async_http_transport = async_http_transport
        self._sync: SyncTransport | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncTransport] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self._closer: weakref.finalize | None = None

    @property
    def sync(self) -> SyncTransport:
        """The blocking transport (made on first use)."""
        with self._lock:
            if self._sync is None:
                self._sync = SyncTransport(self.config, self._http_transport)
                self._closer = weakref.finalize(self, self._sync.close)
            return self._sync

    @property
    def async_(self) -> AsyncTransport:
        """The async transport of the running event loop (httpx pools belong to one loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            transport = self._async.get(loop)
            if transport is None:
                transport = self._async[loop] = AsyncTransport(self.config, self._async_http_transport)
                _close_with_loop(transport)
            return transport

    def close(self) -> None:
        """Close the blocking transport's connections (async ones close with their loop)."""
        with self._lock:
            if self._closer is not None:
                self._closer()  # closes the transport once, and not again when collected
                self._closer = None
            self._sync = None

    def __repr__(self) -> str:
        return f"<Client {self.config.shown_base_url}>"


def _close_with_loop(transport: AsyncTransport) -> None:
    """Close `transport`'s connections when its event loop shuts down.

    httpx pools belong to one loop, and each finished `asyncio.run` would leave one behind with
    its sockets. `asyncio.run` (like every runner that calls `loop.shutdown_asyncgens()`) closes
    the loop's open async generators before the loop itself, on that loop: one that holds the
    transport closes it then.
    """
    async def close_at_shutdown() -> Any:
        try:
            yield
        finally:
            await transport.aclose()
    closer = close_at_shutdown()
    transport.loop_closer = closer  # alive as long as the transport; the loop keeps it only weakly
    asyncio.ensure_future(closer.__anext__())  # started on the loop, so the loop knows of it


_default: Client | None = None
_default_lock = threading.Lock()


def get_client() -> Client:
    """The current default client, made from the environment on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def _set_default(config: ClientConfig, **transports: Any) -> ClientConfig:
    global _default
    with _default_lock:
        _default = Client(config, **transports)  # the old one stays open for the objects that use it
    return config


_UNSET: Any = object()


def configure(
    *,
    api_key: str | None = _UNSET,
    base_url: str = _UNSET,
    organization: str | None = _UNSET,
    project: str | None = _UNSET,
    connect_timeout: float = _UNSET,
    read_timeout: float = _UNSET,
    total_timeout: float | None = _UNSET,
    max_retries: int = _UNSET,
    clock: Clock = _UNSET,
    http_transport: httpx.BaseTransport | None = None,
    async_http_transport: httpx.AsyncBaseTransport | None = None,
) -> ClientConfig:
    """Change the default client's configuration; arguments left out keep their current value,
    except the key: a new `base_url` without an `api_key` sends no key of yours (a key goes only to
    the server it was given for). With no key, a server on this machine that you run
    (`oairun-jupyter serve`) gets the key from your server-key file.

    >>> configure(base_url="http://127.0.0.1:8000/v1", max_retries=5)  # doctest: +SKIP
    """
    config = get_client().config
    changes = {name: value for name, value in (
        ("api_key", api_key if api_key is not None else ""), ("base_url", base_url),
        ("organization", organization), ("project", project), ("max_retries", max_retries),
        ("clock", clock)) if value is not _UNSET}
    timeouts = {name: value for name, value in (
        ("connect", connect_timeout), ("read", read_timeout), ("total", total_timeout))
        if value is not _UNSET}
    if timeouts:
        changes["timeouts"] = Timeouts(**{**config.timeouts.__dict__, **timeouts})
    return _set_default(config.replace(**changes), http_transport=http_transport,
                        async_http_transport=async_http_transport)


def oai_set_api_key(api_key: str) -> None:
    """Set the API key the default client sends, as R's `oai_set_api_key()` does."""
    if not isinstance(api_key, str) or not api_key.strip():
        raise ValueError("api_key must be a non-empty string; to send no key of your own use "
                         "configure(api_key=None)")
    configure(api_key=api_key.strip())


def reset_default_client() -> None:
    """Forget the default client so the next call reads the environment again."""
    global _default
    with _default_lock:
        old, _default = _default, None
    if old is not None:
        old.close()
