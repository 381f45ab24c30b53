"""One round of tool calls: the calls a `requires_action` run asks for, run against a namespace
(allow-listed by what this client declared, see `tools._grants`), recorded on the run, turned
into outputs; and the debugger's re-run of one recorded call.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..tools import (
    ListedFunctions,
    ToolCallRecord,
    ToolExecutor,
    ToolGrant,
    declared_function_names,
    grant_for,
    remember_grant,
    server_grant,
)
from ._approvals import ApprovalWindow
from ._errors import RunProtocolError, ToolCallError
from ._observers import approver_of, notify
from ._options import WaitOptions

__all__ = ["run_tools_sync", "run_tools_async", "rerun_tool_call", "require_approver", "tool_grant", "answered",
           "still_asking"]


def tool_grant(run: Any, namespace: Mapping[str, Any], options: WaitOptions) -> ToolGrant:
    """What this run's calls may run: what the caller or this client declared, narrowed by the
    run's own `tools` as the server reports them (an empty list: nothing)."""
    server_names = declared_function_names(run.tools)
    if options.tools is not None:
        grant = ToolGrant(options.tools, "tools= given to wait()")
    elif isinstance(namespace, ListedFunctions):
        grant = ToolGrant(frozenset(namespace), "the functions given as env=")
    else:
        base_url = run._client.config.base_url
        grant = run._tool_grant or grant_for(base_url, run.id)
        if grant is None:
            return server_grant(server_names)
        remember_grant(base_url, run.id, grant)  # a RunStream's id came after its creation
    return grant.narrowed(server_names)


def _pending_calls(run: Any) -> list[Any]:
    """The calls the run asks for; a reply of another shape asks for none (each call is checked
    by the executor)."""
    action = run.required_action
    outputs = action.get("submit_tool_outputs") if isinstance(action, Mapping) else None
    calls = outputs.get("tool_calls") if isinstance(outputs, Mapping) else None
    return list(calls) if isinstance(calls, list) else []


def answered(run: Any, outputs: list[dict[str, str]]) -> None:
    """Note the calls whose outputs the server has taken: it may not ask for them again."""
    run._answered_calls.update(output["tool_call_id"] for output in outputs)


def _new_calls(run: Any) -> list[Any]:
    """The pending calls, refusing a server that asks again for a call already answered."""
    calls = _pending_calls(run)
    again = [call.get("id") for call in calls
             if isinstance(call, Mapping) and isinstance(call.get("id"), str) and call["id"] in run._answered_calls]
    if again:
        raise RunProtocolError(
            f"the server asked again for tool call {again[0]!r}, whose output it already took; a server that "
            "does so would keep the tool running in a loop, so the run was cancelled", status=run.status, run=run)
    return calls


def _tracker(run: Any):
    """A callback that keeps each record in `run.tool_calls` from its start and tells observers."""
    def track(record: ToolCallRecord) -> None:
        if not any(known is record for known in run.tool_calls):
            run.tool_calls.append(record)
        notify(run, "tool", record)
    return track


def _outputs(run: Any, records: list[ToolCallRecord], options: WaitOptions) -> list[dict[str, str]]:
    failed = [r for r in records if r.status in ("error", "timeout")]
    if failed and options.on_tool_error == "raise":
        record = failed[0]
        raise ToolCallError(f"tool {record.name} failed: {record.error}; the run was cancelled",
                            record=record, status=run.status, run=run)
    return [{"tool_call_id": r.call_id, "output": r.output or ""} for r in records]


def run_tools_sync(run: Any, namespace: Mapping[str, Any], options: WaitOptions,
                   on_record: Any = None) -> tuple[list[dict[str, str]], list[ToolCallRecord]]:
    """Run the pending calls; (outputs to submit, records)."""
    executor = ToolExecutor(namespace, tool_grant(run, namespace, options), timeout=options.tool_timeout)
    if options.confirm:
        raise ValueError("confirm=True waits for clicks, which a blocking call cannot receive: use "
                         "`await run.wait_async(confirm=True)` or a background run")
    records = executor.run(_new_calls(run), on_record or _tracker(run))
    return _outputs(run, records, options), records


async def _nobody_to_ask(record: ToolCallRecord) -> tuple[str, None]:
    return "reject", None


NO_APPROVER = ("confirm=True asks for each tool call's approval in the run's widget, and this run has "
               "none: display the run first (make it the last line of a cell), or use `%%oai_run "
               "--background --confirm` without --quiet")


def require_approver(run: Any) -> None:
    """Approval fails closed: a wait with `confirm=True` and nobody to ask does not start."""
    if approver_of(run) is None:
        raise ValueError(NO_APPROVER)


async def run_tools_async(run: Any, namespace: Mapping[str, Any], options: WaitOptions,
                          on_record: Any = None) -> tuple[list[dict[str, str]], list[ToolCallRecord]]:
    """`run_tools_sync` on the running event loop. With `confirm`, each call waits for the run's
    approver while the run waits for it (see `_approvals`); with nobody to ask (no widget
    shown), every call is rejected: approval fails closed."""
    grant = tool_grant(run, namespace, options)
    calls = _new_calls(run)
    if not options.confirm:
        executor = ToolExecutor(namespace, grant, timeout=options.tool_timeout)
        records = await executor.run_async(calls, on_record or _tracker(run))
        return _outputs(run, records, options), records
    async with ApprovalWindow(run, approver_of(run) or _nobody_to_ask) as window:
        executor = ToolExecutor(namespace, grant, timeout=options.tool_timeout, approve=window.approve,
                                still_open=window.still_open)
        records = await executor.run_async(calls, on_record or _tracker(run))
    return _outputs(run, records, options), records


def still_asking(run: Any) -> bool:
    """Whether the run still waits for the round's outputs (a cancel may have come meanwhile,
    from `%oai cancel` on another thread or from the approval window's look at the server)."""
    return run.status == "requires_action"


def rerun_tool_call(run: Any, call_id: str, arguments: str | None, namespace: Mapping[str, Any],
                    tools: Any = None) -> ToolCallRecord:
    """Call a recorded tool again and keep the result beside the original (see Run.rerun_tool).

    Only a call that was allowed (its tool declared and found) can be re-run, under the same rules."""
    record = next((r for r in run.tool_calls if r.call_id == call_id), None)
    if record is None:
        known = ", ".join(r.call_id for r in run.tool_calls) or "none"
        raise ValueError(f"no tool call {call_id!r} in this run (its calls: {known})")
    if record.allowed_by is None:
        raise ValueError(f"tool call {call_id!r} of {record.name!r} was refused ({record.error}); only calls "
                         "of the tools declared for the run can be re-run")
    arguments = record.arguments if arguments is None else arguments
    grant = tool_grant(run, namespace, WaitOptions.make(tools=tools)) if tools is not None else record.grant
    executor = ToolExecutor(namespace, grant)  # the rule that allowed the call the first time
    (again,) = executor.run([{"id": call_id, "type": "function",
                              "function": {"name": record.name, "arguments": arguments}}])
    record.reruns.append({"arguments": arguments, "status": again.status, "output": again.output,
                          "error": again.error, "function": again.function, "duration": again.duration})
    notify(run, "tool", record)
    return again
