"""Errors become the right exception with their fields; retries follow the official SDK's rules.

Retries run against a real local server; delays are read from the injected clock, not waited.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import socket

import pytest

import oairun_jupyter as oai
from oairun_jupyter import configure
from oairun_jupyter.transport import retry_delay, should_retry_status

from ..support.http_server import LoopbackServer, json_reply
from ..support.replay import RECORDED

RUN = {"id": "run_1", "object": "thread.run", "status": "queued", "thread_id": "thread_1",
       "created_at": 1761861531}
ERROR_CLASSES = {400: oai.BadRequestError, 401: oai.AuthenticationError, 404: oai.NotFoundError}


def _recorded_errors():
    return json.loads((RECORDED / "openai-dotnet.error-responses.json").read_text())


@pytest.mark.parametrize("record", _recorded_errors(), ids=lambda r: f"{r['status']}-{r['path'].rsplit('/', 1)[1]}")
def test_each_recorded_error_body_becomes_its_exception(record, clock):
    def answer(request):
        return json_reply(record["status"], record["response_body"], {"x-request-id": "req_123"})

    with LoopbackServer(answer) as server:
        configure(base_url=server.base_url, clock=clock)
        with pytest.raises(oai.APIStatusError) as caught:
            oai.oai_retrieve_run("thread_1", "run_1")
    error = caught.value
    expected = record["response_body"]["error"]
    assert type(error) is ERROR_CLASSES[record["status"]]
    assert error.status_code == record["status"]
    assert (error.message, error.type, error.code, error.param) == (
        expected["message"], expected["type"], expected["code"], expected["param"])
    assert error.request_id == "req_123"
    assert len(server.received) == 1  # 4xx other than 408/409/429 are not retried
    assert expected["message"] in str(error)


def _scripted(replies):
    """A handler answering with `replies` in turn (the last one repeats)."""
    replies = list(replies)

    def answer(request):
        return replies.pop(0) if len(replies) > 1 else replies[0]
    return answer


def test_429_then_success_waits_what_retry_after_says(clock):
    replies = [json_reply(429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"retry-after": "3"}),
               json_reply(200, RUN)]
    with LoopbackServer(_scripted(replies)) as server:
        configure(base_url=server.base_url, clock=clock)
        run = oai.oai_retrieve_run("thread_1", "run_1")
    assert run.id == "run_1" and len(server.received) == 2
    assert clock.sleeps == [3.0]


def test_retry_after_ms_wins_over_retry_after(clock):
    replies = [json_reply(503, {}, {"retry-after-ms": "250", "retry-after": "9"}), json_reply(200, RUN)]
    with LoopbackServer(_scripted(replies)) as server:
        configure(base_url=server.base_url, clock=clock)
        oai.oai_retrieve_run("thread_1", "run_1")
    assert clock.sleeps == [0.25]


def test_retry_after_as_an_http_date(clock):
    when = email.utils.formatdate(clock.now() + 5, usegmt=True)
    replies = [json_reply(429, {}, {"retry-after": when}), json_reply(200, RUN)]
    with LoopbackServer(_scripted(replies)) as server:
        configure(base_url=server.base_url, clock=clock)
        oai.oai_retrieve_run("thread_1", "run_1")
    assert clock.sleeps == [pytest.approx(5.0, abs=1.0)]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_without_retry_after_backoff_is_exponential_with_jitter_and_gives_up(status, clock):
    with LoopbackServer(_scripted([json_reply(status, {"error": {"message": "busy", "type": "server_error"}})])) as server:
        configure(base_url=server.base_url, clock=clock, max_retries=3)
        with pytest.raises(oai.RateLimitError if status == 429 else oai.InternalServerError) as caught:
            oai.oai_retrieve_run("thread_1", "run_1")
    assert len(server.received) == 4  # the first attempt and three retries
    assert caught.value.status_code == status and caught.value.message == "busy"
    assert len(clock.sleeps) == 3
    for n, delay in enumerate(clock.sleeps):
        base = min(0.5 * 2 ** n, 8.0)
        assert 0.75 * base <= delay <= base


def test_default_is_two_retries(clock):
    with LoopbackServer(_scripted([json_reply(500, {})])) as server:
        configure(base_url=server.base_url, clock=clock)
        with pytest.raises(oai.InternalServerError):
            oai.oai_retrieve_run("thread_1", "run_1")
    assert len(server.received) == 3 and len(clock.sleeps) == 2


def test_retry_after_beyond_60_seconds_falls_back_to_backoff(clock):
    replies = [json_reply(429, {}, {"retry-after": "120"}), json_reply(200, RUN)]
    with LoopbackServer(_scripted(replies)) as server:
        configure(base_url=server.base_url, clock=clock)
        oai.oai_retrieve_run("thread_1", "run_1")
    assert 0.375 <= clock.sleeps[0] <= 0.5


def test_x_should_retry_overrides_the_status(clock):
    replies = [json_reply(400, {"error": {"message": "flaky"}}, {"x-should-retry": "true"}), json_reply(200, RUN)]
    with LoopbackServer(_scripted(replies)) as server:
        configure(base_url=server.base_url, clock=clock)
        oai.oai_retrieve_run("thread_1", "run_1")
    assert len(server.received) == 2
    with LoopbackServer(_scripted([json_reply(503, {}, {"x-should-retry": "false"})])) as server:
        configure(base_url=server.base_url, clock=clock)
        with pytest.raises(oai.InternalServerError):
            oai.oai_retrieve_run("thread_1", "run_1")
    assert len(server.received) == 1


def test_408_and_409_are_retried(clock):
    replies = [json_reply(408, {}), json_reply(409, {}), json_reply(200, RUN)]
    with LoopbackServer(_scripted(replies)) as server:
        configure(base_url=server.base_url, clock=clock)
        oai.oai_retrieve_run("thread_1", "run_1")
    assert len(server.received) == 3


def test_async_client_retries_the_same_way(clock):
    replies = [json_reply(503, {}, {"retry-after": "2"}), json_reply(429, {}, {"retry-after-ms": "10"}),
               json_reply(200, RUN)]
    with LoopbackServer(_scripted(replies)) as server:
        configure(base_url=server.base_url, clock=clock)
        run = asyncio.run(oai.oai_retrieve_run("thread_1", "run_1", async_=True))
    assert run.status == "queued" and clock.sleeps == [2.0, 0.01]


def test_the_async_client_gives_up_after_the_same_number_of_retries(clock):
    busy = json_reply(500, {"error": {"message": "busy", "type": "server_error"}})
    with LoopbackServer(_scripted([busy])) as server:
        # total_timeout bounds a client that would retry for ever
        configure(base_url=server.base_url, clock=clock, max_retries=3, total_timeout=60)
        with pytest.raises(oai.InternalServerError):
            asyncio.run(oai.oai_retrieve_run("thread_1", "run_1", async_=True))
    assert len(server.received) == 4 and len(clock.sleeps) == 3


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_a_connection_error_after_retries(clock):
    configure(base_url=f"http://127.0.0.1:{_closed_port()}/v1", clock=clock)
    with pytest.raises(oai.APIConnectionError) as caught:
        oai.oai_retrieve_run("thread_1", "run_1")
    assert not isinstance(caught.value, oai.APIStatusError)
    assert len(clock.sleeps) == 2
    assert "could not reach" in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_a_read_timeout_is_a_timeout_error(clock):
    import threading
    release = threading.Event()

    def slow(request):
        release.wait(2)
        return json_reply(200, RUN)

    with LoopbackServer(slow) as server:
        configure(base_url=server.base_url, clock=clock, read_timeout=0.2, max_retries=1)
        with pytest.raises(oai.APITimeoutError):
            oai.oai_retrieve_run("thread_1", "run_1")
        release.set()
    assert len(server.received) == 2


def test_the_total_timeout_stops_retrying(clock):
    with LoopbackServer(_scripted([json_reply(429, {}, {"retry-after": "30"})])) as server:
        configure(base_url=server.base_url, clock=clock, total_timeout=40, max_retries=5)
        with pytest.raises(oai.RateLimitError):
            oai.oai_retrieve_run("thread_1", "run_1")
    assert clock.sleeps == [30.0]  # a second wait of 30 s would pass the 40 s budget


def test_retry_delay_rules_directly():
    assert retry_delay(0, {"retry-after-ms": "1500"}, now=0, random_fraction=lambda: 0) == 1.5
    assert retry_delay(0, {"retry-after": "0"}, now=0, random_fraction=lambda: 0) == 0.5
    assert retry_delay(10, None, now=0, random_fraction=lambda: 1) == 6.0  # 8 * 0.75
    assert retry_delay(2, {"retry-after": "garbage"}, now=0, random_fraction=lambda: 0) == 2.0
    assert retry_delay(0, {"retry-after": "60"}, now=0, random_fraction=lambda: 0) == 60.0  # (0, 60]: 60 is kept
    assert retry_delay(0, {"retry-after": "60.5"}, now=0, random_fraction=lambda: 0) == 0.5


def test_stream_error_event_in_either_shape_raises_with_its_fields():
    from oairun_jupyter.protocol import ServerSentEvent, interpret_sse

    wrapped = ServerSentEvent("error", json.dumps({"error": {"message": "boom", "type": "server_error",
                                                              "code": "internal", "param": None}}))
    bare = ServerSentEvent("error", json.dumps({"message": "boom", "type": "server_error",
                                                "code": "internal", "param": None}))
    for sse in (wrapped, bare):
        with pytest.raises(oai.APIStreamError) as caught:
            interpret_sse(sse, lambda p: p)
        assert (caught.value.message, caught.value.type, caught.value.code) == ("boom", "server_error", "internal")


def test_a_stream_cut_before_done_raises(clock):
    raw = (RECORDED / "openai-dotnet.StreamingRunWorks.entry2.sse").read_bytes()
    cut_mid_event = raw[: len(raw) // 2]
    cut_between_events = raw[: raw.rindex(b"event: done")]
    for body in (cut_mid_event, cut_between_events):
        def answer(request, body=body):
            return 200, {"Content-Type": "text/event-stream"}, [body]
        with LoopbackServer(answer) as server:
            configure(base_url=server.base_url, clock=clock)
            stream = oai.oai_create_run("thread_1", "asst_1", stream=True)
            seen = []
            with pytest.raises(oai.RunStreamError) as caught:
                for event in stream:
                    seen.append(event.event)
            assert isinstance(caught.value.__cause__, oai.StreamTruncatedError)
            assert seen and seen[0] == "thread.run.created"
            assert stream.event_data.run["id"] == "run_Uy45lNz2P7BpJcqWzQkXl1Bu"  # nothing received is lost


def test_a_stream_error_event_reaches_the_caller(clock):
    body = (b"event: thread.run.created\ndata: " + json.dumps(RUN).encode() + b"\n\n"
            b"event: error\ndata: {\"error\": {\"message\": \"model overloaded\", \"type\": \"server_error\", "
            b"\"code\": null, \"param\": null}}\n\n")
    with LoopbackServer(lambda r: (200, {"Content-Type": "text/event-stream"}, [body])) as server:
        configure(base_url=server.base_url, clock=clock)
        events = []
        with pytest.raises(oai.APIStreamError, match="model overloaded"):
            for event in oai.oai_create_run("thread_1", "asst_1", stream=True):
                events.append(event)
    assert [e.event for e in events] == ["thread.run.created"] and isinstance(events[0].data, oai.Run)


def test_404_from_the_closed_openai_service_says_what_to_do():
    import httpx

    from oairun_jupyter.transport import ClientConfig, SyncTransport

    transport = SyncTransport(ClientConfig(), httpx.MockTransport(
        lambda request: httpx.Response(404, json={"error": {"message": "Not found", "type": "invalid_request_error"}})))
    with pytest.raises(oai.NotFoundError, match="shut the Assistants API down"):
        transport.request("GET", "/threads/thread_1")


def test_retry_rules_read_plain_mappings_too():
    assert should_retry_status(500, {"x-should-retry": "false"}) is False
    assert should_retry_status(400, {"x-should-retry": "true"}) is True
    assert retry_delay(0, {"retry-after": "3"}, now=0, random_fraction=lambda: 0) == 3.0
