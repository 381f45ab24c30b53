"""The tools layer: declaring tools from Python functions, finding them in a namespace, running a
run's calls (allow-listed by what this client declared), turning results into outputs, and the
record of every call that the debugger shows.
"""

from ._executor import MAX_ARGUMENT_BYTES, MAX_CALL_ID_CHARS, ToolExecutor
from ._grants import ToolGrant, declared_function_names, grant_for, names_of_tools, remember_grant, server_grant
from ._namespace import ListedFunctions, caller_namespace, namespace_of
from ._output import MAX_OUTPUT_CHARS, MAX_TABLE_ROWS, tool_output_string
from ._records import ToolCallRecord
from ._schema import FunctionTool, parse_docstring, tool, tool_definitions, tools_from_namespace

__all__ = [
    "FunctionTool", "tool", "tools_from_namespace", "tool_definitions", "parse_docstring",
    "namespace_of", "caller_namespace", "ListedFunctions",
    "ToolExecutor", "MAX_ARGUMENT_BYTES", "MAX_CALL_ID_CHARS",
    "ToolGrant", "declared_function_names", "names_of_tools", "remember_grant", "grant_for", "server_grant",
    "ToolCallRecord",
    "tool_output_string", "MAX_OUTPUT_CHARS", "MAX_TABLE_ROWS",
]
