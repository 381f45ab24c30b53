"""The server refuses what the contract's request schemas refuse and takes what they take
(issue 15): each field of each create and modify body, in turn, set to values of every JSON
type, is judged by the official schema (jsonschema) and by the server, and the two agree.
A refusal is a 400 that names the field; nothing of a refused request is stored."""

from __future__ import annotations

import json

import httpx
import pytest

from oairun_jupyter.server import start_local_server

from ..support import contract

# values of every JSON type, and of the shapes the schemas use most
CANDIDATES = [12345, 1.5, -1, "x", "auto", True, [], ["x"], [{}], {}, {"type": "x"}, {"k": "v"}]
# the operations with a body, a valid body for each, and what a valid body needs ({ids})
OPERATIONS = {
    ("post", "/assistants"): {"model": "scripted"},
    ("post", "/assistants/{assistant_id}"): {},
    ("post", "/threads"): {},
    ("post", "/threads/{thread_id}"): {},
    ("post", "/threads/{thread_id}/messages"): {"role": "user", "content": "hi"},
    ("post", "/threads/{thread_id}/messages/{message_id}"): {},
    ("post", "/threads/{thread_id}/runs"): {"assistant_id": "{assistant_id}"},
    ("post", "/threads/runs"): {"assistant_id": "{assistant_id}"},
    ("post", "/threads/{thread_id}/runs/{run_id}"): {},
}
# service rules beyond the schemas, where the server may refuse what a schema alone takes
SERVICE_RULES = {
    "model": "a model name is not empty",
    "tool_choice": "a named tool choice must name one of the run's tools",
    "additional_messages": "a message's content is not empty",
    "metadata": "metadata values are strings of at most 512 characters",
    "assistant_id": "the assistant exists",
    # the contract puts `required: [file_id, tools]` beside the array instead of in its items
    "attachments": "an attachment names its file and its tools",
}


@pytest.fixture(scope="module")
def live(module_store_db):
    server = start_local_server(db=module_store_db, pace=0)
    yield server
    server.stop()


def _ids(client: httpx.Client) -> dict[str, str]:
    assistant = client.post("/assistants", json={"model": "scripted"}).json()["id"]
    thread = client.post("/threads", json={"messages": [{"role": "user", "content": "hello"}]}).json()["id"]
    message = client.get(f"/threads/{thread}/messages").json()["data"][0]["id"]
    run = client.post(f"/threads/{thread}/runs", json={"assistant_id": assistant}).json()["id"]
    return {"assistant_id": assistant, "thread_id": thread, "message_id": message, "run_id": run}


def _stored(live, path: str) -> int:
    """How many objects of the kind a create route makes (a run made for the ids writes on meanwhile)."""
    kind = "assistant" if path == "/assistants" else "thread"
    return live.store.counts().get(kind, 0)


@pytest.mark.parametrize("method, path", list(OPERATIONS), ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_each_field_is_refused_or_taken_as_the_contract_says(live, method, path):
    schema = contract.request_schema(method, path)
    fields = list(contract.contract()["components"]["schemas"][schema].get("properties", {}))
    disagreements = []
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        for field in fields:
            if field == "stream":
                continue  # changes the kind of answer, not whether it is taken
            for value in CANDIDATES:
                ids = _ids(client)  # fresh objects: an earlier body may have ended or changed them
                base = json.loads(json.dumps(OPERATIONS[(method, path)]).replace("{assistant_id}", ids["assistant_id"]))
                body = {**base, field: value}
                url = path.format(**ids)
                allowed = not contract.errors(schema, body)
                before = _stored(live, path)
                reply = client.post(url, json=body)
                if allowed and reply.status_code != 200 and field not in SERVICE_RULES:
                    disagreements.append(f"{field}={value!r}: the contract takes it, the server answered "
                                         f"{reply.status_code} {reply.text[:160]}")
                if not allowed:
                    if reply.status_code != 400:
                        disagreements.append(f"{field}={value!r}: the contract refuses it, the server answered "
                                             f"{reply.status_code}")
                    elif not (reply.json()["error"]["param"] or "").startswith(field) and \
                            field not in reply.json()["error"]["message"]:
                        disagreements.append(f"{field}={value!r}: refused without naming the field: {reply.text[:160]}")
                    if method == "post" and path in ("/threads", "/assistants", "/threads/runs") and \
                            _stored(live, path) != before:
                        disagreements.append(f"{field}={value!r}: refused, yet something was stored")
    assert not disagreements, "\n".join(disagreements)
