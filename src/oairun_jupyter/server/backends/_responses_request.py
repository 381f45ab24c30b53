"""The Responses API request for a run's next turn, built from the server's own store.

Stateless: `store: false`, and the whole history is sent as input items each turn. The thread's
messages come first, then the run's own steps in order (its messages and its answered function
calls as `function_call` / `function_call_output` items). The reasoning items an earlier turn
returned (encrypted) go back in front of the message or function calls they preceded, so a
reasoning model keeps its chain across tool calls and turns.
"""

from __future__ import annotations

from typing import Any

from ...protocol import text_of_message
from ._base import TurnContext

__all__ = ["responses_request", "MIN_OUTPUT_TOKENS"]

MIN_OUTPUT_TOKENS = 16  # the service refuses a smaller max_output_tokens; the run's own budget still applies
_REASONING_FIELDS = ("type", "id", "summary", "encrypted_content")
# a hosted tool's results come back only when asked for
_INCLUDES = {"code_interpreter": "code_interpreter_call.outputs", "file_search": "file_search_call.results",
             "web_search": "web_search_call.action.sources"}


def responses_request(context: TurnContext, max_output_tokens: int | None = None) -> dict[str, Any]:
    """The `POST /responses` body for the next turn of `context.run`."""
    run = context.run
    tools = [tool for tool in (_tool(t, context.tool_resources) for t in run.get("tools") or []) if tool]
    body: dict[str, Any] = {"model": run["model"], "input": input_items(context), "stream": True, "store": False,
                            "include": ["reasoning.encrypted_content"] + [
                                _INCLUDES[t["type"]] for t in tools if t["type"] in _INCLUDES]}
    if run.get("instructions"):
        body["instructions"] = run["instructions"]
    if tools:
        body["tools"] = tools
        body["tool_choice"] = _tool_choice(run.get("tool_choice"))
        body["parallel_tool_calls"] = run.get("parallel_tool_calls", True)
    for name in ("temperature", "top_p"):
        # 1 is the default, and reasoning models refuse the parameter even so: sent only when changed
        if run.get(name) is not None and run[name] != 1:
            body[name] = run[name]
    text_format = _text_format(run.get("response_format"))
    if text_format:
        body["text"] = {"format": text_format}
    if run.get("reasoning_effort"):
        body["reasoning"] = {"effort": run["reasoning_effort"], "summary": "auto"}
    if max_output_tokens is not None:
        body["max_output_tokens"] = max(max_output_tokens, MIN_OUTPUT_TOKENS)
    return body


def input_items(context: TurnContext) -> list[dict[str, Any]]:
    """The conversation as Responses input items (see the module)."""
    by_id = {message["id"]: message for message in context.messages}
    own = [step_id for kind, step_id in context.run_sequence if kind == "message"]
    items: list[dict[str, Any]] = []
    model = context.run["model"]
    carried = {anchor: entry for anchor, entry in context.carried.items()
               if entry.get("model") in (None, model)}  # another model cannot read this one's reasoning
    for message in context.messages:
        if message["id"] not in own:
            items += _message_items(message, carried.get(message["id"]))
    rounds = {round_[0]["step_id"]: round_ for round_ in context.tool_rounds if round_}
    for kind, record_id in context.run_sequence:
        if kind == "message" and record_id in by_id:
            items += _message_items(by_id[record_id], carried.get(record_id))
        elif kind == "tool_calls" and record_id in rounds:
            items += _round_items(rounds[record_id], carried)
    return items


def _reasoning(carried: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not carried:
        return []
    return [{key: item[key] for key in _REASONING_FIELDS if key in item}
            for item in carried.get("items") or [] if isinstance(item, dict) and item.get("type") == "reasoning"]


def _message_items(message: dict[str, Any], carried: dict[str, Any] | None) -> list[dict[str, Any]]:
    text = text_of_message(message)
    if message.get("role") != "assistant":
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]
    reasoning = _reasoning(carried)
    if reasoning and carried.get("before"):  # the message the reasoning led to, under the upstream's id
        return reasoning + [{"type": "message", "role": "assistant", "id": carried["before"], "status": "completed",
                             "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}]
    return [{"type": "message", "role": "assistant", "content": text}]


def _round_items(round_: list[dict[str, Any]], carried: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A round's function calls, each after the reasoning that led to it, then their outputs."""
    items: list[dict[str, Any]] = []
    for call in round_:
        led = carried.get(call["id"])
        reasoning = _reasoning(led)
        item = {"type": "function_call", "call_id": call.get("upstream_id") or call["id"], "name": call["name"],
                "arguments": call["arguments"]}
        if reasoning and led.get("before"):  # the call the reasoning led to, under the upstream's id
            item["id"] = led["before"]
        items += reasoning + [item]
    items += [{"type": "function_call_output", "call_id": call.get("upstream_id") or call["id"],
               "output": call["output"] or ""} for call in round_]
    return items


def _tool(tool: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any] | None:
    kind = tool.get("type")
    if kind == "function":
        function = tool["function"]
        entry = {"type": "function", "name": function["name"],
                 "parameters": function.get("parameters") or {"type": "object", "properties": {}},
                 "strict": bool(function.get("strict"))}
        if function.get("description"):
            entry["description"] = function["description"]
        return entry
    if kind == "code_interpreter":
        container: dict[str, Any] = {"type": "auto"}
        files = (resources.get("code_interpreter") or {}).get("file_ids")
        if files:
            container["file_ids"] = files
        return {"type": "code_interpreter", "container": container}
    if kind == "file_search":
        stores = (resources.get("file_search") or {}).get("vector_store_ids") or []
        if not stores:
            return None  # nothing to search: the service refuses a file_search tool without stores
        entry = {"type": "file_search", "vector_store_ids": stores}
        options = tool.get("file_search") or {}
        if options.get("max_num_results") is not None:
            entry["max_num_results"] = options["max_num_results"]
        return entry
    if kind == "web_search":
        return {"type": "web_search"}
    return None


def _tool_choice(choice: Any) -> Any:
    if choice is None or isinstance(choice, str):
        return choice or "auto"
    if choice.get("type") == "function":
        return {"type": "function", "name": choice["function"]["name"]}
    if choice.get("type") == "web_search":
        return {"type": "web_search_preview"}
    return {"type": choice["type"]}


def _text_format(response_format: Any) -> dict[str, Any] | None:
    """The Assistants `response_format` as the Responses `text.format`."""
    if not isinstance(response_format, dict):
        return None  # "auto"
    kind = response_format.get("type")
    if kind == "json_schema":
        schema = response_format.get("json_schema") or {}
        entry = {"type": "json_schema", "name": schema.get("name") or "response", "schema": schema.get("schema") or {}}
        for key in ("description", "strict"):
            if schema.get(key) is not None:
                entry[key] = schema[key]
        return entry
    if kind in ("json_object", "text"):
        return {"type": kind}
    return None
