"""Sync objects stay sync and async ones stay async: awaiting a sync Run or RunStream just works
and leaves it sync; reading a stream the other way says how to read it."""

from __future__ import annotations

import asyncio

import pytest

import oairun_jupyter as oai

from ..support.flows import WEATHER_TOOL


@pytest.fixture
def assistant(server):
    return oai.oai_create_assistant("scripted", name="Modes", tools=[WEATHER_TOOL])


def _weather(city: str) -> str:
    return f"sunny in {city}"


def _start(assistant, stream: bool, async_: bool = False):
    return oai.oai_create_thread_and_run(assistant, thread={"messages": ['get_weather {"city": "Oslo"}']},
                                         stream=stream, async_=async_)


@pytest.mark.parametrize("how", ["await", "wait_async"])
@pytest.mark.parametrize("stream", [False, True], ids=["Run", "RunStream"])
def test_awaiting_a_sync_run_completes_it_and_leaves_it_sync(assistant, stream, how):
    run = _start(assistant, stream)

    async def main():
        if how == "await":
            get_weather = _weather  # noqa: F841 -- found by `await run` in this frame
            return await run
        return await run.wait_async(env={"get_weather": _weather}, timeout=30)
    assert asyncio.run(main()) is run
    assert run.status == "completed" and run.tool_calls[0].output == "sunny in Oslo"
    # still sync: its methods give results, not coroutines
    assert run.retrieve() is run and run.retrieve_status() == "completed"
    assert len(run.list_steps()) == 2
    if stream:  # the events the stream carried are there, and the widget's data with them
        assert any("sunny in Oslo" in str(m) for m in run.event_data.messages.values())


def test_an_async_stream_read_with_for_says_how_to_read_it(assistant):
    async def main():
        stream = await _start(assistant, True, async_=True)
        with pytest.raises(TypeError, match="async for"):
            next(iter(stream))
        with pytest.raises(TypeError, match="async for"):
            stream.stream()
        return await stream.wait_async(env={"get_weather": _weather}, timeout=30)  # still readable
    assert asyncio.run(main()).status == "completed"


def test_a_sync_stream_read_with_async_for_says_how_to_read_it(assistant):
    stream = _start(assistant, True)

    async def main():
        with pytest.raises(TypeError, match="rs.wait()"):
            async for _ in stream:
                pass
        with pytest.raises(TypeError, match="rs.wait()"):
            await stream.stream_async()
    asyncio.run(main())
    assert stream.wait(env={"get_weather": _weather}, timeout=30).status == "completed"  # still readable


class _PairError(Exception):
    """An exception that cannot be rebuilt from its args (its __init__ takes two)."""

    def __init__(self, low, high):
        super().__init__(f"{low} is above {high}")


def test_a_run_whose_tool_raised_any_exception_clones_deeply_and_pickles(assistant):
    import pickle

    def get_weather(city):
        raise _PairError(3, 1)
    run = _start(assistant, False).wait(env={"get_weather": get_weather}, timeout=30)
    twin = run.clone(deep=True)
    assert twin.tool_calls[0] is not run.tool_calls[0] and twin.tool_calls[0].error == "_PairError: 3 is above 1"
    assert twin.tool_calls[0].exception is run.tool_calls[0].exception  # shared: it cannot be copied
    back = pickle.loads(pickle.dumps(run))
    assert back.tool_calls[0].error == "_PairError: 3 is above 1" and back.tool_calls[0].exception is None
    assert "_PairError" in back.tool_calls[0].traceback


def test_a_streams_clone_shares_neither_the_live_stream_nor_its_events(assistant):
    stream = _start(assistant, True)
    twin = stream.clone()
    stream.wait(env={"get_weather": _weather}, timeout=30)  # the original alone reads the stream
    assert stream.status == "completed" and twin.status is None and twin.event_data.messages == {}
    later = stream.clone(deep=True)
    assert later.event_data.messages == stream.event_data.messages
    assert later.event_data.messages is not stream.event_data.messages
    with pytest.raises(RuntimeError, match="already read"):
        next(iter(later))


def test_timeouts_of_any_real_number_type_work(assistant):
    """Fraction, Decimal and numpy numbers are seconds like floats (they used to pass the check
    and then fail deep inside a wait with a TypeError)."""
    from decimal import Decimal
    from fractions import Fraction

    import numpy as np

    def slow(city):
        import time
        time.sleep(2)
        return city
    for seconds in (Fraction(1, 4), Decimal("0.25"), np.float32(0.25)):
        run = _start(assistant, False).wait(env={"get_weather": slow}, tool_timeout=seconds, timeout=30)
        assert run.tool_calls[0].status == "timeout" and "within 0.25 s" in run.tool_calls[0].error
    with pytest.raises(oai.RunTimeoutError, match="within 0.5 s"):
        oai.oai_create_thread_and_run(assistant, thread={"messages": ["/pace 50\n/long 1000"]}).wait(
            timeout=Fraction(1, 2))


def test_copying_or_pickling_a_stream_never_shares_or_carries_its_connection(assistant):
    import copy
    import pickle
    stream = _start(assistant, True)
    for twin in (copy.copy(stream), copy.deepcopy(stream), pickle.loads(pickle.dumps(stream))):
        assert twin._reader is None and type(twin) is type(stream)
    stream.wait(env={"get_weather": _weather}, timeout=30)
    assert stream.status == "completed"  # the original alone read its stream


def test_a_clone_taken_mid_read_is_a_snapshot(assistant):
    stream = oai.oai_create_thread_and_run(assistant, thread={"messages": ["/long 300"]}, stream=True)
    events = iter(stream)
    while next(events).event != "thread.message.delta":
        pass
    twin = stream.clone()
    seen = [dict(m) for m in twin.event_data.messages.values()]
    for _ in events:
        pass
    assert [dict(m) for m in twin.event_data.messages.values()] == seen  # the original read on alone
    assert stream.status == "completed" and twin.status == "in_progress"
