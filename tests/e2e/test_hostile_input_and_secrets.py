"""Hostile input runs nothing and is bounded; a recognisable fake key appears nowhere."""

from __future__ import annotations

import logging

import nbformat

import oairun_jupyter as oai
from oairun_jupyter.server import LocalServer, SQLiteStore, create_app
from oairun_jupyter.server.backends import make_backend
from oairun_jupyter.tools import MAX_ARGUMENT_BYTES, MAX_OUTPUT_CHARS

from ..support.flows import WEATHER_TOOL
from ..support.notebooks import execute, make_notebook

FAKE_KEY = "sk-test-FAKE-KEY-0123456789-do-not-leak"


def test_ten_megabyte_arguments_are_refused_and_ten_megabyte_outputs_cut(server):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    ran = []

    def get_weather(city):
        ran.append(len(city))
        return "x" * 10_000_000
    # the model (not the user, whose message is limited to 256,000 characters) sends 10 MB of arguments
    run = oai.Run(oai.oai_create_thread(messages=["/call-padded get_weather city 10000000\n"
                                                  "/call get_weather {\"city\": \"Oslo\"}"]),
                  assistant_id=assistant).wait(env={"get_weather": get_weather})
    big, small = run.tool_calls if len(run.tool_calls[0].arguments) > 100 else reversed(run.tool_calls)
    assert big.status == "refused" and f"above the limit of {MAX_ARGUMENT_BYTES:,}" in big.output
    assert ran == [4]  # only the Oslo call ran
    assert len(small.output) < MAX_OUTPUT_CHARS + 100 and small.output.endswith("sent]")
    assert "output cut: 10,000,000 characters" in small.output
    assert len(big.arguments) <= 10_003  # the record keeps a bounded copy of what the model sent


def test_a_fake_key_appears_in_no_output_state_repr_log_error_or_response(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)  # as a user sets it: in the kernel's environment
    app = create_app(SQLiteStore(tmp_path / "runs.sqlite3"), make_backend("scripted", pace=0), server_key=FAKE_KEY)
    with LocalServer(app).start() as local:
        notebook = execute(make_notebook(
            "import logging, sys\nlogging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
            "%load_ext oairun_jupyter\n"
            # a key goes only where it is given with its URL: the environment's key is OpenAI's
            f"import os\nfrom oairun_jupyter import *\nconfigure(base_url={local.base_url!r}, "
            "api_key=os.environ['OPENAI_API_KEY'])",
            "def get_weather(city: str) -> str:\n    return 'sunny'",
            '%%oai_run --tools get_weather\nget_weather {"city": "Paris"}',
            "from oairun_jupyter import get_client\nget_client().config",
            "%oai config",
            "_oai_run",
            "configure(api_key='sk-wrong-key-000000000000')\ntry:\n    oai_list_assistants()\n"
            "except Exception as error:\n    print(repr(error), str(error))",
            "import os\nconfigure(api_key=os.environ['OPENAI_API_KEY'], base_url='http://127.0.0.1:9/v1', max_retries=0)\n"
            "try:\n    oai_list_assistants()\nexcept Exception as error:\n    print(repr(error))",
        ), allow_errors=True)
        text = nbformat.writes(notebook)
        assert "sunny" in text and "widget-state" in text  # the notebook really ran and kept state
        assert FAKE_KEY not in text and FAKE_KEY[:12] not in text
        assert "Secret('********')" in text
        assert "Missing or wrong server key" in text
        assert FAKE_KEY not in caplog.text
        import httpx
        with httpx.Client(base_url=local.base_url, headers={"Authorization": f"Bearer {FAKE_KEY}"}) as client:
            for path in ("/assistants", "/oairun/info", "/threads/thread_nope"):
                assert FAKE_KEY not in client.get(path).text
            assert FAKE_KEY not in client.post("/assistants", json={"model": FAKE_KEY[:3], "bogus": 1}).text
    db = (tmp_path / "runs.sqlite3").read_bytes()
    assert FAKE_KEY.encode() not in db
