"""Validating payloads against the official OpenAPI contracts (tests/data/assistants-v2.openapi.yaml,
and tests/data/responses.openapi.yaml for what the responses backend sends upstream).

The spec mixes OpenAPI 3.0's `nullable: true` into a 3.1 document; JSON Schema ignores that
keyword, so it is rewritten into the 3.1 form (a "null" alternative) before validating.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema
import yaml

from .replay import DATA


def _nullable_to_31(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_to_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_to_31(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [{"type": "null"}, node]}
    return node


@functools.lru_cache(maxsize=None)
def contract() -> dict[str, Any]:
    with open(DATA / "assistants-v2.openapi.yaml") as handle:
        return _nullable_to_31(yaml.safe_load(handle))


@functools.lru_cache(maxsize=None)
def validator(schema_name: str) -> jsonschema.Draft202012Validator:
    document = dict(contract())
    document["$ref"] = f"#/components/schemas/{schema_name}"
    return jsonschema.Draft202012Validator(document)


def _one_of_to_any_of(node: Any) -> Any:
    if isinstance(node, list):
        return [_one_of_to_any_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {("anyOf" if key == "oneOf" else key): _one_of_to_any_of(value) for key, value in node.items()}


@functools.lru_cache(maxsize=None)
def responses_validator(schema_name: str) -> jsonschema.Draft202012Validator:
    """The Responses contract's `oneOf`s are read as `anyOf`: their alternatives overlap (a user
    message is both an EasyInputMessage and an InputMessage), so the official SDK's own recorded
    requests break them as written."""
    with open(DATA / "responses.openapi.yaml") as handle:
        document = _one_of_to_any_of(_nullable_to_31(yaml.safe_load(handle)))
    document["$ref"] = f"#/components/schemas/{schema_name}"
    return jsonschema.Draft202012Validator(document)


def responses_errors(schema_name: str, payload: Any) -> list[str]:
    """Every way `payload` breaks the named schema of the Responses contract."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in responses_validator(schema_name).iter_errors(payload)]


def errors(schema_name: str, payload: Any) -> list[str]:
    """Every way `payload` breaks the named schema (empty when it conforms)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator(schema_name).iter_errors(payload)]


def request_schema(method: str, path_template: str) -> str:
    """The request body schema name of an operation, e.g. ('post', '/threads/{thread_id}/runs')."""
    operation = contract()["paths"][path_template][method.lower()]
    return operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def response_schema(method: str, path_template: str) -> str:
    operation = contract()["paths"][path_template][method.lower()]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def path_template(path: str) -> str:
    """The contract path a concrete `/v1/...` path belongs to."""
    parts = path.removeprefix("/v1").strip("/").split("/")
    for template in contract()["paths"]:
        tparts = template.strip("/").split("/")
        if len(tparts) == len(parts) and all(
                t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(tparts, parts)):
            return template
    raise KeyError(path)


# Where the recorded real service (ground truth) and the spec (ground truth) disagree. Each was
# seen in tests/data/recorded; only these are tolerated, and only in recorded responses.
SERVICE_DEVIATIONS = {
    # messages a user created carry no status / completion fields, one lacks attachments
    ("MessageObject", ": 'status' is a required property"),
    ("MessageObject", ": 'completed_at' is a required property"),
    ("MessageObject", ": 'incomplete_at' is a required property"),
    ("MessageObject", ": 'incomplete_details' is a required property"),
    ("MessageObject", ": 'attachments' is a required property"),
    ("ListMessagesResponse", "data/*: 'status' is a required property"),
    ("ListMessagesResponse", "data/*: 'completed_at' is a required property"),
    ("ListMessagesResponse", "data/*: 'incomplete_at' is a required property"),
    ("ListMessagesResponse", "data/*: 'incomplete_details' is a required property"),
    # run steps have neither expired_at nor metadata
    ("RunStepObject", ": 'expired_at' is a required property"),
    ("RunStepObject", ": 'metadata' is a required property"),
    ("ListRunStepsResponse", "data/*: 'expired_at' is a required property"),
    ("ListRunStepsResponse", "data/*: 'metadata' is a required property"),
    # a run without instructions says null, which the spec does not allow
    ("RunObject", "instructions: None is not of type 'string'"),
    ("ListRunsResponse", "data/*/instructions: None is not of type 'string'"),
    # an empty list has null cursors
    ("ListRunsResponse", "first_id: None is not of type 'string'"),
    ("ListRunsResponse", "last_id: None is not of type 'string'"),
}


def service_errors(schema_name: str, payload: Any) -> list[str]:
    """`errors`, less the known deviations of the real service listed above."""
    found = [re.sub(r"data/\d+", "data/*", e) for e in errors(schema_name, payload)]
    return [e for e in found if (schema_name, e) not in SERVICE_DEVIATIONS]


EVENT_SCHEMAS = [
    (r"thread\.created", "ThreadObject"),
    (r"thread\.run\.step\.delta", "RunStepDeltaObject"),
    (r"thread\.run\.step\.\w+", "RunStepObject"),
    (r"thread\.message\.delta", "MessageDeltaObject"),
    (r"thread\.message\.\w+", "MessageObject"),
    (r"thread\.run\.\w+", "RunObject"),
]


def event_schema(event: str) -> str:
    """The contract schema of a stream event's data."""
    return next(schema for pattern, schema in EVENT_SCHEMAS if re.fullmatch(pattern, event))
