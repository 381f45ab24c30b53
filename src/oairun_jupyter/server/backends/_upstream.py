"""What the backends that call a model server over HTTP share: the checked base URL, the key kept
out of every message, one connection pool for the server's life, strict JSON, and errors that
name the server and what it said."""

from __future__ import annotations

import json
import math
import re
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import httpx

from ..._secrets import Secret, redact
from ._base import BackendError

__all__ = ["UpstreamClient", "strict_loads", "shown", "json_able", "remaining_budget"]

_USER_INFO = re.compile(r"//[^/@]*@")


class UpstreamClient:
    """An upstream model server at `base_url` (http or https), reached with `api_key`."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 600.0) -> None:
        try:
            url = httpx.URL(base_url)
        except (httpx.InvalidURL, TypeError):
            url = None
        try:
            port_ok = url is not None and (url.port is None or 0 < url.port < 65536)
        except (ValueError, httpx.InvalidURL):
            port_ok = False
        if url is None or url.scheme not in ("http", "https") or not url.host or url.query or url.fragment \
                or not port_ok:
            raise ValueError(f"the upstream base URL must be an http:// or https:// URL such as "
                             f"https://api.openai.com/v1 or http://127.0.0.1:11434/v1, got "
                             f"{_USER_INFO.sub('//***@', str(base_url))!r}")
        self.base_url = base_url.rstrip("/")
        # what messages and repr show: never a password written in the URL (user:secret@host)
        self.shown_url = _USER_INFO.sub("//", self.base_url, count=1)
        self._key = Secret(api_key or "")
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None  # one for the server's life: making one costs ~10 ms

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout, connect=10.0))
        return self._client

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"} if self._key else {}

    @asynccontextmanager
    async def _posted(self, path: str, body: dict[str, Any]) -> AsyncIterator[httpx.Response]:
        """The open answer to `POST base_url + path`; an HTTP error status raises BackendError naming
        it. Leaving the block closes the request (a cancelled run hangs up on the upstream)."""
        async with self._http().stream("POST", f"{self.base_url}{path}", headers=self._headers(),
                                       json=body) as response:
            if response.status_code >= 400:
                raise self._status_error(response.status_code, await response.aread())
            yield response

    async def aclose(self) -> None:
        """Close the connections to the upstream (the server is stopping)."""
        if self._client is not None:
            await self._client.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.shown_url}>"

    def _error(self, message: str, code: str = "server_error") -> BackendError:
        return BackendError(redact(message, self._key), code)

    def _shown(self, data: str | bytes) -> str:
        """What the upstream sent, for a message: the key hidden before it is cut."""
        return shown(redact(data.decode("utf-8", "replace") if isinstance(data, bytes) else data, self._key))

    def _status_error(self, status: int, content: bytes) -> BackendError:
        try:
            message = str(strict_loads(content)["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = content.decode("utf-8", "replace")
        message = redact(message, self._key)[:300]  # the key hidden before the cut: none of it shows
        code = "rate_limit_exceeded" if status == 429 else "server_error"
        return self._error(f"The model server answered {status}: {message}", code)

    async def models(self) -> list[dict[str, Any]]:
        """The upstream's models (`GET /models`) as model objects; a failure raises BackendError."""
        try:
            response = await self._http().get(f"{self.base_url}/models", headers=self._headers())
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.content)
        try:
            data = strict_loads(response.content).get("data")
        except (ValueError, AttributeError):
            data = None
        if not isinstance(data, list):
            raise self._error(f"The model server at {self.shown_url} answered GET /models with no model list.")
        return [{"id": m["id"], "object": "model",
                 "created": m["created"] if type(m.get("created")) is int else 0,
                 "owned_by": m["owned_by"] if isinstance(m.get("owned_by"), str) else "upstream"}
                for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]

    def _decoded(self, data: str | bytes) -> dict[str, Any]:
        """One JSON object of the upstream's; its error object is the run's failure."""
        try:
            value = strict_loads(data)
        except ValueError:
            raise self._error(f"The model server at {self.shown_url} sent something that is not JSON: "
                              f"{self._shown(data)}") from None
        return self._checked(value, data)

    def _decoded_all(self, datas: list[str]) -> list[dict[str, Any]]:
        """The JSON objects of one network read's events, parsed in one go (a third faster than
        one by one for a fast upstream's many small chunks); one by one when one of them is bad."""
        # each must be one object on its own: a string may not run from one event into the next
        if len(datas) < 2 or not all(data[:1] == "{" and data[-1:] == "}" for data in datas):
            return [self._decoded(data) for data in datas]
        try:
            values = strict_loads("[" + ",".join(datas) + "]")
        except ValueError:
            return [self._decoded(data) for data in datas]  # names the one that is not JSON
        if len(values) != len(datas):  # an event's data held two values ("1, 2"): each is read alone
            return [self._decoded(data) for data in datas]
        return [self._checked(value, data) for value, data in zip(values, datas)]

    def _checked(self, value: Any, data: str | bytes) -> dict[str, Any]:
        """`value` (parsed from `data`) if it is what the upstream's stream holds; else BackendError."""
        raise NotImplementedError

    def _unreachable(self, error: Exception) -> BackendError:
        return self._error(f"The model server at {self.shown_url} could not be reached or broke off its "
                           f"answer ({type(error).__name__}).")


def remaining_budget(run: dict[str, Any]) -> int | None:
    """The run's completion tokens not spent yet (None: no limit)."""
    budget = run.get("max_completion_tokens")
    if budget is not None:
        budget -= (run.get("usage") or {}).get("completion_tokens", 0)
    return budget


def json_able(value: Any) -> bool:
    """Whether `value` can be written as strict JSON."""
    try:
        json.dumps(value, allow_nan=False)
        return True
    except (TypeError, ValueError):
        return False


def _not_finite(text: str) -> Any:
    raise ValueError(f"{text} is not a finite number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is not a finite number")
    return number


def strict_loads(data: str | bytes) -> Any:
    """JSON as a reply may carry it on: NaN, Infinity and 1e999 are not numbers here; nesting too
    deep to read is not JSON either (ValueError)."""
    try:
        return json.loads(data, parse_constant=_not_finite, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deep") from None


def shown(data: str | bytes) -> str:
    """The start of what an upstream sent, quoted, for an error message."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return repr(text[:120]) + ("..." if len(text) > 120 else "")
