"""`%oai local start` options: the database, the backend and its upstream, and the mistakes a user
makes with them, each one line that says what to write instead."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from oairun_jupyter.magics._line import _start_options
from oairun_jupyter.magics._session import Session, _upstream_options


def test_the_options_are_read_in_any_order():
    assert _start_options([]) == {"db": None, "backend": None, "upstream_base_url": None, "upstream_api_key_env": None}
    assert _start_options(["--backend", "responses", "--memory", "--upstream-base-url", "http://127.0.0.1:9/v1",
                           "--upstream-api-key-env", "MY_KEY"]) == {
        "db": ":memory:", "backend": "responses", "upstream_base_url": "http://127.0.0.1:9/v1",
        "upstream_api_key_env": "MY_KEY"}


@pytest.mark.parametrize("words", [["--db"], ["--backend"], ["--backend", "--memory"], ["--memory", "--memory"],
                                   ["--backend", "a", "--backend", "b"], ["--db", ""], ["responses"], ["--upstream"]])
def test_a_malformed_start_line_says_what_the_command_takes(words):
    with pytest.raises(UsageError) as refused:
        _start_options(words)
    assert "%oai local start [--memory | --db PATH] [--backend" in str(refused.value)


def test_a_backend_without_its_upstream_or_a_scripted_one_with_one_is_refused_saying_what_to_write(monkeypatch):
    monkeypatch.delenv("OAIRUN_UPSTREAM_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="the responses backend needs an upstream: `%oai local start --backend "
                                         "responses --upstream-base-url https://api.openai.com/v1`"):
        _upstream_options("responses", None, None)
    with pytest.raises(ValueError, match="the scripted backend is offline"):
        _upstream_options("scripted", "http://127.0.0.1:9/v1", None)
    monkeypatch.setenv("OAIRUN_UPSTREAM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MY_KEY", "sk-mine")
    assert _upstream_options("chat-completions", None, "MY_KEY") == {"base_url": "http://127.0.0.1:9/v1",
                                                                     "api_key": "sk-mine"}


def test_an_unknown_backend_or_a_bad_upstream_url_starts_nothing(monkeypatch):
    session = Session()
    for backend, url in (("anthropic", "http://127.0.0.1:9/v1"), ("responses", "ftp://x")):
        with pytest.raises(ValueError):
            session.start_local(quiet=True, db=":memory:", backend=backend, upstream_base_url=url)
        assert session.local is None
    monkeypatch.setenv("OAIRUN_LOCAL_BACKEND", "scripted")
    try:
        session.start_local(quiet=True, db=":memory:")
        assert session.local_backend == "scripted" and session.default_model() == "scripted"
    finally:
        session.stop_local()


def test_a_running_server_is_not_silently_kept_when_the_start_line_asks_for_another_upstream(monkeypatch, capsys):
    from oairun_jupyter.magics._line import run_line_command

    session = Session()
    monkeypatch.setenv("MY_KEY", "sk-mine")
    run_line_command("local start --memory --backend responses --upstream-base-url http://127.0.0.1:9/v1",
                     session, None)
    try:
        assert "(responses backend, database in memory" in capsys.readouterr().out
        for line in ("local start --upstream-base-url http://127.0.0.1:7/v1", "local start --backend chat-completions",
                     "local start --upstream-api-key-env MY_KEY"):
            with pytest.raises(UsageError, match=r"already runs \(responses backend on http://127.0.0.1:9/v1\)"):
                run_line_command(line, session, None)
        run_line_command("local start --upstream-base-url http://127.0.0.1:9/v1", session, None)  # the same: fine
        run_line_command("local status", session, None)
        assert "(responses backend, database in memory" in capsys.readouterr().out.splitlines()[-1]
    finally:
        session.stop_local()
