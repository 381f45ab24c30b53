"""One turn of a run: the backend's events turned into steps, messages and stream events.

A turn ends in one of three ways: the message is done (`stop`), function calls wait for
outputs (`tool_calls`), or the completion budget ran out (`length`). `Turn.finish_*` leave the
step and message records in their final state; the engine then moves the run itself.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ._ids import new_id, now
from ._payloads import message_payload, step_payload, text_part
from .backends import (
                       Carried,
                       CodeInterpreterCall,
                       FileSearchCall,
                       HostedCallDelta,
                       HostedCallDone,
                       TextDelta,
                       ToolCallDelta,
                       Usage,
                       count_tokens,
)

__all__ = ["Turn", "usage_payload"]

_CHECKPOINT_SECONDS = 0.5  # how often a streaming message is written to the store


def usage_payload(prompt: int, completion: int) -> dict[str, Any]:
    """Usage in the shape the service reported it."""
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "prompt_token_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}}


# the text a built-in call's pieces add to (its code, its reasoning summary), and how a call starts
_HOSTED_TEXT_FIELD = {"code_interpreter": "input", "reasoning": "summary"}


def _hosted_start(kind: str) -> dict[str, Any]:
    return {"code_interpreter": {"input": "", "outputs": []}, "reasoning": {"summary": ""}}.get(kind, {})


class Turn:
    """Builds the records of one turn and publishes their events through `publish`."""

    def __init__(self, run: dict[str, Any], save: Callable[[str, dict[str, Any], str], None],
                 publish: Callable[[str, dict[str, Any]], None], completion_budget: int | None) -> None:
        self.run = run
        self._save = save
        self._publish = publish
        self.budget = completion_budget
        self.usage: Usage | None = None  # as the backend reported it
        self.completion_tokens = 0  # as counted here (for the budget, and when none is reported)
        self.message: dict[str, Any] | None = None
        self.message_step: dict[str, Any] | None = None
        self._text: list[str] = []
        self._annotations: list[dict[str, Any]] = []
        self._checkpoint = time.monotonic()
        self.tool_step: dict[str, Any] | None = None
        self.calls: dict[int, dict[str, Any]] = {}
        self._upstream_ids: dict[int, str] = {}  # the backend's id of each call (sent back to it)
        self.hosted: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # open built-in calls: (step, call)
        self._carried: list[Carried] = []  # waiting for the message or tool step they precede

    # --- backend events -------------------------------------------------------------------

    def on_event(self, event: Any) -> bool:
        """Apply one backend event; False when the completion budget is spent (stop the turn)."""
        if isinstance(event, TextDelta):
            return self._text_delta(event)
        if isinstance(event, ToolCallDelta):
            self._tool_call_delta(event)
        elif isinstance(event, (CodeInterpreterCall, FileSearchCall)):
            self._builtin_tool_step(event)
        elif isinstance(event, HostedCallDelta):
            self._hosted_delta(event)
        elif isinstance(event, HostedCallDone):
            self._hosted_done(event)
        elif isinstance(event, Carried):
            self._carried.append(event)
        elif isinstance(event, Usage):
            self.usage = event
        return True

    def _text_delta(self, delta: TextDelta) -> bool:
        cost = count_tokens(delta.text)
        if self.budget is not None and self.completion_tokens + cost > self.budget:
            return False
        self.completion_tokens += cost
        if self.message is None:
            self._start_message()
        text: dict[str, Any] = {"value": delta.text}
        if not self._text:
            text["annotations"] = []
        if delta.annotations:
            text["annotations"] = delta.annotations
            self._annotations.extend(
                {k: v for k, v in a.items() if k != "index"} for a in delta.annotations)
        self._text.append(delta.text)
        self._publish("thread.message.delta", {
            "id": self.message["id"], "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": text}]}})
        if time.monotonic() - self._checkpoint > _CHECKPOINT_SECONDS:
            self._checkpoint = time.monotonic()
            self._save("message", self._message_now(), self.run["thread_id"])
        return True

    def _start_message(self) -> None:
        run = self.run
        self.message = message_payload(run["thread_id"], {"role": "assistant", "content": []},
                                       run_id=run["id"], assistant_id=run["assistant_id"],
                                       status="in_progress")
        self.message_step = step_payload(run, "message_creation", {
            "type": "message_creation", "message_creation": {"message_id": self.message["id"]}})
        self._save("step", self.message_step, run["id"])
        self._save("message", self.message, run["thread_id"])
        self._keep_carried(self.message["id"])
        self._publish("thread.run.step.created", self.message_step)
        self._publish("thread.run.step.in_progress", self.message_step)
        self._publish("thread.message.created", self.message)
        self._publish("thread.message.in_progress", self.message)

    def _message_now(self) -> dict[str, Any]:
        return {**self.message, "content": [text_part("".join(self._text), list(self._annotations))]}

    def _tool_call_delta(self, delta: ToolCallDelta) -> None:
        if self.tool_step is None:
            self.tool_step = self._new_tool_step()
        call = self.calls.get(delta.index)
        entry: dict[str, Any] = {"index": delta.index, "type": "function"}
        if call is None:
            # an id of this server's own, whatever the backend's looks like (some models give ids
            # with other characters, or the same id twice); the backend's id is kept beside it
            call = self.calls[delta.index] = {"id": new_id("call"), "type": "function",
                                              "function": {"name": delta.name or "", "arguments": "",
                                                           "output": None}}
            entry["id"] = call["id"]
            entry["function"] = {"name": call["function"]["name"], "arguments": delta.arguments,
                                 "output": None}
            # what led to this call (a reasoning model's reasoning) goes back in front of it
            self._keep_carried(call["id"])
        else:
            entry["function"] = {"arguments": delta.arguments}
            # a name comes whole in a call's first piece; some servers repeat it in every piece
            # (taken once), a few split it (joined)
            if delta.name and delta.name != call["function"]["name"]:
                call["function"]["name"] += delta.name
                entry["function"]["name"] = delta.name
        if delta.id and delta.index not in self._upstream_ids:
            self._upstream_ids[delta.index] = delta.id
            self._save("upstream_call", {"id": call["id"], "object": "upstream_call", "upstream_id": delta.id,
                                         "created_at": self.run["created_at"]}, self.run["id"])
        call["function"]["arguments"] += delta.arguments
        self.completion_tokens += count_tokens(delta.arguments)
        self._publish("thread.run.step.delta", {
            "id": self.tool_step["id"], "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [entry]}}})

    def _new_tool_step(self) -> dict[str, Any]:
        step = step_payload(self.run, "tool_calls", {"type": "tool_calls", "tool_calls": []})
        self._save("step", step, self.run["id"])
        self._publish("thread.run.step.created", step)
        self._publish("thread.run.step.in_progress", step)
        return step

    def _builtin_tool_step(self, event: CodeInterpreterCall | FileSearchCall) -> None:
        step = self._new_tool_step()
        call_id = new_id("call")
        if isinstance(event, CodeInterpreterCall):
            call = {"id": call_id, "type": "code_interpreter",
                    "code_interpreter": {"input": event.input,
                                         "outputs": [{"type": "logs", "logs": event.logs}]}}
            deltas = [{"index": 0, "id": call_id, "type": "code_interpreter",
                       "code_interpreter": {"input": event.input, "outputs": []}},
                      {"index": 0, "type": "code_interpreter", "code_interpreter": {
                          "outputs": [{"index": 0, "type": "logs", "logs": event.logs}]}}]
        else:
            call = {"id": call_id, "type": "file_search", "file_search": {
                "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.0},
                "results": event.results}}
            deltas = [{"index": 0, "id": call_id, "type": "file_search", "file_search": {}}]
        for delta in deltas:
            self._publish("thread.run.step.delta", {"id": step["id"], "object": "thread.run.step.delta",
                                                    "delta": {"step_details": {"type": "tool_calls",
                                                                               "tool_calls": [delta]}}})
        step.update(status="completed", completed_at=now(), usage=usage_payload(0, 0),
                    step_details={"type": "tool_calls", "tool_calls": [call]})
        self._save("step", step, self.run["id"])
        self._publish("thread.run.step.completed", step)

    def _keep_carried(self, anchor: str) -> None:
        """Store the items the backend wants back, under the record they came before."""
        if self._carried:
            items = [item for carried in self._carried for item in carried.items]
            self._save("carried", {"id": f"carried_{anchor}", "object": "carried", "anchor": anchor,
                                   "before": self._carried[-1].before, "items": items, "model": self.run["model"],
                                   "created_at": self.run["created_at"]}, self.run["thread_id"])
            self._carried = []

    def _end_message_for_hosted_call(self) -> None:
        """A built-in call ends the message in progress; text after it starts a new message."""
        if self.message is not None and self.message["status"] == "in_progress":
            self._close_message("completed")
        self.message, self.message_step = None, None
        self._text, self._annotations = [], []

    def _hosted_delta(self, delta: HostedCallDelta) -> None:
        field = _HOSTED_TEXT_FIELD.get(delta.type)
        if delta.key not in self.hosted:
            self._end_message_for_hosted_call()
            self._carried = []  # what preceded a built-in call is not sent back: the call is not either
            step = self._new_tool_step()
            call = {"id": new_id("call"), "type": delta.type, delta.type: _hosted_start(delta.type)}
            self.hosted[delta.key] = (step, call)
            entry = {"index": 0, "id": call["id"], "type": delta.type, delta.type: _hosted_start(delta.type)}
            if field:
                entry[delta.type][field] = delta.text
        elif field and delta.text:
            entry = {"index": 0, "type": delta.type, delta.type: {field: delta.text}}
        else:
            return
        step, call = self.hosted[delta.key]
        if field:
            call[delta.type][field] += delta.text
            self.completion_tokens += count_tokens(delta.text)
        self._publish("thread.run.step.delta", {"id": step["id"], "object": "thread.run.step.delta",
                                                "delta": {"step_details": {"type": "tool_calls",
                                                                           "tool_calls": [entry]}}})

    def _hosted_done(self, done: HostedCallDone) -> None:
        if done.key not in self.hosted:
            self._hosted_delta(HostedCallDelta(done.key, done.type))
        step, call = self.hosted.pop(done.key)
        call[done.type] = done.details
        outputs = done.details.get("outputs") if done.type == "code_interpreter" else None
        if outputs:  # the outputs come as the last delta, as the service sent them
            self._publish("thread.run.step.delta", {"id": step["id"], "object": "thread.run.step.delta", "delta": {
                "step_details": {"type": "tool_calls", "tool_calls": [{"index": 0, "type": "code_interpreter",
                                                                       "code_interpreter": {"outputs": [
                                                                           {"index": i, **o} for i, o in
                                                                           enumerate(outputs)]}}]}}})
        stamp = now()
        step.update(step_details={"type": "tool_calls", "tool_calls": [call]}, usage=usage_payload(0, 0))
        if done.status == "failed":
            step.update(status="failed", failed_at=stamp,
                        last_error={"code": "server_error", "message": f"The {done.type} call failed."})
        else:
            step.update(status="completed", completed_at=stamp)
        self._save("step", step, self.run["id"])
        self._publish(f"thread.run.step.{step['status']}", step)

    def token_counts(self) -> tuple[int, int]:
        """(prompt, completion) tokens of the turn: the backend's report, else the local count."""
        if self.usage is None:
            return 0, self.completion_tokens
        return self.usage.prompt_tokens, self.usage.completion_tokens

    # --- endings --------------------------------------------------------------------------

    def pending_calls(self) -> list[dict[str, Any]]:
        """The function calls of this turn, as `required_action` lists them."""
        return [{"id": c["id"], "type": "function",
                 "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}}
                for _, c in sorted(self.calls.items())]

    def finish_tool_calls(self) -> None:
        """The tool step waits (in_progress) with its calls recorded for the outputs to come."""
        self.tool_step["step_details"] = {"type": "tool_calls",
                                          "tool_calls": [c for _, c in sorted(self.calls.items())]}
        self._save("step", self.tool_step, self.run["id"])
        self._close_message("completed")

    def finish_message(self, status: str, reason: str = "max_tokens") -> None:
        """Close the message as completed or incomplete (cut by the token budget, or `reason`)."""
        self._close_message(status, reason)

    def _close_message(self, status: str, reason: str = "max_tokens") -> None:
        if self.message is None:
            return
        message = self._message_now()
        stamp = now()
        message.update(status=status, completed_at=stamp if status == "completed" else None,
                       incomplete_at=stamp if status == "incomplete" else None,
                       incomplete_details={"reason": reason} if status == "incomplete" else None)
        self.message = message
        self._save("message", message, self.run["thread_id"])
        self._publish(f"thread.message.{status}", message)
        step = self.message_step
        step.update(status="completed", completed_at=stamp, usage=usage_payload(*self.token_counts()))
        self._save("step", step, self.run["id"])
        self._publish("thread.run.step.completed", step)

    def abandon(self, step_status: str) -> None:
        """End open records when the run stops early (cancelled, failed, expired)."""
        stamp = now()
        if self.message is not None and self.message["status"] == "in_progress":
            message = self._message_now()
            message.update(status="incomplete", incomplete_at=stamp,
                           incomplete_details={"reason": "run_" + step_status})
            self._save("message", message, self.run["thread_id"])
            self._publish("thread.message.incomplete", message)
        for step in (self.message_step, self.tool_step, *(step for step, _ in self.hosted.values())):
            if step is not None and step["status"] == "in_progress":
                step.update(status=step_status, **{f"{step_status}_at": stamp})
                self._save("step", step, self.run["id"])
                self._publish(f"thread.run.step.{step_status}", step)
