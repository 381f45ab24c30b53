"""The shipped notebooks run top to bottom in a real kernel (nbclient); outputs and saved widget
state asserted. chat-model.ipynb and responses-model.ipynb need a model and are not executed: the
second is run against a fake Responses server on 127.0.0.1 instead of OpenAI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nbformat
import pytest

from ..support.notebooks import execute, outputs_text, widget_states

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _run(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    return execute(notebook, timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}})


def _results(notebook) -> list:
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "execute_result"]


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_a_shipped_notebook_is_valid_as_written(name):
    """Valid nbformat, every cell with an id: a notebook missing one is fixed up silently by
    today's nbformat (with a warning) and refused by a later one."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(notebook)
    assert all(cell.get("id") for cell in notebook.cells)


def test_quickstart():
    notebook = _run("quickstart.ipynb")
    states = [s for s in widget_states(notebook) if s.get("header")]
    assert len(states) == 4 and all(s["header"]["status"] == "completed" for s in states)
    answers = [s["messages"][-1]["text"] for s in states]
    # the first answer streams long enough to watch, with a table, code and math
    assert answers[0].startswith("I am the **offline scripted assistant**") and len(answers[0].split()) > 100
    assert "| you see | where |" in answers[0] and "```python" in answers[0] and "$e^{i\\pi} + 1 = 0$" in answers[0]
    assert json.loads(answers[1].split("returned: ", 1)[1]) == {"city": "Paris", "temperature": 21,
                                                                 "units": "celsius", "sky": "clear"}
    assert "Oslo" in answers[2] and "Paris" in answers[2]
    assert answers[3] == "You said: Which city was warmer?"
    parallel = next(s for s in states if len(s["records"]) == 2)
    assert {r["status"] for r in parallel["records"].values()} == {"ok"}
    calls = next(s for s in states if len(s["records"]) == 2)["steps"][0]["tool_calls"]
    assert [c["name"] for c in calls] == ["get_weather", "get_weather"]
    transcript = outputs_text([c for c in notebook.cells if c.cell_type == "code"][-1])  # %oai thread
    assert transcript.count("user: ") == 4 and transcript.count("assistant: ") == 4


def test_tool_debugging():
    notebook = _run("tool-debugging.ipynb")
    texts = [outputs_text(c) for c in notebook.cells if c.cell_type == "code"]
    assert "error KeyError: 'ZZZ'" in texts[3]
    assert "ok 0.0" in texts[5] and texts[6].strip() == "12.5"
    assert "cancelling" in texts[-1]
    (first, *_) = [s for s in widget_states(notebook) if s.get("header")]
    record = next(iter(first["records"].values()))
    assert record["status"] == "error" and [r["output"] for r in record["reruns"]] == ["0.0", "12.5"]


def test_python_api():
    notebook = _run("python-api.ipynb")
    texts = [outputs_text(c) for c in notebook.cells if c.cell_type == "code"]
    assert texts[2].splitlines()[0].startswith("completed")
    assert texts[2].splitlines()[1] == "add returned: 42"
    assert "add returned: 2" in texts[4]
    results = [o["data"]["text/plain"] for o in _results(notebook)]
    assert any("('message_creation', 'completed')" in r for r in results)
    assert results[-1] == "'completed'"


def test_the_responses_notebook_runs_against_a_responses_server(monkeypatch):
    """responses-model.ipynb as shipped, its upstream URL pointed at a fake on 127.0.0.1 that
    answers with recorded Responses traffic: it says what key it needs, and every cell runs."""
    from ..support.http_server import LoopbackServer
    from ..support.replay import RECORDED

    def recorded(name: str):
        entries = json.loads((RECORDED / "responses" / f"{name}.json").read_text())["Entries"]
        return 200, {"Content-Type": "text/event-stream"}, ["".join(entries[0]["ResponseBody"]).encode()]
    replies = [recorded("CodeInterpreterToolStreaming"), recorded("StreamingResponsesWithReasoningSummary"),
               recorded("WebSearchCallStreaming")]
    notebook = nbformat.read(NOTEBOOKS / "responses-model.ipynb", as_version=4)
    intro = notebook.cells[0].source
    assert "OPENAI_API_KEY" in intro and "not executed by the test suite" in intro
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-notebook")
    with LoopbackServer(lambda request: replies.pop(0)) as fake:
        start = notebook.cells[1]
        assert "https://api.openai.com/v1" in start.source
        start.source = start.source.replace("https://api.openai.com/v1", fake.base_url)
        execute(notebook, timeout=120)
        sent = [r.json() for r in fake.received]
    assert len(sent) == 3, sent
    assert all(r["model"] == "gpt-5-mini" and r["reasoning"]["effort"] == "medium" for r in sent)
    assert [t["type"] for t in sent[0]["tools"]] == ["function", "code_interpreter", "web_search"]
    assert "completed" in outputs_text(notebook.cells[-1]).splitlines()[0]
    text = json.dumps(notebook.dict())
    assert "sk-test-notebook" not in text
