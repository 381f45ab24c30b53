"""The bridge from a run to its widget: the message rate in a real kernel, the debugger's
re-runs and approvals, and what the traits hold."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import types

import pytest
from jupyter_client.manager import start_new_kernel

import oairun_jupyter as oai
from oairun_jupyter.display import RunWidgetBridge

from ..support.deadline import Deadline
from ..support.flows import WEATHER_TOOL, wait_for


def _execute(client, code: str, timeout: float = 120) -> list[dict]:
    """Run code in the kernel; every iopub message it caused, with its arrival time."""
    msg_id = client.execute(code)
    seen = []
    deadline = Deadline(timeout, f"the kernel to finish {code[:40]!r}")
    while True:
        deadline.check(len(seen))
        message = client.get_iopub_msg(timeout=timeout)
        message["received"] = time.monotonic()
        if message["parent_header"].get("msg_id") != msg_id and message["msg_type"] != "comm_msg":
            continue
        seen.append(message)
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle" \
                and message["parent_header"].get("msg_id") == msg_id:
            return seen


def test_a_20000_delta_run_stays_within_the_widget_message_limit():
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        _execute(client, "from oairun_jupyter import *\nfrom oairun_jupyter.server import start_local_server\n"
                         "server = start_local_server(pace=0.0001)\nconfigure(base_url=server.base_url)\n"
                         "assistant = oai_create_assistant('scripted')")
        messages = _execute(client, "run = oai_create_thread_and_run(assistant, thread={'messages': "
                                    "['/long 20000']}, stream=True)\nrun")
        opens = [m for m in messages if m["msg_type"] == "comm_open"
                 and m["content"]["data"]["state"].get("_model_name") == "AnyModel"
                 and "header" in m["content"]["data"]["state"]]  # the run's widget (not the code's module)
        assert len(opens) == 1
        widget_comm = opens[0]["content"]["comm_id"]
        updates = [m for m in messages if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == widget_comm]
        # the rate itself (messages in the busiest second) is measured by bench/widget.py; that the
        # writes are throttled, whatever the clock, by test_deltas_between_two_writes_travel_as_one_message
        assert len(updates) >= 2, "the text should arrive in several writes while it streams"
        check = _execute(client, "import json\nfrom oairun_jupyter.display import bridge_of\n"
                                 "print(json.dumps([len(run.event_data.messages), "
                                 "list(run.event_data.messages.values())[0]['content'][0]['text']['value'] == "
                                 "' '.join(f'w{n}' for n in range(20000)), bridge_of(run).widget.messages[-1]['text'] == "
                                 "' '.join(f'w{n}' for n in range(20000))]))")
        printed = [m["content"]["text"] for m in check if m["msg_type"] == "stream"]
        assert json.loads(printed[-1]) == [1, True, True]
        pieces = [p for m in updates if m["content"]["data"].get("method") == "custom"
                  for p in m["content"]["data"]["content"].get("pieces", [])]
        full = " ".join(f"w{n}" for n in range(20000))
        assert [p[2] for p in pieces] == [sum(len(q[3]) for q in pieces[:i]) for i in range(len(pieces))]
        appended = "".join(p[3] for p in pieces)
        assert appended and full.startswith(appended)  # each piece once, in order; the trait has the rest
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture
def assistant(server):
    return oai.oai_create_assistant("scripted", name="Bridge", tools=[WEATHER_TOOL])


def test_the_debugger_reruns_a_failed_call_with_the_fixed_function(assistant):
    namespace = {"get_weather": lambda city: 1 / 0}
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ['get_weather {"city": "Oslo"}']}, stream=True)
    bridge = RunWidgetBridge(run, namespace=namespace)
    run.wait(env=namespace)
    bridge.flush()
    (record,) = run.tool_calls
    assert record.status == "error" and bridge.widget.records[record.call_id]["status"] == "error"
    namespace["get_weather"] = lambda city: f"fixed for {city}"  # the user fixes the function
    bridge._on_widget_message(bridge.widget, {"type": "rerun", "call_id": record.call_id,
                                              "arguments": record.arguments}, [])
    bridge._on_widget_message(bridge.widget, {"type": "rerun", "call_id": record.call_id,
                                              "arguments": '{"city": "Bergen"}'}, [])
    reruns = bridge.widget.records[record.call_id]["reruns"]
    assert [(r["status"], r["output"]) for r in reruns] == [("ok", "fixed for Oslo"), ("ok", "fixed for Bergen")]
    assert bridge.widget.records[record.call_id]["output"].startswith("Error: ZeroDivisionError")  # the old stays


def test_approval_mode_waits_for_each_decision(assistant):
    async def main():
        ran = []

        def get_weather(city):
            ran.append(city)
            return f"sunny in {city}"
        run = await oai.oai_create_thread_and_run(assistant, thread={"messages": [
            'get_weather {"city": "Yes"} get_weather {"city": "No"} get_weather {"city": "Edit"} '
            'get_weather {"city": "Junk"}']},
            stream=True, async_=True)
        bridge = RunWidgetBridge(run, namespace={"get_weather": get_weather})
        # a decision other than "approve" (a message a page or a bug may send) rejects the call
        decisions = {"Yes": ("approve", None), "No": ("reject", None), "Edit": ("approve", '{"city": "Edited"}'),
                     "Junk": ("yes", {"city": "Junk"})}

        async def click_when_asked():
            answered = set()
            deadline = Deadline(60, "four calls waiting for approval")
            while len(answered) < 4:
                deadline.check(answered)
                await asyncio.sleep(0.01)
                for call_id in list(bridge.widget.confirm):
                    if call_id in answered:
                        continue
                    call = next(c for c in run.required_action["submit_tool_outputs"]["tool_calls"] if c["id"] == call_id)
                    decision, arguments = decisions[json.loads(call["function"]["arguments"])["city"]]
                    bridge._on_widget_message(bridge.widget, {"type": "decide", "call_id": call_id,
                                                              "decision": decision, "arguments": arguments}, [])
                    answered.add(call_id)
        clicker = asyncio.create_task(click_when_asked())
        await run.wait_async(env={"get_weather": get_weather}, confirm=True)
        await clicker
        return run, ran, bridge
    run, ran, bridge = asyncio.run(main())
    assert sorted(ran) == ["Edited", "Yes"]
    outputs = {r.name + ":" + str(r.parsed_arguments): r.output for r in run.tool_calls}
    assert sum(o == "Error: the user rejected this call of get_weather" for o in outputs.values()) == 2
    assert bridge.widget.confirm == {}
    assert run.status == "completed"
    bridge.flush()  # the card of the edited call shows what ran (js/toolcard.js shows it beside what was asked)
    assert sorted(r["arguments"] for r in bridge.widget.records.values() if r["status"] == "ok") == [
        '{"city": "Edited"}', '{"city": "Yes"}']


def test_confirm_in_a_blocking_wait_says_what_to_do_instead(assistant):
    from oairun_jupyter.runs import WaitOptions, run_tools_sync

    run = oai.Run(oai.oai_create_thread(messages=['get_weather {"city": "X"}']), assistant_id=assistant)
    with pytest.raises(ValueError, match=r"await run.wait_async\(confirm=True\)"):
        run_tools_sync(run, {}, WaitOptions.make(confirm=True))
    run.cancel()


def test_deltas_between_two_writes_travel_as_one_message(assistant):
    # a write interval longer than the run: every delta arrives between the first write and the next
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ["/long 2000"]}, stream=True)
    bridge = RunWidgetBridge(run, rate=1e-4)
    sent = []
    bridge.widget.send = lambda content, buffers=None: sent.append(content)  # the comm is not opened here
    written_at_start = bridge.messages_sent
    events, deltas = iter(run), 0
    while deltas < 500:
        deltas += next(events).event == "thread.message.delta"
    assert bridge.messages_sent == written_at_start, "no write before the interval has passed"
    assert bridge._timer is not None and bridge._timer.is_alive(), "the next write is scheduled"
    bridge.flush()  # mid-message: the 500 deltas so far travel as one piece, in one message
    assert bridge._timer is None, "the write cancelled the scheduled one"
    (append,) = sent
    assert append["type"] == "append"
    ((kind, message_id, offset, text),) = append["pieces"]
    assert (kind, offset) == ("m", 0) and text == " ".join(f"w{n}" for n in range(500))
    while deltas < 1000:
        deltas += next(events).event == "thread.message.delta"
    before = bridge.messages_sent
    bridge.flush()  # the next piece starts where the first ended
    assert bridge.messages_sent == before + 1  # only the pieces: no trait changed between the writes
    ((kind, same_message, offset, more),) = sent[1]["pieces"]
    assert (kind, same_message, offset) == ("m", message_id, len(text))
    assert text + more == " ".join(f"w{n}" for n in range(1000))
    for _ in events:
        pass
    assert run.status == "completed"
    written = bridge.messages_sent
    bridge.flush()
    assert bridge.messages_sent == written + 1  # one trait update, with the finished text in it
    assert bridge.widget.messages[-1]["text"] == " ".join(f"w{n}" for n in range(2000))
    assert len(sent) == 2  # the finished message's text travelled in the traits, not again as pieces


class _FakeTimer:
    """threading.Timer as the bridge uses it, recorded instead of started on a thread."""

    made: list["_FakeTimer"] = []

    def __init__(self, wait, function):
        self.wait, self.function, self.daemon, self.started, self.cancelled = wait, function, None, False, False
        _FakeTimer.made.append(self)

    def start(self):
        self.started = True

    def cancel(self):
        self.cancelled = True


def test_writes_are_spaced_by_the_interval_on_the_bridge_clock(assistant, monkeypatch):
    from oairun_jupyter.display import _bridge
    now = [1000.0]
    _FakeTimer.made = []
    monkeypatch.setattr(_bridge, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(_bridge, "threading", types.SimpleNamespace(Timer=_FakeTimer, RLock=threading.RLock))
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ["hello"]}).wait()
    bridge = RunWidgetBridge(run)  # 10 writes a second: 0.1 s apart
    written = bridge.messages_sent
    now[0] += 0.05
    bridge._on_change("run", run.to_dict())  # too soon: a write is scheduled for when the interval ends
    (timer,) = _FakeTimer.made
    assert (timer.wait, timer.started, timer.daemon) == (pytest.approx(0.05), True, True)
    assert bridge.messages_sent == written
    now[0] += 0.01
    bridge._on_change("run", run.to_dict())  # still too soon, and one write is already scheduled
    assert len(_FakeTimer.made) == 1 and bridge.messages_sent == written
    timer.function()  # the interval has passed: the scheduled write happens
    assert bridge.messages_sent == written + 1 and bridge._timer is None
    now[0] += 0.1
    bridge._on_change("run", run.to_dict())  # a whole interval since the last write: written at once
    assert bridge.messages_sent == written + 2 and len(_FakeTimer.made) == 1


def test_a_polled_run_shows_what_the_model_wrote_before_its_tool_calls(assistant):
    """A polled run has no events: while its tools run (or wait for approval), the message the
    model wrote before asking for them is already in the widget."""
    run = oai.oai_create_thread_and_run(
        assistant, thread={"messages": ['/pace 20\n/say Let me check.\nget_weather {"city": "Oslo"}']})
    bridge = RunWidgetBridge(run, rate=1e6)
    bridge.widget.send = lambda content, buffers=None: None
    seen_by_the_tool = []

    def get_weather(city):
        bridge.flush()
        seen_by_the_tool.append([m.get("text") for m in bridge.widget.messages if m["role"] == "assistant"])
        return f"sunny in {city}"
    run.wait(env={"get_weather": get_weather})
    assert seen_by_the_tool == [["Let me check."]]


def test_the_last_write_carries_the_whole_finished_run(assistant):
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ['get_weather {"city": "Oslo"}']}, stream=True)
    bridge = RunWidgetBridge(run, rate=1e-4)  # no write while the run goes on
    bridge.widget.send = lambda content, buffers=None: None
    assert bridge.widget.header["status"] in (None, "queued")
    run.wait(env={"get_weather": lambda city: f"sunny in {city}"})
    bridge._dirty.clear()  # whatever was or was not marked as changed, the end writes everything
    bridge.flush()
    assert bridge.widget.header["status"] == "completed"
    assert "sunny in Oslo" in bridge.widget.messages[-1]["text"]
    assert [step["status"] for step in bridge.widget.steps] == ["completed", "completed"]
    (record,) = bridge.widget.records.values()
    assert record["output"] == "sunny in Oslo"


def test_a_run_stopped_mid_message_keeps_the_text_so_far_in_its_last_write(assistant):
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ["/pace 30\n/long 1000"]}, stream=True)
    bridge = RunWidgetBridge(run, rate=1e-4)
    bridge.widget.send = lambda content, buffers=None: None
    events, deltas = iter(run), 0
    while deltas < 3:
        deltas += next(events).event == "thread.message.delta"
    run.cancel()  # the message never completes in this stream
    wait_for(run.thread_id, run.id, ("cancelled",))
    run.retrieve()
    assert run.is_terminal and list(run.event_data.messages.values())[-1]["status"] == "in_progress"
    bridge.flush()
    assert bridge.widget.header["status"] == "cancelled"
    assert bridge.widget.messages[-1]["text"].startswith("w0 w1 w2")  # the run ended: its text is written


def test_a_widget_read_that_fails_does_not_stop_the_run_and_is_tried_again(server):
    """A polled run's widget reads its messages and steps at each new status: a read that fails
    (a flaky proxy) leaves the run going and the widget as it was, then is made again."""
    from ..support.fault_proxy import Fault, FaultProxy

    failing = {"on": True}

    def plan(first_line: str, number: int) -> Fault:
        listing = first_line.startswith("GET") and ("/messages" in first_line or "/steps" in first_line)
        return Fault(status=400) if failing["on"] and listing else Fault()
    with FaultProxy(server.port, plan=plan) as proxy:
        oai.configure(base_url=proxy.base_url, max_retries=0)
        assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
        run = oai.oai_create_thread_and_run(assistant, thread={"messages": ['get_weather {"city": "Oslo"}']})
        bridge = RunWidgetBridge(run, rate=1e6)
        bridge.widget.send = lambda content, buffers=None: None
        run.wait(env={"get_weather": lambda city: f"sunny in {city}"}, timeout=60)
        assert run.status == "completed" and any("/steps" in line for line in proxy.requests)
        bridge.flush()  # the run's last write, its reads failing too: no other write will come
        assert bridge.widget.records and bridge.widget.steps == []
        failing["on"] = False  # the read is tried again on its own, backing off
        deadline = Deadline(30, "the widget's failed read to be made again")
        while not bridge.widget.steps:
            deadline.check(bridge._read_failures)
            time.sleep(0.02)
        assert "sunny in Oslo" in bridge.widget.messages[-1]["text"]
        assert [step["status"] for step in bridge.widget.steps] == ["completed", "completed"]


def test_the_widget_shows_the_prompt_of_a_run_late_in_a_long_thread(assistant):
    """The prompt is looked up among the thread's newest messages (the first 20 used to be read:
    from the 11th turn on, the widget showed no prompt), also for a run shown after later turns."""
    thread = oai.oai_create_thread()
    runs = []
    for turn in range(1, 14):
        run = oai.oai_create_run(thread.id, assistant, additional_messages=[f"turn {turn}", f"and {turn}"])
        runs.append(run.wait(timeout=30))

    def prompt(run):
        bridge = RunWidgetBridge(oai.oai_retrieve_run(thread.id, run.id), rate=1e6)
        bridge.widget.send = lambda content, buffers=None: None
        bridge.flush()
        return [m["text"] for m in bridge.widget.messages if m["role"] == "user"]
    assert prompt(runs[12]) == ["turn 13", "and 13"]
    assert prompt(runs[4]) == ["turn 5", "and 5"]
    assert prompt(runs[0]) == ["turn 1", "and 1"]


def test_the_header_times_the_run_from_its_creation_to_its_end(assistant):
    """A run started again after its tool outputs keeps its creation time as the start; one that
    ended without an end time (incomplete) gets the time this kernel saw it end, so the
    widget's elapsed time never keeps growing."""
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ['get_weather {"city": "Oslo"}']})
    bridge = RunWidgetBridge(run)
    bridge.widget.send = lambda content, buffers=None: None
    run.wait(env={"get_weather": lambda city: time.sleep(1.1) or f"sunny in {city}"})
    bridge.flush()
    header = bridge.widget.header
    assert header["status"] == "completed" and header["started_at"] > header["created_at"]
    assert header["ended_at"] - header["created_at"] >= 1  # the tool's second is in it

    cut = oai.oai_create_thread_and_run(assistant, thread={"messages": ["/long 2000"]}, max_completion_tokens=300)
    bridge = RunWidgetBridge(cut)
    bridge.widget.send = lambda content, buffers=None: None
    cut.wait()
    bridge.flush()
    assert bridge.widget.header["status"] == "incomplete"
    assert abs(bridge.widget.header["ended_at"] - time.time()) < 60


def test_the_stop_button_cancels_a_run_the_kernel_is_free_to_hear(assistant):
    """A run driven in the background: the Stop click's message reaches the bridge, which cancels
    the run on the server; its driver ends, the widget's last write shows it cancelled with its
    step ended and the usage it used (a stream read no further is completed from the server)."""
    run = oai.oai_create_thread_and_run(assistant, thread={"messages": ["/pace 20\n/long 2000"]}, stream=True)
    bridge = RunWidgetBridge(run)
    bridge.widget.send = lambda content, buffers=None: None
    ended = []

    def drive():
        bridge.set_driving("background")
        try:
            run.wait()
        except oai.RunError as error:
            ended.append(str(error))
    driver = threading.Thread(target=drive)
    driver.start()
    deadline = Deadline(30, "the run to stream")
    while not (run.event_data and run.event_data.messages):
        deadline.check(run.status)
        time.sleep(0.01)
    assert bridge.widget.control["driving"] == "background"
    bridge._on_widget_message(bridge.widget, {"type": "stop"}, [])
    driver.join(30)
    assert not driver.is_alive() and ended and "cancelled" in ended[0]
    bridge.flush()
    header = bridge.widget.header
    assert header["status"] == "cancelled" and header["usage"]["completion_tokens"] > 0
    assert [s["status"] for s in bridge.widget.steps] == ["cancelled"]
    assert bridge.widget.messages[-1]["status"] == "incomplete"
