"""The seed's functional Runs API: every function and argument of R's `openaiapi` runs reference.

R's `.classify_response` is `classify_response` (typed objects, or the raw dict when False);
R's `.async` is `async_` (True returns an awaitable served by the async client). Wherever an
id is taken, an object of that kind is accepted too. `stream=True` returns an event stream.
`client=` sends through that client instead of the default one (`get_client()`); the objects that
come back keep it.
"""

from __future__ import annotations

from typing import Any

from ..protocol import (
    REASONING_EFFORTS,
    check_bool,
    check_choice,
    check_dict,
    check_include,
    check_metadata,
    check_tool_outputs,
    list_params,
    messages_list,
    object_id,
    run_options,
)
from ..tools import tool_definitions, tool_output_string
from ..transport import get_client
from ._declarations import declaring, run_grant
from ._request import Endpoint, compact, send, send_list

__all__ = [
    "oai_create_run", "oai_create_thread_and_run", "oai_list_runs", "oai_list_run_steps",
    "oai_retrieve_run", "oai_modify_run", "oai_cancel_run", "oai_submit_tool_outputs",
    "oai_tool_output", "oai_retrieve_run_step",
]


def _thread(thread_id: Any) -> str:
    return object_id(thread_id, "thread_id", "thread")


def _run(run_id: Any) -> str:
    return object_id(run_id, "run_id", "thread.run")


def _include_params(include: Any) -> dict[str, Any]:
    include = check_include(include)
    return {"include[]": include} if include else {}


def oai_create_run(thread_id, assistant_id, model=None, instructions=None,
                   additional_instructions=None, additional_messages=None, tools=None,
                   metadata=None, temperature=None, top_p=None, stream=None,
                   max_prompt_tokens=None, max_completion_tokens=None, truncation_strategy=None,
                   tool_choice=None, response_format=None, parallel_tool_calls=None,
                   reasoning_effort=None, include=None, classify_response=True, async_=False, client=None):
    """Create a run on a thread. Returns a Run (an event stream when `stream=True`).

    `additional_messages` takes message dicts or plain strings (user messages);
    `include` asks for extra step fields, e.g. file_search result content.
    """
    if additional_instructions is not None and not isinstance(additional_instructions, str):
        raise ValueError("additional_instructions must be a string, got "
                         f"{type(additional_instructions).__name__}")
    client = client or get_client()
    assistant = object_id(assistant_id, "assistant_id", "assistant")
    definitions = tool_definitions(tools)
    body = compact(
        assistant_id=assistant,
        additional_instructions=additional_instructions,
        additional_messages=messages_list(additional_messages, "additional_messages"),
        reasoning_effort=check_choice(reasoning_effort, "reasoning_effort", REASONING_EFFORTS),
        **run_options(model=model, instructions=instructions, tools=definitions, metadata=metadata,
                      temperature=temperature, top_p=top_p, stream=stream,
                      max_prompt_tokens=max_prompt_tokens,
                      max_completion_tokens=max_completion_tokens,
                      truncation_strategy=truncation_strategy, tool_choice=tool_choice,
                      response_format=response_format, parallel_tool_calls=parallel_tool_calls))
    endpoint = Endpoint("POST", f"/threads/{_thread(thread_id)}/runs", _include_params(include), body)
    return declaring(send(endpoint, classify_response=classify_response, client=client, async_=async_,
                          stream=bool(stream)), client, run_grant(client, assistant, definitions))


def _thread_body(thread: Any) -> Any:
    thread = check_dict(thread, "thread", "a dict with any of 'messages', 'tool_resources', 'metadata'")
    if thread is None:
        return None
    unknown = set(thread) - {"messages", "tool_resources", "metadata"}
    if unknown:
        raise ValueError(f"thread may only hold 'messages', 'tool_resources' and 'metadata', "
                         f"not {', '.join(sorted(map(repr, unknown)))}")
    return compact(messages=messages_list(thread.get("messages"), "thread['messages']"),
                   tool_resources=check_dict(thread.get("tool_resources"), "thread['tool_resources']",
                                             "a dict of tool resources"),
                   metadata=check_metadata(thread.get("metadata"), "thread['metadata']"))


def oai_create_thread_and_run(assistant_id, thread=None, model=None, instructions=None,
                              tools=None, tool_resources=None, metadata=None, temperature=None,
                              top_p=None, stream=None, max_prompt_tokens=None,
                              max_completion_tokens=None, truncation_strategy=None,
                              tool_choice=None, response_format=None, parallel_tool_calls=None,
                              classify_response=True, async_=False, client=None):
    """Create a thread and run it in one request. Returns a Run (an event stream when streaming).

    `thread` is a dict of `messages` (dicts or plain strings), `tool_resources` and `metadata`.
    """
    client = client or get_client()
    assistant = object_id(assistant_id, "assistant_id", "assistant")
    definitions = tool_definitions(tools)
    body = compact(
        assistant_id=assistant,
        thread=_thread_body(thread),
        tool_resources=check_dict(tool_resources, "tool_resources", "a dict of tool resources"),
        **run_options(model=model, instructions=instructions, tools=definitions, metadata=metadata,
                      temperature=temperature, top_p=top_p, stream=stream,
                      max_prompt_tokens=max_prompt_tokens,
                      max_completion_tokens=max_completion_tokens,
                      truncation_strategy=truncation_strategy, tool_choice=tool_choice,
                      response_format=response_format, parallel_tool_calls=parallel_tool_calls))
    return declaring(send(Endpoint("POST", "/threads/runs", {}, body), classify_response=classify_response,
                          client=client, async_=async_, stream=bool(stream)),
                     client, run_grant(client, assistant, definitions))


def oai_list_runs(thread_id, limit=None, order=None, after=None, before=None,
                  classify_response=True, async_=False, client=None):
    """List a thread's runs. A `limit` above 100 follows the pages until it is reached."""
    endpoint = Endpoint("GET", f"/threads/{_thread(thread_id)}/runs",
                        list_params(limit, order, after, before))
    return send_list(endpoint, limit, classify_response=classify_response, client=client, async_=async_)


def oai_list_run_steps(thread_id, run_id, limit=None, order=None, after=None, before=None,
                       include=None, classify_response=True, async_=False, client=None):
    """List a run's steps. A `limit` above 100 follows the pages until it is reached."""
    params = {**list_params(limit, order, after, before), **_include_params(include)}
    endpoint = Endpoint("GET", f"/threads/{_thread(thread_id)}/runs/{_run(run_id)}/steps", params)
    return send_list(endpoint, limit, classify_response=classify_response, client=client, async_=async_)


def oai_retrieve_run(thread_id, run_id, classify_response=True, async_=False, client=None):
    """Retrieve a run."""
    endpoint = Endpoint("GET", f"/threads/{_thread(thread_id)}/runs/{_run(run_id)}")
    return send(endpoint, classify_response=classify_response, client=client, async_=async_)


def oai_modify_run(thread_id, run_id, metadata=None, classify_response=True, async_=False, client=None):
    """Modify a run's metadata."""
    endpoint = Endpoint("POST", f"/threads/{_thread(thread_id)}/runs/{_run(run_id)}", {},
                        compact(metadata=check_metadata(metadata)))
    return send(endpoint, classify_response=classify_response, client=client, async_=async_)


def oai_cancel_run(thread_id, run_id, classify_response=True, async_=False, client=None):
    """Cancel a run that is in progress (it goes through `cancelling` to `cancelled`)."""
    endpoint = Endpoint("POST", f"/threads/{_thread(thread_id)}/runs/{_run(run_id)}/cancel")
    return send(endpoint, classify_response=classify_response, client=client, async_=async_)


def oai_submit_tool_outputs(thread_id, run_id, tool_outputs, stream=None,
                            classify_response=True, async_=False, client=None):
    """Answer a run's pending tool calls; build each entry with `oai_tool_output`."""
    body = compact(tool_outputs=check_tool_outputs(tool_outputs), stream=check_bool(stream, "stream"))
    endpoint = Endpoint(
        "POST", f"/threads/{_thread(thread_id)}/runs/{_run(run_id)}/submit_tool_outputs", {}, body)
    return send(endpoint, classify_response=classify_response, client=client, async_=async_, stream=bool(stream))


def oai_tool_output(tool_call_id, output):
    """One entry of `tool_outputs`. Non-string outputs are turned into a string (JSON when they can be).

    >>> oai_tool_output("call_abc123", {"temperature": 21})
    {'tool_call_id': 'call_abc123', 'output': '{"temperature": 21}'}
    """
    return {"tool_call_id": object_id(tool_call_id, "tool_call_id"),
            "output": tool_output_string(output)}


def oai_retrieve_run_step(thread_id, run_id, step_id, include=None, classify_response=True,
                          async_=False, client=None):
    """Retrieve one step of a run."""
    path = (f"/threads/{_thread(thread_id)}/runs/{_run(run_id)}/steps/"
            f"{object_id(step_id, 'step_id', 'thread.run.step')}")
    return send(Endpoint("GET", path, _include_params(include)),
                classify_response=classify_response, client=client, async_=async_)
