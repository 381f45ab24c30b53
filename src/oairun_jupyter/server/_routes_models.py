"""`GET /v1/models`: what the backend offers, so that clients that list models work.

A backend that calls a model server lists the upstream's models (asked each time: the upstream
decides); the scripted backend offers one model, `scripted`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._errors import ServiceError, not_found
from .backends import BackendError

__all__ = ["model_routes"]


async def _models(request: Request) -> list[dict[str, Any]]:
    backend = request.app.state.backend
    listing = getattr(backend, "models", None)
    if listing is None:
        return [{"id": backend.name, "object": "model", "created": 0, "owned_by": "oairun-jupyter"}]
    try:
        return await listing()
    except BackendError as error:  # the upstream's failure, named; never a 500
        raise ServiceError(502, error.message, type="upstream_error", code=error.code) from None


async def list_models(request: Request) -> JSONResponse:
    return JSONResponse({"object": "list", "data": await _models(request)})


async def retrieve_model(request: Request) -> JSONResponse:
    wanted = request.path_params["model"]
    for model in await _models(request):
        if model["id"] == wanted:
            return JSONResponse(model)
    raise not_found("model", wanted)


model_routes = [Route("/v1/models", list_models, methods=["GET"]),
                Route("/v1/models/{model:path}", retrieve_model, methods=["GET"])]
