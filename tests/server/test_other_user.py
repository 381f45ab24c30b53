"""Another local user (issue 13, part 1): run as uid 65534 with `setpriv`, it finds the ports but
cannot use them, cannot read the CLI server's database or key, and a port it squats gets no key.

The other user's code runs under Debian's /usr/bin/python3 with the standard library only (it
cannot read this project's virtual environment, and needs nothing from it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import oairun_jupyter as oai
from oairun_jupyter.magics._session import Session

from ..support import processes
from ..support.sockets import free_port, wait_until_serving

NOBODY = 65534
SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or SETPRIV is None or not os.path.exists("/usr/bin/python3"),
    reason="running code as another local user needs root, setpriv and /usr/bin/python3 "
           f"(euid {os.geteuid()}, setpriv {SETPRIV})")


def _as_other_user(code: str, *args: str) -> list[str]:
    """The command line running `code` (with `args`) as uid 65534 under Debian's Python."""
    return [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/usr/bin/python3", "-c",
            textwrap.dedent(code), *args]


PROBE = """
    import json, sys, urllib.request, urllib.error
    results = {}
    for name, url in json.loads(sys.argv[1]).items():
        try:
            urllib.request.urlopen(url, timeout=10)
            results[name] = 200
        except urllib.error.HTTPError as error:
            results[name] = error.code
    for name, path in json.loads(sys.argv[2]).items():
        try:
            open(path, "rb").read(1)
            results[name] = "read"
        except OSError as error:
            results[name] = type(error).__name__
    print(json.dumps(results))
"""


@pytest.fixture
def shared_folder():
    """A folder both users can traverse (the suite's own temporary folder is this user's only)."""
    folder = Path(tempfile.mkdtemp(prefix="oairun-other-user-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _serve(port: int, home: Path) -> subprocess.Popen:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data")}
    env.pop("OAIRUN_SERVER_KEY_FILE", None)  # where a user's key really lives
    process = processes.start([sys.executable, "-m", "oairun_jupyter.server", "serve", "--port", str(port),
                               "--pace-ms", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env)
    wait_until_serving(f"http://127.0.0.1:{port}/v1/assistants", process, "the CLI server to listen")
    return process


def test_another_user_reaches_neither_server_nor_reads_the_database_or_key(shared_folder):
    home = shared_folder / "home"
    home.mkdir(mode=0o755)  # a home others may list, as on many systems
    port = free_port()
    cli = _serve(port, home)
    session = Session()
    try:
        key_file = home / "config" / "oairun-jupyter" / "server-key"
        oai.configure(base_url=f"http://127.0.0.1:{port}/v1", api_key=key_file.read_text().strip())
        oai.oai_create_assistant("scripted", name="mine")  # something in the database to steal
        session.start_local(quiet=True)  # the magics' in-process server, with its per-start key
        databases = list((home / "data").rglob("runs.sqlite3"))
        assert len(databases) == 1
        urls = {"cli": f"http://127.0.0.1:{port}/v1/assistants", "kernel": session.local.base_url + "/assistants"}
        files = {"database": str(databases[0]), "key": str(key_file)}
        probe = subprocess.run(_as_other_user(PROBE, json.dumps(urls), json.dumps(files)), capture_output=True,
                               text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, cwd="/")
        assert probe.returncode == 0, probe.stderr
        assert json.loads(probe.stdout) == {"cli": 401, "kernel": 401, "database": "PermissionError",
                                            "key": "PermissionError"}
        assert oai.oai_list_assistants(client=oai.Client(oai.ClientConfig(
            base_url=f"http://127.0.0.1:{port}/v1", api_key=key_file.read_text().strip())))[0].name == "mine"
    finally:
        session.stop_local()
        processes.stop(cli)


SQUATTER = """
    import http.server, sys
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            print("authorization:", self.headers.get("Authorization"), flush=True)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening", flush=True)
    server.handle_request()
"""


def test_a_port_another_user_squats_gets_no_key(tmp_path, monkeypatch):
    key_file = tmp_path / "server-key"
    key_file.write_text("the-users-cli-key\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("OAIRUN_SERVER_KEY_FILE", str(key_file))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-users-openai-key")
    port = free_port()
    squatter = processes.start(_as_other_user(SQUATTER, str(port)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={"PATH": "/usr/bin:/bin"}, cwd="/")
    try:
        assert squatter.stdout.readline().strip() == "listening"
        oai.configure(base_url=f"http://127.0.0.1:{port}/v1")  # the port the user's server usually has
        with pytest.raises(oai.NotFoundError):
            oai.oai_retrieve_assistant("asst_1")
        heard = squatter.stdout.read()
    finally:
        processes.stop(squatter)
    assert heard.strip() == "authorization: None"
