"""A run as static HTML and plain text: what a saved notebook keeps beside the live widget.

Built from the widget's own state (`run_state` when there is no widget), so the transcript says
what the widget showed: the conversation with its Markdown rendered, each step, each tool call
with its arguments, output or error. Its HTML is safe in any viewer (nbconvert, GitHub, a
sanitizing JupyterLab): everything the model or a tool wrote goes through `markdown_html` or is
escaped, and no style it needs lives in a stylesheet.

In JupyterLab it sits beside the widget's output: the widget's CSS hides it while the widget
shows, and its own style hides JupyterLab's "model not found" line when the widget cannot show
(a notebook saved without widget state, JupyterLab's default).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from ..protocol import TERMINAL_STATUSES
from ._static_markdown import markdown_html
from ._widget_state import header_state, message_state, record_state, step_state

__all__ = ["run_state", "transcript_html", "transcript_text", "pending_html", "STATIC_CLASS"]

STATIC_CLASS = "oairun-static"
# MathJax (JupyterLab's, nbconvert's) typesets nothing inside an element of this class: the
# model's TeX would otherwise act in the page (\\href, \\style), and a price's dollars pair up
_NO_MATHJAX = "tex2jax_ignore"
MAX_MESSAGE = 200_000  # characters of one message kept in the transcript
MAX_TOOL_TEXT = 20_000  # characters of one tool call's arguments, output or traceback
# Within an output area holding a transcript, JupyterLab's "Loading widget..." and "Error displaying
# widget: model not found" (a widget output whose model was not saved: a panel with text and no
# element) are hidden: the transcript says what the widget would have. A sanitizing viewer drops
# the style, and renders no widget output either.
# (`:has(> *)`, children only: a :has() over all descendants is checked again at every node a
# streaming widget in the same output area adds, restyling all of it each frame)
_STYLE = ("<style>.jp-OutputArea:has(.oairun-static) .jp-OutputArea-output.lm-Panel:not(:has(> *)) "
          "{ display: none; }</style>")
_BOX = "border-left:3px solid #9e9e9e;padding:0 0 0 10px;margin:6px 0"


def run_state(run: Any) -> dict[str, Any]:
    """The widget's state of a run that has no widget (plain IPython, a script)."""
    payload = run.to_dict()
    event_data = getattr(run, "event_data", None)
    messages = list(event_data.messages.values()) if event_data is not None else []
    steps = list(event_data.run_steps.values()) if event_data is not None else []
    return {"header": header_state(payload, None, None),
            "messages": [message_state(m) for m in messages],
            "steps": [step_state(s, True) for s in steps if "type" in s],
            "records": record_state(run.tool_calls)}


def _cut(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + f"\u2026 [{len(text) - limit:,} more characters]"


def _seconds(header: dict[str, Any]) -> str:
    start, end = header.get("created_at"), header.get("ended_at")
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)) or end < start:
        return ""
    seconds = end - start
    return f"{seconds:.0f} s" if seconds < 60 else f"{math.floor(seconds / 60)} min {seconds % 60:02.0f} s"


def _usage(header: dict[str, Any]) -> str:
    usage = header.get("usage") or {}
    if not isinstance(usage, dict) or usage.get("total_tokens") is None:
        return ""
    return (f"{usage.get('prompt_tokens')} prompt + {usage.get('completion_tokens')} completion = "
            f"{usage.get('total_tokens')} tokens")


def _pretty(arguments: str | None) -> str:
    try:
        return json.dumps(json.loads(arguments or ""), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return arguments or ""


def _problem(header: dict[str, Any]) -> str:
    error = header.get("last_error")
    if isinstance(error, dict) and error:
        return f"{error.get('message')} ({error.get('code')})"
    details = header.get("incomplete_details")
    if isinstance(details, dict) and details:
        return f"incomplete: {details.get('reason')}"
    return ""


def _calls(state: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    records = state.get("records") or {}
    return [(call, records.get(call.get("id"))) for step in state.get("steps") or []
            if step.get("type") == "tool_calls" for call in step.get("tool_calls") or []]


def transcript_text(state: dict[str, Any]) -> str:
    """A few lines: the run, its status and problem, its messages and tool calls."""
    header = state.get("header") or {}
    lines = [f"Run {header.get('run_id')} [{header.get('status')}] model={header.get('model')}"]
    if _problem(header):
        lines.append(f"  {_problem(header)}")
    for message in state.get("messages") or []:
        lines.append(f"  {message.get('role')}: {_cut(message.get('text'), 2000)}")
    for call, record in _calls(state):
        status = (record or {}).get("status") or call.get("step_status") or "sent"
        output = (record or {}).get("output") if record else \
            call.get("output") or call.get("logs") or call.get("search") or call.get("summary")
        lines.append(f"  tool {call.get('name')}({_cut(call.get('arguments') or call.get('code_input'), 2000)}) "
                     f"-> {status}: {_cut(output, 2000)}")
    return "\n".join(lines)


def _call_html(call: dict[str, Any], record: dict[str, Any] | None) -> str:
    e = html.escape
    record = record or {}
    kind = call.get("type", "function")
    status = record.get("status") or call.get("step_status") or ("sent" if call.get("output") is not None else "asked")
    duration = record.get("duration")
    timing = f" &middot; {duration:.2f} s" if isinstance(duration, (int, float)) else ""
    parts = [f'<div class="oairun-static-call" style="{_BOX}"><b>{e(str(call.get("name") or kind))}</b> '
             f"&middot; {e(str(status))}{timing}"]
    if kind == "code_interpreter":
        parts.append(f"<pre>{e(_cut(call.get('code_input'), MAX_TOOL_TEXT))}</pre>")
        if call.get("logs"):
            parts.append(f"<pre>{e(_cut(call.get('logs'), MAX_TOOL_TEXT))}</pre>")
    elif kind == "file_search":
        parts.append(f"<p>{len(call.get('results') or [])} result(s)</p>")
    elif kind == "web_search":
        parts.append(f"<pre>{e(_cut(call.get('search'), MAX_TOOL_TEXT))}</pre>")
    elif kind == "reasoning":
        parts.append(f"<details><summary>reasoning summary</summary><pre style=\"white-space:pre-wrap\">"
                     f"{e(_cut(call.get('summary'), MAX_TOOL_TEXT))}</pre></details>")
    elif kind != "function":
        pass  # a kind this version does not know: its name and status say what there is
    else:
        parts.append(f"<div>arguments</div><pre>{e(_cut(_pretty(call.get('arguments')), MAX_TOOL_TEXT))}</pre>")
        output = record.get("output") if record else call.get("output")
        if output is not None:
            parts.append(f"<div>output</div><pre style=\"white-space:pre-wrap\">{e(_cut(output, MAX_TOOL_TEXT))}</pre>")
        if record.get("traceback"):
            parts.append(f"<details><summary>traceback</summary><pre>{e(_cut(record['traceback'], MAX_TOOL_TEXT))}"
                         "</pre></details>")
    parts.append("</div>")
    return "".join(parts)


def transcript_html(state: dict[str, Any]) -> str:
    """The run's static transcript (see the module)."""
    e = html.escape
    header = state.get("header") or {}
    facts = [header.get("assistant_name") or header.get("assistant_id"), header.get("model"),
             header.get("backend"), _seconds(header), _usage(header)]
    parts = [f'<div class="{STATIC_CLASS} {_NO_MATHJAX}" data-oairun-run="{e(str(header.get("run_id") or ""))}">'
             f"{_STYLE}",
             f'<p><b>{e(str(header.get("status") or "starting").replace("_", " "))}</b> &middot; '
             f'<code>{e(str(header.get("run_id") or ""))}</code>'
             + "".join(f" &middot; {e(str(fact))}" for fact in facts if fact) + "</p>"]
    if _problem(header):
        parts.append(f'<p style="color:#c62828">{e(_problem(header))}</p>')
    for message in state.get("messages") or []:
        parts.append(f'<div class="oairun-static-message" style="{_BOX}"><div><b>{e(str(message.get("role")))}</b>'
                     f"</div>{markdown_html(_cut(message.get('text'), MAX_MESSAGE))}</div>")
    calls = _calls(state)
    if calls:
        parts.append("<p><b>Tool calls</b></p>")
        parts += [_call_html(call, record) for call, record in calls]
    parts.append("</div>")
    return "".join(parts)


def pending_html(header: dict[str, Any]) -> str:
    """What the transcript output says while the run goes on (the widget shows it live)."""
    e = html.escape
    status = header.get("status")
    ended = status in TERMINAL_STATUSES
    return (f'<div class="{STATIC_CLASS} {_NO_MATHJAX}" data-oairun-run="{e(str(header.get("run_id") or ""))}">{_STYLE}'
            f"<p><b>Run</b> <code>{e(str(header.get('run_id') or 'not created yet'))}</code> &middot; "
            f"{e(str(status or 'starting').replace('_', ' '))}"
            + ("" if ended else " when this output was written; its transcript replaces this line when it ends")
            + "</p></div>")
