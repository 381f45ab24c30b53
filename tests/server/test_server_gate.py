"""What a request must be before the server reads it (issue 13, the web-page part): the Host it
names, the Origin it comes from, a JSON content type for a body, and a body size limit, checked
with raw requests on real sockets against a real server."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest

from oairun_jupyter.server import start_local_server
from oairun_jupyter.server._gate import MAX_BODY_BYTES

from ..support.contract import contract

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def local():
    with start_local_server(pace=0) as server:
        yield server


def _error(response: httpx.Response) -> dict:
    return response.json()["error"]


def test_a_normal_client_gets_through(local):
    with httpx.Client(base_url=local.base_url) as client:
        assert client.post("/threads", json={}).status_code == 200
        assert client.post("/threads", headers={"Host": f"localhost:{local.port}"}, json={}).status_code == 200
        assert client.post("/threads", headers={"Content-Type": "application/json; charset=utf-8"},
                           content=b"{}").status_code == 200
        assert client.post("/threads").status_code == 200  # no body: no content type needed


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "[::2]:1"])
def test_a_foreign_host_is_refused(local, host):
    # what a DNS-rebound page sends: its own name, resolved to 127.0.0.1
    with httpx.Client(base_url=local.base_url) as client:
        response = client.post("/threads", headers={"Host": host}, json={})
        listed = client.get("/assistants", headers={"Host": host})
    assert response.status_code == listed.status_code == 400
    assert _error(response)["code"] == "host_not_allowed" and "connect through 127.0.0.1" in _error(response)["message"]
    assert local.store.children("thread", None) == []


@pytest.mark.parametrize("origin", ["https://evil.example", "http://evil.example:8888", "null"])
def test_a_request_from_another_origin_is_refused(local, origin):
    with httpx.Client(base_url=local.base_url) as client:
        response = client.post("/threads", headers={"Origin": origin}, json={})
    assert response.status_code == 403 and _error(response)["code"] == "origin_not_allowed"
    assert local.store.children("thread", None) == []


@pytest.mark.parametrize("content_type,body", [
    ("text/plain", b'{"metadata": {"from": "a page"}}'),
    ("application/x-www-form-urlencoded", b'{"metadata": {"from": "a form"}}'),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n{}\r\n--x--\r\n'),
    (None, b"{}"),
])
def test_a_body_that_is_not_declared_json_is_refused(local, content_type, body):
    # the bodies a page may send without a CORS preflight
    headers = {"Content-Type": content_type} if content_type else {}
    with httpx.Client(base_url=local.base_url) as client:
        request = client.build_request("POST", "/threads", content=body, headers=headers)
        if content_type is None:
            request.headers.pop("Content-Type", None)
        response = client.send(request)
    assert response.status_code == 415 and _error(response)["code"] == "unsupported_media_type"
    assert local.store.children("thread", None) == []


def test_a_body_over_the_limit_is_refused_before_it_is_read(local):
    # the header announces 300 MB; the server answers without waiting for a byte of it
    with socket.create_connection(("127.0.0.1", local.port), timeout=10) as sock:
        sock.sendall(f"POST /v1/threads HTTP/1.1\r\nHost: 127.0.0.1:{local.port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode())
        answer = b""
        while b"bytes." not in answer:  # the end of the error message
            chunk = sock.recv(65536)
            assert chunk, f"the server closed without the whole answer: {answer!r}"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert f"larger than the limit of {MAX_BODY_BYTES:,} bytes".encode() in answer


def test_a_chunked_body_over_the_limit_is_refused_once_it_passes_the_limit(local):
    sent = 0

    def chunks():
        nonlocal sent
        piece = b" " * 65536
        while sent < 3 * MAX_BODY_BYTES:  # the server stops reading after the limit; at most this is offered
            sent += len(piece)
            yield piece
    with httpx.Client(base_url=local.base_url, timeout=30) as client:
        try:
            response = client.post("/threads", content=chunks(), headers=JSON)
            refused = (response.status_code, _error(response)["code"])
        except httpx.WriteError:  # the server answered and closed before the client offered everything
            refused = (413, "request_too_large")
            assert sent < 3 * MAX_BODY_BYTES
        assert refused == (413, "request_too_large")
        assert local.store.children("thread", None) == []
        assert client.post("/threads", json={}).status_code == 200  # and the server serves on


def test_a_body_at_the_limit_is_read(local):
    padding = MAX_BODY_BYTES - len(b'{"metadata": {}}')
    body = b'{"metadata": {}}' + b" " * padding
    with httpx.Client(base_url=local.base_url, timeout=30) as client:
        assert client.post("/threads", content=body, headers=JSON).status_code == 200


def test_a_message_text_over_256000_characters_is_refused(local):
    with httpx.Client(base_url=local.base_url, timeout=30) as client:
        thread = client.post("/threads", json={}).json()
        at_limit = client.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "a" * 256_000})
        over = client.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "a" * 256_001})
        parts = client.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": [
            {"type": "text", "text": "a" * 200_000}, {"type": "text", "text": "b" * 56_001}]})
    assert at_limit.status_code == 200
    assert over.status_code == parts.status_code == 400
    assert _error(over)["message"] == ("Invalid 'content': a message's text may have at most 256,000 characters, "
                                       "this one has 256,001.")


def _contract_limits() -> list[tuple[str, tuple[str, ...], str, int]]:
    """(request schema, field path, maxLength or maxItems, limit) for every limit the official
    contract states on a request body of the runs API."""
    schemas = contract()["components"]["schemas"]
    found: list[tuple[str, tuple[str, ...], str, int]] = []

    def walk(schema_name: str, node: Any, path: tuple[str, ...], seen: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(schema_name, schemas[name], path, seen + (name,))
            return
        found.extend((schema_name, path, key, node[key]) for key in ("maxLength", "maxItems") if key in node)
        for name, child in (node.get("properties") or {}).items():
            walk(schema_name, child, path + (name,), seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for child in node.get(key, []):
                walk(schema_name, child, path, seen)
    for name in _ROUTES:
        walk(name, schemas[name], (), (name,))
    return found


# where each request schema is sent, and the least body it needs
_ROUTES = {"CreateAssistantRequest": ("/assistants", {"model": "scripted"}),
           "ModifyAssistantRequest": ("/assistants/{assistant}", {}),
           "CreateThreadRequest": ("/threads", {}), "ModifyThreadRequest": ("/threads/{thread}", {}),
           "CreateRunRequest": ("/threads/{thread}/runs", {"assistant_id": "{assistant}"}),
           "CreateThreadAndRunRequest": ("/threads/runs", {"assistant_id": "{assistant}"})}
_ITEMS = {"tools": {"type": "code_interpreter"}, "vector_stores": {}}  # else an id


def _body_with(base: dict, path: tuple[str, ...], size: int, kind: str, ids: dict) -> dict:
    body = json.loads(json.dumps(base).replace("{assistant}", ids["assistant"]))
    value: Any = "a" * size if kind == "maxLength" else [_ITEMS.get(path[-1], "file-x")] * size
    node = body
    for name in path[:-1]:
        node = node.setdefault(name, {})
    node[path[-1]] = value
    return body


LIMITS = [limit for limit in _contract_limits() if limit[3] <= 1_000_000]  # above: the body limit refuses


def test_the_contract_states_the_limits_this_server_keeps():
    assert {(schema, ".".join(path)) for schema, path, _, _ in LIMITS} >= {
        ("CreateAssistantRequest", "name"), ("CreateAssistantRequest", "instructions"),
        ("CreateRunRequest", "tools"), ("CreateThreadAndRunRequest", "thread.tool_resources.code_interpreter.file_ids")}


@pytest.mark.parametrize("schema,path,kind,limit", LIMITS, ids=[f"{s}.{'.'.join(p)}" for s, p, _, _ in LIMITS])
def test_every_limit_of_the_contract_is_kept_and_named(local, schema, path, kind, limit):
    with httpx.Client(base_url=local.base_url, timeout=30) as client:
        ids = {"assistant": client.post("/assistants", json={"model": "scripted"}).json()["id"]}

        def send(size: int) -> httpx.Response:
            route, base = _ROUTES[schema]
            thread = client.post("/threads", json={}).json()["id"]  # a fresh one: no active run in the way
            url = route.replace("{assistant}", ids["assistant"]).replace("{thread}", thread)
            return client.post(url, json=_body_with(base, path, size, kind, ids))
        at_limit, over = send(limit), send(limit + 1)
    field = ".".join(path)
    assert at_limit.status_code == 200, at_limit.text
    assert over.status_code == 400, over.text
    unit = "characters" if kind == "maxLength" else "items"
    assert _error(over)["param"] == field
    assert _error(over)["message"] == (f"Invalid '{field}': it may have at most {limit:,} {unit}, "
                                       f"this one has {limit + 1:,}.")
