"""How every `oai_*` function sends its request: sync or async, typed or raw, page by page.

Each function describes its call as an `Endpoint` and hands it to `send` (one object back),
`send_list` (a list, following `after` across pages up to `limit`) or `send` with
`stream=True` (an event stream). `async_=True` returns an awaitable served by the async client.
Each goes through the `client` it is given, the default one (`get_client()`) when none is, and
the objects it returns keep that client for their own requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..protocol import ListObject, classify
from ..transport import AsyncEventStream, Client, EventStream, Response, get_client

__all__ = ["Endpoint", "send", "send_list", "fetch", "fetch_async", "compact", "PAGE_SIZE",
           "register_stream_type"]

PAGE_SIZE = 100  # the service's largest page


def compact(**fields: Any) -> dict[str, Any]:
    """The fields that were given (R's NULL means 'leave it out')."""
    return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Endpoint:
    """One API call: method, path under the base URL, query parameters and JSON body."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None

    def __post_init__(self) -> None:
        if self.body == {}:  # nothing to say: send no body, as the official SDKs do
            object.__setattr__(self, "body", None)


# What a typed stream becomes: RunStream, which the runs layer (above this one) registers.
_stream_type: Callable[[Any, Client], Any] | None = None


def register_stream_type(factory: Callable[[Any, Client], Any]) -> Callable[[Any, Client], Any]:
    """Make typed streams `factory(event_reader, client)` (RunStream registers itself)."""
    global _stream_type
    _stream_type = factory
    return factory


def _result(payload: Any, classify_response: bool, client: Client) -> Any:
    return classify(payload, client) if classify_response else payload


def _converter(classify_response: bool, client: Client) -> Callable[[Any], Any] | None:
    if not classify_response:
        return None
    return lambda payload: classify(payload, client)


def _stream_result(reader: Any, classify_response: bool, client: Client) -> Any:
    """A RunStream over the events (typed), or the bare event stream of raw payloads."""
    if not classify_response or _stream_type is None:
        return reader
    return _stream_type(reader, client)


def send(endpoint: Endpoint, *, client: Client | None = None, classify_response: bool = True,
         async_: bool = False, stream: bool = False) -> Any:
    """Send one request; the typed object (or raw dict), an event stream, or an awaitable of it."""
    client = client or get_client()  # chosen now, also for an awaitable sent later
    if async_:
        return _send_async(endpoint, client, classify_response, stream)
    transport = client.sync
    if stream:
        response = transport.open_stream(endpoint.method, endpoint.path,
                                         params=endpoint.params, body=endpoint.body)
        reader = EventStream(response, _converter(classify_response, client), owner=client)
        return _stream_result(reader, classify_response, client)
    reply = transport.request(endpoint.method, endpoint.path, params=endpoint.params,
                              body=endpoint.body)
    return _result(reply.payload, classify_response, client)


async def _send_async(endpoint: Endpoint, client: Client, classify_response: bool, stream: bool) -> Any:
    transport = client.async_
    if stream:
        response = await transport.open_stream(endpoint.method, endpoint.path,
                                               params=endpoint.params, body=endpoint.body)
        reader = AsyncEventStream(response, _converter(classify_response, client), owner=client)
        return _stream_result(reader, classify_response, client)
    reply = await transport.request(endpoint.method, endpoint.path, params=endpoint.params,
                                    body=endpoint.body)
    return _result(reply.payload, classify_response, client)


def fetch(endpoint: Endpoint, client: Client | None = None) -> Response:
    """The raw `Response` (payload and headers) of one request, for callers that need headers."""
    client = client or get_client()  # held until the answer is read: a dropped client closes its pool
    return client.sync.request(endpoint.method, endpoint.path, params=endpoint.params, body=endpoint.body)


async def fetch_async(endpoint: Endpoint, client: Client | None = None) -> Response:
    """`fetch` through the async client."""
    client = client or get_client()
    return await client.async_.request(endpoint.method, endpoint.path, params=endpoint.params,
                                       body=endpoint.body)


class _Pager:
    """Joins pages into one list: asks for `limit` items, 100 a page, while the server has more.

    Forwards (the usual way) each page follows the last one's `last_id` as `after`. With only a
    `before` cursor the list is read backwards: each page is the one just before the first item
    read so far (`before` its `first_id`), and goes in front of it."""

    def __init__(self, endpoint: Endpoint, limit: int | None) -> None:
        self.endpoint = endpoint
        self.wanted = limit
        self.items: list[Any] = []
        self.last_page: dict[str, Any] | None = None
        params = endpoint.params or {}
        self.backwards = params.get("before") is not None and params.get("after") is None

    def next_endpoint(self) -> Endpoint | None:
        """The request for the next page, or None when the list is complete."""
        params = dict(self.endpoint.params)
        if self.last_page is not None:
            if not self.last_page.get("has_more") or not self.last_page.get("data"):
                return None
            if self.wanted is not None and len(self.items) >= self.wanted:
                return None
            if self.backwards:
                params["before"] = self.last_page["first_id"]
            else:
                params["after"] = self.last_page["last_id"]
        if self.wanted is not None:
            params["limit"] = min(self.wanted - len(self.items), PAGE_SIZE)
        return Endpoint(self.endpoint.method, self.endpoint.path, params)

    def add(self, page: dict[str, Any]) -> None:
        """Take one page's payload."""
        self.last_page = page
        data = list(page.get("data") or [])
        self.items = data + self.items if self.backwards else self.items + data

    def result(self, classify_response: bool, client: Client) -> Any:
        """The joined list, shaped like one page of the service."""
        page = self.last_page or {}
        payload = {**page, "object": "list", "data": self.items,
                   "first_id": self.items[0].get("id") if self.items else page.get("first_id"),
                   "last_id": self.items[-1].get("id") if self.items else page.get("last_id")}
        return ListObject.from_payload(payload, client) if classify_response else payload


def send_list(endpoint: Endpoint, limit: int | None, *, client: Client | None = None,
              classify_response: bool = True, async_: bool = False) -> Any:
    """List objects; a `limit` above one page follows `after` while the server has more.

    With `limit=None` one page of the server's default size is returned, as the service does.
    """
    client = client or get_client()
    pager = _Pager(endpoint, limit)
    if limit is None or limit <= PAGE_SIZE:
        return send(pager.next_endpoint(), client=client,  # type: ignore[arg-type]
                    classify_response=classify_response, async_=async_)
    if async_:
        return _send_list_async(pager, classify_response, client)
    transport = client.sync
    while (page_endpoint := pager.next_endpoint()) is not None:
        pager.add(transport.request("GET", page_endpoint.path, params=page_endpoint.params).payload)
    return pager.result(classify_response, client)


async def _send_list_async(pager: _Pager, classify_response: bool, client: Client) -> Any:
    transport = client.async_
    while (page_endpoint := pager.next_endpoint()) is not None:
        pager.add((await transport.request("GET", page_endpoint.path,
                                           params=page_endpoint.params)).payload)
    return pager.result(classify_response, client)
