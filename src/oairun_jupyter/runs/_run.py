"""The `Run` object: every field and method of the seed's Run class.

A Run refreshes itself (`retrieve`, `modify`, `cancel`), answers its tool calls from the
caller's own functions (`do_tool_calls`, `wait`, `await run`) and leads to its thread and
assistant. With `async_=True` every method returns an awaitable instead. A Run keeps the client
it was created or retrieved with: `configure()` changes where new objects go, never where an
existing run's polling, cancel or tool submission goes.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import api
from ..protocol import TERMINAL_STATUSES, APIObject, register_object_type
from ..tools import ToolCallRecord
from ..transport import Client, get_client
from ._cancel import abandon
from ._observers import notify
from ._options import WaitOptions, namespace_for
from ._polling import wait_async, wait_sync
from ._tool_rounds import rerun_tool_call, run_tools_sync

__all__ = ["Run"]


@register_object_type
class Run(APIObject):
    """A run of an assistant on a thread.

    Construction follows the seed: `Run(thread_id, run_id)` retrieves a run;
    `Run(thread_id, assistant_id=..., **options)` creates one (options go to `oai_create_run`);
    `Run(resp=payload)` wraps a payload already at hand. With `async_=True` nothing is sent
    until the run is awaited (`await run` creates or retrieves it, then waits for it).
    `client=` sends through that client (default: the current default client, kept from then on).

    >>> run = Run(thread, assistant_id=assistant, model="gpt-4o").wait()   # doctest: +SKIP
    >>> run.thread().list_messages()[0].text                                # doctest: +SKIP
    """

    OBJECT = "thread.run"
    _tool_grant: Any = None  # what this client declared when it created the run (see api._declarations)
    FIELDS = ("id", "object", "created_at", "thread_id", "assistant_id", "status",
              "required_action", "last_error", "started_at", "expires_at", "cancelled_at",
              "failed_at", "completed_at", "incomplete_details", "model", "instructions", "tools",
              "metadata", "usage", "temperature", "top_p", "max_prompt_tokens",
              "max_completion_tokens", "truncation_strategy", "tool_choice", "response_format",
              "parallel_tool_calls", "reasoning_effort", "tool_resources")

    def __init__(self, thread_id: Any = None, run_id: Any = None, assistant_id: Any = None,
                 *, resp: Any = None, async_: bool = False, client: Client | None = None,
                 **kwargs: Any) -> None:
        self._init_state(async_, client)
        if resp is not None:
            payload = resp.to_dict() if isinstance(resp, APIObject) else resp
            if not isinstance(payload, dict) or payload.get("object") != self.OBJECT:
                raise ValueError(f"resp must be a run payload (object 'thread.run'), got {payload!r:.80}")
            self._set_payload(payload)
            return
        if thread_id is not None and run_id is not None:
            request = (api.oai_retrieve_run, (thread_id, run_id), {})
        elif thread_id is not None and assistant_id is not None:
            if kwargs.get("stream"):
                raise ValueError("Run(...) creates a polled run; for a streamed one call "
                                 "oai_create_run(..., stream=True), which returns a RunStream")
            request = (api.oai_create_run, (thread_id, assistant_id), kwargs)
        else:
            raise ValueError("Run needs thread_id and run_id (to retrieve a run), thread_id and "
                             "assistant_id (to create one), or resp (a run payload)")
        if async_:
            self._set_payload({"object": self.OBJECT, "status": None})
            object.__setattr__(self, "_pending", request)
            return
        fn, args, options = request
        self._set_payload(fn(*args, classify_response=False, client=self._client, **options))

    @classmethod
    def from_payload(cls, payload: dict[str, Any], client: Client | None = None) -> "Run":
        self = cls.__new__(cls)
        self._init_state(False, client)
        self._set_payload(payload)
        return self

    def _init_state(self, async_: bool, client: Client | None) -> None:
        object.__setattr__(self, "_client", client or get_client())
        object.__setattr__(self, "_async", async_)
        object.__setattr__(self, "_pending", None)
        object.__setattr__(self, "tool_calls", [])  # every ToolCallRecord of this run
        object.__setattr__(self, "_answered_calls", set())  # ids whose outputs the server took

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_answered_calls", set())  # pickled before it existed
        object.__setattr__(self, "_client", get_client())  # unpickled: the default client of now

    def _set_payload(self, payload: dict[str, Any]) -> None:
        known = self.__dict__.get("_payload") or {}  # none yet while the run is being made
        if known.get("status") in TERMINAL_STATUSES and payload.get("id") == known.get("id") \
                and payload.get("status") not in TERMINAL_STATUSES:
            # a late answer about the same run (a Stop's `cancelling`, sent before its stream ended
            # the run): an ended run never goes back, so the answer is older than what is known
            return
        super()._set_payload(payload)
        notify(self, "run", payload)

    @property
    def client(self) -> Client:
        """The client this run sends through (the one it was created or retrieved with)."""
        return self._client

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """A static HTML transcript and plain text (frontends that are not IPython)."""
        # the domain object's display hooks reaching the display layer: imported here, on first
        # display, so that a run used outside a notebook never loads the widget machinery
        from ..display._mimebundle import run_mimebundle
        return run_mimebundle(self, include, exclude)

    def _ipython_display_(self) -> None:
        """In Jupyter, the live RunWidget and the transcript a saved notebook keeps."""
        from ..display._mimebundle import show_run
        show_run(self)

    tool_calls: list[ToolCallRecord]

    # --- the seed's methods ---------------------------------------------------------------

    def _ids(self) -> tuple[str, str]:
        if self._pending is not None:
            raise RuntimeError("this async Run has not been created yet: `await run.retrieve()` first")
        return self._payload["thread_id"], self._payload["id"]

    def _call(self, fn, *args: Any, update: bool = True, **kwargs: Any) -> Any:
        """Call the functional API for this run; refresh from the result; sync or async alike."""
        result = fn(*args, async_=self._async, client=self._client, **kwargs)
        if not self._async:
            return self._absorb(result, update)

        async def finish() -> Any:
            return self._absorb(await result, update)
        return finish()

    def _absorb(self, result: Any, update: bool) -> Any:
        if update:
            self._set_payload(result.to_dict() if isinstance(result, APIObject) else result)
            return self
        return result

    async def _aretrieve(self) -> "Run":
        """`retrieve` on the running event loop whichever way this Run was made: the async waits
        use it, so that a sync Run awaited stays sync."""
        fn, args, options = self._pending or (api.oai_retrieve_run, self._ids(), {})
        object.__setattr__(self, "_pending", None)
        return self._absorb(await fn(*args, classify_response=False, async_=True, client=self._client, **options),
                            True)

    async def _asubmit(self, tool_outputs: list[dict[str, str]]) -> "Run":
        """`submit_tool_outputs` on the running event loop, whichever way this Run was made."""
        return self._absorb(await api.oai_submit_tool_outputs(*self._ids(), tool_outputs, classify_response=False,
                                                              async_=True, client=self._client), True)

    def list_steps(self, **kwargs: Any) -> Any:
        """The run's steps (a ListObject of RunStep); keyword arguments go to `oai_list_run_steps`."""
        return self._call(api.oai_list_run_steps, *self._ids(), update=False, **kwargs)

    def retrieve(self) -> Any:
        """Refresh every field from the server; returns the Run itself."""
        if self._pending is not None:
            fn, args, options = self._pending
            object.__setattr__(self, "_pending", None)
            return self._call(fn, *args, classify_response=False, **options)
        return self._call(api.oai_retrieve_run, *self._ids(), classify_response=False)

    def retrieve_status(self) -> Any:
        """The up-to-date status (the Run is refreshed too)."""
        result = self.retrieve()
        if self._async:
            async def status() -> str:
                return (await result).status
            return status()
        return self.status

    def modify(self, **kwargs: Any) -> Any:
        """Change the run's metadata: `run.modify(metadata={"k": "v"})`."""
        return self._call(api.oai_modify_run, *self._ids(), classify_response=False, **kwargs)

    def cancel(self) -> Any:
        """Cancel the run on the server (it goes through `cancelling` to `cancelled`)."""
        return self._call(api.oai_cancel_run, *self._ids(), classify_response=False)

    def submit_tool_outputs(self, tool_outputs: list[dict[str, str]], stream: bool | None = None) -> Any:
        """Submit outputs; with `stream=True` the continuation comes back as a RunStream."""
        if stream:
            return api.oai_submit_tool_outputs(*self._ids(), tool_outputs, stream=True,
                                               async_=self._async, client=self._client)
        return self._call(api.oai_submit_tool_outputs, *self._ids(), tool_outputs,
                          classify_response=False)

    def wait(self, env: Any = None, *, timeout: float | None = 300.0, on_tool_error: str = "submit",
             tool_timeout: float = 60.0, tools: Any = None) -> Any:
        """Wait for the run to end, answering its tool calls from `env` (default: the caller's
        namespace). Returns the Run on `completed` or `incomplete`; raises RunError on `failed`,
        `cancelled` or `expired`. A timeout or a KeyboardInterrupt cancels the run on the server.

        Only tools this client declared may run: `tools=[...]` names them exactly (`[]`: none);
        by default, the `tools=` given when this kernel created the run or its assistant. A run
        this kernel did not create may call the functions it declares that you defined.
        """
        options = WaitOptions.make(timeout, on_tool_error, tool_timeout, tools=tools)
        namespace = namespace_for(env)
        if self._async:
            return wait_async(self, namespace, options)
        return wait_sync(self, namespace, options)

    async def wait_async(self, env: Any = None, *, timeout: float | None = 300.0,
                         on_tool_error: str = "submit", tool_timeout: float = 60.0,
                         confirm: bool = False, tools: Any = None) -> "Run":
        """`wait`, without blocking the event loop (the seed's `await`). With `confirm=True`
        each tool call waits for Approve, Edit or Reject in the run's widget. A sync Run stays
        sync: its methods go on returning results, not awaitables."""
        options = WaitOptions.make(timeout, on_tool_error, tool_timeout, confirm, tools)
        return await wait_async(self, namespace_for(env), options)

    def __await__(self):
        return wait_async(self, namespace_for(None), WaitOptions.make()).__await__()

    def do_tool_calls(self, env: Any = None, *, tool_timeout: float = 60.0, tools: Any = None
                      ) -> list[dict[str, str]]:
        """Run the pending tool calls against `env` (default: the caller's namespace) and return
        the outputs to submit (nothing is submitted). Each call is added to `run.tool_calls`.
        Anything that stops the round (an interrupt, a tool's sys.exit()) cancels the run."""
        options = WaitOptions.make(tool_timeout=tool_timeout, tools=tools)
        try:
            return run_tools_sync(self, namespace_for(env), options)[0]
        except BaseException as error:
            abandon(self, error)
            raise

    def rerun_tool(self, call_id: str, arguments: str | None = None, env: Any = None, *,
                   tools: Any = None) -> Any:
        """Run a recorded tool call again (the debugger's Re-run): with the model's arguments or
        edited ones, against `env` (default: the caller's namespace). The result is added to the
        call's record (`record.reruns`) and shown on its card; nothing is sent to the model. A call
        that was refused (its tool not declared for the run) cannot be re-run."""
        return rerun_tool_call(self, call_id, arguments, namespace_for(env), tools)

    def thread(self) -> Any:
        """The run's Thread (its `list_messages()` continues the chain)."""
        return api.oai_retrieve_thread(self._ids()[0], async_=self._async, client=self._client)

    def assistant(self) -> Any:
        """The run's Assistant."""
        return api.oai_retrieve_assistant(self._payload["assistant_id"], async_=self._async, client=self._client)

    def clone(self, deep: bool = False) -> "Run":
        """A copy of this Run (with `deep=True`, of its payload and tool-call records too)."""
        twin = APIObject.__copy__(self)  # the fields as they are (a RunStream's copy.copy is a clone)
        object.__setattr__(twin, "_payload", copy.deepcopy(self._payload) if deep else dict(self._payload))
        object.__setattr__(twin, "tool_calls", copy.deepcopy(self.tool_calls) if deep else list(self.tool_calls))
        object.__setattr__(twin, "_answered_calls", set(self._answered_calls))
        return twin

    # --- convenience ----------------------------------------------------------------------

    @property
    def is_terminal(self) -> bool:
        """Whether the run has ended (completed, incomplete, failed, cancelled or expired)."""
        return self._payload.get("status") in TERMINAL_STATUSES

    def _repr_details(self) -> list[str]:
        return [f"status={self._payload.get('status')!r}",
                f"thread={self._payload.get('thread_id')}"]

