"""The runs layer: `Run` and `RunStream` (the seed's classes), waiting by polling or streaming,
rounds of tool calls, cancelling, and the tables through which other layers observe a run.
"""

from ._cancel import cancel_quietly, cancel_quietly_async
from ._errors import RunError, RunProtocolError, RunStreamError, RunTimeoutError, ToolCallError
from ._observers import approver_of, notify, observe, set_approver
from ._options import WaitOptions, namespace_for
from ._polling import raise_for_status, unanswered_for, wait_async, wait_sync
from ._run import Run
from ._run_stream import RunStream
from ._tool_rounds import rerun_tool_call, run_tools_async, run_tools_sync

__all__ = [
    "Run", "RunStream",
    "RunError", "RunTimeoutError", "ToolCallError", "RunStreamError", "RunProtocolError",
    "WaitOptions", "namespace_for", "wait_sync", "wait_async", "raise_for_status", "unanswered_for",
    "run_tools_sync", "run_tools_async", "rerun_tool_call", "cancel_quietly", "cancel_quietly_async",
    "observe", "notify", "set_approver", "approver_of",
]
