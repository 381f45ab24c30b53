"""Replaying recorded sessions: a real local server answering the recorded requests, in order,
with the recorded responses, and keeping note of every request that differs from the record."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .http_server import LoopbackServer, ReceivedRequest, Reply, json_reply

DATA = Path(__file__).resolve().parent.parent / "data"
RECORDED = DATA / "recorded"
SESSION_RECORDS = RECORDED / "session-records"


def load_entries(name: str) -> list[dict[str, Any]]:
    """The request/response pairs of a recorded session, in order."""
    return json.loads((SESSION_RECORDS / f"{name}.json").read_text())["Entries"]


def recorded_path_and_query(entry: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(entry["RequestUri"])
    return parts.path, sorted(parse_qsl(parts.query, keep_blank_values=True))


class ReplayServer(LoopbackServer):
    """Answers request n with recorded response n when request n matches the record."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__(self._answer)
        self.entries = entries
        self.position = 0
        self.mismatches: list[str] = []

    def _answer(self, request: ReceivedRequest) -> Reply:
        if self.position >= len(self.entries):
            self.mismatches.append(f"unexpected extra request {request.method} {request.path}")
            return json_reply(599, {"error": {"message": "no more recorded entries"}})
        entry = self.entries[self.position]
        self.position += 1
        problems = self._compare(entry, request)
        if problems:
            self.mismatches.append(f"entry {self.position - 1}: " + "; ".join(problems))
            return json_reply(599, {"error": {"message": "; ".join(problems)}})
        body = entry["ResponseBody"]
        content_type = entry["ResponseHeaders"].get("Content-Type", "application/json")
        headers = {"Content-Type": content_type, "x-request-id": f"req_replay_{self.position}"}
        if isinstance(body, list):  # a stream: its lines, sent one chunk per line
            return entry["StatusCode"], headers, [line.encode() for line in body]
        return entry["StatusCode"], headers, json.dumps(body).encode()

    @staticmethod
    def _compare(entry: dict[str, Any], request: ReceivedRequest) -> list[str]:
        path, query = recorded_path_and_query(entry)
        problems = []
        if request.method != entry["RequestMethod"]:
            problems.append(f"method {request.method} != recorded {entry['RequestMethod']}")
        if request.path != path:
            problems.append(f"path {request.path} != recorded {path}")
        if sorted(request.query) != query:
            problems.append(f"query {sorted(request.query)} != recorded {query}")
        if request.json() != entry["RequestBody"]:
            problems.append(f"body {request.json()} != recorded {entry['RequestBody']}")
        if request.headers.get("openai-beta") != "assistants=v2":
            problems.append("missing OpenAI-Beta: assistants=v2")
        return problems

    @property
    def finished(self) -> bool:
        return self.position == len(self.entries) and not self.mismatches


def parse_sse_text(text: str) -> list[tuple[str, Any]]:
    """(event, data) of a recorded SSE body; `[DONE]` stays a string."""
    events = []
    for block in text.strip().split("\n\n"):
        event = re.search(r"^event: (.*)$", block, re.M).group(1)
        data = re.search(r"^data: (.*)$", block, re.M).group(1)
        events.append((event, data if data == "[DONE]" else json.loads(data)))
    return events
