"""Generated requests against every operation of the contract: the server never answers 500,
and every error is in the service's shape. (A generator in the spirit of schemathesis: random
JSON for each operation's documented fields, plus junk fields, junk types and junk ids.)"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oairun_jupyter as oai

from ..support import contract

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)


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
def live():
    from oairun_jupyter.server import start_local_server
    server = start_local_server(pace=0)
    oai.configure(base_url=server.base_url)
    assistant = oai.oai_create_assistant("scripted", tools=[{"type": "function", "function": {"name": "f"}}])
    thread = oai.oai_create_thread(messages=["hello"])
    run = oai.Run(thread, assistant_id=assistant).wait()
    ids = {"assistant_id": assistant.id, "thread_id": thread.id, "run_id": run.id,
           "message_id": thread.list_messages()[0].id, "step_id": run.list_steps()[0].id}
    yield server, ids
    server.stop()


@pytest.mark.parametrize("method,path", list(_operations()))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_500_and_every_error_in_shape(live, method, path, data):
    server, ids = live
    names = _fields(method, path)
    body = data.draw(st.fixed_dictionaries({}, optional={name: json_values for name in names})
                     | st.dictionaries(st.text(max_size=12), json_values, max_size=4)
                     | json_values)
    url = path
    for name, real in ids.items():
        url = url.replace("{" + name + "}", data.draw(st.sampled_from([real, real + "x", "not_an_id", "%2e%2e"])))
    query = data.draw(st.dictionaries(st.sampled_from(["limit", "order", "after", "before", "include[]", "run_id"]),
                                      st.text(max_size=8), max_size=3))
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        if method == "post":
            response = client.post(url, params=query, json=body)
        else:
            response = client.request(method.upper(), url, params=query)
    assert response.status_code < 500, (method, url, body, response.text[:300])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]
    if response.status_code == 200 and response.headers.get("content-type", "").startswith("text/event-stream"):
        assert response.text.rstrip().endswith("data: [DONE]")
