"""The run statuses, defined once for the client and the server (the widget's js/state.js keeps a
copy, checked against this one by tests/protocol/test_statuses.py).

A run is `queued`, then `in_progress`; it may stop at `requires_action` for tool outputs and go
through `cancelling`; it ends in one of the terminal statuses.
"""

from __future__ import annotations

__all__ = ["ACTIVE_STATUSES", "TERMINAL_STATUSES", "SUCCESSFUL_STATUSES", "FAILED_STATUSES"]

ACTIVE_STATUSES = frozenset({"queued", "in_progress", "requires_action", "cancelling"})
# The run ended with an answer (`incomplete`: a token budget cut it short).
SUCCESSFUL_STATUSES = frozenset({"completed", "incomplete"})
# The run ended without one; waiting for it raises RunError.
FAILED_STATUSES = frozenset({"failed", "cancelled", "expired"})
TERMINAL_STATUSES = SUCCESSFUL_STATUSES | FAILED_STATUSES
