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
