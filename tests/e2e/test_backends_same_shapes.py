"""The same notebook cells (a tool call, then a follow-up turn) give runs of the same shape on the
three backends of the in-kernel server: scripted, chat-completions and responses. The model
servers behind the last two are fakes on 127.0.0.1 answering with recorded traffic
(tests/data/recorded; the recorded function's name is renamed to the notebook's)."""

from __future__ import annotations

import json

import pytest

from ..support.http_server import LoopbackServer, json_reply
from ..support.notebooks import execute, make_notebook, outputs_text
from ..support.replay import RECORDED

NAME = "get_weather_at_location"


def _chat_reply(name: str):
    raw = (RECORDED / "chat-completions" / name).read_bytes().replace(b"GetWeatherArgs", NAME.encode())
    return 200, {"Content-Type": "text/event-stream"}, [raw]


def _responses_reply(name: str):
    entries = json.loads((RECORDED / "responses" / f"{name}.json").read_text())["Entries"]
    return 200, {"Content-Type": "text/event-stream"}, ["".join(entries[0]["ResponseBody"]).encode()]


UPSTREAMS = {
    "chat-completions": [_chat_reply("tool-call.sse"), _chat_reply("text.sse"), _chat_reply("text.sse")],
    "responses": [_responses_reply("FunctionCallStreamingWorks"), _responses_reply("StreamingResponses"),
                  _responses_reply("StreamingResponses")],
}
SHAPE = """
import json
from oairun_jupyter import oai_list_run_steps
r = _oai_run
steps = oai_list_run_steps(r.thread_id, r.id, order="asc")
print(json.dumps({"status": r.status, "calls": [[c.name, c.status] for c in r.tool_calls],
                  "steps": [[s.type, s.status] for s in steps],
                  "roles": [m.role for m in r.thread().list_messages(order="asc")]}))
"""


def _cells(start: str) -> list[str]:
    return [
        "%load_ext oairun_jupyter\n"
        f"def {NAME}(**where):\n    '''The weather somewhere.'''\n    return f'12 C in {{where}}'\n" + start,
        f'%%oai_run --tools {NAME}\n{NAME} {{"location": "Paris"}}',
        SHAPE,
        "%%oai_run\nAnd a follow-up",
        SHAPE,
    ]


def _shapes(backend: str, monkeypatch) -> list[dict]:
    if backend == "scripted":
        notebook = execute(make_notebook(*_cells("%oai local start --memory")))
    else:
        replies = list(UPSTREAMS[backend])
        fake = LoopbackServer(lambda request: replies.pop(0) if replies else json_reply(500, {"error": {
            "message": "no more recorded replies"}}))
        monkeypatch.setenv("OAIRUN_TEST_UPSTREAM_KEY", "sk-test-upstream")
        with fake:
            notebook = execute(make_notebook(*_cells(
                f"%oai local start --memory --backend {backend} --upstream-base-url {fake.base_url} "
                "--upstream-api-key-env OAIRUN_TEST_UPSTREAM_KEY")))
        posted = [r for r in fake.received if r.method == "POST"]
        assert len(posted) == 3 and all(r.headers["authorization"] == "Bearer sk-test-upstream" for r in posted)
    assert f"({backend} backend" in outputs_text(notebook.cells[0])
    return [json.loads(outputs_text(notebook.cells[i]).strip().splitlines()[-1]) for i in (2, 4)]


@pytest.fixture(scope="module")
def scripted_shapes():
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _shapes("scripted", monkeypatch)


@pytest.mark.parametrize("backend", ["chat-completions", "responses"])
def test_the_same_cells_give_the_same_shapes_as_the_scripted_backend(backend, scripted_shapes, monkeypatch):
    first, follow_up = scripted_shapes
    assert first["status"] == "completed" and first["calls"] == [[NAME, "ok"]]
    assert follow_up["status"] == "completed" and follow_up["roles"] == ["user", "assistant", "user", "assistant"]
    assert _shapes(backend, monkeypatch) == [first, follow_up]
