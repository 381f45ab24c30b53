"""oairun-jupyter: drive Assistants-style runs from Python and Jupyter, and watch them live.

The functional API mirrors the R package `openaiapi` (`oai_create_run`, `oai_list_run_steps`,
...); objects come back typed (`Run`, `RunStep`, `Message`, `Thread`, `Assistant`,
`ListObject`). Configure with `configure(...)` / `oai_set_api_key(...)` or the environment
(`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`).
"""

from ._api_assistants import (oai_create_assistant, oai_delete_assistant, oai_list_assistants,
                              oai_modify_assistant, oai_retrieve_assistant)
from ._api_messages import (oai_create_message, oai_delete_message, oai_list_messages,
                            oai_modify_message, oai_retrieve_message)
from ._api_runs import (oai_cancel_run, oai_create_run, oai_create_thread_and_run,
                        oai_list_run_steps, oai_list_runs, oai_modify_run, oai_retrieve_run,
                        oai_retrieve_run_step, oai_submit_tool_outputs, oai_tool_output)
from ._api_threads import (oai_create_thread, oai_delete_thread, oai_modify_thread,
                           oai_retrieve_thread)
from ._client import Client, configure, get_client, oai_set_api_key
from ._clock import Clock
from ._config import ClientConfig, Timeouts
from ._deltas import accumulate_message_delta, accumulate_run_step_delta, merge_delta
from ._event_data import RunEventData
from ._exceptions import (APIConnectionError, APIError, APIStatusError, APIStreamError,
                          APITimeoutError, AuthenticationError, BadRequestError, ConflictError,
                          InternalServerError, NotFoundError, PermissionDeniedError,
                          RateLimitError, StreamTruncatedError, UnprocessableEntityError)
from ._objects import APIObject, Assistant, ListObject, Message, RunStep, Thread, classify
from ._exceptions import RunError, RunTimeoutError, ToolCallError
from ._run import Run
from ._run_stream import RunStream, RunStreamError
from ._tool_calls import ToolCallRecord
from ._tool_schema import FunctionTool, tool, tools_from_namespace
from ._sse import ServerSentEvent, SSEDecoder
from ._stream import AsyncEventStream, EventStream, StreamEvent
from ._version import __version__

__all__ = [
    # runs (the seed's functional API)
    "oai_create_run", "oai_create_thread_and_run", "oai_list_runs", "oai_list_run_steps",
    "oai_retrieve_run", "oai_modify_run", "oai_cancel_run", "oai_submit_tool_outputs",
    "oai_tool_output", "oai_retrieve_run_step",
    # threads, messages, assistants
    "oai_create_thread", "oai_retrieve_thread", "oai_modify_thread", "oai_delete_thread",
    "oai_create_message", "oai_list_messages", "oai_retrieve_message", "oai_modify_message",
    "oai_delete_message",
    "oai_create_assistant", "oai_list_assistants", "oai_retrieve_assistant",
    "oai_modify_assistant", "oai_delete_assistant",
    # configuration
    "configure", "oai_set_api_key", "get_client", "Client", "ClientConfig", "Timeouts", "Clock",
    # runs and tools
    "Run", "RunStream", "tool", "tools_from_namespace", "FunctionTool", "ToolCallRecord",
    # objects
    "APIObject", "RunStep", "Message", "Thread", "Assistant", "ListObject", "classify",
    # streaming
    "SSEDecoder", "ServerSentEvent", "StreamEvent", "EventStream", "AsyncEventStream",
    "RunEventData", "merge_delta", "accumulate_message_delta", "accumulate_run_step_delta",
    # errors
    "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError", "BadRequestError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
    "UnprocessableEntityError", "RateLimitError", "InternalServerError", "APIStreamError",
    "StreamTruncatedError", "RunError", "RunTimeoutError", "ToolCallError", "RunStreamError",
    "__version__", "load_ipython_extension",
]


def load_ipython_extension(ipython) -> None:
    """`%load_ext oairun_jupyter`: register `%%oai_run` and `%oai`."""
    from ._magics import OaiMagics
    ipython.register_magics(OaiMagics)
