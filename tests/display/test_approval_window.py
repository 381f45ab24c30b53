"""Approvals last as long as the run waits for them: a run cancelled while its calls await
Approve ends its waiter, its cards stop asking, and a click that comes later runs nothing.

Each run waits in a thread of its own, as `%%oai_run --background --confirm` does, with the
real widget bridge as its approver and the real server behind it.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

import oairun_jupyter as oai
from oairun_jupyter.display import RunWidgetBridge
from oairun_jupyter.runs import _approvals

from ..support.deadline import Deadline
from ..support.flows import WEATHER_TOOL


@pytest.fixture
def assistant(server):
    return oai.oai_create_assistant("scripted", name="Approvals", tools=[WEATHER_TOOL])


class _BackgroundWait:
    """A run made and waited for with approvals on a thread and loop of its own; what it ran and
    how it ended. `how`: a polled Run, a sync RunStream awaited, or an async RunStream read with
    `stream_async`."""

    def __init__(self, assistant, how: str) -> None:
        self.ran, self.outcome, self.run, self.bridge = [], None, None, None
        self.namespace = {"get_weather": self._get_weather}
        made = threading.Event()
        self.thread = threading.Thread(target=self._drive, args=(assistant, how, made), daemon=True)
        self.thread.start()
        assert made.wait(30), "the run was not made"

    def _get_weather(self, city: str) -> str:
        self.ran.append(city)
        return f"sunny in {city}"

    def _drive(self, assistant, how: str, made: threading.Event) -> None:
        async def drive():
            thread = {"messages": ['get_weather {"city": "Oslo"} get_weather {"city": "Rome"}']}
            if how == "async stream":
                self.run = await oai.oai_create_thread_and_run(assistant, thread=thread, stream=True, async_=True)
            else:
                self.run = oai.oai_create_thread_and_run(assistant, thread=thread, stream=how == "sync stream")
            self.bridge = RunWidgetBridge(self.run, namespace=self.namespace)
            made.set()
            if how == "async stream":
                await self.run.stream_async(env=self.namespace, confirm=True)
            await self.run.wait_async(env=self.namespace, confirm=True, timeout=60)
        try:
            asyncio.run(drive())
            self.outcome = "returned"
        except Exception as error:  # what the background magic would print
            self.outcome = error
        finally:
            made.set()

    def pending(self, count: int) -> list[str]:
        deadline = Deadline(30, f"{count} calls awaiting approval")
        while len(self.bridge.widget.confirm) < count:
            deadline.check(self.bridge.widget.confirm)
            threading.Event().wait(0.01)
        return list(self.bridge.widget.confirm)

    def click(self, call_id: str, decision: str = "approve") -> None:
        self.bridge._on_widget_message(self.bridge.widget, {"type": "decide", "call_id": call_id,
                                                            "decision": decision}, [])

    def ended(self, seconds: float = 15) -> None:
        self.thread.join(seconds)
        assert not self.thread.is_alive(), "the approval waiter is still waiting after the run was cancelled"


def _assert_cancelled_and_nothing_ran(waiter: _BackgroundWait) -> None:
    assert isinstance(waiter.outcome, oai.RunError) and waiter.outcome.status == "cancelled", waiter.outcome
    assert waiter.ran == []
    assert waiter.bridge.widget.confirm == {}, "a card still asks for a decision on a cancelled run"
    server_run = oai.oai_retrieve_run(waiter.run.thread_id, waiter.run.id)
    assert server_run.status == "cancelled"


@pytest.mark.parametrize("how", ["polled", "sync stream", "async stream"])
def test_cancelling_the_run_ends_the_approval_wait_and_a_later_approve_runs_nothing(assistant, how):
    waiter = _BackgroundWait(assistant, how)
    run = waiter.run
    oslo, rome = waiter.pending(2)
    waiter.click(oslo, "reject")  # one call decided before the cancel, one still asking
    # what %oai cancel does, from the kernel's thread
    run._set_payload(oai.oai_cancel_run(run.thread_id, run.id, classify_response=False, client=run.client))
    waiter.ended()
    waiter.click(rome)  # the click that comes after the cancel
    threading.Event().wait(0.3)
    _assert_cancelled_and_nothing_ran(waiter)
    records = {r.call_id: r for r in run.tool_calls}
    assert "stopped waiting for tool outputs" in (records[rome].error or "")
    # the thread is free for the next run
    again = oai.oai_create_run(run.thread_id, assistant, additional_messages=["hello"])
    assert again.wait(timeout=30).status == "completed"


def test_a_cancel_from_elsewhere_ends_the_approval_wait(assistant):
    waiter = _BackgroundWait(assistant, "polled")
    run = waiter.run
    waiter.pending(2)
    oai.oai_cancel_run(run.thread_id, run.id)  # another process: the Run object here is not told
    waiter.ended()
    _assert_cancelled_and_nothing_ran(waiter)


def test_an_approve_after_a_cancel_elsewhere_is_checked_with_the_server_first(assistant, monkeypatch):
    monkeypatch.setattr(_approvals, "WATCH_SECONDS", 3600.0)  # the watch would not see the cancel in time
    waiter = _BackgroundWait(assistant, "polled")
    run = waiter.run
    oslo, rome = waiter.pending(2)
    oai.oai_cancel_run(run.thread_id, run.id)
    waiter.click(oslo)
    waiter.click(rome)
    waiter.ended()
    _assert_cancelled_and_nothing_ran(waiter)


def test_approving_a_live_run_still_runs_its_calls(assistant):
    waiter = _BackgroundWait(assistant, "polled")
    run = waiter.run
    for call_id in waiter.pending(2):
        waiter.click(call_id)
    waiter.ended(30)
    assert waiter.outcome == "returned" and sorted(waiter.ran) == ["Oslo", "Rome"]
    assert run.status == "completed"


def test_a_call_approved_before_the_cancel_does_not_run_once_the_run_ended(assistant):
    """The round's calls run only once every decision is in; a cancel that came in between
    (here: Oslo approved, then the run cancelled while Rome still asks) leaves both unrun."""
    waiter = _BackgroundWait(assistant, "polled")
    run = waiter.run
    oslo, _ = waiter.pending(2)
    waiter.click(oslo)
    threading.Event().wait(0.2)  # the approval is in, the other call still asks
    run._set_payload(oai.oai_cancel_run(run.thread_id, run.id, classify_response=False, client=run.client))
    waiter.ended()
    _assert_cancelled_and_nothing_ran(waiter)
    records = {r.call_id: r for r in run.tool_calls}
    assert records[oslo].status == "refused" and "stopped waiting" in records[oslo].error


def test_a_failed_look_at_the_run_does_not_answer_for_the_user(server, monkeypatch):
    """A 404 (or 401) on the watch is not the user's decision: the call still waits for its click."""
    from ..support.fault_proxy import Fault, FaultProxy

    monkeypatch.setattr(_approvals, "WATCH_SECONDS", 0.05)
    failures = {"left": 0}  # set once the calls wait: then only the watch looks at the run

    def plan(first_line: str, number: int) -> Fault:
        looking = first_line.startswith("GET") and "/runs/run_" in first_line and "/steps" not in first_line
        if looking and failures["left"]:
            failures["left"] -= 1
            return Fault(status=404)
        return Fault()
    with FaultProxy(server.port, plan=plan) as proxy:
        oai.configure(base_url=proxy.base_url, max_retries=0)
        waiter = _BackgroundWait(oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL]), "polled")
        calls = waiter.pending(2)
        failures["left"] = 5
        deadline = Deadline(30, "the watch to meet its 404s")
        while failures["left"]:
            deadline.check(failures)
            threading.Event().wait(0.01)
        assert waiter.bridge.widget.confirm == {call: "pending" for call in calls}  # still asking
        for call in calls:
            waiter.click(call)
        waiter.ended(30)
    assert waiter.outcome == "returned" and sorted(waiter.ran) == ["Oslo", "Rome"]


def test_an_approver_that_fails_ends_the_other_approvals_and_the_run(assistant):
    from oairun_jupyter.runs import set_approver

    async def main():
        run = oai.oai_create_thread_and_run(
            assistant, thread={"messages": ['get_weather {"city": "Oslo"} get_weather {"city": "Rome"}']})
        asked = []

        async def approver(record):
            asked.append(record.call_id)
            if len(asked) == 1:
                raise LookupError("the approver broke")
            await asyncio.Event().wait()  # never decides
        set_approver(run, approver)
        with pytest.raises(LookupError):
            await run.wait_async(env={"get_weather": lambda city: city}, confirm=True, timeout=30)
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return run, left
    run, left = asyncio.run(main())
    assert left == []  # no approval, watch or decision task left waiting
    assert oai.oai_retrieve_run(run.thread_id, run.id).status == "cancelled"
