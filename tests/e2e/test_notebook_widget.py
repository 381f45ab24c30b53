"""A displayed Run in a real kernel (nbclient): the widget, its saved state, the static views."""

from __future__ import annotations

from ..support.notebooks import execute, make_notebook, outputs_text, widget_states

SETUP = """
from oairun_jupyter import configure, oai_create_assistant, oai_create_thread_and_run, tool
from oairun_jupyter.server import start_local_server
server = start_local_server(pace=0.002)
configure(base_url=server.base_url)

def get_weather(city: str) -> str:
    '''The weather in a city.'''
    print(f"looking up {city}")
    return f"sunny in {city}"

assistant = oai_create_assistant("scripted", name="Notebook helper", tools=[tool(get_weather)])
"""


def test_a_displayed_stream_runs_its_tools_and_saves_its_final_state():
    notebook = execute(make_notebook(
        SETUP,
        'run = oai_create_thread_and_run(assistant, thread={"messages": [\'get_weather {"city": "Paris"}\']},'
        ' stream=True)\nrun',
        "print(run.status, run.tool_calls[0].output)"))
    shown = [o for o in notebook.cells[1].outputs if o.output_type in ("display_data", "execute_result")]
    # displayed once: its widget, then its transcript, written again when the run ended
    assert [sorted(o["data"]) for o in shown] == [["application/vnd.jupyter.widget-view+json", "text/plain"],
                                                 ["text/html", "text/plain"]]
    assert shown[0]["data"]["text/plain"] == ""  # not the traits' repr where widgets cannot show
    transcript = shown[1]["data"]["text/html"]
    assert "<b>completed</b>" in transcript and "sunny in Paris" in transcript and "get_weather" in transcript
    assert "&quot;city&quot;: &quot;Paris&quot;" in transcript  # the call's arguments
    assert "when this output was written" not in transcript
    assert "looking up Paris" in outputs_text(notebook.cells[1])  # the tool ran in that cell
    assert outputs_text(notebook.cells[2]).strip() == "completed sunny in Paris"
    (state,) = [s for s in widget_states(notebook) if s.get("header")]
    assert state["header"]["status"] == "completed"
    assert state["header"]["assistant_name"] == "Notebook helper"
    assert state["header"]["backend"] == "local scripted"
    assert state["header"]["usage"]["total_tokens"] > 0
    assert [m["role"] for m in state["messages"]] == ["user", "assistant"]
    assert state["messages"][1]["text"] == "get_weather returned: sunny in Paris"
    (record,) = state["records"].values()
    assert record["output"] == "sunny in Paris" and record["function"] == "get_weather"
    tool_step = next(s for s in state["steps"] if s["type"] == "tool_calls")
    assert tool_step["tool_calls"][0]["arguments"] == '{"city": "Paris"}'


def test_static_html_and_text_are_escaped_transcripts():
    notebook = execute(make_notebook(
        SETUP,
        "run = oai_create_thread_and_run(assistant, thread={'messages': ['<img src=x onerror=alert(1)>']},"
        " stream=True).wait()\nbundle = run._repr_mimebundle_()\n"
        "print(bundle['text/plain'])\nprint('HTML', bundle['text/html'])"))
    text = outputs_text(notebook.cells[1])
    assert "You said: &lt;img src=x onerror=alert(1)&gt;" in text
    assert "<img" not in text.split("HTML", 1)[1]
    assert "[completed]" in text


def test_a_notebook_saved_with_widget_state_holds_the_widget_code_once():
    """With widget state saved (nbclient saves it, as JupyterLab does with its setting on), the
    400 kB of widget code is in the notebook once, not once per run: each run's widget carries a
    loader (tests/e2e/test_browser_widget.py reopens such a notebook and sees the run render)."""
    import json

    notebook = execute(make_notebook(SETUP, *(
        f"oai_create_thread_and_run(assistant, thread={{'messages': ['run {n}']}}, stream=True)" for n in range(3))))
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    code = [s for s in states.values() if len(s["state"].get("_esm", "")) > 100_000]
    runs = [s for s in states.values() if s["state"].get("header")]
    assert len(code) == 1 and len(runs) == 3
    assert all(len(json.dumps(s)) < 20_000 for s in runs), [len(json.dumps(s)) for s in runs]


def test_a_change_the_throttle_held_back_is_saved_when_its_cell_is_the_last():
    """The bridge writes the widget at most 10 times a second, holding later changes for a timer.
    nbclient keeps a widget message only while the cell that sent it runs: a held-back change of
    the notebook's last cell (a re-run right after another write) must go out as the cell ends."""
    notebook = execute(make_notebook(
        SETUP,
        'run = oai_create_thread_and_run(assistant, thread={"messages": [\'get_weather {"city": "Paris"}\']},'
        ' stream=True)\nrun',
        "call = run.tool_calls[0]\nfirst = run.rerun_tool(call.call_id, '{\"city\": \"Rome\"}')\n"
        "second = run.rerun_tool(call.call_id, '{\"city\": \"Oslo\"}')  # within the throttle's 0.1 s"))
    (state,) = [s for s in widget_states(notebook) if s.get("header")]
    (record,) = state["records"].values()
    assert [rerun["output"] for rerun in record["reruns"]] == ["sunny in Rome", "sunny in Oslo"]
