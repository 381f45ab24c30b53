"""What the magics remember within one kernel: the server, the assistant, the thread, the runs."""

from __future__ import annotations

import os
import secrets
import sqlite3
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from ..api import oai_cancel_run, oai_create_assistant, oai_create_thread, oai_list_assistants
from ..display import bridge_of
from ..protocol import APIError
from ..transport import DEFAULT_BASE_URL, config_from_env, configure, environment_key_for, get_client

__all__ = ["Session", "BackgroundRun", "DEFAULT_ASSISTANT_NAME"]

DEFAULT_ASSISTANT_NAME = "oairun assistant"
BACKGROUND_GRACE_SECONDS = 5.0  # how long `%oai local stop` lets a cancelled background run's waiter end


def _upstream_options(backend: str, base_url: str | None, key_env: str | None) -> dict[str, Any]:
    """The options of a backend that calls a model server; a clear error when one is missing."""
    if backend == "scripted":
        if base_url or key_env:
            raise ValueError("the scripted backend is offline: --upstream-base-url and --upstream-api-key-env "
                             "are for --backend chat-completions or responses")
        return {}
    base_url = base_url or os.environ.get("OAIRUN_UPSTREAM_BASE_URL")
    if not base_url:
        raise ValueError(f"the {backend} backend needs an upstream: `%oai local start --backend {backend} "
                         "--upstream-base-url https://api.openai.com/v1`, or set OAIRUN_UPSTREAM_BASE_URL")
    return {"base_url": base_url, "api_key": os.environ.get(key_env or "OPENAI_API_KEY") or None}


@dataclass
class BackgroundRun:
    """A run `%%oai_run --background` or `--confirm` left going, and the thread driving it."""

    run: Any
    worker: threading.Thread
    confirm: bool = False  # its tool calls wait for clicks in its widget
    # set by the worker once the run ended and its final transcript was written. Waited on rather
    # than the thread: a Thread.join that an interrupt breaks can leave is_alive() False for a
    # thread that still runs (CPython 3.11)
    done: threading.Event = field(default_factory=threading.Event)

    def awaits_clicks(self) -> bool:
        """Its calls wait for Approve or Reject, which reach the kernel only while it is free (an
        approved round whose tools run is not waiting for anyone)."""
        if not self.confirm or self.run.status != "requires_action":  # a cancelled run's asks are withdrawn
            return False
        bridge = bridge_of(self.run)
        return bridge is not None and bridge.awaiting_decisions() > 0


@dataclass
class Session:
    """The magics' state: the embedded local server, the default assistant and model, the
    current thread, recent and background runs."""

    local: Any = None
    model: str | None = None
    assistant_id: str | None = None
    thread_id: str | None = None
    runs: list[Any] = field(default_factory=list)
    background: list[BackgroundRun] = field(default_factory=list)
    told_about_local: bool = False
    local_key: str = field(default="", repr=False)  # the running local server's own key
    local_backend: str = "scripted"  # what answers on the running local server
    local_upstream: str | None = None  # and the model server behind it, when it has one

    _instance = None

    @classmethod
    def get(cls) -> "Session":
        if cls._instance is None:
            cls._instance = cls(model=os.environ.get("OAIRUN_MODEL") or None,
                                assistant_id=os.environ.get("OAIRUN_ASSISTANT_ID") or None)
        return cls._instance

    # --- the server -----------------------------------------------------------------------

    def needs_local_server(self) -> bool:
        """No base URL and no key configured: the offline local server is the only thing to talk to."""
        config = get_client().config
        return self.local is None and config.base_url == DEFAULT_BASE_URL and not config.api_key

    def start_local(self, quiet: bool = False, db: str | None = None, backend: str | None = None,
                    upstream_base_url: str | None = None, upstream_api_key_env: str | None = None) -> str:
        """Start the embedded local server and point the client at it (back at it, when it runs
        and `%oai config base_url=` pointed elsewhere). Its database is `db`, else
        $OAIRUN_LOCAL_DB, else the file in the user's data directory that every kernel and the
        CLI server share (":memory:" keeps nothing): a restarted kernel finds its threads.
        Its backend is `backend`, else $OAIRUN_LOCAL_BACKEND, else the offline `scripted`; the
        upstream of the others is `upstream_base_url` (else $OAIRUN_UPSTREAM_BASE_URL), its key
        in the environment variable `upstream_api_key_env` (else OPENAI_API_KEY)."""
        if self.local is not None and get_client().config.base_url != self.local.base_url:
            configure(base_url=self.local.base_url, api_key=self.local_key)
            self.assistant_id = self.thread_id = None  # those lived on the other server
        if self.local is None:
            # server start-up: the server package is loaded only when a session needs one
            from ..server import default_db_path, start_local_server
            # a key made for this start, known to this process only: no other process or user on
            # the machine can drive the kernel's server, and no other key is ever sent to it
            key = secrets.token_urlsafe(32)
            backend = backend or os.environ.get("OAIRUN_LOCAL_BACKEND") or "scripted"
            options = _upstream_options(backend, upstream_base_url, upstream_api_key_env)
            try:
                path = db or os.environ.get("OAIRUN_LOCAL_DB") or default_db_path()
                self.local = start_local_server(server_key=key, db=path, backend=backend, **options)
            except (OSError, sqlite3.Error) as error:
                raise ValueError(f"cannot open the local runs server's database {path} ({error}): set "
                                 "OAIRUN_LOCAL_DB to a file in a folder you can write, or `%oai local start "
                                 "--memory` to keep nothing") from None
            self.local_key = key
            self.local_backend = backend
            self.local_upstream = options.get("base_url")
            configure(base_url=self.local.base_url, api_key=self.local_key)
            self.assistant_id = self.thread_id = None  # those lived on the old server
            if not quiet and not self.told_about_local:
                what = "offline scripted backend" if backend == "scripted" else f"{backend} backend"
                print(f"oairun: started the local runs server ({what}) at {self.local.base_url}; "
                      "`%oai local stop` stops it, `%oai config` shows the settings", file=sys.stderr)
            self.told_about_local = True
        return self.local.base_url

    def cancel(self, run: Any) -> APIError | None:
        """Cancel `run` on its server (its state from the answer); the error if it could not be."""
        try:
            run._set_payload(oai_cancel_run(run.thread_id, run.id, classify_response=False, client=run.client))
        except APIError as error:
            return error
        return None

    def active_runs(self) -> list[Any]:
        """The session's runs still going as far as this kernel knows, newest first."""
        return [r for r in reversed(self.runs) if r.to_dict().get("id") and not r.is_terminal]

    def add_background(self, entry: BackgroundRun) -> None:
        """Remember a run driven in the background (the ended ones are forgotten here)."""
        self.background = [*self.background_going(), entry]

    def background_going(self) -> list[BackgroundRun]:
        """The background runs whose driving has not ended, oldest first."""
        return [going for going in self.background if not going.done.is_set()]

    def stop_local(self) -> bool:
        """Stop the local server: its background runs are cancelled first and their waiters given
        a moment to end (they see the cancel at their next look), then the server stops, which
        ends every run and stream still open on it."""
        if self.local is None:
            return False
        base_url = self.local.base_url
        waiting = [going for going in self.background_going() if going.run.client.config.base_url == base_url]
        for going in waiting:
            if not going.run.is_terminal:
                self.cancel(going.run)
        for going in waiting:
            going.done.wait(BACKGROUND_GRACE_SECONDS)
        self.local.stop()
        self.local = None
        self.assistant_id = self.thread_id = None
        # the local server's key goes with it; the user's own key (if any) comes back
        base_url = config_from_env().base_url
        configure(base_url=base_url, api_key=environment_key_for(base_url))
        return True

    def ensure_server(self) -> None:
        if self.needs_local_server():
            self.start_local()

    # --- defaults -------------------------------------------------------------------------

    def default_model(self) -> str:
        """`%oai config model=`, else `scripted` on the local scripted server, else gpt-4o-mini (a
        local server with a model upstream sends the model on: "scripted" would mean nothing there)."""
        if self.model:
            return self.model
        return "scripted" if self.local is not None and self.local_backend == "scripted" else "gpt-4o-mini"

    def default_assistant(self) -> str:
        """The session's assistant: on the local server, the one an earlier session made for the
        same model (its database outlives kernels); elsewhere, or if there is none, a new one."""
        if self.assistant_id is None:
            model = self.default_model()
            if self.local is not None:
                self.assistant_id = next((a.id for a in oai_list_assistants(order="desc", limit=100)
                                          if a.name == DEFAULT_ASSISTANT_NAME and a.model == model), None)
            if self.assistant_id is None:
                self.assistant_id = oai_create_assistant(model, name=DEFAULT_ASSISTANT_NAME).id
        return self.assistant_id

    def current_thread(self, new: bool = False) -> str:
        """The session's thread, or a new one (kept by the caller once a run started on it)."""
        if new or self.thread_id is None:
            return oai_create_thread().id
        return self.thread_id

    def remember(self, run: Any) -> None:
        self.runs.append(run)
        del self.runs[:-50]
