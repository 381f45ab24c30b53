"""Every way out of a wait cancels the run on the server, on all four paths: polling and streaming,
sync and async. An interrupt is sent once the run is seen in progress, never on a timer, so it
always lands inside the wait it means to interrupt."""

from __future__ import annotations

import _thread
import asyncio

import pytest

import oairun_jupyter as oai
from oairun_jupyter import Run
from oairun_jupyter.runs._observers import observe
from oairun_jupyter.transport import Clock

from ..support.flows import WEATHER_TOOL, wait_for

SLOW = "/pace 50\n/long 1000"  # in progress for about 50 s unless cancelled
TOOL_CALL = 'get_weather {"city": "Oslo"}'
PATHS = ["poll", "stream"]


@pytest.fixture
def assistant(server):
    return oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])


def _start(assistant, path: str, text: str):
    thread = oai.oai_create_thread(messages=[text])
    if path == "poll":
        return Run(thread, assistant_id=assistant)
    return oai.oai_create_run(thread, assistant, stream=True)


async def _start_async(assistant, path: str, text: str):
    thread = await oai.oai_create_thread(messages=[text], async_=True)
    if path == "poll":
        return Run(thread, assistant_id=assistant, async_=True)
    return await oai.oai_create_run(thread, assistant, stream=True, async_=True)


def _when_in_progress(run, act) -> list[bool]:
    """Call `act()` once, the first time the run is seen in progress; the list says it happened."""
    done: list[bool] = []

    def listener(kind, data):
        if not done and run.status == "in_progress":
            done.append(True)
            act()
    observe(run, listener)
    return done


def _assert_cancelled(run) -> None:
    assert wait_for(run.thread_id, run.id, ("cancelled",))["status"] == "cancelled"


def _failing_tool(city):
    raise ValueError(f"no weather for {city}")


def _interrupting_tool(city):
    raise KeyboardInterrupt  # what the kernel's stop button raises inside a tool


@pytest.mark.parametrize("path", PATHS)
def test_an_interrupt_while_waiting_cancels_the_run(assistant, path):
    run = _start(assistant, path, SLOW)
    sent = _when_in_progress(run, _thread.interrupt_main)
    with pytest.raises(KeyboardInterrupt):
        run.wait()
    assert sent == [True]
    _assert_cancelled(run)


def _exiting_tool(city):
    raise SystemExit(2)  # what sys.exit() or an argparse error inside a tool raises


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("tool,stop", [(_interrupting_tool, KeyboardInterrupt), (_exiting_tool, SystemExit)],
                         ids=["interrupt", "exit"])
def test_an_interrupt_or_exit_inside_a_tool_cancels_the_run(assistant, path, tool, stop):
    run = _start(assistant, path, TOOL_CALL)
    with pytest.raises(stop):
        run.wait(env={"get_weather": tool})
    _assert_cancelled(run)


@pytest.mark.parametrize("path", PATHS)
def test_a_tool_error_raised_cancels_the_run(assistant, path):
    run = _start(assistant, path, TOOL_CALL)
    with pytest.raises(oai.ToolCallError, match="no weather for Oslo"):
        run.wait(env={"get_weather": _failing_tool}, on_tool_error="raise")
    _assert_cancelled(run)


@pytest.mark.parametrize("path", PATHS)
def test_an_interrupted_await_cancels_the_run(assistant, path):
    # asyncio.run turns the interrupt into the cancellation of its task, as an interrupted cell does
    started = []

    async def main():
        run = await _start_async(assistant, path, SLOW)
        started.append(run)
        sent = _when_in_progress(run, _thread.interrupt_main)
        try:
            await run.wait_async()
        finally:
            started.append(sent)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    run, sent = started
    assert sent == [True]
    _assert_cancelled(run)


@pytest.mark.parametrize("path", PATHS)
def test_a_cancelled_task_cancels_the_run(assistant, path):
    async def main():
        run = await _start_async(assistant, path, SLOW)
        seen = asyncio.Event()
        _when_in_progress(run, seen.set)
        waiting = asyncio.create_task(run.wait_async())
        await asyncio.wait_for(seen.wait(), 30)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return run
    _assert_cancelled(asyncio.run(main()))


@pytest.mark.parametrize("path", PATHS)
def test_a_tool_error_raised_in_async_cancels_the_run(assistant, path):
    async def main():
        run = await _start_async(assistant, path, TOOL_CALL)
        with pytest.raises(oai.ToolCallError, match="no weather for Oslo"):
            await run.wait_async(env={"get_weather": _failing_tool}, on_tool_error="raise")
        return run
    _assert_cancelled(asyncio.run(main()))


class _StopButtonClock(Clock):
    """The real clock, except that its first async sleep is where the user presses stop: a
    KeyboardInterrupt raised inside the awaited wait itself (not turned into a cancellation)."""

    def __init__(self) -> None:
        self.pressed = False

    async def async_sleep(self, seconds: float) -> None:
        if not self.pressed:
            self.pressed = True
            raise KeyboardInterrupt
        await super().async_sleep(seconds)


def test_a_keyboard_interrupt_inside_an_async_poll_cancels_the_run(assistant, server):
    clock = _StopButtonClock()
    oai.configure(base_url=server.base_url, clock=clock)

    async def main():
        run = await _start_async(assistant, "poll", SLOW)
        with pytest.raises(KeyboardInterrupt):
            await run.wait_async()
        return run
    run = asyncio.run(main())
    assert clock.pressed
    _assert_cancelled(run)


def test_a_keyboard_interrupt_inside_an_async_stream_cancels_the_run(assistant):
    async def main():
        run = await _start_async(assistant, "stream", SLOW)
        deltas = []

        def stop_after_three(kind, data):
            if kind == "event" and data.event == "thread.message.delta":
                deltas.append(data)
                if len(deltas) == 3:
                    raise KeyboardInterrupt  # raised inside the stream's own loop, as a signal handler would
        observe(run, stop_after_three)
        with pytest.raises(KeyboardInterrupt):
            async for _ in run:
                pass
        return run
    _assert_cancelled(asyncio.run(main()))


@pytest.mark.parametrize("path", PATHS)
def test_an_async_tool_interrupted_cancels_the_run(assistant, path):
    async def get_weather(city):
        raise KeyboardInterrupt

    started = []

    async def main():
        run = await _start_async(assistant, path, TOOL_CALL)
        started.append(run)
        await run.wait_async(env={"get_weather": get_weather})
    with pytest.raises(KeyboardInterrupt):  # out of asyncio.run itself, as from an interrupted script
        asyncio.run(main())
    (run,) = started
    _assert_cancelled(run)
    (record,) = run.tool_calls
    assert record.status == "error" and record.error == "KeyboardInterrupt: "


@pytest.mark.parametrize("path", PATHS)
def test_an_async_round_stops_at_once_and_cancels_the_run(assistant, path):
    # one call interrupts while the other would take a minute: that one is cancelled, not awaited
    # (a plain function on a thread cannot be cancelled; it runs on, as any Python thread would)
    async def get_weather(city):
        if city == "Oslo":
            raise KeyboardInterrupt
        await asyncio.sleep(60)
        return "late"
    started = []

    async def main():
        run = await _start_async(assistant, path, 'get_weather {"city": "Oslo"} get_weather {"city": "Rome"}')
        started.append(run)
        await run.wait_async(env={"get_weather": get_weather}, tool_timeout=120)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    (run,) = started
    _assert_cancelled(run)
    records = {record.parsed_arguments["city"]: record for record in run.tool_calls}
    assert records["Oslo"].error == "KeyboardInterrupt: "
    assert records["Rome"].error == "RuntimeError: not finished: another call of this round was interrupted"


def test_a_late_answer_never_takes_an_ended_run_back(assistant):
    """A Stop's cancel answers `cancelling`; when that answer arrives after the run's own stream
    ended it `cancelled` (a loaded machine), the run and its watchers keep `cancelled`."""
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ["/long 3"]})
    run.wait()
    ended = run.to_dict()
    seen = []
    observe(run, lambda kind, data: seen.append(kind))
    run._set_payload({**ended, "status": "cancelling"})
    assert run.status == "completed" and run.is_terminal and seen == []
    other = {**ended, "id": "run_other", "status": "in_progress"}  # another run's payload is not "late"
    run._set_payload(other)
    assert run.status == "in_progress"
