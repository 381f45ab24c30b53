"""A run as static HTML and plain text, for frontends without widgets (nbconvert, GitHub, IPython).

Everything the model wrote is escaped: the static transcript shows text, never markup.
"""

from __future__ import annotations

import html
from typing import Any

from ..protocol import text_of_message
from ._widget_state import step_state

__all__ = ["transcript_html", "transcript_text"]

_CUT = 2000


def _cut(text: str) -> str:
    return text if len(text) <= _CUT else text[:_CUT] + f"\u2026 [{len(text) - _CUT:,} more characters]"


def _messages(run: Any) -> list[dict[str, Any]]:
    event_data = getattr(run, "event_data", None)
    return list(event_data.messages.values()) if event_data is not None else []


def _steps(run: Any) -> list[dict[str, Any]]:
    event_data = getattr(run, "event_data", None)
    return [step_state(s, True) for s in (event_data.run_steps.values() if event_data is not None else [])
            if "type" in s]


def transcript_text(run: Any) -> str:
    """A few lines: the run, its status and problem, its messages and tool calls."""
    payload = run.to_dict()
    lines = [f"Run {payload.get('id')} [{payload.get('status')}] model={payload.get('model')}"]
    if payload.get("last_error"):
        lines.append(f"  last_error: {payload['last_error'].get('message')} ({payload['last_error'].get('code')})")
    if payload.get("incomplete_details"):
        lines.append(f"  incomplete: {payload['incomplete_details'].get('reason')}")
    for message in _messages(run):
        lines.append(f"  {message.get('role')}: {_cut(text_of_message(message))}")
    for record in run.tool_calls:
        lines.append(f"  tool {record.name}({record.arguments}) -> {record.status}: {_cut(record.output or '')}")
    return "\n".join(lines)


def transcript_html(run: Any) -> str:
    """A static, escaped HTML transcript of the run."""
    e = html.escape
    payload = run.to_dict()
    if not run.is_terminal:  # shown before it ran: the widget (and its saved state) has the rest
        ids = " &middot; ".join(f"<code>{e(str(payload[k]))}</code>" for k in ("id", "thread_id") if payload.get(k))
        return (f'<div class="oairun-static"><p><b>Run</b> {ids or "starting"} '
                "&middot; shown live in a RunWidget; its final state is saved with the notebook's widget "
                "state.</p></div>")
    parts = [f'<div class="oairun-static"><p><b>Run</b> <code>{e(str(payload.get("id")))}</code> '
             f'&middot; <b>{e(str(payload.get("status")))}</b> &middot; {e(str(payload.get("model")))}</p>']
    if payload.get("last_error"):
        parts.append(f'<p style="color:#c62828">{e(str(payload["last_error"].get("message")))} '
                     f'({e(str(payload["last_error"].get("code")))})</p>')
    if payload.get("incomplete_details"):
        parts.append(f"<p>incomplete: {e(str(payload['incomplete_details'].get('reason')))}</p>")
    for message in _messages(run):
        parts.append(f'<div><b>{e(str(message.get("role")))}</b>'
                     f'<pre style="white-space:pre-wrap">{e(_cut(text_of_message(message)))}</pre></div>')
    records = {r.call_id: r for r in run.tool_calls}
    for step in _steps(run):
        for call in step["tool_calls"]:
            record = records.get(call.get("id"))
            output = record.output if record else call.get("output")
            parts.append(f'<details><summary>tool <code>{e(str(call.get("name")))}</code> '
                         f'{e(record.status if record else str(step["status"]))}</summary>'
                         f'<pre>{e(_cut(call.get("arguments") or ""))}</pre>'
                         f'<pre>{e(_cut(output or ""))}</pre></details>')
    parts.append("</div>")
    return "".join(parts)
