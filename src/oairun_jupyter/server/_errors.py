"""Errors in the service's shape: `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ServiceError", "not_found", "invalid", "error_response"]


class ServiceError(Exception):
    """An error a route answers with; `status` is the HTTP status."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}


def not_found(kind: str, object_id: str, param: str | None = None) -> ServiceError:
    """404 worded as the real service did: "No thread found with id 'thread_abc'."."""
    return ServiceError(404, f"No {kind} found with id '{object_id}'.", param=param)


def invalid(message: str, param: str | None = None, code: str | None = None) -> ServiceError:
    """400 invalid_request_error."""
    return ServiceError(400, message, param=param, code=code)


def error_response(error: ServiceError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)
