"""The magics in a real kernel (nbclient) leave every run and the session in a known state
(issue 14): each way out of `%%oai_run` ends its run on the server and leaves the thread free;
the session keeps no value that failed; `%oai cancel` ends an approval wait for good; `%oai local
stop` does not wait on an open stream; an async run shown in a cell is driven; and the saved
output of a run is its final transcript."""

from __future__ import annotations

from ..support.notebooks import execute, make_notebook, outputs_text

PRELUDE = r"""
%load_ext oairun_jupyter
import asyncio, sys, threading, time
from oairun_jupyter import oai_retrieve_run
from oairun_jupyter.display import bridge_of
from oairun_jupyter.magics._session import Session
ran = []
def get_weather(city: str) -> str:
    ran.append(city)
    return f"sunny in {city}"
def exits(city: str) -> str:
    sys.exit(3)
def interrupts(city: str) -> str:
    raise KeyboardInterrupt
def surrogate(city: str) -> str:
    return "x\ud800y"
def slow(city: str) -> str:
    time.sleep(30)
    return "late"
def on_server(run):
    print(oai_retrieve_run(run.thread_id, run.id).status)
def until(check, seconds=30):
    end = time.monotonic() + seconds
    while not check() and time.monotonic() < end:
        time.sleep(0.01)
d, n = {"a": 1}, 5
"""

WAYS_OUT = {  # a way out of %%oai_run -> the run's status on the server after it
    '%%oai_run --tools exits\nexits {"city": "A"}': "cancelled",
    '%%oai_run --tools interrupts\ninterrupts {"city": "A"}': "cancelled",
    '%%oai_run --tools surrogate\nsurrogate {"city": "A"}': "completed",
    '%%oai_run --tool-timeout 0.5 --tools slow\nslow {"city": "A"}': "completed",
    '%%oai_run --tools get_weather --on-tool-error raise\nget_weather {"city": 1}': "completed",
}


def _stdout(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _stderr(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")


def _flowing_id(cells) -> str:
    """The id of the streamed background run, as the cell that saw it flowing printed it."""
    return _stderr(cells[7]).strip().splitlines()[-1]


def _usage_error(cell) -> str:
    lines = [line for line in _stderr(cell).strip().splitlines() if not line.startswith("oairun: started")]
    assert not [o for o in cell.outputs if o.output_type == "error"], cell.source  # no traceback
    assert len(lines) == 1 and lines[0].startswith("UsageError: "), (cell.source, lines)
    return lines[0]


def test_every_way_out_of_the_magic_ends_the_run_and_frees_the_thread():
    cells = [PRELUDE, "%%oai_run\nhello", "first = _oai_run"]
    for way in WAYS_OUT:
        cells += [way, "on_server(_oai_run)\nprint(_oai_run.thread_id == first.thread_id)"]
    cells += ["%%oai_run --tools get_weather\nget_weather {\"city\": \"Oslo\"}",
              "print(_oai_run.status, _oai_run.thread_id == first.thread_id, _oai_run.tool_calls[0].output)"]
    notebook = execute(make_notebook(*cells), allow_errors=True, timeout=180)
    for index, expected in enumerate(WAYS_OUT.values()):
        way, check = notebook.cells[3 + 2 * index], notebook.cells[4 + 2 * index]
        assert outputs_text(check).split() == [expected, "True"], (way.source, outputs_text(check), _stderr(way))
    exit_cell = notebook.cells[3]
    assert "SystemExit" in outputs_text(exit_cell) + _stderr(exit_cell) + str(exit_cell.outputs)
    assert "cancelled on the server" in _stderr(notebook.cells[5])
    assert outputs_text(notebook.cells[-1]).strip() == "completed True sunny in Oslo"


def test_the_session_keeps_no_value_that_failed():
    notebook = execute(make_notebook(
        PRELUDE,
        "%%oai_run\nhello",                                                      # 1
        "first = _oai_run",
        "%oai config model=scripted-2",                                          # 3
        "%%oai_run\nhello again",
        "print(_oai_run.model, _oai_run.thread_id == first.thread_id)",          # 5
        "%%oai_run -t thread_doesnotexist\nhello",
        "%%oai_run -t 'bad id!'\nhello",                                         # 7
        "%%oai_run --out 1x\nhello",
        "%%oai_run --tool-timeout nan\nhello",                                   # 9
        "%oai config assistant=asst_missing",
        "%oai config base_url=http://[::1]:abc/v1",                              # 11
        "%%oai_run\n{d[missing]}",
        "%%oai_run\n{n[0]}",                                                     # 13
        "%%oai_run\nstill here",
        "print(_oai_run.status, _oai_run.thread_id == first.thread_id, len(Session.get().runs))",  # 15
        "%oai config base_url=http://127.0.0.1:9/v1",
        "%oai local start",                                                      # 17
        "%%oai_run\nback home",
        "print(_oai_run.status)",                                                # 19
        "url = Session.get().local.base_url",
        "%oai config base_url={url}/",                                           # 21: the local server, written with a slash
        "%%oai_run\nonce more",
        "print(_oai_run.status)",                                                # 23
    ), allow_errors=True, timeout=180)
    cells = notebook.cells
    assert outputs_text(cells[5]).split() == ["scripted-2", "True"]
    assert "No thread found" in _usage_error(cells[6])
    assert "bad id!" in _usage_error(cells[7])
    assert "--out takes a variable name" in _usage_error(cells[8])
    assert "tool_timeout must be a number" in _usage_error(cells[9])
    assert "asst_missing" in _usage_error(cells[10])
    assert "not a valid URL (Invalid port: 'abc')" in _usage_error(cells[11])
    assert "KeyError" in _usage_error(cells[12]) and "TypeError" in _usage_error(cells[13])
    # the failed thread, option and assistant were kept nowhere: the next cell runs where it ran
    assert outputs_text(cells[15]).split() == ["completed", "True", "3"]
    assert outputs_text(cells[19]).strip() == "completed"
    assert "the local server's own" in outputs_text(cells[21])  # its key goes with it
    assert outputs_text(cells[23]).strip() == "completed"


def test_cancel_ends_an_approval_wait_and_local_stop_ends_an_open_stream():
    notebook = execute(make_notebook(
        PRELUDE,
        '%%oai_run --background --confirm --tools get_weather --out asking\nget_weather {"city": "Oslo"}',
        "b = bridge_of(asking)\nuntil(lambda: b.widget.confirm)\nprint(list(b.widget.confirm.values()))",  # 2
        "%oai cancel",
        "waiter = Session.get().background[-1].worker\nwaiter.join(15)\n"                                        # 4
        "print(waiter.is_alive(), b.widget.confirm, asking.status)",
        "late = asking.tool_calls[0].call_id\n"
        "b._on_widget_message(b.widget, {'type': 'decide', 'call_id': late, 'decision': 'approve'}, [])\n"
        "time.sleep(0.5)\nprint(ran, asking.tool_calls[0].status)",                                           # 5
        "%%oai_run --background --out flowing\n/pace 50\n/long 100000",
        "until(lambda: flowing.event_data.messages)\nprint(flowing.status)\nprint(flowing.id, file=sys.stderr)",  # 7
        "%oai local stop",
        "names = [t.name for t in threading.enumerate()]\n"                                                 # 9
        "print(names.count('oairun-server'), names.count('oairun-background-run'), flowing.is_terminal)",
    ), allow_errors=True, timeout=180)
    cells = notebook.cells
    assert outputs_text(cells[2]).strip() == "['pending']"
    assert _stdout(cells[4]).strip() == "False {} cancelled"
    assert outputs_text(cells[5]).strip() == "[] refused"
    # the waiter said how the run ended (in whichever cell was running then)
    assert "oairun: run " in "".join(_stderr(cell) for cell in cells[1:5])
    assert _stdout(cells[7]).strip() == "in_progress"
    assert _stdout(cells[8]).strip() == "local runs server stopped"
    assert f"oairun: run {_flowing_id(cells)} cancelled" in _stderr(cells[8])  # cancelled first, and said so
    assert outputs_text(cells[9]).split() == ["0", "0", "True"]


def test_an_async_run_shown_in_a_cell_is_driven_and_saved_outputs_are_final():
    notebook = execute(make_notebook(
        PRELUDE,
        '%%oai_run --tools get_weather\nget_weather {"city": "Oslo"}',
        "from oairun_jupyter import Run, oai_create_thread_and_run, tool\n"                                 # 2
        "streamed = await oai_create_thread_and_run(_oai_run.assistant_id, thread={'messages': "
        "['get_weather {\"city\": \"Rome\"}']}, tools=[tool(get_weather)], stream=True, async_=True)\nstreamed",
        "polled = Run(_oai_run.thread_id, assistant_id=_oai_run.assistant_id, async_=True)\npolled",        # 3
        "for _ in range(3000):\n    if streamed.is_terminal and polled.is_terminal: break\n"
        "    await asyncio.sleep(0.01)\nprint(streamed.status, streamed.tool_calls[0].output, polled.status)",  # 4
        "print(type(polled.retrieve()).__name__)",
        "nowhere = Run(_oai_run.thread_id, assistant_id='asst_nope', async_=True)\nnowhere",             # 6
        "await asyncio.sleep(1)\nprint(bridge_of(nowhere).widget.header['last_error'])",
    ), allow_errors=True, timeout=180)
    cells = notebook.cells
    assert outputs_text(cells[4]).strip() == "completed sunny in Rome completed"
    assert not [o for o in cells[2].outputs + cells[3].outputs if o.output_type == "error"]
    for cell in cells[1:4]:  # each shown run: its widget, then its transcript
        widget, transcript = [o for o in cell.outputs if o.output_type == "display_data"]
        assert "application/vnd.jupyter.widget-view+json" in widget.data and "text/html" in transcript.data
    # the magic's run ended within its cell: its saved transcript is final. (The async runs end
    # after their cells; JupyterLab routes their last update by display id, nbclient only reads
    # a cell's messages while it runs: tests/e2e/test_browser_transcripts.py.)
    transcript = [o for o in cells[1].outputs if o.output_type == "display_data"][1]
    assert transcript.data["text/plain"].startswith("Run run_") and "[completed]" in transcript.data["text/plain"]
    assert "sunny in Oslo" in transcript.data["text/plain"] and "sunny in Oslo" in transcript.data["text/html"]
    # a run that cannot be driven says why in its widget (its cell has ended: nowhere else to say it)
    shown_error = _stdout(cells[7])
    assert "'code': 'not_driven'" in shown_error and "No assistant found with id 'asst_nope'" in shown_error


def test_a_restarted_kernel_continues_its_thread_on_the_persisted_local_server(tmp_path, monkeypatch):
    """The magics' server keeps its database in the user's data directory: a new kernel (a restart,
    a reopened notebook) continues a thread and retrieves its runs; `--memory` keeps nothing."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    first = execute(make_notebook(
        "%load_ext oairun_jupyter",
        "%%oai_run --out before\nThe code word is blue",
        "print(before.thread_id, before.id, before.assistant_id)\n%oai local status",
    ))
    thread_id, run_id, assistant_id = outputs_text(first.cells[2]).split()[:3]
    assert str(tmp_path / "data" / "oairun-jupyter" / "runs.sqlite3") in outputs_text(first.cells[2])
    second = execute(make_notebook(
        "%load_ext oairun_jupyter\nimport oairun_jupyter as oai",
        f"%%oai_run -t {thread_id} --out after\nWhat was the code word?",
        f"print(after.status, after.assistant_id == {assistant_id!r})\n"
        "print(*(m.text for m in after.thread().list_messages(order='asc')), sep='|')\n"
        f"print(oai.oai_retrieve_run({thread_id!r}, {run_id!r}).status)",
        "%oai local stop\n%oai local start --memory\n%oai local status",
        f"%%oai_run -t {thread_id}\nstill there?",
    ), allow_errors=True)
    lines = outputs_text(second.cells[2]).splitlines()
    assert lines[0] == "completed True"  # the session's assistant of the first kernel is reused
    assert lines[1] == ("The code word is blue|You said: The code word is blue|What was the code word?|"
                        "You said: What was the code word?")
    assert lines[2] == "completed"
    assert "database in memory" in outputs_text(second.cells[3])
    assert f"No thread found with id '{thread_id}'" in "".join(
        o.get("text", "") + o.get("evalue", "") for o in second.cells[4].outputs)


def _transcript(cell):
    """The run's transcript output (the display_data beside its widget), as the notebook saved it."""
    return [o for o in cell.outputs if o.output_type == "display_data" and "text/html" in o.data][0]


def test_oai_wait_writes_the_final_transcript_of_background_runs_into_a_notebook_run_headless():
    """nbclient reads a cell's messages only while some cell runs: a background run ending after
    the last cell is saved "in progress" (the control), unless the notebook ends with `%oai wait`,
    which blocks until the background runs end. A run awaiting approval clicks is not waited for
    (the clicks need the kernel free); a timeout and an interrupt stop the wait, not the runs."""
    start = "%%oai_run --background --out slow\n/pace 20\n/long 150"  # about 3 s
    control = execute(make_notebook(PRELUDE, start), timeout=120)
    assert "its transcript replaces this line when it ends" in _transcript(control.cells[1]).data["text/html"]

    notebook = execute(make_notebook(
        PRELUDE,
        start,                                                                                          # 1
        "%%oai_run --background --confirm --tools get_weather -t new --out asking\nget_weather {\"city\": \"Rome\"}",
        "%oai wait --timeout 0.2",                                                                      # 3
        "%oai wait",
        "print(slow.status)",                                                                           # 5
        "%oai wait --timeout 0", "%oai wait --timeout nan", "%oai wait soon",                           # 6, 7, 8
        "%%oai_run --background -t new --out endless\n/pace 50\n/long 100000",                         # 9
        "import os, signal\nthreading.Timer(1, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "%oai wait\nprint(endless.status)",                                                             # 10
        "%oai cancel",
        "%oai wait",                                                                                    # 12
    ), allow_errors=True, timeout=180)
    cells = notebook.cells
    assert "still going" in _usage_error(cells[3]) and "(they go on; `%oai cancel` cancels them)" in _usage_error(cells[3])
    waited = _stdout(cells[4]).splitlines()
    assert waited[0].endswith("  completed") and waited[0].startswith("run_"), waited
    assert waited[1].startswith("not waited for: run run_") and "waits for your approval" in waited[1], waited
    assert _stdout(cells[5]).strip() == "completed"
    saved = _transcript(cells[1])  # written into cell 1 while cell 4 waited
    assert "[completed]" in saved.data["text/plain"] and "replaces this line" not in saved.data["text/html"]
    assert "w149" in saved.data["text/html"] and "w149" in saved.data["text/plain"]
    for cell in cells[6:9]:
        assert "%oai wait [--timeout SECONDS]" in _usage_error(cell)
    assert "oairun: stopped waiting; still going: run_" in _stderr(cells[10]) and "(in_progress)" in _stderr(cells[10])
    assert _stdout(cells[10]).strip() == "in_progress"  # the wait stopped, the run went on
    assert "cancelling" in _stdout(cells[11])
    after_cancel = _stdout(cells[12]).strip().splitlines()  # the waiters ended (or end now) with their runs
    assert after_cancel == ["no background run is going"] or all(line.endswith("  cancelled") for line in after_cancel)


def test_a_background_run_whose_tool_interrupts_or_exits_says_so_in_one_line_before_the_wait_returns():
    notebook = execute(make_notebook(
        PRELUDE,
        '%%oai_run --background --out f -t new --tools interrupts\ninterrupts {"city": "A"}',
        '%%oai_run --background --out g -t new --tools exits\nexits {"city": "A"}',
        "%oai wait",                                                                                     # 3
        "print(f.status, g.status)",
    ), allow_errors=True, timeout=120)
    cells = notebook.cells
    said = "".join(_stderr(cell) for cell in cells[1:])
    assert "Traceback" not in said and not [o for c in cells for o in c.outputs if o.output_type == "error"]
    for name in ("KeyboardInterrupt", "SystemExit: 3"):
        (line,) = [line for line in said.splitlines() if f"stopped: {name}" in line]
        assert "was cancelled on the server (now cancelled)" in line, line
    assert _stderr(cells[4]) == ""  # all said before the wait returned, nothing spills into the next cell
    assert _stdout(cells[4]).strip() == "cancelled cancelled"


def test_oai_wait_stops_waiting_for_a_run_whose_server_went_silent():
    """A background run whose server is gone is polled again and again (it may come back): the
    wait names it once its server has not answered for a while (30 s; 2 s here), not forever."""
    notebook = execute(make_notebook(
        PRELUDE,
        "from oairun_jupyter.server import start_local_server\nimport oairun_jupyter.magics._line as line\n"
        "line.UNANSWERED_SECONDS = 2\nother = start_local_server(pace=0.05)",
        "%oai config base_url={other.base_url}",
        "%%oai_run --background --no-stream --out doomed -t new\n/long 400",                              # 3
        "until(lambda: doomed.status == 'in_progress')\nother.stop()",
        "%oai wait --timeout=60",                                                                          # 5
        "%oai wait --timeout=x",
    ), allow_errors=True, timeout=120)
    cells = notebook.cells
    said = _stdout(cells[5]).strip().splitlines()
    assert len(said) == 1 and said[0].startswith("not waited for: run run_"), said
    assert ": its server has not answered for " in said[0] and "tried again in the background" in said[0]
    assert "%oai wait [--timeout SECONDS]" in _usage_error(cells[6])
