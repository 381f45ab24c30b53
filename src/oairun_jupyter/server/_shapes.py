"""The shapes the contract gives a request's content parts, tools and tool choice
(`MessageRequestContentTextObject`, `MessageContentImageFileObject`, `MessageContentImageUrlObject`,
`AssistantToolsCode`, `AssistantToolsFileSearch`, `AssistantToolsFunction`,
`AssistantsApiToolChoiceOption`, `AssistantsApiResponseFormatOption`, `tool_resources`, a message's
`attachments`), checked before anything is stored: a body of another shape was
stored, then failed every run of its thread or assistant."""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._errors import invalid

__all__ = ["check_content_parts", "check_tools", "check_tool_choice", "check_response_format",
           "check_tool_resources", "check_attachments", "TOOL_TYPES"]

# the contract's three, and web_search: the responses backend passes it to the upstream's hosted
# web search (the other backends have none and leave it out)
TOOL_TYPES = ("code_interpreter", "file_search", "function", "web_search")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DETAILS = ("auto", "low", "high")
_TOOL_CHOICES = ("none", "auto", "required")


def _object(value: Any, param: str, keys: tuple[str, ...], required: tuple[str, ...] = (),
            others: bool = False) -> Mapping[str, Any]:
    """`value` as an object holding only `keys` (or others too, where the contract allows them),
    with every one of `required`."""
    if not isinstance(value, Mapping):
        raise invalid(f"Invalid type for '{param}': expected an object, got {type(value).__name__}.", param)
    unknown = [] if others else sorted(set(value) - set(keys))
    if unknown:
        raise invalid(f"Unrecognized parameter '{param}.{unknown[0]}': '{param}' takes {', '.join(keys)}.",
                      f"{param}.{unknown[0]}")
    for key in required:
        if value.get(key) is None:
            raise invalid(f"Missing required parameter: '{param}.{key}'.", f"{param}.{key}")
    return value


def _string(value: Any, param: str, choices: tuple[str, ...] = ()) -> None:
    if not isinstance(value, str):
        raise invalid(f"Invalid type for '{param}': expected a string, got {type(value).__name__}.", param)
    if choices and value not in choices:
        raise invalid(f"Invalid value for '{param}': expected one of {', '.join(choices)}, got '{value}'.", param)


def _part(part: Any, param: str) -> int:
    """Check one content part; the characters of text it holds."""
    kind = _object(part, param, ("type", "text", "image_file", "image_url"), ("type",))["type"]
    _string(kind, f"{param}.type", ("text", "image_file", "image_url"))
    _object(part, param, ("type", kind), (kind,))
    if kind == "text":
        _string(part["text"], f"{param}.text")
        return len(part["text"])
    inner = _object(part[kind], f"{param}.{kind}", ("file_id" if kind == "image_file" else "url", "detail"),
                    ("file_id" if kind == "image_file" else "url",))
    _string(inner["file_id" if kind == "image_file" else "url"], f"{param}.{kind}")
    if inner.get("detail") is not None:
        _string(inner["detail"], f"{param}.{kind}.detail", _DETAILS)
    return 0


def check_content_parts(content: Any, param: str) -> int:
    """A message's content: a non-empty string or list of parts; the characters of its text."""
    if isinstance(content, str) and content:
        return len(content)
    if isinstance(content, list) and content:
        return sum(_part(part, f"{param}[{index}]") for index, part in enumerate(content))
    raise invalid(f"Invalid '{param}': expected a non-empty string or a non-empty list of content parts "
                  "such as {\"type\": \"text\", \"text\": \"...\"}.", param)


def _function(value: Any, param: str) -> None:
    function = _object(value, param, ("name", "description", "parameters", "strict"), ("name",))
    name = function["name"]
    if not (isinstance(name, str) and _FUNCTION_NAME.fullmatch(name)):
        raise invalid(f"Invalid '{param}.name': a function's name is 1 to 64 letters, digits, '_' or '-', "
                      f"got {name!r:.80}.", f"{param}.name")
    if function.get("description") is not None:
        _string(function["description"], f"{param}.description")
    if function.get("parameters") is not None and not isinstance(function["parameters"], Mapping):
        raise invalid(f"Invalid type for '{param}.parameters': expected a JSON schema object.", f"{param}.parameters")
    if function.get("strict") is not None and not isinstance(function["strict"], bool):
        raise invalid(f"Invalid type for '{param}.strict': expected a boolean.", f"{param}.strict")


def _file_search(value: Any, param: str) -> None:
    options = _object(value, param, ("max_num_results", "ranking_options"))
    count = options.get("max_num_results")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 50):
        raise invalid(f"Invalid '{param}.max_num_results': expected an integer from 1 to 50.",
                      f"{param}.max_num_results")
    if options.get("ranking_options") is not None:
        _object(options["ranking_options"], f"{param}.ranking_options", ("ranker", "score_threshold"))


def check_tools(tools: Any, param: str = "tools") -> None:
    """Each tool one of `TOOL_TYPES`, in its shape; function names unique."""
    if tools is None:
        return
    if not isinstance(tools, list):
        raise invalid(f"Invalid type for '{param}': expected an array of tools.", param)
    names: set[str] = set()
    for index, tool in enumerate(tools):
        where = f"{param}[{index}]"
        kind = _object(tool, where, ("type", "function", "file_search"), ("type",))["type"]
        _string(kind, f"{where}.type", TOOL_TYPES)
        _object(tool, where, ("type",) + ((kind,) if kind not in ("code_interpreter", "web_search") else ()),
                ("type", "function") if kind == "function" else ("type",))
        if kind == "function":
            _function(tool["function"], f"{where}.function")
            if tool["function"]["name"] in names:
                raise invalid(f"Invalid '{where}.function.name': '{tool['function']['name']}' is declared twice.",
                              f"{where}.function.name")
            names.add(tool["function"]["name"])
        elif kind == "file_search" and tool.get("file_search") is not None:
            _file_search(tool["file_search"], f"{where}.file_search")


def check_tool_choice(choice: Any, tools: list[Any]) -> None:
    """`none`, `auto`, `required`, or a named tool the run has (`tools`: the run's tools)."""
    if choice is None or isinstance(choice, str):
        if choice is not None:
            _string(choice, "tool_choice", _TOOL_CHOICES)
        return
    named = _object(choice, "tool_choice", ("type", "function"), ("type",))
    _string(named["type"], "tool_choice.type", TOOL_TYPES)
    if named["type"] != "function":
        if not any(isinstance(t, Mapping) and t.get("type") == named["type"] for t in tools):
            raise invalid(f"Invalid 'tool_choice': the run has no {named['type']} tool to force.", "tool_choice")
        return
    function = _object(named.get("function"), "tool_choice.function", ("name",), ("name",))
    _string(function["name"], "tool_choice.function.name")
    declared = [t["function"]["name"] for t in tools if isinstance(t, Mapping) and t.get("type") == "function"]
    if function["name"] not in declared:
        raise invalid(f"Invalid 'tool_choice.function.name': the run has no function '{function['name']:.80}' "
                      f"(its functions: {', '.join(declared) or 'none'}).", "tool_choice.function.name")


def check_response_format(value: Any) -> None:
    """`auto`, or {"type": "text" | "json_object"}, or {"type": "json_schema", "json_schema": {"name", ...}}."""
    if value is None or value == "auto":
        return
    if isinstance(value, str):
        raise invalid(f"Invalid value for 'response_format': expected 'auto' or an object, got '{value:.40}'.",
                      "response_format")
    kind = _object(value, "response_format", ("type", "json_schema"), ("type",))["type"]
    _string(kind, "response_format.type", ("text", "json_object", "json_schema"))
    if kind != "json_schema":
        _object(value, "response_format", ("type",))
        return
    spec = _object(value.get("json_schema"), "response_format.json_schema",
                   ("name", "description", "schema", "strict"), ("name",))
    if not (isinstance(spec["name"], str) and _FUNCTION_NAME.fullmatch(spec["name"])):
        raise invalid("Invalid 'response_format.json_schema.name': 1 to 64 letters, digits, '_' or '-'.",
                      "response_format.json_schema.name")
    if spec.get("description") is not None:
        _string(spec["description"], "response_format.json_schema.description")
    if spec.get("schema") is not None and not isinstance(spec["schema"], Mapping):
        raise invalid("Invalid type for 'response_format.json_schema.schema': expected a JSON schema object.",
                      "response_format.json_schema.schema")
    if spec.get("strict") is not None and not isinstance(spec["strict"], bool):
        raise invalid("Invalid type for 'response_format.json_schema.strict': expected a boolean.",
                      "response_format.json_schema.strict")


def _strings(value: Any, param: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise invalid(f"Invalid type for '{param}': expected an array of strings.", param)
    for index, item in enumerate(value):
        _string(item, f"{param}[{index}]")


def check_tool_resources(value: Any, param: str = "tool_resources") -> None:
    """{"code_interpreter": {"file_ids": [...]}, "file_search": {"vector_store_ids": [...], "vector_stores": [...]}}."""
    if value is None:
        return
    # the contract lets these objects hold other keys (ignored here)
    resources = _object(value, param, ("code_interpreter", "file_search"), others=True)
    if resources.get("code_interpreter") is not None:
        code = _object(resources["code_interpreter"], f"{param}.code_interpreter", ("file_ids",), others=True)
        _strings(code.get("file_ids"), f"{param}.code_interpreter.file_ids")
    if resources.get("file_search") is not None:
        search = _object(resources["file_search"], f"{param}.file_search", ("vector_store_ids", "vector_stores"),
                         others=True)
        _strings(search.get("vector_store_ids"), f"{param}.file_search.vector_store_ids")
        stores = search.get("vector_stores")
        if stores is not None and not isinstance(stores, list):
            raise invalid(f"Invalid type for '{param}.file_search.vector_stores': expected an array.",
                          f"{param}.file_search.vector_stores")
        for index, store in enumerate(stores or []):
            where = f"{param}.file_search.vector_stores[{index}]"
            entry = _object(store, where, ("file_ids", "chunking_strategy", "metadata"))
            _strings(entry.get("file_ids"), f"{where}.file_ids")
            if entry.get("chunking_strategy") is not None:
                _object(entry["chunking_strategy"], f"{where}.chunking_strategy", ("type", "static"), ("type",))


def check_attachments(value: Any, param: str) -> None:
    """Each attachment a file id and the tools it is for (code_interpreter, file_search)."""
    if value is None:
        return
    if not isinstance(value, list):
        raise invalid(f"Invalid type for '{param}': expected an array of attachments.", param)
    for index, attachment in enumerate(value):
        where = f"{param}[{index}]"
        entry = _object(attachment, where, ("file_id", "tools"), ("file_id", "tools"))
        _string(entry["file_id"], f"{where}.file_id")
        if not isinstance(entry["tools"], list):
            raise invalid(f"Invalid type for '{where}.tools': expected an array of tools.", f"{where}.tools")
        for position, tool in enumerate(entry["tools"]):
            kind = _object(tool, f"{where}.tools[{position}]", ("type",), ("type",))["type"]
            _string(kind, f"{where}.tools[{position}].type", ("code_interpreter", "file_search"))
