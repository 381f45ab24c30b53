"""Runs driven against the local server with the package's own client, keeping every event."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

import oairun_jupyter as oai

from .deadline import Deadline

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def make_assistant(**options: Any) -> dict[str, Any]:
    return oai.oai_create_assistant("scripted-model", name="Tester", tools=[WEATHER_TOOL],
                                    classify_response=False, **options)


def stream_events(stream) -> list[tuple[str, Any]]:
    return [(event.event, event.data) for event in stream]


def thread_and_run_events(assistant: Any, text: str, **options: Any) -> list[tuple[str, Any]]:
    """Every event of a new thread's streamed run (to its first stop) on one user message."""
    return stream_events(oai.oai_create_thread_and_run(assistant, thread={"messages": [text]}, stream=True,
                                                       classify_response=False, **options))


@contextlib.contextmanager
def backend_behind(backend: str, upstream: Any, api_key: str) -> Iterator[Any]:
    """A local server with a model backend in front of a fake upstream (a LoopbackServer), the
    client pointed at it; both stopped at the end."""
    from oairun_jupyter.server import start_local_server

    with upstream:
        local = start_local_server(backend=backend, base_url=upstream.base_url, api_key=api_key, poll_after_ms=10)
        try:
            oai.configure(base_url=local.base_url)
            yield local
        finally:
            local.stop()


def streamed_run(assistant_id: str, text: str, **options: Any) -> list[tuple[str, Any]]:
    """A thread-and-run streamed to its end, tool calls answered with 'sunny in <city>'."""
    events = stream_events(oai.oai_create_thread_and_run(
        assistant_id, thread={"messages": [text]}, stream=True, classify_response=False, **options))
    while events[-1][0] == "thread.run.requires_action":
        run = events[-1][1]
        outputs = [oai.oai_tool_output(call["id"], "sunny")
                   for call in run["required_action"]["submit_tool_outputs"]["tool_calls"]]
        events += stream_events(oai.oai_submit_tool_outputs(
            run["thread_id"], run["id"], outputs, stream=True, classify_response=False))
    return events


def polled_until(thread_id: str, run_id: str, statuses: tuple[str, ...], first: dict[str, Any] | None = None,
                 timeout: float = 10.0, interval: float = 0.01) -> list[dict[str, Any]]:
    """Every retrieval of the run (after `first`, when given) up to one in `statuses`."""
    deadline = Deadline(timeout, f"the run to become one of {statuses}")
    seen = [first] if first is not None else []
    while not seen or seen[-1]["status"] not in statuses:
        deadline.check(seen[-1]["status"] if seen else None)
        if seen:
            time.sleep(interval)
        seen.append(oai.oai_retrieve_run(thread_id, run_id, classify_response=False))
    return seen


def wait_for(thread_id: str, run_id: str, statuses: tuple[str, ...], timeout: float = 10.0) -> dict[str, Any]:
    """The run, once its status is one of `statuses`; AssertionError after `timeout` seconds."""
    return polled_until(thread_id, run_id, statuses, timeout=timeout)[-1]
