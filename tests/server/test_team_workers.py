"""Several server processes on one PostgreSQL database (issue 18): any process answers any request
about any run, a killed worker's runs end after its lease, the database keeps one active run per
thread, and a dropped stream resumes from its last event id.

Each worker is the real CLI (`oairun-jupyter serve --db postgresql://...`) in a process of its own,
on a real PostgreSQL started by the session's fixture.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Iterator

import httpx
import pytest

from ..support import processes
from ..support.deadline import Deadline
from ..support.sockets import free_port, wait_until_serving

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


class Worker:
    """One `oairun-jupyter serve` process on the shared database."""

    def __init__(self, db: str, lease_seconds: float = 1.0, pace_ms: float = 2) -> None:
        self.port = free_port()
        self.process = processes.start(
            [sys.executable, "-m", "oairun_jupyter.server", "serve", "--port", str(self.port), "--db", db,
             "--no-auth", "--pace-ms", str(pace_ms), "--lease-seconds", str(lease_seconds)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        wait_until_serving(f"{self.base_url}/assistants", self.process, "a worker to start")
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last write."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        self.http.close()
        processes.stop(self.process)


@pytest.fixture
def workers(postgres_db):
    """Three workers on one fresh PostgreSQL database (leases of 1 s)."""
    started: list[Worker] = []
    try:
        for _ in range(3):
            started.append(Worker(postgres_db))
        yield started
    finally:
        for worker in started:
            worker.stop()


def sse_events(response: httpx.Response) -> Iterator[tuple[str | None, str, Any]]:
    """(id, event, data) of each event of a streaming response, `done` included."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if fields:
                data = fields.get("data", "")
                yield fields.get("id"), fields["event"], data if data == "[DONE]" else json.loads(data)
                fields = {}
            continue
        name, _, value = line.partition(": ")
        fields[name] = value


def read_stream(client: httpx.Client, method: str, path: str, **options: Any) -> list[tuple[str | None, str, Any]]:
    with client.stream(method, path, **options) as response:
        assert response.status_code == 200, response.read()
        return list(sse_events(response))


def status_of(worker: Worker, run: dict[str, Any]) -> dict[str, Any]:
    return worker.http.get(f"/threads/{run['thread_id']}/runs/{run['id']}").json()


def wait_status(worker: Worker, run: dict[str, Any], statuses: tuple[str, ...], seconds: float = 20) -> dict[str, Any]:
    deadline = Deadline(seconds, f"run {run['id']} to reach {statuses}")
    while True:
        found = status_of(worker, run)
        if found["status"] in statuses:
            return found
        deadline.check(found["status"])
        time.sleep(0.05)


def test_a_run_is_created_streamed_answered_and_cancelled_through_different_workers(workers):
    a, b, c = workers
    assistant = a.http.post("/assistants", json={"model": "scripted", "tools": [WEATHER]}).json()
    run = a.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
        "messages": [{"role": "user", "content": "/say looking it up\nget_weather {\"city\": \"Paris\"}"}]}}).json()
    # B follows the run A works on, to its pause for the tool's output
    events = read_stream(b.http, "GET", f"/threads/{run['thread_id']}/runs/{run['id']}/stream")
    names = [name for _, name, _ in events]
    assert names[-2:] == ["thread.run.requires_action", "done"]
    assert "thread.message.delta" in names
    waiting = events[-2][2]
    call = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    ids = [int(i) for i, _, _ in events if i is not None]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # C answers, streaming the rest
    rest = read_stream(c.http, "POST", f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs",
                       json={"tool_outputs": [{"tool_call_id": call["id"], "output": "18 C"}], "stream": True})
    assert [name for _, name, _ in rest][-2:] == ["thread.run.completed", "done"]
    assert int(rest[0][0]) == ids[-1] + 1  # C numbers on from where A's log ended
    assert status_of(a, run)["status"] == "completed"
    # a long run on C, cancelled through A, seen ending on B
    long_run = c.http.post(f"/threads/{run['thread_id']}/runs",
                           json={"assistant_id": assistant["id"],
                                 "additional_messages": [{"role": "user", "content": "/long 100000"}]}).json()
    wait_status(b, long_run, ("in_progress",))
    cancel = a.http.post(f"/threads/{run['thread_id']}/runs/{long_run['id']}/cancel")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelling"
    ended = wait_status(b, long_run, ("cancelled", "completed", "failed"))
    assert ended["status"] == "cancelled"
    steps = b.http.get(f"/threads/{run['thread_id']}/runs/{long_run['id']}/steps").json()["data"]
    assert steps and all(step["status"] != "in_progress" for step in steps)
    assert ended["usage"]["completion_tokens"] > 0  # what it wrote before the cancel is counted


def test_a_killed_worker_s_run_ends_failed_after_its_lease_seen_from_the_survivors(workers):
    a, b, c = workers
    assistant = a.http.post("/assistants", json={"model": "scripted"}).json()
    run = a.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
        "messages": [{"role": "user", "content": "/long 1000000"}]}}).json()
    followed: list = []
    writing = threading.Event()

    def follow() -> None:
        with b.http.stream("GET", f"/threads/{run['thread_id']}/runs/{run['id']}/stream") as response:
            for event in sse_events(response):
                followed.append(event)
                if event[1] == "thread.message.delta":
                    writing.set()
    follower = threading.Thread(target=follow)
    follower.start()
    assert writing.wait(20), "B's stream showed no text of the run A works on"
    a.kill()
    ended = wait_status(c, run, ("failed", "completed", "cancelled"), seconds=30)
    follower.join(30)
    assert ended["status"] == "failed" and "stopped" in ended["last_error"]["message"]
    assert [name for _, name, _ in followed][-2:] == ["thread.run.failed", "done"]  # B's stream ended with it
    messages = c.http.get(f"/threads/{run['thread_id']}/messages").json()["data"]
    (answer,) = [m for m in messages if m["role"] == "assistant"]
    assert answer["status"] == "incomplete" and answer["incomplete_details"] == {"reason": "run_failed"}
    again = b.http.post(f"/threads/{run['thread_id']}/runs", json={
        "assistant_id": assistant["id"], "additional_messages": [{"role": "user", "content": "/say still here"}]}).json()
    assert wait_status(c, again, ("completed",))["status"] == "completed"  # the thread takes new runs


def _race(workers: list[Worker], path: str, body: dict[str, Any]) -> list[httpx.Response]:
    """The same request through each worker, let go at the same moment."""
    start = threading.Barrier(len(workers))
    answers: list[httpx.Response] = []

    def send(worker: Worker) -> None:
        start.wait()
        answers.append(worker.http.post(path, json=body))
    racers = [threading.Thread(target=send, args=(worker,)) for worker in workers]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    return answers


def test_two_creates_on_one_thread_through_two_workers_at_once_exactly_one_succeeds(workers):
    a, b, _ = workers
    assistant = a.http.post("/assistants", json={"model": "scripted"}).json()
    for _ in range(15):
        thread = a.http.post("/threads", json={}).json()
        answers = _race([a, b], f"/threads/{thread['id']}/runs", {
            "assistant_id": assistant["id"], "additional_messages": [{"role": "user", "content": "/long 200"}]})
        assert sorted(answer.status_code for answer in answers) == [200, 400]
        refused = next(answer for answer in answers if answer.status_code == 400)
        assert "already has an active run" in refused.json()["error"]["message"]
        runs = a.http.get(f"/threads/{thread['id']}/runs").json()["data"]
        assert len(runs) == 1
        messages = a.http.get(f"/threads/{thread['id']}/messages").json()["data"]
        assert [m["role"] for m in messages].count("user") == 1  # the refused run's message was not kept
        wait_status(a, runs[0], ("completed",))


def test_two_answers_to_one_waiting_run_through_two_workers_exactly_one_is_taken(workers):
    a, b, c = workers
    assistant = a.http.post("/assistants", json={"model": "scripted", "tools": [WEATHER]}).json()
    for _ in range(10):
        run = c.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
            "messages": [{"role": "user", "content": "get_weather()"}]}}).json()
        waiting = wait_status(c, run, ("requires_action",))
        call = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]
        answers = _race([a, b], f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs",
                        {"tool_outputs": [{"tool_call_id": call["id"], "output": "sunny"}]})
        assert sorted(answer.status_code for answer in answers) == [200, 400]
        assert wait_status(c, run, ("completed", "failed"))["status"] == "completed"
        (step,) = [s for s in c.http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
                   if s["type"] == "tool_calls"]
        assert step["status"] == "completed"
