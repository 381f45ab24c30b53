"""The CLI server's key (issue 13, part 1): made on first start in a 0600 file of a 0700 folder,
read by this user's clients on their own, required of every request unless `--no-auth`; and the
header-read timeout that keeps a slow client from holding connections open."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time

import httpx
import pytest

import oairun_jupyter as oai
from oairun_jupyter._server_key import ensure_server_key, key_for_local_url, read_server_key
from oairun_jupyter.server import LocalServer, SQLiteStore, create_app
from oairun_jupyter.server.backends import make_backend

from ..support import processes
from ..support.sockets import free_port, wait_until_serving


def _serve(port: int, key_file, *options: str) -> subprocess.Popen:
    env = {**os.environ, "OAIRUN_SERVER_KEY_FILE": str(key_file)}
    env.pop("OAIRUN_SERVER_KEY", None)
    process = processes.start([sys.executable, "-m", "oairun_jupyter.server", "serve", "--port", str(port),
                               "--db", ":memory:", "--pace-ms", "0", *options],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    wait_until_serving(f"http://127.0.0.1:{port}/v1/assistants", process, "the CLI server to listen")
    return process


def test_the_cli_server_makes_its_key_and_this_users_clients_send_it(tmp_path, monkeypatch):
    key_file = tmp_path / "config" / "oairun-jupyter" / "server-key"
    monkeypatch.setenv("OAIRUN_SERVER_KEY_FILE", str(key_file))
    key_file.parent.mkdir(parents=True)
    key_file.parent.chmod(0o755)  # a folder the user made earlier, open to others: made private
    port = free_port()
    process = _serve(port, key_file)
    try:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
        key = key_file.read_text().strip()
        assert len(key) >= 40
        bare = httpx.get(f"http://127.0.0.1:{port}/v1/assistants")
        assert bare.status_code == 401 and key not in bare.text
        oai.configure(base_url=f"http://127.0.0.1:{port}/v1")  # no key given: the file's is sent
        assert oai.oai_create_assistant("scripted").model == "scripted"
        oai.configure(base_url=f"http://localhost:{port}/v1", api_key="sk-wrong")  # a key given wins
        with pytest.raises(oai.AuthenticationError):
            oai.oai_list_assistants()
    finally:
        processes.stop(process)
    first_line = process.stdout.read().splitlines()[0]
    assert f"key in {key_file} (read by your clients)" in first_line and key not in first_line
    again = _serve(port, key_file)  # the second start keeps the key
    processes.stop(again)
    assert key_file.read_text().strip() == key


def test_no_auth_is_an_explicit_choice_on_loopback(tmp_path):
    port = free_port()
    process = _serve(port, tmp_path / "key", "--no-auth")
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/v1/assistants").status_code == 200
    finally:
        processes.stop(process)
    assert "key none: --no-auth" in process.stdout.read()
    assert not (tmp_path / "key").exists()


def test_a_key_file_others_can_read_is_refused_by_server_and_client(tmp_path, monkeypatch):
    key_file = tmp_path / "server-key"
    key_file.write_text("shared-key\n")
    key_file.chmod(0o644)
    with pytest.raises(ValueError, match=r"can be read by other users \(mode 644\): run `chmod 600"):
        ensure_server_key(key_file)
    assert read_server_key(key_file) is None
    monkeypatch.setenv("OAIRUN_SERVER_KEY_FILE", str(key_file))
    with socket.create_server(("127.0.0.1", 0)) as listener:  # a server of this user
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        assert key_for_local_url(url) is None
        key_file.chmod(0o600)
        assert key_for_local_url(url) == "shared-key"
        assert key_for_local_url(url.replace("127.0.0.1", "localhost")) == "shared-key"
    assert key_for_local_url(url) is None  # nobody listens there now: nobody to send it to
    assert key_for_local_url("https://api.openai.com/v1") is None  # never beyond this machine
    assert key_for_local_url("http://127.0.0.1.example.com/v1") is None
    link = tmp_path / "link"
    link.symlink_to(key_file)
    assert read_server_key(link) is None  # a link could point anywhere: not followed


def test_a_request_head_that_never_ends_is_cut_off():
    app = create_app(SQLiteStore(), make_backend("scripted", pace=0))
    with LocalServer(app, header_seconds=0.5).start() as local:
        slow = socket.create_connection(("127.0.0.1", local.port))
        silent = socket.create_connection(("127.0.0.1", local.port))
        try:
            slow.sendall(b"GET /v1/assistants HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
            for connection in (slow, silent):
                connection.settimeout(10)
                assert connection.recv(1024) == b""  # closed by the server, not by the 10 s here
            assert httpx.get(local.base_url + "/assistants").status_code == 200  # others are served
            with httpx.Client() as client:  # a kept-alive connection that goes idle is closed too
                assert client.get(local.base_url + "/assistants").status_code == 200
                time.sleep(1.0)
                assert client.get(local.base_url + "/assistants").status_code == 200
        finally:
            slow.close()
            silent.close()
