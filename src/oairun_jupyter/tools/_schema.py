"""Declaring tools from Python functions: a function schema from the signature, hints and docstring.

    @tool
    def get_weather(city: str, units: Literal["c", "f"] = "c") -> str:
        '''The weather in a city.

        Args:
            city: The city's name.
            units: Celsius or Fahrenheit.
        '''

`get_weather.schema` is a function tool that strict mode accepts: every property required,
`additionalProperties: false`, parameters with defaults nullable (a null leaves the default:
see `_binding`, which turns a call's arguments back into the function's).
Hints strict mode cannot express (bare dict, Any, no hint) make the tool non-strict instead.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import inspect
import re
import types
import typing
from typing import Any, Callable, Iterable, Mapping

__all__ = ["FunctionTool", "tool", "tools_from_namespace", "tool_definitions", "parse_docstring"]

_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(summary, {parameter: description}) from a Google- or NumPy-style docstring."""
    doc = inspect.cleandoc(doc or "")
    if not doc:
        return "", {}
    summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    params: dict[str, str] = {}
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        header = line.strip().rstrip(":").lower()
        numpy = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
        if header in ("args", "arguments", "parameters", "params") and (line.strip().endswith(":") or numpy):
            params.update(_section(lines[i + (2 if numpy else 1):], numpy))
    return summary, params


def _section(lines: list[str], numpy: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    current = None
    base = None
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if base is None:
            base = indent
        if indent < base or (numpy and set(line.strip()) == {"-"}):
            break
        if indent == base:
            pattern = r"(\w+)\s*:\s*(.*)" if numpy else r"(\*{0,2}\w+)\s*(?:\(.*?\))?\s*:\s*(.*)"
            match = re.match(pattern, line.strip())
            if not match:
                break
            current = match.group(1).lstrip("*")
            found[current] = "" if numpy else match.group(2).strip()
        elif current is not None:
            found[current] = (found[current] + " " + line.strip()).strip()
    return found


# what a JSON array stands for: lists, tuples of one type (tuple[int, ...]), sets, and the abstract
# collections (Sequence[int], Iterable[str], ...)
_ARRAYS = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.MutableSequence,
           collections.abc.Iterable, collections.abc.Collection, collections.abc.Set, collections.abc.MutableSet)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _PRIMITIVES.items() if type(value) is kind), "string")


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    """A choice among `values` (a Literal's or an Enum's), typed by all of them, null included."""
    kinds = sorted({_json_type(v) for v in values})
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}


class _SchemaBuilder:
    """JSON schemas for type hints; notes when strict mode cannot express one."""

    def __init__(self) -> None:
        self.strict_ok = True

    def build(self, hint: Any) -> dict[str, Any]:
        if hint is inspect.Parameter.empty or hint is Any:
            self.strict_ok = False
            return {}
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint in _PRIMITIVES:
            return {"type": _PRIMITIVES[hint]}
        if hint is type(None):
            return {"type": "null"}
        if origin is typing.Literal:
            return _enum_schema(list(args))
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.build(a) for a in args]}
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return _enum_schema([member.value for member in hint])
        if origin is tuple and args and args[-1] is not Ellipsis:  # tuple[int, str]: each place its type
            self.strict_ok = False  # strict mode has no per-position items
            return {"type": "array", "prefixItems": [self.build(a) for a in args], "items": False,
                    "minItems": len(args), "maxItems": len(args)}
        if hint in _ARRAYS or origin in _ARRAYS:
            item = args[0] if args else inspect.Parameter.empty
            return {"type": "array", "items": self.build(item)}
        if hint is dict or origin is dict:
            self.strict_ok = False
            return {"type": "object", "additionalProperties": self.build(args[1]) if len(args) == 2 else {}}
        if typing.is_typeddict(hint):
            return self._object(typing.get_type_hints(hint), set(), hint.__doc__)
        if dataclasses.is_dataclass(hint):
            hints = typing.get_type_hints(hint)
            optional = {f.name for f in dataclasses.fields(hint)
                        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}
            return self._object(hints, optional, None)
        if isinstance(hint, type) and hasattr(hint, "model_fields"):  # pydantic v2 model
            fields = hint.model_fields
            optional = {n for n, f in fields.items() if not f.is_required()}
            return self._object({n: f.annotation for n, f in fields.items()}, optional, hint.__doc__,
                                {n: f.description for n, f in fields.items() if f.description})
        self.strict_ok = False
        return {}

    def _object(self, hints: Mapping[str, Any], optional: set[str], doc: str | None,
                descriptions: Mapping[str, str] | None = None) -> dict[str, Any]:
        properties = {}
        for name, hint in hints.items():
            schema = self.build(hint)
            if name in optional:
                schema = nullable(schema)
            if descriptions and descriptions.get(name):
                schema["description"] = descriptions[name]
            properties[name] = schema
        return {"type": "object", "properties": properties, "required": list(properties),
                "additionalProperties": False}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null (how strict mode spells an optional value)."""
    if schema.get("anyOf") and {"type": "null"} in schema["anyOf"]:
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


class FunctionTool:
    """A Python function declared as a tool: `schema` to send, `fn` to call. Calling it calls `fn`."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None,
                 description: str | None = None, strict: bool | None = None) -> None:
        if not callable(fn):
            raise ValueError(f"tool() needs a function, got {fn!r:.60}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", self.name) or self.name.startswith("__"):
            raise ValueError(f"a tool name must be 1-64 letters, digits, '_' or '-', got {self.name!r}")
        self.signature = inspect.signature(fn)
        summary, param_docs = parse_docstring(getattr(fn, "__doc__", None))
        builder = _SchemaBuilder()
        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # unresolvable forward references: use the raw annotations
            hints = {}
        properties = {}
        for param in self.signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            schema = builder.build(hints.get(param.name, param.annotation))
            if param.default is not param.empty:
                schema = nullable(schema)
            if param_docs.get(param.name):
                schema["description"] = param_docs[param.name]
            properties[param.name] = schema
        parameters = {"type": "object", "properties": properties, "required": list(properties),
                      "additionalProperties": False}
        self.strict = builder.strict_ok if strict is None else strict
        function: dict[str, Any] = {"name": self.name, "description": description or summary,
                                    "parameters": parameters, "strict": self.strict}
        self.schema = {"type": "function", "function": function}
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<tool {self.name}{self.signature}>"


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None,
         description: str | None = None, strict: bool | None = None) -> Any:
    """Declare a function as a tool (also as `@tool` or `@tool(name=..., strict=False)`)."""
    if fn is None:
        return lambda f: FunctionTool(f, name=name, description=description, strict=strict)
    if isinstance(fn, FunctionTool) and name is None and description is None and strict is None:
        return fn
    return FunctionTool(getattr(fn, "fn", fn), name=name, description=description, strict=strict)


def tools_from_namespace(names: str | Iterable[str], namespace: Mapping[str, Any]) -> list[FunctionTool]:
    """Tools for the named functions of a namespace: `tools_from_namespace("f, g", globals())`."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    found = []
    for name in names:
        if name not in namespace:
            raise ValueError(f"no function named {name!r} in the namespace; define it first")
        if not callable(namespace[name]):
            raise ValueError(f"{name!r} is a {type(namespace[name]).__name__}, not a function")
        found.append(tool(namespace[name], name=name) if not isinstance(namespace[name], FunctionTool)
                     else namespace[name])
    return found


def tool_definitions(tools: Any, name: str = "tools") -> Any:
    """The protocol's tool list from dicts, `tool()` objects or plain functions (None stays None)."""
    if tools is None:
        return None
    if isinstance(tools, (dict, FunctionTool)) or callable(tools):
        tools = [tools]
    if not isinstance(tools, (list, tuple)):
        raise ValueError(f"{name} must be a list of tool dicts, tool() objects or functions, "
                         f"got {type(tools).__name__}")
    out = []
    for position, item in enumerate(tools):
        if isinstance(item, FunctionTool):
            out.append(item.schema)
        elif isinstance(item, Mapping):
            out.append(dict(item))
        elif callable(item):
            out.append(tool(item).schema)
        else:
            raise ValueError(f"{name}[{position}] must be a tool dict such as {{'type': 'code_interpreter'}}, "
                             f"a tool() object or a function, got {item!r:.60}")
    return out
