"""Configuration from arguments and environment; the API key never shows itself."""

from __future__ import annotations

import logging
import pickle
import re

import httpx
import pytest

import oairun_jupyter as oai
from oairun_jupyter import configure, get_client
from oairun_jupyter._secrets import Secret, redact
from oairun_jupyter.transport import ClientConfig, SyncTransport, environment_key_for, reset_default_client

from ..support.http_server import LoopbackServer, json_reply

FAKE_KEY = "sk-test-FAKEKEY0123456789abcdefXYZ"
RUN = {"id": "run_1", "object": "thread.run", "status": "queued", "thread_id": "thread_1"}


def test_environment_supplies_key_url_organization_and_project(monkeypatch):
    with LoopbackServer(lambda request: json_reply(200, RUN)) as server:
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/")
        monkeypatch.setenv("OPENAI_ORG_ID", "org_123")
        monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_456")
        oai.oai_retrieve_run("thread_1", "run_1")
    headers = server.received[0].headers
    assert headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert headers["openai-organization"] == "org_123"
    assert headers["openai-project"] == "proj_456"
    assert headers["openai-beta"] == "assistants=v2"
    assert server.received[0].path == "/v1/threads/thread_1/runs/run_1"


def test_oai_set_api_key_and_configure_override_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OAIRUN_SERVER_KEY_FILE", str(tmp_path / "none"))  # no CLI server key to fall back on
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-000000000000")
    with LoopbackServer(lambda request: json_reply(200, RUN)) as server:
        configure(base_url=server.base_url, organization="org_x")
        oai.oai_set_api_key(FAKE_KEY)
        oai.oai_retrieve_run("thread_1", "run_1")
        configure(api_key=None)
        oai.oai_retrieve_run("thread_1", "run_1")
    assert server.received[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert server.received[0].headers["openai-organization"] == "org_x"
    assert "authorization" not in server.received[1].headers


def test_the_key_never_appears_in_reprs_or_pickles():
    configure(api_key=FAKE_KEY)
    config = get_client().config
    for text in (repr(config), str(config), repr(get_client()), repr(config.api_key)):
        assert FAKE_KEY not in text and "FAKEKEY" not in text
    with pytest.raises(TypeError, match="^a Secret cannot be pickled$"):
        pickle.dumps(config.api_key)
    # the mask says whether a key is set, so a user can tell "no key" from "a key"
    assert repr(config.api_key) == str(config.api_key) == "Secret('********')"
    configure(api_key="")
    assert repr(get_client().config.api_key) == "Secret('')"


def test_the_key_never_appears_in_errors_or_logs(caplog, clock):
    echoed = f"Incorrect API key provided: {FAKE_KEY[:8]}{'*' * 20}{FAKE_KEY[-4:]}. Or {FAKE_KEY}."
    replies = [json_reply(500, {"error": {"message": echoed}}), json_reply(401, {"error": {
        "message": echoed, "type": "invalid_request_error", "code": "invalid_api_key", "param": None}})]

    def answer(request):
        return replies.pop(0)

    caplog.set_level(logging.DEBUG)
    with LoopbackServer(answer) as server:
        configure(base_url=server.base_url, api_key=FAKE_KEY, clock=clock)
        with pytest.raises(oai.AuthenticationError) as caught:
            oai.oai_retrieve_run("thread_1", "run_1")
    error = caught.value
    for text in (str(error), repr(error), error.message, caplog.text):
        assert FAKE_KEY not in text
        assert FAKE_KEY[:8] + "*" not in text
    assert "Incorrect API key provided: ***" in error.message
    assert error.code == "invalid_api_key"


def test_connection_errors_do_not_carry_the_key(clock):
    configure(base_url="http://127.0.0.1:9/v1", api_key=FAKE_KEY, clock=clock, max_retries=0)
    with pytest.raises(oai.APIConnectionError) as caught:
        oai.oai_retrieve_run("thread_1", "run_1")
    assert FAKE_KEY not in str(caught.value) and FAKE_KEY not in repr(caught.value)


def test_a_transport_error_that_names_the_key_is_redacted():
    # no real network stack puts the key in its error text; a fake transport injects that fault
    def refuse(request):
        raise httpx.ConnectError(f"proxy refused Authorization: Bearer {FAKE_KEY}", request=request)
    config = ClientConfig(base_url="http://127.0.0.1:9/v1", api_key=Secret(FAKE_KEY), max_retries=0)
    transport = SyncTransport(config, httpx.MockTransport(refuse))
    with pytest.raises(oai.APIConnectionError) as caught:
        transport.request("GET", "/threads/thread_1/runs/run_1")
    assert "proxy refused Authorization: Bearer ***" in str(caught.value)
    assert FAKE_KEY not in str(caught.value) and FAKE_KEY not in repr(caught.value)


def test_secrets_compare_by_value_and_only_with_secrets():
    assert Secret("a") == Secret("a") and hash(Secret("a")) == hash(Secret("a"))
    assert Secret("a") != Secret("b") and Secret("a") != "a"
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2


def test_redaction_removes_the_key_and_the_form_the_service_echoes():
    twelve = Secret("sk-abcdefghi")  # the shortest key whose echo the service masks
    assert redact("key sk-abcdefghi and echo sk-abcde****fghi end", twelve) == "key *** and echo *** end"
    eleven = Secret("sk-abcdefgh")  # too short to have a masked echo: only the key itself is removed
    assert redact("sk-abcdefgh / sk-abcde****efgh", eleven) == "*** / sk-abcde****efgh"
    assert redact("nothing to hide", None) == "nothing to hide"


def test_credentials_in_the_base_url_are_shown_nowhere(clock):
    url = f"http://user:{FAKE_KEY}@127.0.0.1:9/v1"
    configure(base_url=url, clock=clock, max_retries=0)
    config = get_client().config
    assert config.base_url == url  # requests still go there, credentials and all
    with pytest.raises(oai.APIConnectionError) as caught:
        oai.oai_retrieve_run("thread_1", "run_1")
    for text in (repr(config), str(config), repr(get_client()), config.shown_base_url, str(caught.value)):
        assert FAKE_KEY not in text and "user:" not in text, text
    assert config.shown_base_url == "http://***@127.0.0.1:9/v1"
    assert "could not reach http://***@127.0.0.1:9/v1" in str(caught.value)


def test_a_key_goes_only_to_the_server_it_was_given_for(monkeypatch, tmp_path):
    # the environment's OpenAI key is for OpenAI (or OPENAI_BASE_URL); pointing the client at another
    # server (the local one, or whatever listens on a port the user typed) must not carry it there
    monkeypatch.setenv("OAIRUN_SERVER_KEY_FILE", str(tmp_path / "none"))  # and no CLI server key either
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    reset_default_client()
    with LoopbackServer(lambda request: json_reply(200, RUN)) as elsewhere, \
            LoopbackServer(lambda request: json_reply(200, RUN)) as chosen:
        configure(base_url=elsewhere.base_url)
        oai.oai_retrieve_run("thread_1", "run_1")
        configure(base_url=chosen.base_url, api_key="sk-for-chosen")  # given together: sent there
        oai.oai_retrieve_run("thread_1", "run_1")
        configure(base_url=elsewhere.base_url)  # moved on without a key: the chosen key stays behind
        oai.oai_retrieve_run("thread_1", "run_1")
    assert [r.headers.get("authorization") for r in elsewhere.received] == [None, None]
    assert [r.headers.get("authorization") for r in chosen.received] == ["Bearer sk-for-chosen"]
    reset_default_client()


def test_the_environment_key_belongs_to_the_environment_url():
    environ = {"OPENAI_API_KEY": FAKE_KEY}
    assert environment_key_for("https://api.openai.com/v1/", environ) == FAKE_KEY
    assert environment_key_for("http://127.0.0.1:8000/v1", environ) == ""
    environ["OPENAI_BASE_URL"] = "http://127.0.0.1:8000/v1/"
    assert environment_key_for("http://127.0.0.1:8000/v1", environ) == FAKE_KEY
    assert environment_key_for("https://api.openai.com/v1", environ) == ""
    assert ClientConfig(api_key="plain").api_key == Secret("plain")  # a plain string is kept as a Secret
    with pytest.raises(ValueError, match="api_key must be a string, got int"):
        ClientConfig(api_key=3)


def test_a_base_url_that_cannot_take_every_request_path_is_refused_when_given():
    """Checked when configured, not at the first request (an unparsable one used to give a raw
    httpx traceback there, and a query or a blank sent every request to the wrong path)."""
    refused = {"http://[::1/v1": "Invalid port", "http://[::1]:abc/v1": "Invalid port: 'abc'",
               "http://u:pw@127.0.0.1:99999/v1": "port 99999", "http:///v1": "names no host",
               "http://127.0.0.1:8000/v1 ": "blank", "http://h/v1?x=1": "query", "http://h/v1#f": "fragment",
               "ftp://h/v1": "must start with http:// or https://"}
    for url, problem in refused.items():
        with pytest.raises(ValueError, match=re.escape(problem)) as raised:
            ClientConfig(base_url=url)
        assert "pw" not in str(raised.value)  # credentials are never shown
    assert ClientConfig(base_url="HTTP://[::1]:8000/v1/").base_url == "http://[::1]:8000/v1"
    assert ClientConfig(base_url="https://h/v1//").base_url == "https://h/v1"
