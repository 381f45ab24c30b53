"""The run statuses are defined once for client and server; the widget's JS copy agrees."""

from __future__ import annotations

import json
import re
from pathlib import Path

from oairun_jupyter.protocol import ACTIVE_STATUSES, FAILED_STATUSES, SUCCESSFUL_STATUSES, TERMINAL_STATUSES

STATE_JS = Path(__file__).resolve().parents[2] / "js" / "state.js"
# The contract's RunObject.status enum (tests/data/assistants-v2.openapi.yaml, from shared/contract/).
CONTRACT_STATUSES = {"queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed",
                     "completed", "incomplete", "expired"}


def _js_set(name: str) -> set[str]:
    found = re.search(rf"export const {name} = new Set\((\[.*?\])\);", STATE_JS.read_text(), re.S)
    assert found, f"js/state.js no longer defines {name} as `new Set([...])`"
    return set(json.loads(found.group(1)))


def test_the_statuses_split_the_contracts_enum():
    import yaml
    contract = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "assistants-v2.openapi.yaml")
                              .read_text())
    enum = set(contract["components"]["schemas"]["RunObject"]["properties"]["status"]["enum"])
    assert enum == CONTRACT_STATUSES
    assert ACTIVE_STATUSES | TERMINAL_STATUSES == enum
    assert not ACTIVE_STATUSES & TERMINAL_STATUSES
    assert SUCCESSFUL_STATUSES | FAILED_STATUSES == TERMINAL_STATUSES
    assert not SUCCESSFUL_STATUSES & FAILED_STATUSES


def test_the_widget_keeps_the_same_active_statuses():
    assert _js_set("ACTIVE") == ACTIVE_STATUSES
