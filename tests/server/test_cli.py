"""`oairun-jupyter serve` answers every bad argument with one line that says what to fix, exits
with 2, and prints the URL clients use (an IPv6 host in brackets). Run as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from ..support import processes
from ..support.sockets import wait_until_serving


def _serve(*args: str, home: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oairun_jupyter.server", "serve", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "HOME": home, "XDG_DATA_HOME": home})


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_each_bad_argument_is_one_line_that_says_what_to_fix(tmp_path, taken_port):
    home = str(tmp_path)
    unwritable = tmp_path / "a-file"  # a file where a folder should be: no user can write below it, root neither
    unwritable.write_text("")
    cases = {
        ("--port", "99999"): "'99999' is not a port: give a number from 1 to 65535",
        ("--port", "http"): "'http' is not a port",
        ("--pace-ms", "nan"): "'nan' is not a number of milliseconds",
        ("--port", str(taken_port), "--db", ":memory:"): f"cannot listen on 127.0.0.1 port {taken_port}",
        ("--db", str(unwritable / "runs.db"), "--port", "0"): "cannot open the database",
        ("--backend", "chat-completions", "--upstream-base-url", "ftp://x", "--db", ":memory:"):
            "the upstream base URL must be an http:// or https:// URL",
        ("--host", "nohost.invalid", "--port", "0", "--db", ":memory:"): "cannot listen on nohost.invalid",
        # an empty host listened on every address; an empty --db took the default file
        ("--host", "", "--port", "0", "--db", ":memory:"): "an empty host means nothing",
        ("--db", "", "--port", "0"): "an empty database path means nothing",
        ("--backend", "chat-completions", "--upstream-base-url", "http://h:99999/v1", "--db", ":memory:"):
            "the upstream base URL must be an http:// or https:// URL",
        ("--backend", "responses", "--db", ":memory:"): "--backend responses needs --upstream-base-url",
        ("--backend", "responses", "--upstream-base-url", "http://u:pw@h:0/v1", "--db", ":memory:"):
            "'http://***@h:0/v1'",
        ("--backend", "anthropic", "--db", ":memory:"): "invalid choice: 'anthropic'",
    }
    for args, says in cases.items():
        result = _serve(*args, home=home)
        lines = [line for line in result.stderr.splitlines() if line.startswith("oairun-jupyter")]
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and len(lines) == 1 and says in lines[0], (args, result.stderr)


def test_an_ipv6_host_is_printed_in_brackets(tmp_path):
    try:
        socket.socket(socket.AF_INET6).close()
    except OSError:
        pytest.skip("this machine has no IPv6 loopback, so the server cannot listen on ::1")
    process = processes.start([sys.executable, "-m", "oairun_jupyter.server", "serve", "--host", "::1", "--port",
                               "0", "--db", ":memory:", "--no-auth"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env={**os.environ, "HOME": str(tmp_path)})
    try:
        line = process.stdout.readline()
        url = line.split(" on ", 1)[1].split(";", 1)[0]
        assert url.startswith("http://[::1]:") and url.endswith("/v1"), line
        wait_until_serving(f"{url}/assistants", process, "the CLI server on ::1")
    finally:
        processes.stop(process)
