"""Generated requests against every operation of the contract: the server never answers 500,
and every error is in the service's shape. (A generator in the spirit of schemathesis: random
JSON for each operation's documented fields, plus junk fields, junk types and junk ids.)"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ..support import contract
from ..support.deadline import Deadline

# the operations that answer with an event stream when the body says `"stream": true`
STREAMING = {"/threads/runs", "/threads/{thread_id}/runs", "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"}
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}

# Leaves include what Python's json writes but no reply can carry back (NaN, infinities, the
# escape of a lone surrogate), and a value may be nested far too deep (issue 15): each used to be
# stored, then break every read of its object.
_HOSTILE_TEXT = st.sampled_from(["\ud800", "x\udfffy", "\udc00\ud800"])
# nesting too deep for Python's own encoder: a placeholder, spelled out in the body's text (_encoded)
_DEEP = st.integers(65, 3000).map(lambda depth: f"@deep{depth}@")
# a number too large for a float (1e999 reads as infinity): a placeholder spelled out the same way
_HUGE = st.sampled_from(["@huge1e999@", "@huge-1E+400@", "@huge1.5e309@"])
_PLACEHOLDER = re.compile(r'"@deep(\d+)@"')
_HUGE_PLACEHOLDER = re.compile(r'"@huge([^@]+)@"')


def _encoded(body) -> bytes:
    """The body as Python's json (and requests) write it: NaN as NaN, a lone surrogate as its escape."""
    text = _HUGE_PLACEHOLDER.sub(lambda m: m.group(1), json.dumps(body))
    return _PLACEHOLDER.sub(lambda m: "[" * int(m.group(1)) + "0" + "]" * int(m.group(1)), text).encode()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=30) | _HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10) | _HOSTILE_TEXT, inner,
                                                                max_size=4),
    max_leaves=12) | _DEEP | _HUGE


def _operations():
    for path, operations in contract.contract()["paths"].items():
        for method in operations:
            if method in ("get", "post", "delete"):
                yield pytest.param(method, path, id=f"{method} {path}")


def _fields(method: str, path: str) -> list[str]:
    try:
        schema = contract.contract()["components"]["schemas"][contract.request_schema(method, path)]
    except (KeyError, TypeError):
        return []
    return list(schema.get("properties", {}))


@pytest.fixture(scope="module")
def live(module_store_db):
    from oairun_jupyter.server import start_local_server
    server = start_local_server(db=module_store_db, pace=0)
    yield server
    server.stop()


def _fresh_objects(client: httpx.Client, with_waiting_run: bool) -> dict[str, str]:
    """New objects for one example (an earlier example may have deleted or changed its own): an
    assistant, a thread with a message, and, for operations on a run, a run waiting on a tool call."""
    def post(url: str, body: dict) -> dict:
        response = client.post(url, json=body)
        assert response.status_code == 200, response.text
        return response.json()
    assistant = post("/assistants", {"model": "scripted", "tools": [TOOL]})
    thread = post("/threads", {"messages": [{"role": "user", "content": "f()" if with_waiting_run else "hello"}]})
    ids = {"assistant_id": assistant["id"], "thread_id": thread["id"],
           "message_id": client.get(f"/threads/{thread['id']}/messages").json()["data"][0]["id"]}
    if with_waiting_run:
        run = post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
        deadline = Deadline(10, "the run to wait on its tool call")
        while run["status"] != "requires_action":
            deadline.check(run["status"])
            run = client.get(f"/threads/{thread['id']}/runs/{run['id']}").json()
        steps = client.get(f"/threads/{thread['id']}/runs/{run['id']}/steps").json()["data"]
        ids.update(run_id=run["id"], step_id=steps[0]["id"],
                   tool_call_id=run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"])
    return ids


def _valid_body(method: str, path: str, ids: dict[str, str]) -> dict:
    """A body the service accepts for the operation (so that each operation is tried on a valid path)."""
    if method != "post":
        return {}
    by_path = {
        "/assistants": {"model": "scripted"},
        "/threads/runs": {"assistant_id": ids["assistant_id"]},
        "/threads/{thread_id}/messages": {"role": "user", "content": "hi"},
        "/threads/{thread_id}/runs": {"assistant_id": ids["assistant_id"]},
        "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs": {
            "tool_outputs": [{"tool_call_id": ids.get("tool_call_id", ""), "output": "21 C"}]},
    }
    return dict(by_path.get(path, {}))


_HOSTILE = st.sampled_from([float("nan"), float("inf"), float("-inf"), "\ud800", "x\udfffy"]) | _DEEP | _HUGE


def _free_form(hostile) -> dict:
    """Fields of free form (a tool's JSON schema, resources, a response format, metadata, content)
    holding one hostile value: where it used to be stored, then break every read."""
    return {
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "x": hostile}}}],
        "tool_resources": {"code_interpreter": {"file_ids": [hostile]}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"maximum": hostile}}},
        "metadata": {"k": hostile},
        "content": [{"type": "text", "text": hostile}],
        "messages": [{"role": "user", "content": hostile}],
        "additional_messages": [{"role": "user", "content": hostile}],
    }


def _poisoned_bodies(method: str, path: str, ids: dict[str, str]) -> st.SearchStrategy:
    """A valid body with one of its free-form fields holding a hostile value."""
    fields = [name for name in _fields(method, path) if name in _free_form(0)]
    if method != "post" or not fields:
        return st.nothing()
    return st.tuples(st.sampled_from(fields), _HOSTILE).map(
        lambda pick: _valid_body(method, path, ids) | {pick[0]: _free_form(pick[1])[pick[0]]})


def _valid_bodies(method: str, path: str, ids: dict[str, str]) -> st.SearchStrategy:
    required = {name: st.just(value) for name, value in _valid_body(method, path, ids).items()}
    return st.fixed_dictionaries(required, optional={"stream": st.booleans()} if path in STREAMING else {})


@pytest.mark.parametrize("method,path", list(_operations()))
def test_no_500_and_every_error_in_shape(live, method, path):
    statuses: list[int] = []
    streams: list[str] = []

    @settings(max_examples=30, deadline=None, database=None)
    @given(data=st.data())
    def one_request(data):
        with httpx.Client(base_url=live.base_url, timeout=30) as client:
            ids = _fresh_objects(client, "{run_id}" in path or "{step_id}" in path)
            # every value is drawn the same way in every example (hypothesis replays them)...
            body = data.draw(_valid_bodies(method, path, ids) | _poisoned_bodies(method, path, ids)
                             | st.fixed_dictionaries({}, optional={name: json_values for name in _fields(method, path)})
                             | st.dictionaries(st.text(max_size=12), json_values, max_size=4)
                             | json_values)
            real_ids = data.draw(st.booleans())
            junk_ids = {name: data.draw(st.sampled_from([real + "x", "not_an_id", "%2e%2e", real]))
                        for name, real in ids.items()}
            query = data.draw(st.just({}) | st.dictionaries(
                st.sampled_from(["limit", "order", "after", "before", "include[]", "run_id"]),
                st.text(max_size=8), max_size=3))
            # ...but the first requests are always valid (then, where it streams, a streamed one), so that
            # every operation is tried on a valid path whatever was drawn
            if len(statuses) < (2 if method == "post" and path in STREAMING else 1):
                body = _valid_body(method, path, ids) | ({"stream": True} if statuses else {})
                real_ids, query = True, {}
            url = path
            for name, real in ids.items():
                url = url.replace("{" + name + "}", real if real_ids else junk_ids[name])
            if method == "post":
                response = client.post(url, params=query, content=_encoded(body),
                                       headers={"content-type": "application/json"})
            else:
                response = client.request(method.upper(), url, params=query)
            # whatever was sent, every read still works (nothing unreadable was stored)
            reads = [client.get("/assistants", params={"limit": 100}),
                     client.get(f"/threads/{ids['thread_id']}/messages", params={"limit": 100}),
                     client.get(f"/threads/{ids['thread_id']}/runs", params={"limit": 100})]
        statuses.append(response.status_code)
        assert response.status_code < 500, (method, url, body, response.text[:300])
        assert all(read.status_code in (200, 404) for read in reads), [(r.url, r.text[:200]) for r in reads]
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) == {"message", "type", "param", "code"} and error["message"]
        if response.status_code == 200 and response.headers.get("content-type", "").startswith("text/event-stream"):
            streams.append(response.text)
            assert response.text.rstrip().endswith("data: [DONE]")

    one_request()
    # a fuzzer that only ever meets errors proves nothing about the valid paths
    assert any(200 <= status < 300 for status in statuses), f"{method} {path}: no request succeeded {statuses}"
    assert any(400 <= status < 500 for status in statuses), f"{method} {path}: no request was refused {statuses}"
    if method == "post" and path in STREAMING:
        assert streams, f"{method} {path}: no streamed reply was tried"
