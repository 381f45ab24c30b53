"""The ASGI application: routes, errors in the service's shape, optional bearer key, lifespan."""

from __future__ import annotations

import hmac
import logging
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .._version import __version__
from ._engine import Engine
from ._errors import ServiceError, error_response
from ._gate import RequestGate
from ._heartbeats import HeartbeatOwners
from ._owners import RunOwners
from ._routes_models import model_routes
from ._routes_objects import object_routes
from ._routes_runs import run_routes
from ._users import UserKeyMiddleware
from .backends import Backend
from .stores import Store

__all__ = ["create_app"]

log = logging.getLogger("oairun_jupyter.server")


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    return error_response(error)  # type: ignore[arg-type]


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    status = getattr(error, "status_code", 500)
    if status == 404:
        message = f"Invalid URL ({request.method} {request.url.path})"
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(getattr(error, "detail", "")) or "Request failed"
    return error_response(ServiceError(status, message))


async def _internal_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(ServiceError(500, "The server had an error while processing your request.",
                                       type="server_error"))


class BearerKeyMiddleware:
    """Every request must carry `Authorization: Bearer <server key>` (when one is set)."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self._expected = f"Bearer {key}".encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                response = error_response(ServiceError(
                    401, "Missing or wrong server key: send it as 'Authorization: Bearer <key>'.",
                    code="invalid_api_key"))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(store: Store, backend: Backend, *, poll_after_ms: int = 200,
               run_expiry_seconds: int = 600, server_key: str | None = None, host: str = "127.0.0.1",
               lease_seconds: float = 10.0, users: bool = False) -> Starlette:
    """The runs server as an ASGI app over `store`, answering with `backend`; `host` is the address
    it serves (the request gate refuses other Host names). On PostgreSQL, a server that has not
    beaten its heartbeat for `lease_seconds` is dead and its runs in flight end. With `users`, each
    request must carry a user's key (see _users.py) and `server_key` is not used."""
    if store.dialect == "sqlite":  # servers on one machine: file locks tell at once who lives
        owners: RunOwners | HeartbeatOwners = RunOwners(store.path)
    else:
        owners = HeartbeatOwners(store, lease_seconds)
    engine = Engine(store, backend, run_expiry_seconds=run_expiry_seconds, owners=owners,
                    watch_seconds=min(0.25, lease_seconds / 4))

    @asynccontextmanager
    async def lifespan(app: Starlette):
        recovered = engine.recover()
        if recovered:
            log.warning("%d run(s) left in flight by a server that stopped were marked failed", recovered)
        engine.watch()
        try:
            yield
        finally:
            await engine.shutdown()
            owners.close()

    async def info(request: Request) -> JSONResponse:
        """Not part of the protocol: which backend answers, for the widget's header."""
        return JSONResponse({"server": "oairun-jupyter", "version": __version__, "backend": backend.name})

    routes = [Route("/v1/oairun/info", info)] + run_routes + object_routes + model_routes
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        ServiceError: _service_error, HTTPException: _http_error, Exception: _internal_error})
    app.state.store = store
    app.state.engine = engine
    app.state.backend = backend
    app.state.poll_after_ms = poll_after_ms
    if users:
        app.add_middleware(UserKeyMiddleware, store=store)
    elif server_key:
        app.add_middleware(BearerKeyMiddleware, key=server_key)
    app.add_middleware(RequestGate, host=host)  # added last: the outermost, it sees requests first
    return app
