"""The real service's rules, on the local server: statuses, tool outputs, limits, errors, pages."""

from __future__ import annotations

import json
import time

import httpx
import pytest

import oairun_jupyter as oai

from ..support.deadline import Deadline
from ..support.flows import make_assistant, stream_events, streamed_run, wait_for


def _text(thread_id: str) -> str:
    return oai.oai_list_messages(thread_id, order="desc")[0].text


def test_polling_shows_the_status_sequence_and_asks_for_a_poll_interval(server):
    assistant = make_assistant()
    run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/pace 20\nhello polling world"]})
    seen = [run.status]
    deadline = Deadline(10, "the run to end")
    with httpx.Client() as client:
        while seen[-1] not in ("completed", "failed"):
            deadline.check(seen)
            response = client.get(f"{server.base_url}/threads/{run.thread_id}/runs/{run.id}",
                                  headers={"OpenAI-Beta": "assistants=v2"})
            assert response.headers["openai-poll-after-ms"] == "20"
            if response.json()["status"] != seen[-1]:
                seen.append(response.json()["status"])
            time.sleep(0.005)
    assert seen[0] == "queued" and seen[-1] == "completed" and "in_progress" in seen
    assert _text(run.thread_id) == "You said: hello polling world"


def test_stream_event_sequence_matches_the_recorded_one(server):
    assistant = make_assistant()
    events = [e for e, _ in streamed_run(assistant["id"], "Hi")]
    assert events[:4] == ["thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress"]
    assert events[4:8] == ["thread.run.step.created", "thread.run.step.in_progress",
                           "thread.message.created", "thread.message.in_progress"]
    assert events[-3:] == ["thread.message.completed", "thread.run.step.completed", "thread.run.completed"]
    assert set(events[8:-3]) == {"thread.message.delta"}


def test_a_tool_round_trip_streams_like_the_recording(server):
    assistant = make_assistant()
    first = stream_events(oai.oai_create_thread_and_run(
        assistant["id"], thread={"messages": ['get_weather {"city": "Paris"}']}, stream=True,
        classify_response=False))
    names = [e for e, _ in first]
    assert names[:4] == ["thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress"]
    assert names[-1] == "thread.run.requires_action" and "thread.run.step.delta" in names
    run = first[-1][1]
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    second = stream_events(oai.oai_submit_tool_outputs(
        run["thread_id"], run["id"], [oai.oai_tool_output(call["id"], "21 C")], stream=True,
        classify_response=False))
    assert [e for e, _ in second][:3] == ["thread.run.step.completed", "thread.run.queued", "thread.run.in_progress"]
    assert second[0][1]["step_details"]["tool_calls"][0]["function"]["output"] == "21 C"
    assert second[-1][0] == "thread.run.completed"
    assert _text(run["thread_id"]) == "get_weather returned: 21 C"


def test_one_active_run_per_thread(server):
    assistant = make_assistant()
    run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/pace 50\n/long 100"]})
    with pytest.raises(oai.BadRequestError) as caught:
        oai.oai_create_run(run.thread_id, assistant["id"])
    assert f"already has an active run {run.id}" in caught.value.message
    assert caught.value.type == "invalid_request_error"
    oai.oai_cancel_run(run.thread_id, run)


def test_submissions_must_answer_every_pending_call(server):
    assistant = make_assistant()
    run = oai.oai_create_thread_and_run(
        assistant["id"], thread={"messages": ['get_weather {"city": "A"} get_weather {"city": "B"}']})
    run = oai.Run(resp=wait_for(run.thread_id, run.id, ("requires_action",)))
    calls = run.required_action["submit_tool_outputs"]["tool_calls"]
    assert len(calls) == 2
    with pytest.raises(oai.BadRequestError, match="missing"):
        oai.oai_submit_tool_outputs(run.thread_id, run, [oai.oai_tool_output(calls[0]["id"], "x")])
    with pytest.raises(oai.BadRequestError, match="No tool call found with id 'call_unknown'"):
        oai.oai_submit_tool_outputs(run.thread_id, run, [oai.oai_tool_output(calls[0]["id"], "x"),
                                                         oai.oai_tool_output("call_unknown", "y")])
    assert oai.oai_retrieve_run(run.thread_id, run).status == "requires_action"
    done = oai.oai_submit_tool_outputs(run.thread_id, run, [oai.oai_tool_output(c["id"], "ok") for c in calls])
    assert done.status == "queued"
    assert wait_for(run.thread_id, run.id, ("completed",))["usage"]["total_tokens"] > 0
    with pytest.raises(oai.BadRequestError, match="do not accept tool outputs"):
        oai.oai_submit_tool_outputs(run.thread_id, run, [oai.oai_tool_output(calls[0]["id"], "x")])


def test_a_run_waiting_past_expires_at_expires(store_db):
    from oairun_jupyter.server import start_local_server

    with start_local_server(db=store_db, pace=0, run_expiry_seconds=1) as local:
        oai.configure(base_url=local.base_url)
        assistant = make_assistant()
        run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["get_weather()"]})
        waiting = wait_for(run.thread_id, run.id, ("requires_action",))
        assert waiting["expires_at"] - waiting["created_at"] == 1
        expired = wait_for(run.thread_id, run.id, ("expired",), timeout=5)
        assert expired["required_action"] is None
        (step,) = oai.oai_list_run_steps(run.thread_id, run)
        assert step.status == "expired" and step.expired_at is not None


def test_cancel_goes_through_cancelling_to_cancelled(server):
    assistant = make_assistant()
    events, run = [], None
    for event in oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/pace 5\n/long 5000"]},
                                               stream=True, classify_response=False):
        events.append(event.event)
        if event.event == "thread.run.created":
            run = event.data
        if events.count("thread.message.delta") == 3 and event.event == "thread.message.delta":
            cancelling = oai.oai_cancel_run(run["thread_id"], run["id"], classify_response=False)
            assert cancelling["status"] == "cancelling"
    assert events[-4:] == ["thread.run.cancelling", "thread.message.incomplete",
                           "thread.run.step.cancelled", "thread.run.cancelled"]
    final = oai.oai_retrieve_run(run["thread_id"], run["id"])
    assert final.status == "cancelled" and final.cancelled_at is not None
    message = oai.oai_list_messages(run["thread_id"], order="desc")[0]
    assert message.status == "incomplete" and message.incomplete_details == {"reason": "run_cancelled"}
    assert message.text.startswith("w0 w1 w2")  # what was streamed before the cancel is kept
    # and its usage counts what it used until then (the widget shows it after a Stop)
    assert final.usage["completion_tokens"] > 0 and final.usage["prompt_tokens"] > 0
    with pytest.raises(oai.BadRequestError, match="Cannot cancel run with status 'cancelled'"):
        oai.oai_cancel_run(run["thread_id"], run["id"])


def test_cancel_while_waiting_for_tools(server):
    assistant = make_assistant()
    run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["get_weather()"]})
    wait_for(run.thread_id, run.id, ("requires_action",))
    assert oai.oai_cancel_run(run.thread_id, run).status == "cancelling"
    assert wait_for(run.thread_id, run.id, ("cancelled",))["required_action"] is None


def test_token_limits_end_the_run_incomplete(server):
    assistant = make_assistant()
    events = streamed_run(assistant["id"], "/long 5000", max_completion_tokens=300)
    run = events[-1][1]
    assert run["status"] == "incomplete"
    assert run["incomplete_details"] == {"reason": "max_completion_tokens"}
    assert run["usage"]["completion_tokens"] <= 300
    message = oai.oai_list_messages(run["thread_id"])[0]
    assert message.status == "incomplete" and message.text.startswith("w0 w1")
    long_prompt = "x " * 2000
    events = streamed_run(assistant["id"], long_prompt, max_prompt_tokens=256)
    assert events[-1][1]["incomplete_details"] == {"reason": "max_prompt_tokens"}


def test_a_failure_sets_last_error(server):
    assistant = make_assistant()
    events = streamed_run(assistant["id"], "/fail rate_limit_exceeded Slow down please")
    run = events[-1][1]
    assert events[-1][0] == "thread.run.failed"
    assert run["last_error"] == {"code": "rate_limit_exceeded", "message": "Slow down please"}
    assert run["failed_at"] is not None


def test_a_model_can_write_before_it_calls_and_write_a_runaway_line(server):
    """The scripted shapes the widget tests use: text, then a tool step, in one turn (as the
    service records a message_creation step before a tool_calls one); and one huge line in parts."""
    assistant = make_assistant()
    events = streamed_run(assistant["id"], '/say Let me check.\nget_weather {"city": "Oslo"}')
    steps = [data["type"] for name, data in events if name == "thread.run.step.created"]
    assert steps == ["message_creation", "tool_calls", "message_creation"]
    assert [m.text for m in oai.oai_list_messages(events[0][1]["id"], order="asc")][1:] == [
        "Let me check.", "get_weather returned: sunny"]
    events = streamed_run(assistant["id"], "/repeat 200000 >")
    deltas = [d["delta"]["content"][0]["text"]["value"] for name, d in events if name == "thread.message.delta"]
    assert "".join(deltas) == ">" * 200_000 and max(map(len, deltas)) == 65_536
    failed = streamed_run(assistant["id"], "/repeat many >")[-1][1]
    assert failed["last_error"]["code"] == "invalid_prompt" and "/repeat 3000 >" in failed["last_error"]["message"]


def test_usage_is_filled(server):
    assistant = make_assistant()
    run = streamed_run(assistant["id"], "count my tokens")[-1][1]
    usage = run["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    steps = oai.oai_list_run_steps(run["thread_id"], run["id"])
    (step,) = steps
    assert step.usage["completion_tokens"] > 0  # the message step wrote the answer
    for field in ("prompt_tokens", "completion_tokens", "total_tokens"):  # the run's usage is its steps'
        assert sum(s.usage[field] for s in steps) == usage[field], field


@pytest.mark.parametrize("path,kind", [("/threads/thread_nope", "thread"),
                                       ("/assistants/asst_nope", "assistant"),
                                       ("/threads/thread_nope/runs/run_nope", "thread")])
def test_unknown_ids_are_404_in_the_error_shape(server, path, kind):
    response = httpx.get(server.base_url + path)
    assert response.status_code == 404
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"].startswith(f"No {kind} found with id")


def test_every_error_body_has_the_service_shape(server):
    thread = oai.oai_create_thread()
    cases = [
        ("POST", "/assistants", b"{not json"),
        ("POST", "/assistants", json.dumps({"model": "m", "colour": "red"}).encode()),
        ("POST", "/assistants", json.dumps({"name": "no model"}).encode()),
        ("POST", "/assistants", json.dumps({"model": "m", "temperature": 3}).encode()),
        ("POST", f"/threads/{thread.id}/runs", json.dumps({"assistant_id": "asst_missing"}).encode()),
        ("GET", "/assistants?limit=500", None),
        ("GET", "/assistants?order=sideways", None),
        ("GET", "/no/such/route", None),
        ("DELETE", "/threads/runs", None),
    ]
    with httpx.Client(base_url=server.base_url) as client:
        for method, path, content in cases:
            response = client.request(method, path, content=content)
            assert 400 <= response.status_code < 500, (method, path, response.status_code)
            error = response.json()["error"]
            assert set(error) == {"message", "type", "param", "code"} and error["message"], (method, path)
    assert "Unrecognized request argument supplied: colour" in httpx.post(
        server.base_url + "/assistants", json={"model": "m", "colour": "red"}).text


def test_pagination_as_the_service_does_it(server):
    ids = [oai.oai_create_assistant("m", name=f"A{i}").id for i in range(7)]
    page = oai.oai_list_assistants(limit=3)
    assert [a.id for a in page] == ids[::-1][:3] and page.has_more
    page2 = oai.oai_list_assistants(limit=3, after=page.last_id)
    assert [a.id for a in page2] == ids[::-1][3:6] and page2.has_more
    page3 = oai.oai_list_assistants(limit=3, after=page2.last_id)
    assert [a.id for a in page3] == ids[::-1][6:] and not page3.has_more
    ascending = oai.oai_list_assistants(limit=2, order="asc", after=ids[1])
    assert [a.id for a in ascending] == ids[2:4]
    before = oai.oai_list_assistants(limit=2, order="asc", before=ids[5])
    assert [a.id for a in before] == ids[3:5]
    everything = oai.oai_list_assistants(limit=1000, order="asc")  # auto-paging follows has_more
    assert [a.id for a in everything] == ids


def test_messages_created_by_a_run_are_in_the_thread(server):
    assistant = make_assistant(instructions="Be terse.")
    run = streamed_run(assistant["id"], "one")[-1][1]
    messages = oai.oai_list_messages(run["thread_id"], order="asc")
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].run_id == run["id"] and messages[1].assistant_id == assistant["id"]
    assert oai.oai_list_messages(run["thread_id"], run_id=run["id"])[0].role == "assistant"
    assert run["instructions"] == "Be terse."


def test_cancel_right_after_create_still_ends_cancelled(server):
    assistant = make_assistant()
    for _ in range(5):  # paced, so that every cancel lands while the run works (a refused one fails here)
        run = oai.oai_create_thread_and_run(assistant["id"], thread={"messages": ["/pace 20\n/long 50"]})
        cancelling = oai.oai_cancel_run(run.thread_id, run)
        assert cancelling.status in ("cancelling", "cancelled")
        ended = wait_for(run.thread_id, run.id, ("cancelled", "completed"))
        assert ended["status"] == "cancelled" and ended["cancelled_at"] is not None
        assert oai.oai_list_messages(run.thread_id)[0].role == "user" or \
            oai.oai_list_messages(run.thread_id)[0].status == "incomplete"  # no answer completed after the cancel


@pytest.mark.parametrize("prompt, named, accepts", [
    ("/long many", "`/long many`", "/long takes a count of words"),
    ("/pace fast\nhello", "`/pace fast`", "/pace takes milliseconds per delta"),
    ("/pace 20 /long 100", "`/pace 20 /long 100`", "One directive a line"),
    ("/pace nan", "`/pace nan`", "from 0 to 60,000"),
    ("/long 99999999", "`/long 99999999`", "from 1 to 1,000,000"),
    ("/frobnicate now", "`/frobnicate`", "there is no directive /frobnicate"),
    ("/call", "`/call `", "/call takes a tool name"),
    ("/call-padded get_weather city", "`/call-padded get_weather city`", "takes a tool name, a field name and a count"),
])
def test_a_scripted_directive_that_does_not_parse_fails_the_run_saying_which_and_what_it_takes(
        server, caplog, prompt, named, accepts):
    """They used to fail the run with "The server failed: ValueError" and a server traceback."""
    failed = streamed_run(make_assistant()["id"], prompt)[-1]
    assert failed[0] == "thread.run.failed"
    error = failed[1]["last_error"]
    assert error["code"] == "invalid_prompt" and named in error["message"] and accepts in error["message"], error
    assert "/pace MS" in error["message"]  # and the directives it knows
    assert "Traceback" not in caplog.text
