"""Which tools a run may call: what this client declared, never more than the server's reply says.

A run's tool calls run functions in the user's kernel because a model, through a server, named
them. The server is not trusted to choose: a squatted port, a hijacked server or a compromised
provider could name any callable of the namespace. So the set of names a run may call comes
from this process:

- `wait(tools=[...])` (or an `env=` list of functions): exactly those;
- the `tools=` this client passed when it created the run;
- the `tools=` this client passed when it created (or last modified) the run's assistant.

The run's own `tools`, as the server reports them, can only narrow that set. When this process
declared nothing for a run (one retrieved by id, or made from an assistant created elsewhere),
the names the run declares are resolved as the seed does, but only to functions the user
defined (see `_user_functions`). Every record keeps the rule that allowed its call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

__all__ = ["ToolGrant", "declared_function_names", "names_of_tools", "remember_grant", "grant_for",
           "server_grant"]

_LEDGER_SIZE = 10_000  # runs and assistants remembered; the oldest are forgotten first


@dataclass(frozen=True)
class ToolGrant:
    """The tool names a run may call and the rule that allows them.

    `user_functions_only` is set when the names come from the server: a name then resolves only
    to a function the user defined or a `tool()` object.
    """

    names: frozenset[str]
    rule: str
    user_functions_only: bool = False

    def narrowed(self, server_names: Iterable[str]) -> "ToolGrant":
        """This grant, less the names the server's reply does not declare (it never adds any)."""
        return ToolGrant(self.names & frozenset(server_names), self.rule, self.user_functions_only)


def declared_function_names(tools: Any) -> set[str]:
    """The names of the function tools in a run's (or assistant's) `tools`, as the server sent them
    (a reply that is not a list, or a tool without a string name, declares nothing)."""
    if not isinstance(tools, (list, tuple)):
        return set()
    return {t["function"]["name"] for t in tools
            if isinstance(t, Mapping) and t.get("type") == "function" and isinstance(t.get("function"), Mapping)
            and isinstance(t["function"].get("name"), str)}


def names_of_tools(tools: Iterable[Any]) -> frozenset[str]:
    """The function names in a list of functions, `tool()` objects, names or tool definitions."""
    names = set()
    for item in tools:
        if isinstance(item, str):
            names.add(item)
        elif isinstance(item, Mapping):
            names |= declared_function_names([item])
        else:
            name = getattr(item, "name", None) or getattr(item, "__name__", None)
            if not callable(item) or not isinstance(name, str):
                raise ValueError(f"tools= takes functions, tool() objects, names or tool definitions, "
                                 f"got {item!r:.60}")
            names.add(name)
    return frozenset(names)


def server_grant(server_names: Iterable[str]) -> ToolGrant:
    """The grant of a run this process declared nothing for: its own names, user functions only."""
    return ToolGrant(frozenset(server_names), "declared by the server for a run this kernel did not "
                     "create; only functions you defined may run", user_functions_only=True)


class _Ledger:
    """What this process declared, by (base URL, run or assistant id); bounded, thread-safe."""

    def __init__(self) -> None:
        self._grants: OrderedDict[tuple[str, str], ToolGrant] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: tuple[str, str], grant: ToolGrant) -> None:
        with self._lock:
            self._grants[key] = grant
            self._grants.move_to_end(key)
            while len(self._grants) > _LEDGER_SIZE:
                self._grants.popitem(last=False)

    def get(self, key: tuple[str, str]) -> ToolGrant | None:
        with self._lock:
            return self._grants.get(key)


_ledger = _Ledger()


def remember_grant(base_url: str, object_id: Any, grant: ToolGrant) -> None:
    """Keep what this client declared for a run or assistant it created."""
    if isinstance(object_id, str) and object_id:
        _ledger.put((base_url, object_id), grant)


def grant_for(base_url: str, object_id: Any) -> ToolGrant | None:
    """What this client declared for that run or assistant, if it created it."""
    if not isinstance(object_id, str) or not object_id:
        return None
    return _ledger.get((base_url, object_id))
