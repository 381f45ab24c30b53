"""The stores themselves (issue 18): migrations of an old SQLite file, a schema from a newer
release refused, one active run per thread kept by the database, the event log, and a dropped
stream resumed from its last event id on each store."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

import oairun_jupyter as oai
from oairun_jupyter.server import start_local_server
from oairun_jupyter.server.stores import ActiveRunConflict, StoreError, open_store
from oairun_jupyter.server.stores._migrations import LATEST_VERSION

from ..support.flows import wait_for
from .test_team_workers import sse_events

RELEASE_0_1_0 = Path(__file__).parent.parent / "data" / "release-0.1.0" / "runs.sqlite3"


def _run(run_id: str, thread_id: str, status: str, created_at: int = 1_795_000_000) -> dict:
    return {"id": run_id, "object": "thread.run", "created_at": created_at, "thread_id": thread_id,
            "status": status}


def test_a_database_file_of_release_0_1_0_opens_upgraded_and_works(tmp_path):
    db = tmp_path / "runs.sqlite3"
    shutil.copy(RELEASE_0_1_0, db)
    with sqlite3.connect(db) as raw:
        # the file's waiting run expired 600 s after the file was made: it waits for 600 s from now
        raw.execute("UPDATE objects SET payload = json_set(payload, '$.expires_at', ?) WHERE kind = 'run' AND "
                    "json_extract(payload, '$.status') = 'requires_action'", (int(time.time()) + 600,))
        # as a server killed mid-run left it, and a race the old check allowed
        (completed_thread,) = raw.execute("SELECT parent FROM objects WHERE kind = 'run' AND "
                                          "json_extract(payload, '$.status') = 'completed'").fetchone()
        for n, created in enumerate((1_795_000_001, 1_795_000_002)):
            raw.execute("INSERT INTO objects (id, kind, parent, created_at, payload) VALUES (?, 'run', ?, ?, ?)",
                        (f"run_left{n}", completed_thread, created,
                         json.dumps({**_run(f"run_left{n}", completed_thread, "in_progress", created),
                                     "assistant_id": "asst_x", "expires_at": created + 600})))
    store = open_store(db)
    try:
        assert store.upgraded_from == 1 and store.schema_version() == LATEST_VERSION
        statuses = {run["id"]: run["status"] for run in store.of_kind_where_status(
            "run", ("queued", "in_progress", "requires_action", "cancelling", "completed", "failed"))}
        # the older of two active runs on one thread ended (the constraint could not exist otherwise)
        assert statuses["run_left0"] == "failed" and statuses["run_left1"] == "in_progress"
        assert sorted(statuses.values()).count("requires_action") == 1
    finally:
        store.close()
    with start_local_server(db=db, pace=0) as local:
        oai.configure(base_url=local.base_url)
        (assistant,) = oai.oai_list_assistants()
        threads = {run["thread_id"] for run in [*_all_runs(db)]}
        waiting = next(r for r in _all_runs(db) if r["status"] == "requires_action")
        # the run the old server left waiting takes its output and finishes on the new one
        call = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]
        oai.oai_submit_tool_outputs(waiting["thread_id"], waiting["id"], [oai.oai_tool_output(call["id"], "3 C")])
        assert wait_for(waiting["thread_id"], waiting["id"], ("completed",))["status"] == "completed"
        stranded = oai.oai_retrieve_run(completed_thread, "run_left1")
        assert stranded.status == "failed"  # the dead server's run in flight ended on start
        again = oai.oai_create_run(completed_thread, assistant.id, additional_messages=["after the upgrade"])
        assert wait_for(completed_thread, again.id, ("completed",))["status"] == "completed"
        assert len(threads) == 2 and oai.oai_list_messages(completed_thread)[0].text == "You said: after the upgrade"
    store = open_store(db)  # opened again: nothing to migrate, nothing broken
    try:
        assert store.upgraded_from == LATEST_VERSION and store.integrity_check() == "ok"
    finally:
        store.close()


def _all_runs(db) -> list[dict]:
    store = open_store(db)
    try:
        return store.of_kind_where_status("run", ("completed", "requires_action", "failed", "in_progress"))
    finally:
        store.close()


def test_a_database_from_a_newer_release_is_refused_and_left_unchanged(tmp_path, store_db):
    db = store_db if store_db != ":memory:" else str(tmp_path / "runs.sqlite3")
    open_store(db).close()
    with _raw(db) as execute:
        execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="schema version 99.*newer oairun-jupyter.*upgrade"):
        open_store(db)
    with _raw(db) as execute:
        assert execute("SELECT version FROM schema_version") == [(99,)]


class _raw:
    """A plain connection to the database under a store, for what a test must write around it."""

    def __init__(self, db: str) -> None:
        if db.startswith("postgresql://"):
            import psycopg
            self._db, self._mark = psycopg.connect(db, autocommit=True), "%s"
        else:
            self._db, self._mark = sqlite3.connect(db, isolation_level=None), "?"

    def __enter__(self):
        def execute(sql: str, args: tuple = ()) -> list:
            cursor = self._db.execute(sql.replace("?", self._mark), args)
            return cursor.fetchall() if cursor.description else []
        return execute

    def __exit__(self, *exc_info) -> None:
        self._db.close()


def test_the_database_refuses_a_second_active_run_on_a_thread_from_another_connection(store_db, tmp_path):
    db = store_db if store_db != ":memory:" else str(tmp_path / "runs.sqlite3")
    first, second = open_store(db), open_store(db)  # two server processes' connections
    try:
        first.put("run", _run("run_a", "thread_1", "in_progress"), "thread_1")
        with pytest.raises(ActiveRunConflict):
            second.put("run", _run("run_b", "thread_1", "queued"), "thread_1")
        with pytest.raises(ActiveRunConflict):  # nothing of a refused batch is kept
            second.put_many([("message", {"id": "msg_1", "created_at": 1}, "thread_1"),
                             ("run", _run("run_b", "thread_1", "queued"), "thread_1")])
        assert second.get("message", "msg_1") is None and second.get("run", "run_b") is None
        second.put("run", _run("run_c", "thread_2", "queued"), "thread_2")  # another thread: fine
        first.put("run", _run("run_a", "thread_1", "completed"), "thread_1")
        second.put("run", _run("run_b", "thread_1", "queued"), "thread_1")  # the first ended: fine
        # an ended run never goes back, and a cancel is not written over by a worker that missed it
        first.put("run", _run("run_a", "thread_1", "in_progress"), "thread_1")
        assert second.get("run", "run_a")["status"] == "completed"
        assert second.transition({**_run("run_b", "thread_1", "cancelling")}, "queued")
        first.put("run", _run("run_b", "thread_1", "requires_action"), "thread_1")
        assert second.get("run", "run_b")["status"] == "cancelling"
        assert not first.transition(_run("run_b", "thread_1", "queued"), "requires_action")
    finally:
        first.close()
        second.close()


def test_a_dropped_stream_resumed_with_last_event_id_yields_every_event_once_in_order(store_db):
    with start_local_server(db=store_db, pace=0.002) as local, \
            httpx.Client(base_url=local.base_url, timeout=30) as http:
        assistant = http.post("/assistants", json={"model": "scripted"}).json()
        body = {"assistant_id": assistant["id"], "stream": True,
                "thread": {"messages": [{"role": "user", "content": "/long 300"}]}}
        before: list = []
        with http.stream("POST", "/threads/runs", json=body) as response:
            for event in sse_events(response):
                before.append(event)
                if len(before) == 40:
                    break  # the connection drops here
        run = next(data for _, name, data in before if name == "thread.run.created")
        path = f"/threads/{run['thread_id']}/runs/{run['id']}/stream"
        with http.stream("GET", path, headers={"Last-Event-ID": before[-1][0]}) as response:
            after = list(sse_events(response))
        with http.stream("GET", path, params={"after": "0"}) as response:
            whole = list(sse_events(response))
    ids = [int(i) for i, _, _ in before + after if i is not None]
    assert ids == list(range(1, len(ids) + 1))  # each once, in order, none missing
    assert [name for _, name, _ in before + after] == [name for _, name, _ in whole]
    assert [name for _, name, _ in after][-2:] == ["thread.run.completed", "done"]
    text = "".join(data["delta"]["content"][0]["text"]["value"]
                   for _, name, data in before + after if name == "thread.message.delta")
    assert text.split() == [f"w{n}" for n in range(300)]


@pytest.mark.parametrize("where, given", [("Last-Event-ID", "-1"), ("Last-Event-ID", "1.5"), ("Last-Event-ID", "abc"),
                                          ("Last-Event-ID", "9" * 40), ("after", "\u0663"), ("after", "1e3")])
def test_a_last_event_id_that_is_not_one_is_a_400_naming_it(server, where, given):
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assistant = http.post("/assistants", json={"model": "scripted"}).json()
        run = http.post("/threads/runs", json={"assistant_id": assistant["id"]}).json()
        path = f"/threads/{run['thread_id']}/runs/{run['id']}/stream"
        answer = http.get(path, headers={where: given}) if where == "Last-Event-ID" else \
            http.get(path, params={where: given})
    assert answer.status_code == 400
    assert f"Invalid '{where}'" in answer.json()["error"]["message"]


def test_an_id_holding_a_nul_byte_is_a_404_on_each_store(server):
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["id"]
        for method, path in [("GET", "/threads/%00"), ("DELETE", "/threads/%00"), ("GET", "/assistants/%00"),
                             ("DELETE", "/assistants/a%00b"), ("GET", f"/threads/{thread}/runs/%00"),
                             ("GET", f"/threads/{thread}/runs/%00/stream"), ("GET", f"/threads/{thread}/messages/%00")]:
            answer = http.request(method, path)
            assert answer.status_code == 404, (method, path, answer.text)


@pytest.mark.parametrize("url, password", [
    ("postgresql://postgres:S3cr#etPW@127.0.0.1:{port}/postgres", "S3cr#etPW"),
    ("postgresql://ana:p/w?x@127.0.0.1:{port}/db", "p/w?x"),
    ("postgresql://ana@127.0.0.1:{port}/db?password=S3cretPW&sslmode=disable", "S3cretPW"),
    ("postgresql://ana:pw-multi@127.0.0.1:{port},127.0.0.1:{port}/db", "pw-multi"),
])
def test_a_database_password_is_never_shown_however_the_url_is_written(url, password):
    from oairun_jupyter.server.stores.postgres import shown_url

    from ..support.sockets import free_port

    url = url.format(port=free_port())  # nothing listens there
    assert password not in shown_url(url) and "***" in shown_url(url)
    with pytest.raises(StoreError) as raised:
        open_store(url)
    assert password not in str(raised.value) and "cannot connect to" in str(raised.value)


def test_a_log_longer_than_one_read_is_followed_whole_and_joined_at_its_current_segment(store_db):
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    words = " ".join(f"w{n}" for n in range(6000))
    with start_local_server(db=store_db, pace=0.0002) as local, \
            httpx.Client(base_url=local.base_url, timeout=60) as http:
        assistant = http.post("/assistants", json={"model": "scripted", "tools": [weather]}).json()
        run = http.post("/threads/runs", json={"assistant_id": assistant["id"], "thread": {
            "messages": [{"role": "user", "content": f"/say {words}\nget_weather()"}]}}).json()
        path = f"/threads/{run['thread_id']}/runs/{run['id']}/stream"
        with http.stream("GET", path, params={"after": "0"}) as response:  # while the run writes it
            first = [e for e in sse_events(response) if e[0] is not None]
        ids = [int(i) for i, _, _ in first]
        assert ids == list(range(1, len(ids) + 1)) and len(ids) > 6000  # none skipped past the first read
        assert first[-1][1] == "thread.run.requires_action"
        call = first[-1][2]["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        http.post(f"{path[:-len('/stream')]}/submit_tool_outputs",
                  json={"tool_outputs": [{"tool_call_id": call, "output": "sun"}]})
        with http.stream("GET", path) as response:  # no last event id: the current segment
            joined = [e for e in sse_events(response) if e[0] is not None]
    assert int(joined[0][0]) == ids[-1] + 1
    assert joined[-1][1] == "thread.run.completed"


def test_a_database_url_holding_a_byte_that_is_not_utf8_is_a_clear_error():
    url = "postgresql://ana:p\udc80w@127.0.0.1:1/team"  # what a shell hands over for the byte 0x80
    with pytest.raises(StoreError, match="not text") as raised:
        open_store(url)
    assert "p\udc80w" not in str(raised.value) and "***" in str(raised.value)
