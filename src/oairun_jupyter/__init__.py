"""oairun-jupyter: drive Assistants-style runs from Python and Jupyter, and watch them live.

The functional API mirrors the R package `openaiapi` (`oai_create_run`, `oai_list_run_steps`,
...); objects come back typed (`Run`, `RunStep`, `Message`, `Thread`, `Assistant`,
`ListObject`). Configure with `configure(...)` / `oai_set_api_key(...)` or the environment
(`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`).

This module exports what a user types. The layers below are importable on their own:
`oairun_jupyter.transport`, `.protocol` (SSE decoder, stream events, delta functions, the event
data accumulator), `.api`, `.tools`, `.runs`, `.display`, `.magics`, and `.server`.
"""

from ._version import __version__
from .api import (
    Thread,
    oai_cancel_run,
    oai_create_assistant,
    oai_create_message,
    oai_create_run,
    oai_create_thread,
    oai_create_thread_and_run,
    oai_delete_assistant,
    oai_delete_message,
    oai_delete_thread,
    oai_list_assistants,
    oai_list_messages,
    oai_list_run_steps,
    oai_list_runs,
    oai_modify_assistant,
    oai_modify_message,
    oai_modify_run,
    oai_modify_thread,
    oai_retrieve_assistant,
    oai_retrieve_message,
    oai_retrieve_run,
    oai_retrieve_run_step,
    oai_retrieve_thread,
    oai_submit_tool_outputs,
    oai_tool_output,
)
from .protocol import (
    APIConnectionError,
    APIError,
    APIObject,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    Assistant,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    ListObject,
    Message,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RunStep,
    StreamTruncatedError,
    UnprocessableEntityError,
    classify,
)
from .runs import Run, RunError, RunProtocolError, RunStream, RunStreamError, RunTimeoutError, ToolCallError
from .tools import FunctionTool, ToolCallRecord, tool, tools_from_namespace
from .transport import Client, ClientConfig, Clock, Timeouts, configure, get_client, oai_set_api_key

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
    # errors
    "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError", "BadRequestError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
    "UnprocessableEntityError", "RateLimitError", "InternalServerError", "APIStreamError",
    "StreamTruncatedError", "RunError", "RunTimeoutError", "ToolCallError", "RunStreamError", "RunProtocolError",
    "__version__", "load_ipython_extension",
]


def load_ipython_extension(ipython) -> None:
    """`%load_ext oairun_jupyter`: register `%%oai_run` and `%oai`."""
    # the IPython extension entry point: IPython and the widgets load only when a kernel asks
    from .magics import OaiMagics
    ipython.register_magics(OaiMagics)
