"""A call's JSON arguments as the arguments its Python function declares.

The schema a tool sends (`_schema`) is built from the function's signature and hints; this is
its inverse, the same for a plain function and a `tool()` object:

* a null for a parameter with a default means "use the default" (strict mode makes such
  parameters nullable, since it cannot leave a property out);
* values are built into the hinted types the schema was made from: Enum, dataclass, pydantic
  model, tuple, set and frozenset, list and dict items, float from an integer;
* positional-only parameters are passed by position.

A value that cannot be built is a TypeError or ValueError that names the parameter.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import inspect
import types
import typing
from typing import Any, Callable, Mapping

__all__ = ["bind_call"]


def bind_call(fn: Callable[..., Any], arguments: Mapping[str, Any]) -> Callable[[], Any]:
    """`fn` with `arguments` bound, ready to call with nothing; TypeError or ValueError when
    they do not fit its signature."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read: the call itself decides
        return functools.partial(fn, **arguments)
    hints = _hints(fn)
    given = dict(arguments)
    for param in signature.parameters.values():
        if param.name not in given or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        value = given[param.name]
        if value is None and param.default is not param.empty:
            del given[param.name]  # null: the default
            continue
        hint = hints.get(param.name, param.annotation)
        try:
            given[param.name] = build(value, hint)
        except (TypeError, ValueError) as error:
            raise TypeError(f"parameter {param.name!r}: {error}") from None
    positional = []
    for param in signature.parameters.values():
        if param.kind != param.POSITIONAL_ONLY:
            break
        if param.name not in given:
            break  # a later positional-only one given without this one: bind() says so
        positional.append(given.pop(param.name))
    bound = signature.bind(*positional, **given)
    return functools.partial(fn, *bound.args, **bound.kwargs)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: the raw annotations, strings left as they are
        return {}


_PLAIN = {str: "a string", int: "an integer", bool: "true or false"}
_ABSTRACT_ARRAYS = (collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable,
                    collections.abc.Collection)


def build(value: Any, hint: Any) -> Any:
    """`value` (decoded JSON) as the type `hint` names, when it names one JSON cannot carry."""
    if hint is inspect.Parameter.empty or hint is Any or isinstance(hint, str) or value is None:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _build_union(value, args)
    if origin is typing.Literal:
        return value
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return value if isinstance(value, hint) else hint(value)
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if hint in _PLAIN and (not isinstance(value, hint) or (hint is int and isinstance(value, bool))):
            raise ValueError(f"expected {_PLAIN[hint]}, got {type(value).__name__} {value!r:.40}")
        if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
            fields = typing.get_type_hints(hint)
            return hint(**{name: build(item, fields.get(name, Any)) for name, item in value.items()})
        if hasattr(hint, "model_validate") and isinstance(value, Mapping):  # pydantic v2
            return hint.model_validate(value)
        if hint in (tuple, set, frozenset) and isinstance(value, list):
            return hint(value)
    if origin in (list, tuple, set, frozenset) and isinstance(value, list):
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ValueError(f"expected {len(args)} items, got {len(value)}")
            return tuple(build(item, item_hint) for item, item_hint in zip(value, args))
        item_hint = args[0] if args else Any
        return origin(build(item, item_hint) for item in value)
    if origin in _ABSTRACT_ARRAYS and isinstance(value, list):  # Sequence[int], Iterable[str], ...
        return [build(item, args[0] if args else Any) for item in value]
    if origin is dict and isinstance(value, Mapping) and len(args) == 2:
        return {key: build(item, args[1]) for key, item in value.items()}
    return value


def _build_union(value: Any, options: tuple[Any, ...]) -> Any:
    """The first option `value` already is, else the first it can be built into."""
    for option in options:
        kind = typing.get_origin(option) or option
        if isinstance(kind, type) and kind is not float and isinstance(value, kind) \
                and not (isinstance(value, bool) and kind is int):
            return build(value, option)
    for option in options:
        if option is type(None):
            continue
        try:
            return build(value, option)
        except (TypeError, ValueError):
            continue
    return value
