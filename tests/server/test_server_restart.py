"""Storage survives restarts; a server killed mid-run leaves nothing in flight after restart.

The server runs as a real process (`oairun-jupyter serve`) and is killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

import oairun_jupyter as oai
from oairun_jupyter.server import SQLiteStore, start_local_server

from ..support import processes
from ..support.deadline import Deadline
from ..support.flows import make_assistant, wait_for
from ..support.sockets import free_port, wait_until_serving


def test_restart_keeps_assistants_threads_messages_and_runs(tmp_path):
    db = tmp_path / "runs.sqlite3"
    with start_local_server(db=db, pace=0) as first:
        oai.configure(base_url=first.base_url)
        assistant = make_assistant()
        run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["remember me"]})
        wait_for(run.thread_id, run.id, ("completed",))
        before = [m.to_dict() for m in oai.oai_list_messages(run.thread_id)]
    with start_local_server(db=db, pace=0) as second:
        oai.configure(base_url=second.base_url)
        assert oai.oai_retrieve_assistant(assistant["id"]).name == "Tester"
        assert oai.oai_retrieve_thread(run.thread_id).id == run.thread_id
        assert [m.to_dict() for m in oai.oai_list_messages(run.thread_id)] == before
        assert oai.oai_retrieve_run(run.thread_id, run).status == "completed"
        assert len(oai.oai_list_run_steps(run.thread_id, run)) == 1


def _serve(db, port) -> subprocess.Popen:
    process = processes.start(
        [sys.executable, "-m", "oairun_jupyter.server", "serve", "--port", str(port), "--db", str(db),
         "--pace-ms", "5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_until_serving(f"http://127.0.0.1:{port}/v1/assistants", process, "the CLI server to start")
    return process


def _wait_for_a_checkpoint(db, thread_id: str) -> None:
    """Until the streaming answer of the thread has been written to the database with some text."""
    store = SQLiteStore(db)
    deadline = Deadline(30, "a checkpoint of the streaming message in the database")
    try:
        while True:
            answers = [m for m in store.children("message", thread_id) if m["role"] == "assistant"]
            if answers and answers[0]["content"] and answers[0]["content"][0]["text"]["value"]:
                return
            deadline.check(answers)
            time.sleep(0.05)
    finally:
        store.close()


def test_a_server_killed_mid_run_leaves_terminal_runs_and_its_messages(tmp_path):
    db, port = tmp_path / "runs.sqlite3", free_port()
    process = _serve(db, port)
    try:
        oai.configure(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
        assistant = make_assistant()
        thread = oai.oai_create_thread(messages=["kept before the crash"])
        run = oai.oai_create_run(thread, assistant["id"], additional_messages=["/long 100000"])
        waiting = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["get_weather()"]})
        wait_for(waiting.thread_id, waiting.id, ("requires_action",))
        wait_for(thread.id, run.id, ("in_progress",))
        _wait_for_a_checkpoint(db, thread.id)
        stream = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/long 100000"]}, stream=True)
        events = iter(stream)
        streamed_thread = next(events)
        assert streamed_thread.event == "thread.created"
        assert next(events).event == "thread.run.created"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    with pytest.raises(oai.RunStreamError) as caught:  # the open stream ends with a clear error
        for _ in events:
            pass
    assert isinstance(caught.value.__cause__, oai.APIConnectionError)
    assert "could not be retrieved" in str(caught.value)
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    process = _serve(db, port)
    try:
        crashed = oai.oai_retrieve_run(thread.id, run)
        assert crashed.status == "failed"
        assert crashed.last_error["code"] == "server_error" and "stopped" in crashed.last_error["message"]
        messages = oai.oai_list_messages(thread.id, order="asc")
        assert [m.text for m in messages][:2] == ["kept before the crash", "/long 100000"]
        partial = messages[2]
        assert partial.status == "incomplete" and partial.text.startswith("w0 w1 w2")
        assert oai.oai_retrieve_run(waiting.thread_id, waiting).status == "requires_action"
        (streamed,) = oai.oai_list_runs(streamed_thread.data.id)  # the run whose stream was open
        assert streamed.status == "failed"
        store = SQLiteStore(db)
        try:
            assert store.of_kind_where_status("run", ("queued", "in_progress", "cancelling")) == []
            assert store.integrity_check() == "ok"
        finally:
            store.close()
    finally:
        processes.stop(process)


def _as_if_the_server_died_during(db, run_id: str, status: str, message_status: str = "in_progress") -> None:
    """Put a finished run back in flight in the database, with its step and message, the way a
    server killed at that moment leaves them (the in-process form of the SIGKILL test above)."""
    store = SQLiteStore(db)
    try:
        run = store.get("run", run_id)
        # an unfinished run still has the time it would expire at (600 s after its creation); written
        # under the store (which never moves an ended run back), as a server killed mid-run left it
        back = {**run, "status": status, "completed_at": None, "expires_at": run["created_at"] + 600}
        with sqlite3.connect(db) as raw:
            raw.execute("UPDATE objects SET payload = ?, status = ? WHERE id = ?", (json.dumps(back), status, run_id))
        rows = [{**step, "status": "in_progress", "completed_at": None} for step in store.children("step", run_id)]
        rows += [{**message, "status": message_status,
                  "completed_at": None if message_status == "in_progress" else message["completed_at"]}
                 for message in store.children("message", run["thread_id"]) if message["run_id"] == run_id]
        with sqlite3.connect(db) as raw:
            for row in rows:
                raw.execute("UPDATE objects SET payload = ?, status = ? WHERE id = ?",
                            (json.dumps(row), row["status"], row["id"]))
    finally:
        store.close()


def test_recovery_on_start_ends_every_run_left_in_flight(tmp_path):
    db = tmp_path / "runs.sqlite3"
    with start_local_server(db=db, pace=0) as first:
        oai.configure(base_url=first.base_url)
        assistant = make_assistant()
        runs = {}
        for status in ("queued", "in_progress", "cancelling", "completed"):
            run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": [f"left {status}"]})
            runs[status] = wait_for(run.thread_id, run.id, ("completed",))
        waiting = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["get_weather()"]})
        wait_for(waiting.thread_id, waiting.id, ("requires_action",))
    for status in ("in_progress", "cancelling"):
        _as_if_the_server_died_during(db, runs[status]["id"], status)
    # a run that had finished writing its message when the server died: the message stays as it was
    _as_if_the_server_died_during(db, runs["queued"]["id"], "queued", message_status="completed")
    with start_local_server(db=db, pace=0) as second:
        oai.configure(base_url=second.base_url)
        ended = {status: oai.oai_retrieve_run(run["thread_id"], run["id"]) for status, run in runs.items()}
        assert {status: run.status for status, run in ended.items()} == {
            "queued": "failed", "in_progress": "failed", "cancelling": "cancelled", "completed": "completed"}
        for status in ("queued", "in_progress", "cancelling"):
            assert ended[status].expires_at is None  # an ended run no longer expires
        for status in ("queued", "in_progress"):
            assert ended[status].failed_at is not None
            assert ended[status].last_error == {"code": "server_error", "message":
                                                "The server stopped while this run was in progress; start a new run."}
        assert ended["cancelling"].cancelled_at is not None and ended["cancelling"].last_error is None
        for status, step_status in (("in_progress", "failed"), ("cancelling", "cancelled")):
            run = ended[status]
            (step,) = oai.oai_list_run_steps(run.thread_id, run.id)
            assert step.status == step_status and step.to_dict()[f"{step_status}_at"] is not None
            answer = oai.oai_list_messages(run.thread_id, run_id=run.id)[0]
            assert answer.status == "incomplete" and answer.incomplete_at is not None
            assert answer.incomplete_details == {"reason": f"run_{step_status}"}
        assert oai.oai_list_messages(ended["completed"].thread_id)[0].status == "completed"
        assert oai.oai_list_messages(ended["queued"].thread_id, run_id=ended["queued"].id)[0].status == "completed"
        assert oai.oai_retrieve_run(waiting.thread_id, waiting).status == "requires_action"  # still answerable


def test_the_database_and_its_folder_are_private_to_their_owner(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from oairun_jupyter.server import default_db_path
    db = default_db_path()
    assert db.parent.stat().st_mode & 0o777 == 0o700
    store = SQLiteStore(db)
    try:
        store.put("thread", {"id": "thread_1", "object": "thread", "created_at": 1, "metadata": {}})
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        assert {path.name: oct(path.stat().st_mode & 0o777) for path in files if path.exists()} == {
            path.name: "0o600" for path in files if path.exists()}
        assert db.with_name(db.name + "-wal").exists()  # WAL mode: its files got the database's mode
    finally:
        store.close()
    loose = tmp_path / "given.sqlite3"
    loose.write_bytes(b"")
    loose.chmod(0o644)
    SQLiteStore(loose).close()  # a file the user named is made private too
    assert loose.stat().st_mode & 0o777 == 0o600


def test_stopping_the_server_ends_an_open_stream_and_stops_serving():
    """`%oai local stop` (LocalServer.stop) with a stream open used to wait for that stream
    (its join timed out) and leave the server answering on its thread; now the run ends
    `failed`, its stream says so and closes, the server's thread ends and the port refuses."""
    local = start_local_server(pace=0.05)
    try:
        oai.configure(base_url=local.base_url)
        assistant = make_assistant()
        stream = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/long 100000"]}, stream=True)
        events = iter(stream)
        while next(events).event != "thread.message.delta":
            pass
    finally:
        local.stop()
    assert not local._thread.is_alive(), "the server still runs after stop()"
    rest = [event.event for event in events]
    assert rest[-1] == "thread.run.failed" and "server was stopped" in stream.last_error["message"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", local.port), timeout=5).close()


def test_a_server_starting_on_a_shared_file_leaves_the_runs_of_a_live_one_alone(tmp_path):
    """Several kernels' servers (and the CLI's) share the default database file: one that starts
    ends the runs a dead server left in flight, never the runs another live server works on."""
    db = tmp_path / "runs.sqlite3"
    with start_local_server(db=db, pace=0.02) as first:
        oai.configure(base_url=first.base_url)
        assistant = make_assistant()
        run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/long 60"]})
        wait_for(run.thread_id, run.id, ("in_progress",))
        with start_local_server(db=db, pace=0) as second:  # another kernel starts meanwhile
            oai.configure(base_url=second.base_url)
            assert oai.oai_retrieve_run(run.thread_id, run).status == "in_progress"
            oai.configure(base_url=first.base_url)
            assert wait_for(run.thread_id, run.id, ("completed", "failed"))["status"] == "completed"
            oai.configure(base_url=second.base_url)  # and the other sees the end
            assert oai.oai_retrieve_run(run.thread_id, run).status == "completed"
            assert oai.oai_list_messages(run.thread_id)[0].text.startswith("w0 w1")


def test_servers_sharing_a_file_neither_lose_a_cancel_nor_keep_a_dead_servers_runs(tmp_path):
    """A cancel through a server that does not work on the run reaches the one that does (through
    the database): the run ends `cancelled`, seen from both. A run left by a server killed
    meanwhile is ended by a live server the first time it is read, and its thread takes new runs."""
    db, port = tmp_path / "runs.sqlite3", free_port()
    with start_local_server(db=db, pace=0) as survivor:  # another kernel, already running
        process = _serve(db, port)
        try:
            elsewhere = f"http://127.0.0.1:{port}/v1"
            oai.configure(base_url=elsewhere, max_retries=0)
            assistant = make_assistant()
            cancelled = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/long 100000"]})
            wait_for(cancelled.thread_id, cancelled.id, ("in_progress",))
            oai.configure(base_url=survivor.base_url)
            assert oai.oai_cancel_run(cancelled.thread_id, cancelled).status == "cancelling"
            assert wait_for(cancelled.thread_id, cancelled.id, ("cancelled",))["status"] == "cancelled"
            oai.configure(base_url=elsewhere, max_retries=0)
            assert oai.oai_retrieve_run(cancelled.thread_id, cancelled).status == "cancelled"
            run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/long 100000"]})
            wait_for(run.thread_id, run.id, ("in_progress",))
            oai.configure(base_url=survivor.base_url)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        ended = oai.oai_retrieve_run(run.thread_id, run)
        assert ended.status == "failed" and "stopped" in ended.last_error["message"]
        again = oai.oai_create_run(run.thread_id, assistant["id"], additional_messages=["still here?"])
        assert wait_for(run.thread_id, again.id, ("completed",))["status"] == "completed"
    stale = tmp_path / "runs.sqlite3.owners" / "0123456789abcdef.lock"
    stale.write_text("")  # as a server stopped by a signal leaves it
    with start_local_server(db=db, pace=0):  # a server that starts sweeps the dead ones' lock files
        assert [p.name for p in (tmp_path / "runs.sqlite3.owners").glob("*.lock")] != [stale.name]
        assert not stale.exists() and len(list((tmp_path / "runs.sqlite3.owners").glob("*.lock"))) == 1
