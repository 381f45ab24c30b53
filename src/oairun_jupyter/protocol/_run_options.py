"""Checks for the run options that create_run and create_thread_and_run share (client and server).

`tools` is checked here as the protocol carries it, a list of tool definitions; the client's
`api/` turns Python functions into definitions (`tools/`) before it gets here.
"""

from __future__ import annotations

from typing import Any, Mapping

from ._validation import (
    check_bool,
    check_choice,
    check_dict,
    check_int,
    check_list_of_dicts,
    check_metadata,
    check_number,
)

__all__ = ["run_options", "messages_list"]

_TOOL_CHOICES = ("none", "auto", "required")
_MIN_TOKENS = 256  # the protocol's floor for max_prompt_tokens / max_completion_tokens


def messages_list(value: Any, name: str) -> Any:
    """Messages as the protocol wants them; a plain string is a user message."""
    if value is None:
        return None
    if isinstance(value, (str, Mapping)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list of messages (strings, or dicts with 'role' and "
                         f"'content'), got {type(value).__name__}")
    messages = []
    for position, message in enumerate(value):
        if isinstance(message, str):
            message = {"role": "user", "content": message}
        if not isinstance(message, Mapping) or "content" not in message:
            raise ValueError(f"{name}[{position}] must be a string or a dict with 'role' and "
                             f"'content', got {message!r:.60}")
        message = dict(message)
        message.setdefault("role", "user")
        check_choice(message["role"], f"{name}[{position}]['role']", ("user", "assistant"))
        messages.append(message)
    return messages


def _tool_choice(value: Any) -> Any:
    if value is None or isinstance(value, Mapping):
        return None if value is None else dict(value)
    return check_choice(value, "tool_choice", _TOOL_CHOICES)


def _tools(value: Any) -> Any:
    tools = check_list_of_dicts(value, "tools", "tool definitions such as {'type': 'code_interpreter'}")
    return None if tools is None else [dict(tool) for tool in tools]


def _response_format(value: Any) -> Any:
    if value is None or isinstance(value, Mapping):
        return None if value is None else dict(value)
    if value == "auto":
        return value
    if value in ("text", "json_object"):
        return {"type": value}
    raise ValueError("response_format must be 'auto', 'text', 'json_object' or a dict such as "
                     f"{{'type': 'json_schema', 'json_schema': {{...}}}}, got {value!r:.60}")


def _truncation(value: Any) -> Any:
    value = check_dict(value, "truncation_strategy",
                       "a dict like {'type': 'auto'} or {'type': 'last_messages', 'last_messages': 5}")
    if value is not None:
        if value.get("type") is None:
            raise ValueError("truncation_strategy needs a 'type': {'type': 'auto'} or "
                             "{'type': 'last_messages', 'last_messages': 5}")
        check_choice(value.get("type"), "truncation_strategy['type']", ("auto", "last_messages"))
        check_int(value.get("last_messages"), "truncation_strategy['last_messages']", 1)
    return value


def run_options(*, model: Any, instructions: Any, tools: Any, metadata: Any, temperature: Any,
                top_p: Any, stream: Any, max_prompt_tokens: Any, max_completion_tokens: Any,
                truncation_strategy: Any, tool_choice: Any, response_format: Any,
                parallel_tool_calls: Any) -> dict[str, Any]:
    """The checked body fields common to both ways of creating a run (None left out)."""
    if model is not None and (not isinstance(model, str) or not model):
        raise ValueError(f"model must be a model name such as 'gpt-4o', got {model!r:.60}")
    if instructions is not None and not isinstance(instructions, str):
        raise ValueError(f"instructions must be a string, got {type(instructions).__name__}")
    fields = {
        "model": model,
        "instructions": instructions,
        "tools": _tools(tools),
        "metadata": check_metadata(metadata),
        "temperature": check_number(temperature, "temperature", 0, 2),
        "top_p": check_number(top_p, "top_p", 0, 1),
        "stream": check_bool(stream, "stream"),
        "max_prompt_tokens": check_int(max_prompt_tokens, "max_prompt_tokens", _MIN_TOKENS),
        "max_completion_tokens": check_int(max_completion_tokens, "max_completion_tokens", _MIN_TOKENS),
        "truncation_strategy": _truncation(truncation_strategy),
        "tool_choice": _tool_choice(tool_choice),
        "parallel_tool_calls": check_bool(parallel_tool_calls, "parallel_tool_calls"),
        "response_format": _response_format(response_format),
    }
    return {name: value for name, value in fields.items() if value is not None}
