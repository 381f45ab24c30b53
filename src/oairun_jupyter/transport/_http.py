"""HTTP transport on httpx: headers, timeouts, retries and typed errors, as sync and async twins.

The two classes mirror each other line for line; everything that is not I/O (building the
request, deciding on a retry, turning a response into an error) lives in `_TransportBase`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

import httpx

from .._secrets import redact
from .._server_key import key_for_local_url
from .._version import __version__
from ..protocol import APIConnectionError, APIError, APIStatusError, APITimeoutError, error_fields, status_error_class
from ._config import ClientConfig
from ._retry import retry_delay, should_retry_status

__all__ = ["Response", "SyncTransport", "AsyncTransport"]

POOL_SIZE = 100  # connections per client (httpx's default, said in the pool-timeout error)
_LIMITS = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=20)

log = logging.getLogger("oairun_jupyter.http")

_SHUTDOWN_HINT = ("OpenAI shut the Assistants API down on 2026-08-26; point OPENAI_BASE_URL "
                  "(or configure(base_url=...)) at a compatible server such as "
                  "`oairun-jupyter serve`")


@dataclass
class Response:
    """A decoded JSON answer and the headers it came with."""

    payload: Any
    headers: httpx.Headers
    status_code: int


class _TransportBase:
    """What both twins share: request building, retry decisions, error construction."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config

    def _headers(self, stream: bool) -> dict[str, str]:
        headers = {
            "Accept": "text/event-stream" if stream else "application/json",
            "OpenAI-Beta": "assistants=v2",
            "User-Agent": f"oairun-jupyter/{__version__}",
        }
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key.reveal()}"
        elif (local_key := key_for_local_url(self.config.base_url)) is not None:
            headers["Authorization"] = f"Bearer {local_key}"  # a CLI server of this user, on this machine
        if self.config.organization:
            headers["OpenAI-Organization"] = self.config.organization
        if self.config.project:
            headers["OpenAI-Project"] = self.config.project
        headers.update(self.config.default_headers)
        return headers

    def _timeout(self, deadline: float | None) -> httpx.Timeout:
        timeouts = self.config.timeouts
        connect, read = timeouts.connect, timeouts.read
        if deadline is not None:
            remaining = max(deadline - self.config.clock.monotonic(), 0.001)
            connect, read = min(connect, remaining), min(read, remaining)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def _deadline(self) -> float | None:
        total = self.config.timeouts.total
        return None if total is None else self.config.clock.monotonic() + total

    def _check_deadline(self, deadline: float | None, method: str, path: str) -> None:
        if deadline is not None and self.config.clock.monotonic() > deadline:
            raise APITimeoutError(
                f"{method} {path} took longer than the total timeout of "
                f"{self.config.timeouts.total} s; raise it with configure(total_timeout=...)")

    def _request(self, client: httpx.Client | httpx.AsyncClient, method: str, path: str,
                 params: Mapping[str, Any] | None, body: Any, stream: bool,
                 deadline: float | None) -> httpx.Request:
        return client.build_request(
            method, self.config.base_url + path, params=params, json=body,
            headers=self._headers(stream), timeout=self._timeout(deadline))

    def _redact(self, text: str) -> str:
        return redact(text, self.config.api_key)

    def _transport_error(self, exc: httpx.HTTPError, method: str, path: str) -> APIConnectionError:
        detail = self._redact(str(exc) or type(exc).__name__)
        if isinstance(exc, httpx.PoolTimeout):  # never sent: every pooled connection was busy
            return APITimeoutError(
                f"{method} {path} was not sent: all {POOL_SIZE} connections to {self.config.shown_base_url} "
                "stayed busy (streams left open and unread hold theirs: read them, close them, or let "
                "them go)")
        if isinstance(exc, httpx.TimeoutException):
            done = ("; it may have been carried out: look before sending it again (list the thread's runs)"
                    if method == "POST" and not isinstance(exc, httpx.ConnectTimeout) else "")
            return APITimeoutError(
                f"{method} {path} timed out ({type(exc).__name__}: {detail}); the server at "
                f"{self.config.shown_base_url} is slow or unreachable{done}")
        return APIConnectionError(
            f"could not reach {self.config.shown_base_url} for {method} {path} ({detail}); "
            "check that the server is running and the base URL is right")

    @staticmethod
    def _may_resend(method: str, exc: httpx.HTTPError) -> bool:
        """Whether a request that failed on the wire may be sent again without doing it twice.

        A POST that reached the server may have created a run already: it is sent again only
        when the connection was never made. (Error statuses are answers: nothing was done.)
        """
        return method != "POST" or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))

    def _status_error(self, response: httpx.Response, content: bytes) -> APIStatusError:
        try:
            body: Any = json.loads(content) if content else None
        except ValueError:
            body = content.decode("utf-8", "replace")[:500]
        fields = error_fields(body)
        message = fields.pop("message", None) or f"{response.status_code} {response.reason_phrase}"
        if response.status_code == 404 and urlsplit(self.config.base_url).hostname == "api.openai.com":
            message = f"{message} ({_SHUTDOWN_HINT})"
        cls = status_error_class(response.status_code)
        return cls(self._redact(message), status_code=response.status_code,
                   request_id=response.headers.get("x-request-id"), body=body, **fields)

    def _decode(self, response: httpx.Response, content: bytes) -> Response:
        try:
            payload = json.loads(content) if content else None
        except ValueError as exc:
            raise APIError(
                f"the server answered {response.request.method} {response.request.url.path} with "
                f"a body that is not JSON ({exc}); is {self.config.shown_base_url} an Assistants API?",
                request_id=response.headers.get("x-request-id")) from None
        return Response(payload, response.headers, response.status_code)

    def _retry_wait(self, error: APIError, headers: Mapping[str, str] | None, retries_done: int,
                    deadline: float | None, method: str, path: str) -> float:
        """Seconds to wait before the next attempt; re-raises `error` when none is left."""
        if retries_done >= self.config.max_retries:
            raise error
        delay = retry_delay(retries_done, headers, now=self.config.clock.now())
        if deadline is not None and self.config.clock.monotonic() + delay > deadline:
            raise error
        log.info("%s %s failed (%s); retry %d of %d in %.2f s", method, path,
                 type(error).__name__, retries_done + 1, self.config.max_retries, delay)
        return delay


class SyncTransport(_TransportBase):
    """Blocking requests on one pooled `httpx.Client`."""

    def __init__(self, config: ClientConfig, http_transport: httpx.BaseTransport | None = None):
        super().__init__(config)
        self._client = httpx.Client(transport=http_transport, follow_redirects=False, limits=_LIMITS)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                body: Any = None) -> Response:
        """Send a request (with retries) and decode its JSON answer."""
        response, deadline = self._send(method, path, params, body, stream=False)
        content = self._read(response, deadline, method, path)
        return self._decode(response, content)

    def open_stream(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                    body: Any = None) -> httpx.Response:
        """Send a request (with retries) and return the open response to read as a stream."""
        return self._send(method, path, params, body, stream=True)[0]

    def _send(self, method: str, path: str, params: Any, body: Any,
              stream: bool) -> tuple[httpx.Response, float | None]:
        deadline = self._deadline()
        retries = 0
        while True:
            self._check_deadline(deadline, method, path)
            request = self._request(self._client, method, path, params, body, stream, deadline)
            headers = None
            try:
                response = self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                error: APIError = self._transport_error(exc, method, path)
                if not self._may_resend(method, exc):
                    raise error from None
            else:
                if response.is_success:
                    return response, deadline
                content = self._read(response, deadline, method, path)
                error, headers = self._status_error(response, content), response.headers
                if not should_retry_status(response.status_code, headers):
                    raise error
            self.config.clock.sleep(self._retry_wait(error, headers, retries, deadline, method, path))
            retries += 1

    def _read(self, response: httpx.Response, deadline: float | None, method: str, path: str) -> bytes:
        """The whole body (the response is closed after), within the total deadline."""
        parts = []
        try:
            for chunk in response.iter_bytes():
                parts.append(chunk)
                self._check_deadline(deadline, method, path)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, method, path) from None
        finally:
            response.close()
        return b"".join(parts)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


class AsyncTransport(_TransportBase):
    """Awaitable requests on one pooled `httpx.AsyncClient` (bound to one event loop)."""

    def __init__(self, config: ClientConfig, http_transport: httpx.AsyncBaseTransport | None = None):
        super().__init__(config)
        self._client = httpx.AsyncClient(transport=http_transport, follow_redirects=False, limits=_LIMITS)

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      body: Any = None) -> Response:
        """Send a request (with retries) and decode its JSON answer."""
        response, deadline = await self._send(method, path, params, body, stream=False)
        content = await self._read(response, deadline, method, path)
        return self._decode(response, content)

    async def open_stream(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                          body: Any = None) -> httpx.Response:
        """Send a request (with retries) and return the open response to read as a stream."""
        return (await self._send(method, path, params, body, stream=True))[0]

    async def _send(self, method: str, path: str, params: Any, body: Any,
                    stream: bool) -> tuple[httpx.Response, float | None]:
        deadline = self._deadline()
        retries = 0
        while True:
            self._check_deadline(deadline, method, path)
            request = self._request(self._client, method, path, params, body, stream, deadline)
            headers = None
            try:
                response = await self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                error: APIError = self._transport_error(exc, method, path)
                if not self._may_resend(method, exc):
                    raise error from None
            else:
                if response.is_success:
                    return response, deadline
                content = await self._read(response, deadline, method, path)
                error, headers = self._status_error(response, content), response.headers
                if not should_retry_status(response.status_code, headers):
                    raise error
            await self.config.clock.async_sleep(
                self._retry_wait(error, headers, retries, deadline, method, path))
            retries += 1

    async def _read(self, response: httpx.Response, deadline: float | None, method: str,
                    path: str) -> bytes:
        """The whole body (the response is closed after), within the total deadline."""
        parts = []
        try:
            async for chunk in response.aiter_bytes():
                parts.append(chunk)
                self._check_deadline(deadline, method, path)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, method, path) from None
        finally:
            await response.aclose()
        return b"".join(parts)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
