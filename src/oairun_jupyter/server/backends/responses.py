"""A backend for the Responses API (`POST /responses`): OpenAI's current models with their hosted
tools (code interpreter, file search, web search) and reasoning, and the Responses-compatible
endpoints of Ollama, vLLM and LiteLLM.

Stateless: each turn sends the thread's history from this server's store (`store: false`), with
the encrypted reasoning the upstream returned before (see `_responses_request`). The stream is
read by `_responses_events`. Whatever the upstream does short of a whole answer fails the run
with `last_error` naming it: an HTTP error, `response.failed`, an `error` event, a stream cut
before its terminal event, a body that is not JSON. Closing the turn (a cancelled run) closes
the upstream request.
"""

from __future__ import annotations

from typing import Any, AsyncIterator

import httpx

from ...protocol import SSEDecoder
from ._base import Finish, TurnContext, TurnEvent
from ._merge import merged
from ._responses_events import ResponsesReader, ResponsesStreamError, response_events
from ._responses_request import responses_request
from ._upstream import UpstreamClient, remaining_budget

__all__ = ["ResponsesBackend"]

class ResponsesBackend(UpstreamClient):
    """Turns through an upstream Responses endpoint; the key stays in this object."""

    name = "responses"

    async def turn(self, context: TurnContext) -> AsyncIterator[TurnEvent]:
        reader = ResponsesReader()
        try:
            async with self._posted("/responses", responses_request(context, remaining_budget(context.run))) \
                    as response:
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # one JSON answer to a streamed request: read as the events it stands for
                    whole = self._decoded(await response.aread())
                    for event in response_events(whole):
                        for turn_event in reader.read(event):
                            yield turn_event
                else:
                    decoder = SSEDecoder()
                    async for raw in response.aiter_bytes():
                        # what one read of the network brought, as one batch: text pieces in a row
                        # travel as one delta (a fast upstream's thousands cost one each otherwise)
                        arrived = reader.read_all(self._decoded_all([sse.data for sse in decoder.feed(raw)]))
                        for turn_event in merged(arrived):
                            yield turn_event
                        if reader.finish is not None:
                            break
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        except ResponsesStreamError as error:
            raise self._error(f"The model server at {self.shown_url} reported {error}.") from None
        if reader.finish is None:
            raise self._error(f"The model server at {self.shown_url} ended its stream before its answer "
                              "(no response.completed): the connection was cut; start a new run.")
        if reader.usage is not None:
            yield reader.usage
        yield Finish(reader.finish)

    def _checked(self, value: Any, data: str | bytes) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self._error(f"The model server at {self.shown_url} sent {self._shown(data)} instead of a response event.")
        if isinstance(value.get("error"), dict) and value.get("type") is None:  # an error body, not an event
            raise self._error(f"The model server reported an error: {value['error'].get('message')}")
        return value
