"""The `%oai` line magic's commands: config, local, thread, runs, cancel, wait."""

from __future__ import annotations

import math
import shlex
import sys
import time
from typing import Any

from IPython.core.error import UsageError

from ..api import oai_list_messages, oai_retrieve_assistant
from ..display import runs_driven_on_loop
from ..runs import unanswered_for
from ..transport import ClientConfig, configure, environment_key_for, get_client
from ._session import Session

__all__ = ["run_line_command"]

USAGE = ("usage: %oai config [base_url=URL] [model=NAME] [assistant=ID] | "
         "%oai local start [--memory | --db PATH] [--backend NAME --upstream-base-url URL] | %oai local stop | %oai local status | "
         "%oai thread | %oai runs | %oai cancel | %oai wait [--timeout SECONDS]")


def _key_kind(session: Session, config: Any) -> str:
    if session.local is not None and config.api_key and config.api_key.reveal() == session.local_key:
        return "the local server's own (made at its start; it never leaves this kernel)"
    return "set" if config.api_key else "not set"


def _config(session: Session, settings: list[str]) -> None:
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"%oai config takes name=value pairs, got {item!r}; {USAGE}")
        if name == "base_url":
            # each key goes to its own server only: the local server's key to the local server, the
            # environment's key to the server the environment names; any other URL gets no key
            value = ClientConfig(base_url=value).base_url  # as the client will hold it (checked, no end slash)
            local = session.local is not None and value == session.local.base_url
            configure(base_url=value, api_key=session.local_key if local else environment_key_for(value))
            session.assistant_id = session.thread_id = None
        elif name == "model":
            session.model = value or None  # empty: the server's default model again
        elif name == "assistant":  # looked up now: an id that fails is not kept to fail every later cell
            session.ensure_server()
            session.assistant_id = oai_retrieve_assistant(value).id
        else:
            raise UsageError(f"unknown setting {name!r}: base_url, model or assistant (the API key is read "
                             "from OPENAI_API_KEY, or set with oai_set_api_key())")
    config = get_client().config
    backend = f"local server ({session.local.app.state.backend.name} backend)" if session.local else "remote"
    print(f"base URL:  {config.shown_base_url}\nbackend:   {backend}\nmodel:     {session.default_model()}\n"
          f"assistant: {session.assistant_id or '(made on first use)'}\nthread:    {session.thread_id or '(none yet)'}\n"
          f"API key:   {_key_kind(session, config)}")


def _database_of(session: Session) -> str:
    path = session.local.store.path
    return "in memory: kept until the server stops" if path == ":memory:" else path


UNANSWERED_SECONDS = 30.0  # a background run whose server is silent this long is no longer waited for

_START_USAGE = ("%oai local start [--memory | --db PATH] [--backend scripted|chat-completions|responses "
                "--upstream-base-url URL [--upstream-api-key-env VAR]]")


def _start_options(words: list[str]) -> dict[str, str | None]:
    """What `%oai local start` asks for: the database (None: the default), and the backend with
    its upstream (None: $OAIRUN_LOCAL_BACKEND, else scripted)."""
    options: dict[str, str | None] = {"db": None, "backend": None, "upstream_base_url": None,
                                      "upstream_api_key_env": None}
    flags = {"--db": "db", "--backend": "backend", "--upstream-base-url": "upstream_base_url",
             "--upstream-api-key-env": "upstream_api_key_env"}
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if word == "--memory" and options["db"] is None:
            options["db"] = ":memory:"
        elif word in flags and rest and rest[0] and not rest[0].startswith("--") and options[flags[word]] is None:
            options[flags[word]] = rest.pop(0)
        else:
            raise UsageError(f"{_START_USAGE}; got {' '.join(words)!r}")
    return options


def _local(session: Session, words: list[str]) -> None:
    action = words[0] if words else "status"
    if action == "start":
        options = _start_options(words[1:])
        db = options.pop("db")
        if db is not None and session.local is not None and session.local.store.path != db:
            raise UsageError(f"the local runs server already runs with the database {_database_of(session)}: "
                             "`%oai local stop` first to start it with another")
        if session.local is not None and (
                (options["backend"] and session.local_backend != options["backend"])
                or (options["upstream_base_url"] and session.local_upstream != options["upstream_base_url"])
                or options["upstream_api_key_env"]):
            raise UsageError(f"the local runs server already runs ({session.local_backend} backend"
                             + (f" on {session.local.app.state.backend.shown_url}" if session.local_upstream else "")
                             + "): `%oai local stop` first to start it with other settings")
        try:
            base_url = session.start_local(quiet=True, db=db, **options)
        except ValueError as error:
            raise UsageError(str(error)) from None
        print(f"local runs server at {base_url} ({session.local_backend} backend, database {_database_of(session)})")
    elif action == "stop":
        print("local runs server stopped" if session.stop_local() else "no local runs server was running")
    elif action == "status":
        print(f"local runs server at {session.local.base_url} ({session.local_backend} backend, "
              f"database {_database_of(session)})" if session.local else "no local runs server")
    else:
        raise UsageError(f"%oai local takes start, stop or status, got {action!r}")


def _thread(session: Session) -> None:
    if session.thread_id is None:
        print("no thread yet: the first %%oai_run starts one")
        return
    for message in oai_list_messages(session.thread_id, order="asc", limit=1000):
        print(f"{message.role}: {message.text}")


def _runs(session: Session) -> None:
    if not session.runs:
        print("no runs yet")
        return
    for run in session.runs[-20:]:
        print(f"{run.id}  {run.status:<16} {run.model}")


def _cancel(session: Session) -> None:
    active = session.active_runs()
    if not active:
        print("no run is in progress")
        return
    for run in active:  # one that cannot be cancelled does not keep the others running
        error = session.cancel(run)
        print(f"could not cancel {run.id}: {error}" if error else f"cancelling {run.id}")


def _wait_timeout(words: list[str]) -> float | None:
    if not words:
        return None
    if len(words) == 1 and words[0].startswith("--timeout="):  # as argparse takes the other options
        words = words[0].split("=", 1)
    seconds = None
    if len(words) == 2 and words[0] == "--timeout":
        try:
            seconds = float(words[1])
        except ValueError:
            pass
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"%oai wait [--timeout SECONDS] (a number of seconds above 0), got {' '.join(words)!r}")
    return seconds


def _names(runs: list[Any]) -> str:
    return ", ".join(f"{run.id} ({run.status})" for run in runs)


def _not_waited_for(entry: Any) -> str | None:
    """Why `%oai wait` does not wait for a background run (None: it does)."""
    if entry.awaits_clicks():
        return (f"run {entry.run.id} waits for your approval in its widget (clicks reach the kernel once "
                "this cell ends)")
    silent = unanswered_for(entry.run)
    if silent is not None and silent[0] >= UNANSWERED_SECONDS:
        return (f"run {entry.run.id}: its server has not answered for {silent[0]:.0f} s ({silent[1]}); it is "
                "tried again in the background")
    return None


def _wait(session: Session, words: list[str]) -> None:
    """Block until the background runs end (their final transcripts are written meanwhile, into
    the cells that show them: what a notebook executed headless keeps)."""
    timeout = _wait_timeout(words)
    deadline = None if timeout is None else time.monotonic() + timeout
    waited = [entry.run for entry in session.background_going()]
    try:
        while True:
            going = session.background_going()
            reasons = {id(entry.run): _not_waited_for(entry) for entry in going}
            blocking = [entry for entry in going if reasons[id(entry.run)] is None]
            if not blocking:
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise UsageError(f"%oai wait: after {timeout:g} s these runs are still going: "
                                 f"{_names([entry.run for entry in blocking])} (they go on; `%oai cancel` "
                                 "cancels them)")
            blocking[0].done.wait(0.25 if left is None else min(0.25, left))
    except KeyboardInterrupt:
        going = session.background_going()
        print("oairun: stopped waiting" + (f"; still going: {_names([entry.run for entry in going])} (`%oai "
                                           "cancel` cancels them)" if going else ""), file=sys.stderr)
        return
    for run in waited:
        if reasons.get(id(run)) is None:
            print(f"{run.id}  {run.status}")
    for reason in reasons.values():
        if reason is not None:
            print(f"not waited for: {reason}")
    for run in runs_driven_on_loop():
        print(f"not waited for: async run {run.id} ({run.status}), driven on the kernel's event loop, which "
              "a magic holding the kernel would stop")
    if not waited and not runs_driven_on_loop():
        print("no background run is going")


def run_line_command(line: str, session: Session, shell: Any) -> None:
    words = shlex.split(line)
    if not words:
        raise UsageError(USAGE)
    command, rest = words[0], words[1:]
    if command == "config":
        _config(session, rest)
    elif command == "local":
        _local(session, rest)
    elif command == "thread":
        _thread(session)
    elif command == "runs":
        _runs(session)
    elif command == "cancel":
        _cancel(session)
    elif command == "wait":
        _wait(session, rest)
    else:
        raise UsageError(f"unknown command {command!r}; {USAGE}")
