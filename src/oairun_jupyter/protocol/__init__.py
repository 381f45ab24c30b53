"""The protocol layer: pure, no I/O. SSE decoding, stream events and their kinds, delta
accumulation, typed objects, the run statuses, the error tree, and argument validation.

The client's upper layers and the server both build on it; it imports nothing outside itself.
"""

from ._deltas import CONCATENATED_FIELDS, accumulate_message_delta, accumulate_run_step_delta, copy_json, merge_delta
from ._errors import (
                      APIConnectionError,
                      APIError,
                      APIStatusError,
                      APIStreamError,
                      APITimeoutError,
                      AuthenticationError,
                      BadRequestError,
                      ConflictError,
                      InternalServerError,
                      NotFoundError,
                      PermissionDeniedError,
                      RateLimitError,
                      StreamTruncatedError,
                      UnprocessableEntityError,
                      error_fields,
                      status_error_class,
)
from ._event_data import RunEventData
from ._events import DONE, EventKind, StreamEvent, event_kind, interpret_sse
from ._objects import (
                      OBJECT_TYPES,
                      APIObject,
                      Assistant,
                      ListObject,
                      Message,
                      RunStep,
                      classify,
                      register_object_type,
                      text_of_message,
)
from ._run_options import messages_list, run_options
from ._sse import ServerSentEvent, SSEDecoder, decode_sse
from ._statuses import ACTIVE_STATUSES, FAILED_STATUSES, SUCCESSFUL_STATUSES, TERMINAL_STATUSES
from ._validation import (
                      REASONING_EFFORTS,
                      check_bool,
                      check_choice,
                      check_dict,
                      check_include,
                      check_int,
                      check_limit,
                      check_list_of_dicts,
                      check_metadata,
                      check_number,
                      check_order,
                      check_tool_outputs,
                      list_params,
                      object_id,
)

__all__ = [
    "SSEDecoder", "ServerSentEvent", "decode_sse",
    "StreamEvent", "interpret_sse", "DONE", "event_kind", "EventKind",
    "merge_delta", "accumulate_message_delta", "accumulate_run_step_delta", "copy_json", "CONCATENATED_FIELDS",
    "RunEventData",
    "APIObject", "Assistant", "Message", "RunStep", "ListObject", "OBJECT_TYPES", "classify",
    "register_object_type", "text_of_message",
    "ACTIVE_STATUSES", "TERMINAL_STATUSES", "SUCCESSFUL_STATUSES", "FAILED_STATUSES",
    "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError", "BadRequestError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
    "UnprocessableEntityError", "RateLimitError", "InternalServerError", "APIStreamError",
    "StreamTruncatedError", "status_error_class", "error_fields",
    "messages_list", "run_options",
    "object_id", "check_metadata", "check_number", "check_int", "check_limit", "check_order", "check_choice",
    "check_bool", "check_tool_outputs", "check_list_of_dicts", "check_include", "check_dict", "list_params",
    "REASONING_EFFORTS",
]
