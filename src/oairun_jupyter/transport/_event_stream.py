"""Reading a run's event stream from an open response: SSE bytes in, `StreamEvent`s out.

`EventStream` (sync) and `AsyncEventStream` (async) are twins over an open httpx response.
They end at `data: [DONE]`; an `error` event raises APIStreamError; a stream that stops
before `[DONE]` raises StreamTruncatedError, so a dropped connection is never a quiet end.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator

import httpx

from ..protocol import (
    DONE,
    APIConnectionError,
    APITimeoutError,
    ServerSentEvent,
    SSEDecoder,
    StreamEvent,
    StreamTruncatedError,
    interpret_sse,
)

__all__ = ["EventStream", "AsyncEventStream"]


def _identity(payload: Any) -> Any:
    return payload


def _broken(exc: httpx.HTTPError) -> APIConnectionError:
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(f"the event stream broke ({type(exc).__name__}: {exc}); retrieve the run to see "
               "its state")


class _StreamBase:
    def __init__(self, response: httpx.Response, convert: Callable[[Any], Any] | None = None,
                 owner: Any = None) -> None:
        self.response = response
        self._owner = owner  # the client whose pool the response reads from: kept open while we read
        self._convert = convert or _identity
        self._decoder = SSEDecoder()
        self.done = False

    def _events(self, sse_events: list[ServerSentEvent]) -> Iterator[StreamEvent]:
        for sse in sse_events:
            item = interpret_sse(sse, self._convert)
            if item is DONE:
                self.done = True
                return
            yield item  # type: ignore[misc]

    def _truncated(self) -> StreamTruncatedError:
        return StreamTruncatedError(
            "the event stream closed before its [DONE] marker; the connection was probably "
            "dropped: retrieve the run to see its state")


class EventStream(_StreamBase):
    """A blocking iterator over a run's stream events; close it (or use `with`) to stop early."""

    def __iter__(self) -> Iterator[StreamEvent]:
        try:
            for chunk in self.response.iter_bytes():
                yield from self._events(self._decoder.feed(chunk))
                if self.done:
                    return
            yield from self._events(self._decoder.finish())
            if not self.done:
                raise self._truncated()
        except httpx.HTTPError as exc:
            raise _broken(exc) from None
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection."""
        self.response.close()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncEventStream(_StreamBase):
    """An async iterator over a run's stream events; `aclose()` (or `async with`) stops early."""

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        try:
            async for chunk in self.response.aiter_bytes():
                for event in self._events(self._decoder.feed(chunk)):
                    yield event
                if self.done:
                    return
            for event in self._events(self._decoder.finish()):
                yield event
            if not self.done:
                raise self._truncated()
        except httpx.HTTPError as exc:
            raise _broken(exc) from None
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the connection."""
        await self.response.aclose()

    async def __aenter__(self) -> "AsyncEventStream":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
