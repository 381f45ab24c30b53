"""A team server with users (issue 18): each user's key opens only their own objects. User B gets a
404 for each of user A's objects on every route that names one, lists show only one's own, and a
request without a user's key, or with a removed user's, is a 401. On both stores."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from oairun_jupyter.server import start_local_server
from oairun_jupyter.server._users import add_user

from .test_team_workers import sse_events

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.fixture
def team(store_db):
    """A server with users on `store_db`, and a client for each of its users ana and bo."""
    with start_local_server(db=store_db, pace=0, users=True) as local:
        keys = {name: add_user(local.store, name) for name in ("ana", "bo")}
        clients = {name: httpx.Client(base_url=local.base_url, timeout=30, headers={"Authorization": f"Bearer {key}"})
                   for name, key in keys.items()}
        try:
            yield local, keys, clients
        finally:
            for client in clients.values():
                client.close()


def _wait(client: httpx.Client, thread_id: str, run_id: str, status: str) -> dict:
    with client.stream("GET", f"/threads/{thread_id}/runs/{run_id}/stream") as response:
        events = list(sse_events(response))
    final = events[-2][2]
    assert final["status"] == status, events[-2:]
    return final


def test_another_user_s_objects_are_a_404_on_every_route_and_lists_show_only_one_s_own(team):
    local, _, users = team
    ana, bo = users["ana"], users["bo"]
    assistant = ana.post("/assistants", json={"model": "scripted", "tools": [WEATHER]}).json()["id"]
    run = ana.post("/threads/runs", json={"assistant_id": assistant, "thread": {
        "messages": [{"role": "user", "content": "get_weather()"}]}}).json()
    thread, run_id = run["thread_id"], run["id"]
    waiting = _wait(ana, thread, run_id, "requires_action")
    call = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    message = ana.get(f"/threads/{thread}/messages").json()["data"][0]["id"]
    step = ana.get(f"/threads/{thread}/runs/{run_id}/steps").json()["data"][0]["id"]
    bo_assistant = bo.post("/assistants", json={"model": "scripted"}).json()["id"]
    bo_thread = bo.post("/threads", json={}).json()["id"]

    routes = [
        ("GET", f"/assistants/{assistant}", None),
        ("POST", f"/assistants/{assistant}", {"name": "taken"}),
        ("DELETE", f"/assistants/{assistant}", None),
        ("GET", f"/threads/{thread}", None),
        ("POST", f"/threads/{thread}", {"metadata": {"a": "b"}}),
        ("DELETE", f"/threads/{thread}", None),
        ("POST", f"/threads/{thread}/messages", {"role": "user", "content": "hi"}),
        ("GET", f"/threads/{thread}/messages", None),
        ("GET", f"/threads/{thread}/messages/{message}", None),
        ("POST", f"/threads/{thread}/messages/{message}", {"metadata": {}}),
        ("DELETE", f"/threads/{thread}/messages/{message}", None),
        ("POST", f"/threads/{thread}/runs", {"assistant_id": bo_assistant}),
        ("GET", f"/threads/{thread}/runs", None),
        ("GET", f"/threads/{thread}/runs/{run_id}", None),
        ("POST", f"/threads/{thread}/runs/{run_id}", {"metadata": {}}),
        ("POST", f"/threads/{thread}/runs/{run_id}/cancel", None),
        ("POST", f"/threads/{thread}/runs/{run_id}/submit_tool_outputs",
         {"tool_outputs": [{"tool_call_id": call, "output": "stolen"}]}),
        ("GET", f"/threads/{thread}/runs/{run_id}/stream", None),
        ("GET", f"/threads/{thread}/runs/{run_id}/steps", None),
        ("GET", f"/threads/{thread}/runs/{run_id}/steps/{step}", None),
        # bo's own thread with ana's assistant, and a new thread with ana's assistant
        ("POST", f"/threads/{bo_thread}/runs", {"assistant_id": assistant}),
        ("POST", "/threads/runs", {"assistant_id": assistant}),
        # bo's own thread, with ana's run's id in its path
        ("GET", f"/threads/{bo_thread}/runs/{run_id}", None),
    ]
    for method, path, body in routes:
        answer = bo.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text)
        assert answer.json()["error"]["type"] == "invalid_request_error"
        assert "ana" not in answer.text  # nothing says whose it is

    assert [a["id"] for a in bo.get("/assistants").json()["data"]] == [bo_assistant]
    assert [a["id"] for a in ana.get("/assistants").json()["data"]] == [assistant]
    # nothing of ana's changed: her run still waits, and she can finish it
    assert ana.get(f"/threads/{thread}").json()["metadata"] == {}
    assert ana.get(f"/assistants/{assistant}").json().get("name") is None
    answered = ana.post(f"/threads/{thread}/runs/{run_id}/submit_tool_outputs",
                        json={"tool_outputs": [{"tool_call_id": call, "output": "12 C"}]})
    assert answered.status_code == 200
    final = _wait(ana, thread, run_id, "completed")
    assert final["status"] == "completed"
    assert len(ana.get(f"/threads/{thread}/messages").json()["data"]) == 2


def test_requests_without_a_user_s_key_are_refused(team):
    local, keys, users = team
    with httpx.Client(base_url=local.base_url, timeout=30) as anonymous:
        for headers in ({}, {"Authorization": "Bearer not-a-key"}, {"Authorization": keys["ana"]},
                        {"Authorization": "Bearer " + "x" * 5000}):
            answer = anonymous.get("/assistants", headers=headers)
            assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_api_key"
    assert users["ana"].get("/assistants").status_code == 200
    assert local.store.remove_user("ana")
    assert users["ana"].get("/assistants").status_code == 401  # a removed user's key stops working at once
    assert users["bo"].get("/assistants").status_code == 200


def test_the_users_command_adds_lists_and_removes_users_with_keys_stored_hashed(tmp_path):
    db = str(tmp_path / "team.sqlite3")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "oairun_jupyter.server", "users", "--db", db, *args],
                              capture_output=True, text=True, timeout=60)
    added = cli("add", "ana")
    assert added.returncode == 0
    key = added.stdout.strip()
    assert key.startswith("oairun-") and len(key) > 40
    assert cli("add", "ana").returncode == 2  # a name is taken once
    bad = cli("add", "no spaces")
    assert bad.returncode == 2 and "is not a user name" in bad.stderr
    assert cli("list").stdout.split() == ["ana"]
    assert key.encode() not in (tmp_path / "team.sqlite3").read_bytes()  # only its hash is kept
    with start_local_server(db=db, pace=0, users=True) as local:
        assert httpx.get(f"{local.base_url}/assistants", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert cli("remove", "ana").returncode == 0
    assert cli("list").stdout.split() == []
    missing = cli("remove", "ana")
    assert missing.returncode == 2 and "no user named 'ana'" in missing.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "0", "--no-auth"], ["users", "list"]])
def test_an_unreachable_database_is_named_without_its_password(command):
    from ..support.sockets import free_port

    url = f"postgresql://ana:pw-never-shown@127.0.0.1:{free_port()}/team"  # nothing listens there
    args = [*command[:1], "--db", url, *command[1:]]
    done = subprocess.run([sys.executable, "-m", "oairun_jupyter.server", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot connect to postgresql://ana:***@127.0.0.1" in done.stderr
    assert "pw-never-shown" not in done.stdout + done.stderr
