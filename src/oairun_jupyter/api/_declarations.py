"""Keeping what this client declared when it creates a run or an assistant (see `tools._grants`).

`oai_create_run` and `oai_create_assistant` (and their kin) pass their result through
`declaring`, which remembers the declared tool names under the id the server gives back,
whatever the result is: a payload, a typed object, a RunStream (which also carries its grant, as
its id arrives later) or an awaitable of any of these.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..tools import ToolGrant, declared_function_names, grant_for, remember_grant
from ..transport import Client

__all__ = ["declaring", "run_grant", "assistant_grant"]


def run_grant(client: Client, assistant_id: str, definitions: Any) -> ToolGrant | None:
    """What a run created with `tools=definitions` (None: the assistant's) may call."""
    if definitions is not None:
        return ToolGrant(frozenset(declared_function_names(definitions)), "declared when the run was created (tools=, or a cell's --tools)")
    return grant_for(client.config.base_url, assistant_id)


def assistant_grant(definitions: Any) -> ToolGrant:
    """What runs of an assistant created (or modified) with `tools=definitions` may call."""
    return ToolGrant(frozenset(declared_function_names(definitions)), "tools= when the assistant was created")


def _object_id(result: Any) -> Any:
    return result.get("id") if isinstance(result, dict) else getattr(result, "id", None)


def _remember(result: Any, client: Client, grant: ToolGrant) -> Any:
    if hasattr(result, "_tool_grant"):  # a RunStream: its id comes with its first event
        object.__setattr__(result, "_tool_grant", grant)
    remember_grant(client.config.base_url, _object_id(result), grant)
    return result


def declaring(result: Any, client: Client, grant: ToolGrant | None) -> Any:
    """`result`, with `grant` remembered under its id once there is one."""
    if grant is None:
        return result
    if inspect.iscoroutine(result):  # async_=True (a RunStream is awaitable too, but already here)
        async def remembered() -> Any:
            return _remember(await result, client, grant)
        return remembered()
    return _remember(result, client, grant)
