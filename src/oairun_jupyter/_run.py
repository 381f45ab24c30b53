"""The `Run` object: every field of the seed's Run class, built from a payload or a request.

Its behaviour (refresh, wait, tool calls, streaming) is layered on in the runs package; this
module gives it its data and its ways of being constructed.
"""

from __future__ import annotations

from typing import Any

from ._objects import APIObject, register_object_type

__all__ = ["Run", "TERMINAL_STATUSES", "ACTIVE_STATUSES"]

TERMINAL_STATUSES = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})
ACTIVE_STATUSES = frozenset({"queued", "in_progress", "requires_action", "cancelling"})


@register_object_type
class Run(APIObject):
    """A run of an assistant on a thread.

    Construction follows the seed: `Run(thread_id, run_id)` retrieves a run;
    `Run(thread_id, assistant_id=..., **options)` creates one (options go to `oai_create_run`);
    `Run(resp=payload)` wraps a payload already at hand.

    >>> run = Run("thread_abc123", assistant_id="asst_abc123", model="gpt-4o")  # doctest: +SKIP
    """

    OBJECT = "thread.run"
    FIELDS = ("id", "object", "created_at", "thread_id", "assistant_id", "status",
              "required_action", "last_error", "started_at", "expires_at", "cancelled_at",
              "failed_at", "completed_at", "incomplete_details", "model", "instructions", "tools",
              "metadata", "usage", "temperature", "top_p", "max_prompt_tokens",
              "max_completion_tokens", "truncation_strategy", "tool_choice", "response_format",
              "parallel_tool_calls", "reasoning_effort", "tool_resources")

    def __init__(self, thread_id: Any = None, run_id: Any = None, assistant_id: Any = None,
                 *, resp: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if resp is not None:
            payload = resp.to_dict() if isinstance(resp, APIObject) else resp
        elif thread_id is not None and run_id is not None:
            from ._api_runs import oai_retrieve_run
            payload = oai_retrieve_run(thread_id, run_id, classify_response=False)
        elif thread_id is not None and assistant_id is not None:
            from ._api_runs import oai_create_run
            if kwargs.get("stream"):
                raise ValueError("Run(...) creates a polled run; for a streamed one call "
                                 "oai_create_run(..., stream=True)")
            payload = oai_create_run(thread_id, assistant_id, classify_response=False, **kwargs)
        else:
            raise ValueError("Run needs thread_id and run_id (to retrieve a run), thread_id and "
                             "assistant_id (to create one), or resp (a run payload)")
        if not isinstance(payload, dict) or payload.get("object") != self.OBJECT:
            raise ValueError(f"resp must be a run payload (object 'thread.run'), got {payload!r:.80}")
        self._set_payload(payload)

    @property
    def is_terminal(self) -> bool:
        """Whether the run has ended (completed, incomplete, failed, cancelled or expired)."""
        return self._payload.get("status") in TERMINAL_STATUSES

    def _repr_details(self) -> list[str]:
        return [f"status={self._payload.get('status')!r}",
                f"thread={self._payload.get('thread_id')}"]
