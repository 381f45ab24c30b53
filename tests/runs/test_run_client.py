"""A Run (and a RunStream, and a Thread) keeps the client it was made with: `configure()` points
new objects elsewhere, never the polling, tool submission or cancel of a run already at hand."""

from __future__ import annotations

import threading

import pytest

import oairun_jupyter as oai
from oairun_jupyter.server import start_local_server

from ..support.flows import WEATHER_TOOL


@pytest.fixture
def elsewhere(server):
    """A second real server; the default client starts on `server` (the first)."""
    other = start_local_server(pace=0, poll_after_ms=20)
    yield other
    other.stop()


def _weather_run(**options):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    thread = oai.oai_create_thread(messages=['get_weather {"city": "Paris"}'])
    return oai.Run(thread, assistant_id=assistant, **options)


def test_a_background_run_keeps_polling_its_own_server_after_configure(server, elsewhere):
    started, release, ended = threading.Event(), threading.Event(), []

    def get_weather(city: str) -> str:
        started.set()
        release.wait(10)
        return f"sunny in {city}"

    run = _weather_run()
    home = oai.get_client()
    worker = threading.Thread(target=lambda: ended.append(run.wait(env={"get_weather": get_weather},
                                                                   timeout=30)))
    worker.start()
    try:
        assert started.wait(10), "the tool was never called"
        oai.configure(base_url=elsewhere.base_url)  # while the run waits on its tool
        assert oai.get_client().config.base_url == elsewhere.base_url
    finally:
        release.set()
        worker.join(30)
    assert ended == [run] and run.status == "completed"
    assert run.client is home
    # the outputs went to the run's own server, and the answer is there
    assert run.thread().list_messages()[0].text == "get_weather returned: sunny in Paris"
    with pytest.raises(oai.NotFoundError):  # the other server never heard of this run
        oai.oai_retrieve_run(run.thread_id, run.id)


def test_a_runs_cancel_and_timeout_go_to_its_own_server(server, elsewhere):
    assistant = oai.oai_create_assistant("scripted")
    home = oai.get_client()
    slow = oai.Run(oai.oai_create_thread(messages=["/pace 50\n/long 2000"]), assistant_id=assistant)
    timed = oai.Run(oai.oai_create_thread(messages=["/pace 50\n/long 2000"]), assistant_id=assistant)
    oai.configure(base_url=elsewhere.base_url)
    slow.cancel()
    assert slow.status in ("cancelling", "cancelled")
    assert oai.oai_retrieve_run(slow.thread_id, slow.id, client=home).status in ("cancelling", "cancelled")
    with pytest.raises(oai.RunTimeoutError):
        timed.wait(timeout=0.3)
    assert timed.status == "cancelled"
    assert oai.oai_retrieve_run(timed.thread_id, timed.id, client=home).status == "cancelled"


def test_a_streamed_runs_continuation_after_tools_goes_to_its_own_server(server, elsewhere):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    thread = oai.oai_create_thread()
    stream = oai.oai_create_run(thread, assistant, additional_messages=['get_weather {"city": "Oslo"}'],
                                stream=True)
    oai.configure(base_url=elsewhere.base_url)
    stream.wait(env={"get_weather": lambda city: f"snow in {city}"})
    assert stream.status == "completed"
    texts = [m["content"][0]["text"]["value"] for m in stream.event_data.messages.values()]
    assert texts == ["get_weather returned: snow in Oslo"]


def test_a_thread_and_its_messages_stay_on_their_server(server, elsewhere):
    thread = oai.oai_create_thread()
    oai.configure(base_url=elsewhere.base_url)
    thread.create_message("still here")
    assert [m.text for m in thread.list_messages()] == ["still here"]
    assert thread.retrieve().id == thread.id
    with pytest.raises(oai.NotFoundError):
        oai.oai_retrieve_thread(thread.id)


def test_an_async_run_keeps_its_client_too(server, elsewhere):
    import asyncio
    run = _weather_run(async_=True)  # nothing sent yet: the client is chosen when the Run is made
    home = oai.get_client()
    oai.configure(base_url=elsewhere.base_url)
    asyncio.run(run.wait_async(env={"get_weather": lambda city: "fog"}))
    assert run.status == "completed" and run.client is home
    assert oai.oai_list_messages(run.thread_id, client=home)[0].text == "get_weather returned: fog"


def test_a_raw_stream_keeps_its_client_open_while_it_is_read(server, elsewhere):
    import gc
    assistant = oai.oai_create_assistant("scripted", classify_response=False)["id"]
    thread = oai.oai_create_thread(classify_response=False)["id"]
    raw = oai.oai_create_run(thread, assistant, additional_messages=["/long 300"], stream=True,
                             classify_response=False)
    oai.configure(base_url=elsewhere.base_url)  # nothing but the stream holds the old default now
    gc.collect()
    names = [event.event for event in raw]
    assert names[-1] == "thread.run.completed" and names.count("thread.message.delta") == 300


def test_copies_keep_the_client_and_a_pickle_carries_none(server):
    import copy
    import pickle
    run = _weather_run()
    assert copy.copy(run).client is run.client and copy.deepcopy(run).client is run.client
    assert copy.deepcopy(run).to_dict() == run.to_dict() and copy.deepcopy(run).to_dict() is not run.to_dict()
    thread = oai.oai_retrieve_thread(run.thread_id)
    for obj in (run, thread, oai.oai_list_messages(run.thread_id), oai.oai_retrieve_assistant(run.assistant_id)):
        data = pickle.dumps(obj)
        assert b"Secret" not in data and b"Client" not in data
        back = pickle.loads(data)
        assert type(back) is type(obj) and back.to_dict() == obj.to_dict()
    revived = pickle.loads(pickle.dumps(run))
    assert revived.client is oai.get_client() and revived.retrieve().status == "requires_action"
