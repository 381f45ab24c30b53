"""The request gate: what a request must be before any route reads it.

A web page can make the user's browser send requests to 127.0.0.1: forms and `text/plain`
bodies (no CORS preflight), or any request at all through DNS rebinding, where a name the page
controls resolves to 127.0.0.1. So, before routing:

* the `Host` header must name the address the server serves (a rebound name does not);
* a request from a browser page of another origin (an `Origin` header) is refused;
* a request with a body must say `Content-Type: application/json` (a form or a `text/plain`
  body, which a page may send without asking, is refused);
* a body may not exceed `MAX_BODY_BYTES`: refused from its `Content-Length` before it is read,
  or, for a chunked body, as soon as what arrived passes the limit; so no more than the limit of
  it is ever held in the server's memory.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ._errors import ServiceError, error_response

__all__ = ["RequestGate", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest valid body (32 messages of 256,000 characters) fits easily
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def _host_name(value: str) -> str:
    """`name` of a Host header `name:port`, `[v6]:port`, `name` or `[v6]`, lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _replay(body: bytes, receive: Any) -> Any:
    """A `receive` that gives the body already read, then defers to the real one (disconnects)."""
    sent = False

    async def replayed() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replayed


class RequestGate:
    """ASGI middleware applying the checks of this module to every HTTP request."""

    def __init__(self, app: Any, host: str = "127.0.0.1", max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # listening on every address (only allowed with a server key), any name may reach it
        self.allowed_hosts = None if _is_wildcard(host) else _LOOPBACK_NAMES | {_host_name(host)}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        refusal = self._refusal(headers)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        if "content-length" not in headers and "transfer-encoding" in headers:
            # a body of unknown length is read here, up to the limit, before any route sees it
            body = await self._read_limited(receive)
            if body is None:
                await error_response(self._too_large())(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _read_limited(self, receive: Any) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; the route will see an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _refusal(self, headers: dict[str, str]) -> ServiceError | None:
        host = _host_name(headers.get("host", ""))
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            return ServiceError(400, f"This server answers requests for {', '.join(sorted(self.allowed_hosts))} "
                                     f"only, not for the host {host!r}; connect through 127.0.0.1 or start the "
                                     "server with --host NAME.", code="host_not_allowed")
        origin = headers.get("origin")
        if origin is not None and not self._own_origin(origin):
            return ServiceError(403, f"Requests from web pages ({origin[:100]!r}) are refused: this server is "
                                     "for the notebook's kernel and other local clients.", code="origin_not_allowed")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            return self._too_large()
        has_body = (length is not None and int(length) > 0) or "transfer-encoding" in headers
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if has_body and media_type != "application/json":
            return ServiceError(415, f"Request bodies must be JSON sent as 'Content-Type: application/json', "
                                     f"not {media_type or 'no content type'!r}.", code="unsupported_media_type")
        return None

    def _own_origin(self, origin: str) -> bool:
        scheme, _, rest = origin.partition("://")
        return scheme == "http" and self.allowed_hosts is not None and _host_name(rest) in self.allowed_hosts

    def _too_large(self) -> ServiceError:
        return ServiceError(413, f"The request body is larger than the limit of {self.max_body_bytes:,} bytes.",
                            code="request_too_large")
