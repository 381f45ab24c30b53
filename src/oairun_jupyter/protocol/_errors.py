"""One exception hierarchy for everything the client can raise about the API.

The protocol's errors live here; the errors of waiting for a run (RunError and its children)
extend the tree in `runs/_errors.py`.

    APIError
    ├── APIConnectionError          the server could not be reached or the connection broke
    │   └── APITimeoutError         a connect, read or total timeout ran out
    ├── APIStatusError              the server answered with a 4xx or 5xx status
    │   ├── BadRequestError         400
    │   ├── AuthenticationError     401
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404
    │   ├── ConflictError           409
    │   ├── UnprocessableEntityError 422
    │   ├── RateLimitError          429
    │   └── InternalServerError     >= 500
    ├── APIStreamError              the stream sent an `error` event
    │   └── StreamTruncatedError    the stream ended in the middle of an event or before `[DONE]`
    └── RunError                    a run ended failed, cancelled or expired (status, last_error)
        ├── RunTimeoutError         waiting took longer than allowed (the run was cancelled)
        ├── ToolCallError           a tool raised and on_tool_error="raise" (the run was cancelled)
        └── RunStreamError          a run's stream broke (also an APIStreamError)
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = [
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIStreamError",
    "StreamTruncatedError",
    "status_error_class",
    "error_fields",
]


class APIError(Exception):
    """Base of every error about the API.

    Carries the fields of the service's error body when there is one: `message`, `type`,
    `code`, `param`, and the `request_id` from the `x-request-id` header.
    """

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        details = [f"{name}={value}" for name, value in
                   (("type", self.type), ("code", self.code), ("param", self.param),
                    ("request_id", self.request_id)) if value]
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before an answer arrived."""


class APITimeoutError(APIConnectionError):
    """A connect, read or total timeout ran out."""


class APIStatusError(APIError):
    """The server answered with an error status; `status_code` holds it."""

    def __init__(self, message: str, *, status_code: int, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.status_code = status_code

    def __str__(self) -> str:
        return f"HTTP {self.status_code}: {super().__str__()}"


class BadRequestError(APIStatusError):
    """400: the request was malformed or refused by the service's rules."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such object (or, for api.openai.com since 2026-08-26, no Assistants API)."""


class ConflictError(APIStatusError):
    """409: the object changed under the request."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well formed but could not be processed."""


class RateLimitError(APIStatusError):
    """429: too many requests or tokens; retried automatically before it is raised."""


class InternalServerError(APIStatusError):
    """>= 500: the service failed; retried automatically before it is raised."""


class APIStreamError(APIError):
    """The event stream carried an `error` event."""


class StreamTruncatedError(APIStreamError):
    """The stream ended in the middle of an event or before its `[DONE]` marker."""


_STATUS_CLASSES: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status, like the official SDK's families."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


def error_fields(body: Any) -> dict[str, Any]:
    """The `message`, `type`, `code` and `param` of an error body, in either shape the service used.

    The service wrapped errors as `{"error": {...}}`; the contract's ErrorEvent puts the bare
    Error object in `data`. Anything else gives no fields.
    """
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]
    if not isinstance(body, Mapping):
        return {}
    fields = {name: body.get(name) for name in ("message", "type", "code", "param")}
    return {name: (str(value) if value is not None else None) for name, value in fields.items()}
