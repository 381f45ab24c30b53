"""Reading and checking request bodies; a mistake is a 400 in the service's error shape.

The checks are the client's own (`oairun_jupyter._validation`): one definition of what a
valid metadata map, temperature or message is, on both sides of the wire.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ._errors import invalid
from ._json_body import parse_json_body
from ._limits import Limits, check_limits

__all__ = ["read_body", "checked"]

_READ_ASIDE_BYTES = 256 * 1024


async def read_body(request: Request, allowed: set[str], required: tuple[str, ...] = (),
                    limits: Limits | None = None) -> dict[str, Any]:
    """The JSON object of a request: 400 for invalid JSON or values no reply can carry
    (`_json_body`), unknown fields, missing ones, or fields over their `limits` (`_limits`)."""
    raw = await request.body()
    if len(raw) > _READ_ASIDE_BYTES:  # a large body is read on a worker thread: streams go on meanwhile
        body: Any = await run_in_threadpool(parse_json_body, raw)
    else:
        body = parse_json_body(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise invalid("The body of your request must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0])
    for name in required:
        if body.get(name) is None:
            raise invalid(f"Missing required parameter: '{name}'.", name)
    if limits:
        check_limits(body, limits)
    return body


def checked(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one of the client's argument checks; its ValueError becomes a 400 naming the field."""
    try:
        return check(*args, **kwargs)
    except ValueError as error:
        message = str(error)
        raise invalid(f"Invalid value: {message}", message.split(" ", 1)[0].split("[", 1)[0]) from None
    except (TypeError, AttributeError, KeyError):
        raise invalid(f"Invalid value for {args[1] if len(args) > 1 else 'a field'}.") from None
