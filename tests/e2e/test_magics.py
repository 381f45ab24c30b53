"""`%%oai_run` and `%oai` in a real kernel (nbclient): every option, errors as one line,
the thread across cells, background runs, interrupts."""

from __future__ import annotations

import os
import subprocess
import sys

from ..support.notebooks import execute, execute_interrupting, make_notebook, outputs_text, printed, streaming_text, widget_states

PRELUDE = """
%load_ext oairun_jupyter
def get_weather(city: str) -> str:
    '''The weather in a city.'''
    return f"sunny in {city}"
def broken(city: str) -> str:
    raise ValueError("no data")
city = "Paris"
"""


def _errors(cell):
    return [o for o in cell.outputs if o.output_type == "error"]


def _stderr(cell):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")


def test_the_magics_end_to_end():
    notebook = execute(make_notebook(
        PRELUDE,
        '%%oai_run --tools get_weather\nget_weather {"city": "{city}"}',
        "print(_oai_run.status, '|', _oai_run.tool_calls[0].output, '|', _oai_run.thread().list_messages()[0].text)",
        "%%oai_run --out second\nAnd a follow-up",
        "print(second is _oai_run, second.thread_id == _oai_run.thread_id)\n%oai thread",
        '%%oai_run -t new --no-stream --temperature 0.5 --top-p 0.9 -i "Be brief." --additional-instructions '
        '"Really." --max-prompt-tokens 1000 --max-completion-tokens 500 --tool-choice none '
        '--response-format auto -m scripted-2 --quiet\nHello',
        "r = _oai_run\nprint(r.status, r.temperature, r.top_p, r.instructions, r.max_prompt_tokens, "
        "r.max_completion_tokens, r.tool_choice, r.model, type(r).__name__)",
        "%%oai_run --tools broken --on-tool-error raise\nbroken {\"city\": \"X\"}",
        "my_assistant = _oai_run.assistant()",
        "%%oai_run -a my_assistant -t new --tool-choice get_weather --tools get_weather\nanything",
        "print(_oai_run.assistant_id == my_assistant.id, _oai_run.tool_calls[0].name)",
        "%oai config\n%oai runs\n%oai local status\n%oai cancel",
        "%%oai_run --raw\nKeep {city} and {nobody} as typed",
        "%%oai_run\nSolve $\\frac{1}{3} + x^{2}$ with {\"data\": [1, 2]} for {city}",
        "print(*(m.text for m in _oai_run.thread().list_messages(limit=4).data[::-1]), sep='|')",
    ), allow_errors=True)
    cells = notebook.cells
    assert all(not _errors(c) for c in cells), [_errors(c) for c in cells]
    assert "started the local runs server" in _stderr(cells[1])
    assert any(o.output_type == "display_data" and "application/vnd.jupyter.widget-view+json" in o.data
               for o in cells[1].outputs)
    assert not any(o.output_type == "execute_result" for o in cells[1].outputs)  # shown once, not twice
    assert outputs_text(cells[2]).strip() == "completed | sunny in Paris | get_weather returned: sunny in Paris"
    assert outputs_text(cells[4]).splitlines()[0] == "True True"
    transcript = outputs_text(cells[4])
    assert 'user: get_weather {"city": "Paris"}' in transcript and "user: And a follow-up" in transcript
    assert "assistant: You said: And a follow-up" in transcript
    assert not any(o.output_type in ("display_data", "execute_result") for o in cells[5].outputs)  # --quiet
    # --raw sends the cell as typed; without it, LaTeX and JSON are kept and only {city} is filled
    assert outputs_text(cells[14]).strip() == (
        'Keep {city} and {nobody} as typed|You said: Keep {city} and {nobody} as typed|'
        'Solve $\\frac{1}{3} + x^{2}$ with {"data": [1, 2]} for Paris|'
        'You said: Solve $\\frac{1}{3} + x^{2}$ with {"data": [1, 2]} for Paris')
    assert outputs_text(cells[6]).strip() == ("completed 0.5 0.9 Be brief.\n\nReally. 1000 500 none scripted-2 Run")
    assert "tool broken failed: ValueError: no data; the run was cancelled" in _stderr(cells[7])
    assert outputs_text(cells[10]).strip() == "True get_weather"
    config = outputs_text(cells[11])
    assert "backend:   local server (scripted backend)" in config and "API key:   the local server's own" in config
    assert "completed" in config and "local runs server at http://127.0.0.1:" in config
    states = [s for s in widget_states(notebook) if s.get("header")]
    assert {s["header"]["status"] for s in states} >= {"completed", "cancelled"}


def test_user_mistakes_are_one_line():
    notebook = execute(make_notebook(
        PRELUDE,
        "%%oai_run --bogus\nhello",
        "%%oai_run\n   ",
        "%%oai_run\nHello {nobody}",
        "%%oai_run --tools nothing_here\nhello",
        "%%oai_run --temperature 9\nhello",
        "%%oai_run -a asst_missing\nhello",
        "%oai config base_url=http://127.0.0.1:9/v1\n",
        "%%oai_run\nhello",
        "%oai frobnicate",
        "%%oai_run --confirm\nhello",
        "%%oai_run --background --confirm --quiet\nhello",
    ), allow_errors=True)
    expected = ["unrecognized arguments: --bogus", "the cell is empty", "no variable 'nobody' is defined",
                "no function named 'nothing_here'", "temperature must be a number from 0 to 2",
                "No assistant found with id 'asst_missing'", None,
                "could not reach http://127.0.0.1:9/v1", "unknown command 'frobnicate'", "could not reach http://127.0.0.1:9/v1",
                "which --quiet hides"]
    for cell, words in zip(notebook.cells[1:], expected):
        assert not _errors(cell), cell.source  # IPython shows a UsageError as one line, not a traceback
        if words is None:
            continue
        lines = [line for line in _stderr(cell).strip().splitlines() if not line.startswith("oairun: started")]
        assert len(lines) == 1 and lines[0].startswith("UsageError: "), (cell.source, lines)
        assert words in lines[0], (words, lines[0])


def test_background_runs_and_interrupts():
    notebook = execute_interrupting(make_notebook(
        PRELUDE,
        "%%oai_run --background --out bg\n/pace 20\n/long 60",
        "print('next cell ran while the run was', bg.status)",
        "import time\nfor _ in range(500):\n    if bg.is_terminal: break\n    time.sleep(0.02)\nprint(bg.status)",
        "%%oai_run --out slow\n/pace 20\n/long 5000",
        "print('after the interrupt:', slow.retrieve().status)",
    ), {4: streaming_text})
    assert outputs_text(notebook.cells[2]).strip() in ("next cell ran while the run was in_progress",
                                                        "next cell ran while the run was queued")
    assert outputs_text(notebook.cells[3]).strip() == "completed"
    assert "cancelled on the server (interrupted)" in _stderr(notebook.cells[4])
    assert outputs_text(notebook.cells[5]).strip() in ("after the interrupt: cancelled",
                                                        "after the interrupt: cancelling")


def test_loading_through_the_ipython_extensions_configuration(tmp_path):
    profile = tmp_path / "profile_default"
    profile.mkdir()
    (profile / "ipython_config.py").write_text("c.InteractiveShellApp.extensions = ['oairun_jupyter']\n")
    result = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "-c", "%oai local status"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "IPYTHONDIR": str(tmp_path)})
    assert "no local runs server" in result.stdout, result.stdout + result.stderr


def test_an_interrupt_while_a_tool_runs_cancels_the_run_and_the_next_cell_runs():
    notebook = execute_interrupting(make_notebook(
        PRELUDE + "\nimport time\ndef slow(seconds: int) -> str:\n    print('slow started', flush=True)\n"
                  "    time.sleep(seconds)\n    return 'done'",
        '%%oai_run --tools slow\nslow {"seconds": 30}',
        "print('next cell:', _oai_run.retrieve().status)",
    ), {1: printed("slow started")})
    assert "cancelled on the server (interrupted)" in _stderr(notebook.cells[1])
    assert outputs_text(notebook.cells[2]).strip() == "next cell: cancelled"
    (state,) = [s for s in widget_states(notebook) if s.get("header")]
    assert state["header"]["status"] == "cancelled"
    (record,) = state["records"].values()
    assert record["name"] == "slow"


def test_a_server_declaring_what_ipython_provides_cannot_make_the_kernel_run_it(tmp_path):
    # a hostile or hijacked server declares tools named after what every IPython namespace holds
    victim = tmp_path / "private.txt"
    victim.write_text("keep me")
    calls = "\n".join([f'/call open {{"file": "{victim}", "mode": "w"}}', "/call exit {}",
                       "/call get_ipython {}", '/call display {"obj": 1}', "/call undeclared {}"])
    notebook = execute(make_notebook(
        "import oairun_jupyter as oai\nfrom oairun_jupyter.server import start_local_server\n"
        "import httpx\nserver = start_local_server(pace=0)\noai.configure(base_url=server.base_url)\n"
        "# made elsewhere (not through this client), so this kernel declared nothing for it\n"
        "hostile = httpx.post(server.base_url + '/assistants', json={'model': 'scripted', 'tools': [\n"
        "    {'type': 'function', 'function': {'name': n}} for n in ('open', 'exit', 'get_ipython', 'display')]}"
        ").json()['id']",
        f"run = oai.Run(oai.oai_create_thread(messages=[{calls!r}]), assistant_id=hostile).wait()\n"
        "for record in run.tool_calls:\n    print(record.name, record.status, '|', record.output)",
        "undeclared = next(r for r in run.tool_calls if r.name == 'undeclared')\n"
        "try:\n    run.rerun_tool(undeclared.call_id)\nexcept ValueError as error:\n    print('rerun:', error)\n"
        "server.stop()",
    ))
    printed = outputs_text(notebook.cells[1]).splitlines()
    assert victim.read_text() == "keep me"
    assert len(printed) == 5 and all(" refused | Error: " in line for line in printed), printed
    assert "'open' in the namespace is " in printed[0] and "not a function you defined" in printed[0]
    rerun = outputs_text(notebook.cells[2]).strip()
    assert rerun.startswith("rerun: tool call 'call_") and rerun.endswith(
        "of 'undeclared' was refused (tool 'undeclared' is not declared for this run (allowed: display, exit, "
        "get_ipython, open; rule: declared by the server for a run this kernel did not create; only functions "
        "you defined may run)); only calls of the tools declared for the run can be re-run"), rerun


def test_the_kernels_own_server_answers_the_kernel_only():
    # another process on the machine (another user's, a page's helper) finds the port but not the key
    probe = ("import subprocess, sys\nfrom oairun_jupyter import get_client\n"
             "url = get_client().config.base_url  # the server the first cell started\n"
             "code = f'import httpx; print(httpx.get({url!r} + \"/assistants\").status_code, "
             "httpx.post({url!r} + \"/threads\", json={{}}).status_code)'\n"
             "print('other process:', subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,"
             " timeout=60).stdout.strip())")
    notebook = execute(make_notebook(
        PRELUDE, "%%oai_run --out first\nhello", probe,
        "print('kernel:', first.status, repr(get_client().config.api_key))\n%oai local stop\n"
        "print('after stop:', repr(get_client().config.api_key), get_client().config.base_url)",
        "import os\nos.environ['OPENAI_API_KEY'] = 'sk-the-users-own'\n%oai local start\n%oai local stop\n"
        "print('own key back:', get_client().config.api_key.reveal() == 'sk-the-users-own')",
    ))
    assert outputs_text(notebook.cells[2]).strip() == "other process: 401 401"
    kernel, after = outputs_text(notebook.cells[3]).strip().splitlines()[0], outputs_text(notebook.cells[3])
    assert kernel == "kernel: completed Secret('********')"  # the kernel holds the key, masked
    assert "after stop: Secret('') https://api.openai.com/v1" in after  # the key went with the server
    assert "own key back: True" in outputs_text(notebook.cells[4])  # the user's key, not the local one


def test_oai_cancel_goes_on_past_a_run_it_cannot_cancel(server, capsys):
    """`%oai cancel` cancels every run still going, even when an earlier one refuses (issue 14)."""
    import oairun_jupyter as oai
    from oairun_jupyter.magics._line import run_line_command
    from oairun_jupyter.magics._session import Session

    assistant = oai.oai_create_assistant("scripted")
    ended = oai.oai_create_thread_and_run(assistant, thread={"messages": ["hi"]})  # as made: queued
    oai.oai_retrieve_run(ended.thread_id, ended.id).wait(timeout=30)  # it ends on the server; `ended` is stale
    going = oai.oai_create_thread_and_run(assistant, thread={"messages": ["/pace 50\n/long 1000"]})
    session = Session()
    session.runs.extend([going, ended])  # the newest first in the loop: the stale one
    run_line_command("cancel", session, shell=None)
    printed_lines = capsys.readouterr().out.splitlines()
    assert printed_lines[0].startswith(f"could not cancel {ended.id}")
    assert printed_lines[1] == f"cancelling {going.id}"
    assert oai.oai_retrieve_run(going.thread_id, going.id).status in ("cancelling", "cancelled")
