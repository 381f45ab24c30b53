"""The API layer: the seed's functional Runs API (`oai_create_run` ... `oai_retrieve_run_step`) and
threads, messages and assistants, each sync or async, typed or raw, through a given or the
default client; and the request helpers they share (`Endpoint`, `send`, `send_list`).
"""

from ._assistants import (
                          oai_create_assistant,
                          oai_delete_assistant,
                          oai_list_assistants,
                          oai_modify_assistant,
                          oai_retrieve_assistant,
)
from ._messages import (
                          oai_create_message,
                          oai_delete_message,
                          oai_list_messages,
                          oai_modify_message,
                          oai_retrieve_message,
)
from ._request import PAGE_SIZE, Endpoint, compact, fetch, fetch_async, register_stream_type, send, send_list
from ._runs import (
                          oai_cancel_run,
                          oai_create_run,
                          oai_create_thread_and_run,
                          oai_list_run_steps,
                          oai_list_runs,
                          oai_modify_run,
                          oai_retrieve_run,
                          oai_retrieve_run_step,
                          oai_submit_tool_outputs,
                          oai_tool_output,
)
from ._thread import Thread
from ._threads import oai_create_thread, oai_delete_thread, oai_modify_thread, oai_retrieve_thread

__all__ = [
    "oai_create_run", "oai_create_thread_and_run", "oai_list_runs", "oai_list_run_steps",
    "oai_retrieve_run", "oai_modify_run", "oai_cancel_run", "oai_submit_tool_outputs",
    "oai_tool_output", "oai_retrieve_run_step",
    "oai_create_thread", "oai_retrieve_thread", "oai_modify_thread", "oai_delete_thread",
    "oai_create_message", "oai_list_messages", "oai_retrieve_message", "oai_modify_message",
    "oai_delete_message",
    "oai_create_assistant", "oai_list_assistants", "oai_retrieve_assistant",
    "oai_modify_assistant", "oai_delete_assistant",
    "Thread",
    "Endpoint", "send", "send_list", "fetch", "fetch_async", "compact", "PAGE_SIZE", "register_stream_type",
]
