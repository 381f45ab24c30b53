"""The server listens on loopback by default; beyond it, only with a key every request must carry."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

import oairun_jupyter as oai
from oairun_jupyter.server import LocalServer, SQLiteStore, create_app
from oairun_jupyter.server._local import check_exposure
from oairun_jupyter.server.backends import make_backend


def test_listening_beyond_loopback_without_a_key_is_refused(tmp_path):
    result = subprocess.run([sys.executable, "-m", "oairun_jupyter.server", "serve", "--host", "0.0.0.0",
                             "--db", ":memory:", "--no-auth"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "OAIRUN_SERVER_KEY_FILE": str(tmp_path / "key")})
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a server key: drop --no-auth" in result.stderr
    assert "OAIRUN_SERVER_KEY" in result.stderr
    check_exposure("127.0.0.1", None)
    check_exposure("::1", None)
    check_exposure("localhost", None)
    check_exposure("0.0.0.0", "a-key")
    with pytest.raises(ValueError):
        check_exposure("192.0.2.10", None)


def test_with_a_server_key_every_request_must_carry_it():
    app = create_app(SQLiteStore(), make_backend("scripted", pace=0), server_key="server-secret-key")
    with LocalServer(app).start() as local:
        bare = httpx.get(local.base_url + "/assistants")
        wrong = httpx.get(local.base_url + "/assistants", headers={"Authorization": "Bearer nope"})
        assert bare.status_code == wrong.status_code == 401
        assert bare.json()["error"]["code"] == "invalid_api_key"
        assert "server-secret-key" not in bare.text
        oai.configure(base_url=local.base_url, api_key="server-secret-key")
        assert oai.oai_create_assistant("m").model == "m"  # the client's API key is the server key
