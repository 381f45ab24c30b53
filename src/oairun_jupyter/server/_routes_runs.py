"""Routes for runs and run steps: create (polled or streamed), follow, cancel, answer tools."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..protocol import REASONING_EFFORTS, check_choice, check_metadata, check_tool_outputs, run_options
from ._body import checked, read_body
from ._errors import invalid, not_found
from ._limits import RUN_LIMITS, THREAD_AND_RUN_LIMITS
from ._pagination import page, page_params
from ._payloads import run_payload
from ._routes_objects import load, message_rows, thread_rows
from ._shapes import check_response_format, check_tool_choice, check_tool_resources, check_tools
from ._users import request_user

__all__ = ["run_routes"]

_RUN_OPTIONS = {"model", "instructions", "tools", "metadata", "temperature", "top_p", "stream",
                "max_prompt_tokens", "max_completion_tokens", "truncation_strategy", "tool_choice",
                "response_format", "parallel_tool_calls"}
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _poll_headers(request: Request) -> dict[str, str]:
    return {"openai-poll-after-ms": str(request.app.state.poll_after_ms)}


def _check_run_options(body: dict[str, Any]) -> None:
    check_tools(body.get("tools"))
    check_response_format(body.get("response_format"))
    checked(lambda: run_options(**{name: body.get(name) for name in _RUN_OPTIONS}))


def _check_tool_choice(body: dict[str, Any], assistant: dict[str, Any]) -> None:
    """A named tool choice names one of the tools the run will have (its own, or its assistant's)."""
    tools = body["tools"] if body.get("tools") is not None else assistant.get("tools") or []
    check_tool_choice(body.get("tool_choice"), tools)


def _begin(request: Request, thread: dict[str, Any], assistant: dict[str, Any], body: dict[str, Any],
           rows: list = (), first: list = ()) -> Response:
    """Create the run (with the objects it brings, in one transaction) and answer with it
    (polling) or with its event stream."""
    engine = request.app.state.engine
    run = run_payload(thread["id"], assistant, body)
    if body.get("stream"):
        queue = engine.subscribe(run["id"])
        try:
            engine.start(run, rows, first, user=request_user(request) or "")
        except BaseException:
            engine.events.unsubscribe(run["id"], queue)
            raise
        return StreamingResponse(engine.stream(run["id"], queue), media_type="text/event-stream",
                                 headers=_SSE_HEADERS)
    engine.start(run, rows, first, user=request_user(request) or "")
    return JSONResponse(run, headers=_poll_headers(request))


def _assistant(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body["assistant_id"], str):
        raise invalid("Invalid 'assistant_id': expected a string.", "assistant_id")
    return load(request, "assistant", body["assistant_id"])


async def create_run(request: Request) -> Response:
    thread = load(request, "thread", request.path_params["thread_id"])
    body = await read_body(request, _RUN_OPTIONS | {"assistant_id", "additional_instructions",
                                                    "additional_messages", "reasoning_effort"},
                           ("assistant_id",), RUN_LIMITS)
    _check_run_options(body)
    checked(check_choice, body.get("reasoning_effort"), "reasoning_effort", REASONING_EFFORTS)
    if body.get("additional_instructions") is not None and not isinstance(body["additional_instructions"], str):
        raise invalid("Invalid 'additional_instructions': expected a string.", "additional_instructions")
    assistant = _assistant(request, body)
    _check_tool_choice(body, assistant)
    rows = message_rows(thread["id"], body.get("additional_messages"), "additional_messages")
    active = request.app.state.engine.active_run(thread["id"])  # expires or ends what is due first
    if active is not None:
        raise invalid(f"Thread {thread['id']} already has an active run {active['id']}.")
    return _begin(request, thread, assistant, body, rows)  # a run created meanwhile elsewhere: the database refuses


async def create_thread_and_run(request: Request) -> Response:
    body = await read_body(request, _RUN_OPTIONS | {"assistant_id", "thread", "tool_resources"},
                           ("assistant_id",), THREAD_AND_RUN_LIMITS)
    _check_run_options(body)
    check_tool_resources(body.get("tool_resources"))
    thread_body = {} if body.get("thread") is None else body["thread"]
    if not isinstance(thread_body, dict) or set(thread_body) - {"messages", "tool_resources", "metadata"}:
        raise invalid("Invalid 'thread': expected an object with messages, tool_resources, metadata.", "thread")
    assistant = _assistant(request, body)
    _check_tool_choice(body, assistant)
    thread, rows = thread_rows(thread_body, "thread.")  # checked whole before the thread is stored
    return _begin(request, thread, assistant, body, rows, [("thread.created", thread)])


async def list_runs(request: Request) -> JSONResponse:
    thread = load(request, "thread", request.path_params["thread_id"])
    params = page_params(request.query_params)
    engine = request.app.state.engine
    runs = [engine.load_run(thread["id"], r["id"])
            for r in request.app.state.store.children("run", thread["id"], params["order"])]
    return JSONResponse(page(runs, params["limit"], params["after"], params["before"]))


def _run(request: Request) -> dict[str, Any]:
    thread = load(request, "thread", request.path_params["thread_id"])
    return request.app.state.engine.load_run(thread["id"], request.path_params["run_id"])


async def retrieve_run(request: Request) -> JSONResponse:
    return JSONResponse(_run(request), headers=_poll_headers(request))


async def modify_run(request: Request) -> JSONResponse:
    run = _run(request)
    body = await read_body(request, {"metadata"})
    if body.get("metadata") is not None:  # replaced whole, as on every modify route: {} clears it
        run["metadata"] = checked(check_metadata, body["metadata"])
    request.app.state.engine.save_run(run)
    return JSONResponse(run, headers=_poll_headers(request))


async def cancel_run(request: Request) -> JSONResponse:
    run = request.app.state.engine.cancel(_run(request))
    return JSONResponse(run, headers=_poll_headers(request))


async def submit_tool_outputs(request: Request) -> Response:
    run = _run(request)
    body = await read_body(request, {"tool_outputs", "stream"}, ("tool_outputs",))
    outputs = checked(check_tool_outputs, body["tool_outputs"])
    engine = request.app.state.engine
    engine.check_outputs(run, outputs)  # a mistake is a 400, never a stream
    if body.get("stream"):
        queue = engine.subscribe(run["id"])
        try:
            engine.submit(run, outputs)
        except BaseException:  # answered meanwhile through another server process
            engine.events.unsubscribe(run["id"], queue)
            raise
        return StreamingResponse(engine.stream(run["id"], queue), media_type="text/event-stream",
                                 headers=_SSE_HEADERS)
    engine.submit(run, outputs)
    return JSONResponse(run, headers=_poll_headers(request))


def _last_event_id(request: Request) -> int | None:
    """Where a resumed stream starts: the `Last-Event-ID` header (what an EventSource sends when it
    reconnects) or `?after=`; None joins the run's current segment."""
    given = request.headers.get("last-event-id")
    name = "Last-Event-ID"
    if given is None:
        given, name = request.query_params.get("after"), "after"
    if given is None or given == "":
        return None
    if not given.isascii() or not given.isdigit() or len(given) > 18:
        raise invalid(f"Invalid '{name}': expected the id of an event of this run's stream (a whole number), "
                      f"got {given[:40]!r}.", name)
    return int(given)


async def stream_run(request: Request) -> Response:
    """Not part of the protocol: the run's events as a stream, from the one after `Last-Event-ID`
    (a dropped stream resumes) or from the start of its current segment, to the segment's end,
    whichever server process works on the run."""
    run = _run(request)
    after = _last_event_id(request)
    return StreamingResponse(request.app.state.engine.follow(run, after), media_type="text/event-stream",
                             headers=_SSE_HEADERS)


async def list_steps(request: Request) -> JSONResponse:
    run = _run(request)
    params = page_params(request.query_params)
    steps = request.app.state.store.children("step", run["id"], params["order"])
    return JSONResponse(page(steps, params["limit"], params["after"], params["before"]))


async def retrieve_step(request: Request) -> JSONResponse:
    run = _run(request)
    step = request.app.state.store.get("step", request.path_params["step_id"])
    if step is None or step["run_id"] != run["id"]:
        raise not_found("run step", request.path_params["step_id"])
    return JSONResponse(step)


run_routes = [
    Route("/v1/threads/runs", create_thread_and_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs", create_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs", list_runs, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}", retrieve_run, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}", modify_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/stream", stream_run, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", submit_tool_outputs,
          methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/steps", list_steps, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}", retrieve_step, methods=["GET"]),
]
