"""Who hears of a run's changes: kept beside the run, not on it; approval fails closed."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import weakref

import pytest

import oairun_jupyter as oai
from oairun_jupyter.runs import _observers, approver_of, notify, observe, set_approver

from ..support.flows import WEATHER_TOOL


def test_listeners_of_every_kind_are_called_and_a_clone_has_none():
    run = oai.Run(resp={"object": "thread.run", "id": "run_1", "thread_id": "thread_1", "status": "queued"})
    heard, seen = [], []
    observe(run, lambda kind, data: heard.append(kind))
    observe(run, lambda kind, data: seen.append(data))
    observe(run, print)  # a builtin is a fine listener too
    notify(run, "tool", "x")
    assert heard == ["tool"] and seen == ["x"]
    twin = run.clone()
    notify(twin, "tool", "y")
    assert heard == ["tool"]


def test_a_bound_method_listener_does_not_keep_its_object_alive():
    class Owner:
        def __init__(self):
            self.heard = []

        def hear(self, kind, data):
            self.heard.append(kind)
    run = oai.Run(resp={"object": "thread.run", "id": "run_1", "thread_id": "thread_1", "status": "queued"})
    owner = Owner()
    observe(run, owner.hear)
    notify(run, "run", {})
    assert owner.heard == ["run"]
    alive = weakref.ref(owner)
    del owner
    gc.collect()
    assert alive() is None  # the run's listener table did not keep it
    notify(run, "run", {})  # the dead listener is skipped


def _subscribe_at_once(run, heard: list, count: int) -> None:
    barrier = threading.Barrier(count)

    def subscribe(n: int) -> None:
        barrier.wait()
        observe(run, lambda kind, data: heard.append(n))
    workers = [threading.Thread(target=subscribe, args=(n,)) for n in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_concurrent_observers_are_all_kept(monkeypatch):
    table = _observers._listeners
    real_get = table.get

    def slow_get(*args):  # widen the gap between reading the table and writing it, as a busy machine would
        found = real_get(*args)
        time.sleep(0.02)
        return found
    monkeypatch.setattr(table, "get", slow_get)
    run = oai.Run(resp={"object": "thread.run", "id": "run_1", "thread_id": "thread_1", "status": "queued"})
    heard: list[int] = []
    _subscribe_at_once(run, heard, 4)
    notify(run, "run", {})
    assert sorted(heard) == [0, 1, 2, 3]


@pytest.mark.parametrize("path", ["poll", "stream"])
def test_confirm_with_nobody_to_ask_starts_nothing(server, path):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    thread = oai.oai_create_thread(messages=['get_weather {"city": "Rome"}'])
    called = []

    def get_weather(city):
        called.append(city)
        return "sun"

    async def main():
        if path == "poll":
            run = oai.Run(thread, assistant_id=assistant, async_=True)
        else:
            run = await oai.oai_create_run(thread, assistant, stream=True, async_=True)
        assert approver_of(run) is None
        with pytest.raises(ValueError, match="display the run first"):
            await run.wait_async(env={"get_weather": get_weather}, confirm=True)
        assert called == [] and run.tool_calls == []
        if path == "poll":  # not even created
            assert (await oai.oai_list_runs(thread.id, async_=True)).data == []
        # displayed (an approver attached), the same run goes on and asks
        set_approver(run, _always("approve"))
        await run.wait_async(env={"get_weather": get_weather}, confirm=True)
        return run
    run = asyncio.run(main())
    assert called == ["Rome"] and run.status == "completed"


def _always(decision):
    async def decide(record):
        return decision, None
    return decide


def test_an_approver_decides(server):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    run = oai.Run(oai.oai_create_thread(messages=['get_weather {"city": "Rome"}']), assistant_id=assistant)

    async def approve(record):
        return "approve", '{"city": "Paris"}'
    set_approver(run, approve)  # a plain function is held as given
    gc.collect()
    asyncio.run(run.wait_async(env={"get_weather": lambda city: f"sun in {city}"}, confirm=True))
    assert run.tool_calls[0].output == "sun in Paris"
