"""Faults between client and server, through a fault-injecting proxy on 127.0.0.1 (real sockets):
what the client retries, what the user sees, and that nothing is lost or done twice."""

from __future__ import annotations

import asyncio

import pytest

import oairun_jupyter as oai
from oairun_jupyter.protocol import text_of_message

from ..support.fault_proxy import Fault, FaultProxy
from ..support.flows import WEATHER_TOOL, wait_for


@pytest.fixture
def proxied(server, clock):
    """The local server behind a proxy whose plan a test sets; the client talks to the proxy."""
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    with FaultProxy(port) as proxy:
        oai.configure(base_url=proxy.base_url, clock=clock)
        yield proxy


def _server_runs(server, thread_id):
    return [r for r in server.store.children("run", thread_id)]


@pytest.mark.parametrize("status,retry_after", [(429, "2"), (429, None), (500, None), (503, "1"), (503, None)])
def test_error_bursts_are_retried_and_a_create_happens_once(server, proxied, clock, status, retry_after):
    assistant = oai.oai_create_assistant("scripted")
    thread = oai.oai_create_thread()
    proxied.plan = lambda line, n: Fault(status=status, retry_after=retry_after) if "POST" in line and n <= 2 else Fault()
    proxied.requests.clear()
    clock.sleeps.clear()
    run = oai.oai_create_run(thread, assistant, additional_messages=["hi"])
    assert [line.split()[0] for line in proxied.requests] == ["POST"] * 3  # two retries, then through
    assert len(clock.sleeps) == 2
    if retry_after:
        assert clock.sleeps == [float(retry_after)] * 2
    else:
        assert 0.375 <= clock.sleeps[0] <= 0.5 and 0.75 <= clock.sleeps[1] <= 1.0
    assert [r["id"] for r in _server_runs(server, thread.id)] == [run.id]  # one run: the errors created none


def test_a_burst_longer_than_the_retries_reaches_the_user_as_one_error(server, proxied, clock):
    proxied.plan = lambda line, n: Fault(status=503)
    with pytest.raises(oai.InternalServerError) as caught:
        oai.oai_create_assistant("scripted")
    assert caught.value.status_code == 503 and "injected 503" in str(caught.value)
    assert len(proxied.requests) == 3 and server.store.children("assistant", None) == []


@pytest.mark.parametrize("fault", [Fault(drop_after=3000), Fault(drop_after=3000, cut_mid_event=True)],
                         ids=["dropped", "cut-mid-event"])
def test_a_broken_stream_is_recovered_by_polling_the_same_run(server, proxied, fault):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    thread = oai.oai_create_thread(messages=["/pace 2\n/long 400"])
    proxied.plan = lambda line, n: fault if "/runs" in line and "POST" in line else Fault()
    proxied.requests.clear()
    run = oai.oai_create_run(thread, assistant, stream=True)
    with pytest.raises(oai.RunStreamError) as caught:
        list(run.events())
    assert "broke" in str(caught.value) and caught.value.run is run
    assert run.event_data.run["id"] == run.id  # what arrived before the break is kept

    follow = oai.Run(thread, run.id)  # the user follows the run the error names
    follow.wait()
    posts = [line for line in proxied.requests if line.startswith("POST") and "/runs" in line]
    assert len(posts) == 1  # the create went out once: never a second run
    runs = _server_runs(server, thread.id)
    assert [r["id"] for r in runs] == [run.id] and runs[0]["status"] == "completed"
    server_text = text_of_message(server.store.children("message", thread.id)[-1])
    assert follow.thread().list_messages()[0].text == server_text == " ".join(f"w{n}" for n in range(400))


def test_wait_on_a_broken_stream_finishes_by_polling(server, proxied):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    thread = oai.oai_create_thread(messages=['get_weather {"city": "Oslo"}'])
    proxied.plan = lambda line, n: Fault(drop_after=1500) if "POST" in line and "/runs" in line else Fault()

    def get_weather(city):
        return f"sunny in {city}"
    run = oai.oai_create_run(thread, assistant, stream=True)
    run.wait()
    assert run.status == "completed" and [r.output for r in run.tool_calls] == ["sunny in Oslo"]
    server_messages = server.store.children("message", thread.id)
    own = [m for m in run.event_data.messages.values() if m.get("role") == "assistant"]
    assert [text_of_message(m) for m in own] == [text_of_message(m) for m in server_messages if m["role"] == "assistant"]
    assert len(_server_runs(server, thread.id)) == 1


def test_a_stalled_stream_times_out_and_is_followed_by_polling(server, proxied):
    oai.configure(read_timeout=1.0)
    assistant = oai.oai_create_assistant("scripted")
    thread = oai.oai_create_thread(messages=["/long 50"])
    proxied.plan = lambda line, n: Fault(stall_after=5000) if "POST" in line and "/runs" in line else Fault()
    run = oai.oai_create_run(thread, assistant, stream=True)
    run.wait()
    assert run.status == "completed"
    assert text_of_message(list(run.event_data.messages.values())[-1]) == " ".join(f"w{n}" for n in range(50))


def test_a_create_that_timed_out_is_never_sent_again(server, proxied):
    oai.configure(read_timeout=1.0)
    assistant = oai.oai_create_assistant("scripted")
    proxied.plan = lambda line, n: Fault(stall_after=100) if "POST" in line and "/runs" in line else Fault()
    proxied.requests.clear()
    with pytest.raises(oai.APITimeoutError, match="may have been carried out"):
        oai.oai_create_thread_and_run(assistant, thread={"messages": ["hi"]}, stream=True)
    assert len(proxied.requests) == 1  # the create went out once
    assert len(server.store.children("thread", None)) == 1  # and made one thread (and its run)


def _wait(run, mode: str, **options):
    if mode == "sync":
        return run.wait(**options)
    return asyncio.run(run.wait_async(**options))


def _slow_run(thread, assistant, mode: str):
    # runs for about a second of real time; the injected clock makes the client's waits instant
    return oai.Run(thread, assistant_id=assistant, async_=(mode == "async"))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_polling_rides_out_failed_polls_with_a_backoff_that_resets(server, proxied, clock, caplog, mode):
    oai.configure(base_url=proxied.base_url, clock=clock, max_retries=0)  # the poll loop's own backoff
    assistant = oai.oai_create_assistant("scripted")
    thread = oai.oai_create_thread(messages=["/pace 20\n/long 50"])
    polls: list[int] = []

    def plan(line, n):
        if line.startswith("GET") and "/runs/" in line:
            polls.append(n)
            if len(polls) in (1, 2, 3, 7, 8):  # two bursts of failed polls: the first 3, then 2
                return Fault(status=503)
        return Fault()
    proxied.plan = plan
    clock.sleeps.clear()
    run = _wait(_slow_run(thread, assistant, mode), mode)
    assert run.status == "completed" and len(polls) > 8
    assert [s for s in clock.sleeps if s != 0.02] == [2.0, 4.0, 8.0, 2.0, 4.0]  # the rest: the server's 20 ms
    warnings = [r.getMessage() for r in caplog.records if "polling run" in r.getMessage()]
    assert len(warnings) == 5 and warnings[0] == (
        f"polling run {run.id} failed (HTTP 503: injected 503 (type=server_error)); trying again in 2 s")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_wait_timeout_cancels_the_run_on_the_clock_given(server, proxied, clock, mode):
    assistant = oai.oai_create_assistant("scripted")
    thread = oai.oai_create_thread(messages=["/pace 50\n/long 1000"])
    run = _slow_run(thread, assistant, mode)
    clock.sleeps.clear()
    with pytest.raises(oai.RunTimeoutError, match=r"did not finish within 1 s and was cancelled"):
        _wait(run, mode, timeout=1)
    polls = [s for s in clock.sleeps if s == 0.02]  # the server's poll interval; 0.05: waiting for the cancel
    assert 40 <= len(polls) and sum(polls) <= 1  # polled up to the deadline, not past it
    assert run.status == "cancelled" and server.store.get("run", run.id)["status"] == "cancelled"


def test_an_async_stream_that_breaks_names_the_cause_and_leaves_the_run_going(server, proxied):
    assistant = oai.oai_create_assistant("scripted")
    thread = oai.oai_create_thread(messages=["/pace 2\n/long 400"])
    proxied.plan = lambda line, n: Fault(drop_after=3000) if "/runs" in line and "POST" in line else Fault()

    async def read():
        run = await oai.oai_create_run(thread, assistant, stream=True, async_=True)
        with pytest.raises(oai.RunStreamError) as caught:
            async for _ in run:
                pass
        return run, caught.value
    run, error = asyncio.run(read())
    assert "the event stream broke" in str(error) and "the run is in_progress on the server" in str(error)
    assert error.run is run
    # a broken stream is not an interrupt: the run goes on, and is followed to its end
    assert wait_for(thread.id, run.id, ("completed", "cancelled", "cancelling"))["status"] == "completed"
