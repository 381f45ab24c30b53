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


def _race(requests: list[tuple[Worker, str, dict[str, Any] | None]]) -> list[httpx.Response]:
    """POST each (worker, path, body) at the same moment; the answers in the same order."""
    start = threading.Barrier(len(requests))
    answers: list[httpx.Response | None] = [None] * len(requests)

    def send(n: int) -> None:
        worker, path, body = requests[n]
        start.wait()
        answers[n] = worker.http.post(path, json=body)
    racers = [threading.Thread(target=send, args=(n,)) for n in range(len(requests))]
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
        body = {"assistant_id": assistant["id"], "additional_messages": [{"role": "user", "content": "/long 200"}]}
        answers = _race([(a, f"/threads/{thread['id']}/runs", body), (b, f"/threads/{thread['id']}/runs", body)])
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
        path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
        body = {"tool_outputs": [{"tool_call_id": call["id"], "output": "sunny"}]}
        answers = _race([(a, path, body), (b, path, body)])
        assert sorted(answer.status_code for answer in answers) == [200, 400]
        assert wait_status(c, run, ("completed", "failed"))["status"] == "completed"
        (step,) = [s for s in c.http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
                   if s["type"] == "tool_calls"]
        assert step["status"] == "completed"


def _whole_log(worker: Worker, run: dict[str, Any]) -> list[tuple[int, str, Any]]:
    """Every logged event of the run, segment after segment, read through `worker`."""
    events, after = [], 0
    path = f"/threads/{run['thread_id']}/runs/{run['id']}/stream"
    while True:
        segment = [e for e in read_stream(worker.http, "GET", path, params={"after": str(after)}) if e[0] is not None]
        if not segment:
            return events
        events += [(int(i), name, data) for i, name, data in segment]
        after = events[-1][0]


def _thread_rows(postgres_db: str, thread_id: str, run_id: str) -> int:
    import psycopg

    with psycopg.connect(postgres_db) as raw:
        objects = raw.execute("SELECT COUNT(*) FROM objects WHERE id = %s OR parent = %s OR parent = %s",
                              (thread_id, thread_id, run_id)).fetchone()[0]
        events = raw.execute("SELECT COUNT(*) FROM run_events WHERE run_id = %s", (run_id,)).fetchone()[0]
    return objects + events


def test_a_cancel_through_another_worker_as_the_run_pauses_for_its_tool_ends_it_cancelled(workers):
    a, b, _ = workers
    assistant = a.http.post("/assistants", json={"model": "scripted", "tools": [WEATHER]}).json()
    for _ in range(8):
        run = a.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
            "messages": [{"role": "user", "content": "get_weather()"}]}}).json()
        cancel = b.http.post(f"/threads/{run['thread_id']}/runs/{run['id']}/cancel")
        assert cancel.status_code == 200 and cancel.json()["status"] == "cancelling"  # running or waiting
        assert wait_status(a, run, ("cancelled", "completed", "failed", "requires_action"))["status"] == "cancelled"
        log = _whole_log(b, run)
        assert log[-1][1] == "thread.run.cancelled"
        again = b.http.post(f"/threads/{run['thread_id']}/runs", json={
            "assistant_id": assistant["id"], "additional_messages": [{"role": "user", "content": "/say ok"}]})
        assert again.status_code == 200  # the thread is free again


def test_a_submit_and_a_cancel_at_once_through_two_workers_end_the_run_one_way(workers):
    a, b, c = workers
    assistant = a.http.post("/assistants", json={"model": "scripted", "tools": [WEATHER]}).json()
    for _ in range(8):
        run = a.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
            "messages": [{"role": "user", "content": "get_weather()"}]}}).json()
        call = wait_status(a, run, ("requires_action",))["required_action"]["submit_tool_outputs"]["tool_calls"][0]
        path = f"/threads/{run['thread_id']}/runs/{run['id']}"
        submitted, cancelled = _race([(b, f"{path}/submit_tool_outputs",
                                       {"tool_outputs": [{"tool_call_id": call["id"], "output": "x"}]}),
                                      (c, f"{path}/cancel", None)])
        answers = {"submit": submitted, "cancel": cancelled}
        assert {answer.status_code for answer in answers.values()} <= {200, 400}
        ended = wait_status(a, run, ("cancelled", "completed", "failed", "expired"))
        if answers["cancel"].status_code == 200:
            assert ended["status"] == "cancelled"
        else:
            assert answers["submit"].status_code == 200 and ended["status"] == "completed"
        log = _whole_log(a, run)
        finals = [n for n, (_, name, _) in enumerate(log) if name == f"thread.run.{ended['status']}"]
        assert finals == [len(log) - 1]  # one end, and nothing after it
        assert [i for i, _, _ in log] == sorted({i for i, _, _ in log})  # numbered once each, in order
        steps = a.http.get(f"{path}/steps").json()["data"]
        assert all(step["status"] != "in_progress" for step in steps)


def test_a_thread_deleted_through_another_worker_stops_its_run_and_leaves_nothing(workers, postgres_db):
    a, b, _ = workers
    assistant = a.http.post("/assistants", json={"model": "scripted"}).json()
    run = a.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
        "messages": [{"role": "user", "content": "/long 1000000"}]}}).json()
    wait_status(b, run, ("in_progress",))
    assert b.http.delete(f"/threads/{run['thread_id']}").json()["deleted"] is True
    time.sleep(1.5)  # the working server's watcher looks four times a second; its writes would land by now
    assert a.http.get(f"/threads/{run['thread_id']}").status_code == 404
    assert _thread_rows(postgres_db, run["thread_id"], run["id"]) == 0


def test_workers_with_different_leases_judge_each_other_by_their_own(postgres_db):
    patient, hasty = Worker(postgres_db, lease_seconds=10), Worker(postgres_db, lease_seconds=1)
    try:
        assistant = patient.http.post("/assistants", json={"model": "scripted"}).json()
        run = patient.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
            "messages": [{"role": "user", "content": "/long 1500"}]}}).json()  # about 3 s at 2 ms a delta
        assert wait_status(hasty, run, ("completed", "failed"), seconds=60)["status"] == "completed"
    finally:
        patient.stop()
        hasty.stop()


def test_a_worker_paused_past_its_lease_does_not_write_over_the_end_a_survivor_gave_its_run(workers):
    a, b, _ = workers
    assistant = a.http.post("/assistants", json={"model": "scripted"}).json()
    run = a.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
        "messages": [{"role": "user", "content": "/long 2500"}]}}).json()  # about 5 s of work
    wait_status(b, run, ("in_progress",))
    time.sleep(0.3)  # a paused server is paused anywhere: here, with its message begun
    os.kill(a.process.pid, signal.SIGSTOP)
    try:
        ended = wait_status(b, run, ("failed", "completed"), seconds=30)
    finally:
        os.kill(a.process.pid, signal.SIGCONT)
    assert ended["status"] == "failed"
    time.sleep(6)  # long enough for the paused worker to have finished the run, had it gone on
    assert status_of(b, run)["status"] == "failed"
    (answer,) = [m for m in b.http.get(f"/threads/{run['thread_id']}/messages").json()["data"]
                 if m["role"] == "assistant"]
    assert answer["status"] == "incomplete"
    steps = b.http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"]
    assert [step["status"] for step in steps] == ["failed"]
    assert "completed" not in [name for _, name, _ in _whole_log(b, run) if name.startswith("thread.run.")]


def test_a_run_in_flight_when_postgresql_restarts_ends_failed_and_the_worker_serves_again():
    from ..support.postgres import PostgresCluster

    cluster = PostgresCluster()  # a server of its own: this test restarts it
    worker = None
    try:
        worker = Worker(cluster.new_database(), pace_ms=5)
        assistant = worker.http.post("/assistants", json={"model": "scripted"}).json()
        run = worker.http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
            "messages": [{"role": "user", "content": "/long 600"}]}}).json()  # about 3 s of work
        wait_status(worker, run, ("in_progress",))
        cluster.stop_server()
        assert worker.http.get("/assistants").status_code == 500  # a clean error while it is away
        # the run's last writes (its answer, its end) meet no database: it ends within 3 s of
        # starting, however long the stop took, and the database is away 4 s after it
        time.sleep(4)
        cluster.start()
        ended = wait_status(worker, run, ("failed", "completed", "cancelled"), seconds=30)
        assert ended["status"] == "failed" and "database" in ended["last_error"]["message"]
        again = worker.http.post(f"/threads/{run['thread_id']}/runs", json={
            "assistant_id": assistant["id"], "additional_messages": [{"role": "user", "content": "/say back"}]}).json()
        assert wait_status(worker, again, ("completed",))["status"] == "completed"
    finally:
        if worker is not None:
            worker.stop()
        cluster.stop()
