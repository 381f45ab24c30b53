"""Bad input is refused before anything is stored (issue 15): each body below used to be stored
(or half stored) and then break every read of its object or every run of its thread. Now each is
a 400 in the service's shape naming the field, nothing of the request is stored, every list still
reads, and nothing is logged as a server failure."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from oairun_jupyter.server import start_local_server

FUNCTION = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.fixture
def local(store_db):
    server = start_local_server(db=store_db, pace=0)
    yield server
    server.stop()


@pytest.fixture
def http(local):
    with httpx.Client(base_url=local.base_url, headers={"content-type": "application/json"}, timeout=30) as client:
        yield client


@pytest.fixture
def ids(http):
    """An assistant with one function, and a thread with one message."""
    assistant = http.post("/assistants", json={"model": "scripted", "tools": [FUNCTION]}).json()["id"]
    thread = http.post("/threads", json={"messages": [{"role": "user", "content": "hello"}]}).json()["id"]
    return {"assistant": assistant, "thread": thread}


def _stored(local) -> dict[str, int]:
    """How many objects of each kind the server's database holds."""
    return local.store.counts()


# (route, raw body, the param the refusal names); {assistant} and {thread} are filled in
REFUSED = [
    ("/assistants", b'{"model": "m", "tools": [{"type": "function", "function": {"name": "f", "parameters": '
                    b'{"type": "object", "properties": {"n": {"type": "number", "maximum": Infinity}}}}}]}',
     "tools[0].function.parameters.properties.n.maximum"),
    ("/assistants", b'{"model": "m", "temperature": NaN}', "temperature"),
    # numbers too large for a float are as non-finite as Infinity (stored, they broke every read and
    # the next start-up: SQLite refuses the row)
    ("/assistants", b'{"model": "m", "tools": [{"type": "function", "function": {"name": "f", "parameters": '
                    b'{"type": "object", "properties": {"n": {"type": "number", "maximum": 1e999}}}}}]}',
     "tools[0].function.parameters.properties.n.maximum"),
    ("/threads", b'{"tool_resources": {"extra": {"n": -1e400}}}', "tool_resources.extra.n"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "truncation_strategy": {"type": "auto", '
                               b'"x": 1E+999}}', "truncation_strategy.x"),
    ("/threads", b'{"tool_resources": {"code_interpreter": {"file_ids": [-Infinity]}}}',
     "tool_resources.code_interpreter.file_ids[0]"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "response_format": {"type": "json_schema", '
                               b'"json_schema": {"name": "x", "schema": {"maximum": NaN}}}}',
     "response_format.json_schema.schema.maximum"),
    ("/threads/{thread}/messages", b'{"role": "user", "content": [{"type": "text", "text": NaN}]}',
     "content[0].text"),
    ("/threads/{thread}/messages", b'{"role": "user", "content": "a\\ud800b"}', "content"),
    ("/threads", b'{"metadata": {"k": "\\udfff"}}', "metadata.k"),
    ("/threads/{thread}/messages", b'{"role": "user", "content": [{"type": "text", "text": 123}]}',
     "content[0].text"),
    ("/threads/{thread}/messages", b'{"role": "user", "content": [{"text": {"value": "hi"}}]}', "content[0].type"),
    ("/threads/{thread}/messages", b'{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}',
     "content[0].image_url.url"),
    ("/assistants", b'{"model": "m", "tools": [{"type": "function", "function": "x"}]}', "tools[0].function"),
    ("/assistants", b'{"model": "m", "tools": [{"type": "web_browser"}]}', "tools[0].type"),
    ("/assistants", b'{"model": "m", "tools": [{"type": "function", "function": {"name": "a b"}}]}',
     "tools[0].function.name"),
    ("/assistants", b'{"model": "m", "tools": [{"type": "code_interpreter", "extra": 1}]}', "tools[0].extra"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "tool_choice": {"type": "function"}}',
     "tool_choice.function"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "tool_choice": {"type": "function", '
                               b'"function": {"name": 5}}}', "tool_choice.function.name"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "tool_choice": {"type": "function", '
                               b'"function": {"name": "not_declared"}}}', "tool_choice.function.name"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "tool_choice": {"type": "file_search"}}',
     "tool_choice"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "additional_messages": [{"role": "user", "content": "fine"}, '
                               b'{"role": "user", "content": [{"type": "text", "text": 5}]}]}',
     "additional_messages[1].content[0].text"),
    ("/threads/runs", b'{"assistant_id": "{assistant}", "thread": {"messages": [{"role": "user", "content": "fine"}, {"role": "user", '
                      b'"content": ""}]}}', "thread.messages[1].content"),
    ("/assistants", b'{"model": "m", "response_format": {"type": "json_schema"}}', "response_format.json_schema"),
    ("/threads/{thread}/runs", b'{"assistant_id": "{assistant}", "response_format": "xml"}', "response_format"),
    ("/assistants", b'{"model": "m", "tool_resources": {"code_interpreter": {"file_ids": "file_1"}}}',
     "tool_resources.code_interpreter.file_ids"),
    ("/threads/{thread}/messages", b'{"role": "user", "content": "hi", "attachments": [{"file_id": 1, "tools": []}]}',
     "attachments[0].file_id"),
    ("/threads", b'{"messages": [{"role": "user", "content": "hi", "attachments": [{"file_id": "f", "tools": '
                 b'[{"type": "function"}]}]}]}', "messages[0].attachments[0].tools[0].type"),
    ("/threads", b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None),
    ("/threads", b'{"metadata": ' + b'{"a": ' * 70 + b"1" + b"}" * 70 + b"}", "metadata" + ".a" * 63),
]


@pytest.mark.parametrize("route, raw, param", REFUSED, ids=[f"{n}-{r[0]}" for n, r in enumerate(REFUSED)])
def test_a_body_no_reply_could_carry_or_of_another_shape_is_refused_and_nothing_is_stored(
        local, http, ids, caplog, route, raw, param):
    before = _stored(local)
    path = route.format(**ids)
    body = raw.replace(b"{assistant}", ids["assistant"].encode())
    with caplog.at_level(logging.WARNING):
        reply = http.post(path, content=body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param, error
    assert _stored(local) == before  # nothing of the request was stored
    # every read still works
    assert http.get("/assistants").status_code == 200
    assert http.get(f"/threads/{ids['thread']}/messages").status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_well_formed_parts_tools_and_choices_are_taken(http, ids):
    """The same shapes, well formed, as the contract allows them."""
    message = http.post(f"/threads/{ids['thread']}/messages", json={"role": "user", "content": [
        {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x/i.png", "detail": "low"}},
        {"type": "image_file", "image_file": {"file_id": "file_1"}}],
        "attachments": [{"file_id": "file_2", "tools": [{"type": "file_search"}, {"type": "code_interpreter"}]}]})
    assert message.status_code == 200, message.text
    assistant = http.post("/assistants", json={"model": "m", "tools": [
        {"type": "code_interpreter"}, {"type": "file_search", "file_search": {"max_num_results": 5}}, FUNCTION],
        "tool_resources": {"code_interpreter": {"file_ids": ["file_1"]}, "file_search": {"vector_store_ids": ["vs_1"]}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"},
                                                                   "strict": True}}})
    assert assistant.status_code == 200, assistant.text
    run = http.post(f"/threads/{ids['thread']}/runs", json={
        "assistant_id": ids["assistant"], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})
    assert run.status_code == 200, run.text
    assert json.loads(run.text)["tool_choice"]["function"]["name"] == "get_weather"


def test_metadata_given_as_empty_clears_it_on_every_modify_route(http, ids):
    """`metadata={}` used to clear a thread's metadata but keep a run's and a message's."""
    tagged = {"metadata": {"k": "v"}}
    thread = ids["thread"]
    message = http.get(f"/threads/{thread}/messages").json()["data"][0]["id"]
    run = http.post(f"/threads/{thread}/runs", json={"assistant_id": ids["assistant"], **tagged}).json()["id"]
    routes = [f"/assistants/{ids['assistant']}", f"/threads/{thread}", f"/threads/{thread}/messages/{message}",
              f"/threads/{thread}/runs/{run}"]
    for route in routes:
        assert http.post(route, json=tagged).json()["metadata"] == {"k": "v"}, route
        assert http.post(route, json={"metadata": {}}).json()["metadata"] == {}, route
        assert http.get(route).json()["metadata"] == {}, route
        assert http.post(route, json={}).json()["metadata"] == {}, route  # not given: unchanged


def test_a_thread_deleted_while_its_run_streams_stops_the_run_and_keeps_nothing(local, http, ids):
    before = _stored(local)
    events = []
    with http.stream("POST", "/threads/runs", json={"assistant_id": ids["assistant"], "stream": True,
                                                    "thread": {"messages": [
                         {"role": "user", "content": "/pace 20\n/long 100000"}]}}) as stream:
        lines = stream.iter_lines()
        for line in lines:
            if line.startswith("event: "):
                events.append(line[7:])
            if line.startswith("data: {") and '"thread.run"' in line and not events[-1].startswith("thread.run.step"):
                run = json.loads(line[6:])
            if events and events[-1] == "thread.message.delta":
                break
        deleted = http.delete(f"/threads/{run['thread_id']}")
        assert deleted.json() == {"id": run["thread_id"], "object": "thread.deleted", "deleted": True}
        events += [line[7:] for line in lines if line.startswith("event: ")]
    assert events[-2:] == ["thread.run.cancelled", "done"]
    assert http.get(f"/threads/{run['thread_id']}").status_code == 404
    assert _stored(local) == before  # the thread, its message, its run, its steps: all gone, nothing written back
    assert not local.store.children("message", run["thread_id"]) and not local.store.children("step", run["id"])
