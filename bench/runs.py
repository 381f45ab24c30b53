"""Run-layer figures: parallel tool calls, and RunStream's cost per event against raw decoding.

1. Five tool calls that each sleep 200 ms, run by the tool executor, and end to end by
   `Run.wait()` against the local server (pace 0): wall time against one call (200 ms).
2. A stream of N message deltas read by RunStream (classify + accumulate into event_data)
   against the floor: SSE decoding + json.loads of the same bytes.

    .venv/bin/python bench/runs.py [--repeat 5] [--deltas 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import httpx

import oairun_jupyter as oai
from oairun_jupyter import RunStream
from oairun_jupyter.protocol import SSEDecoder, classify
from oairun_jupyter.tools import ToolExecutor
from oairun_jupyter.transport import EventStream

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accumulation import as_sse, make_events  # noqa: E402  (a sibling script)


def slow_tool(n: int) -> str:
    time.sleep(0.2)
    return f"done {n}"


def five_calls() -> list[dict]:
    return [{"id": f"call_{i}", "type": "function", "function": {"name": "slow_tool", "arguments": json.dumps({"n": i})}}
            for i in range(5)]


def time_executor() -> float:
    executor = ToolExecutor({"slow_tool": slow_tool}, {"slow_tool"})
    start = time.perf_counter()
    records = executor.run(five_calls())
    elapsed = time.perf_counter() - start
    assert all(r.status == "ok" for r in records)
    return elapsed


def time_wait(assistant) -> float:
    text = " ".join(f'slow_tool {{"n": {i}}}' for i in range(5))
    thread = oai.oai_create_thread(messages=[text])
    start = time.perf_counter()
    run = oai.Run(thread, assistant_id=assistant).wait(env={"slow_tool": slow_tool})
    elapsed = time.perf_counter() - start
    assert run.status == "completed" and len(run.tool_calls) == 5
    return elapsed


def time_floor(raw: bytes) -> float:
    start = time.perf_counter()
    decoder = SSEDecoder()
    for i in range(0, len(raw), 65536):
        for sse in decoder.feed(raw[i:i + 65536]):
            if sse.data != "[DONE]":
                json.loads(sse.data)
    decoder.finish()
    return time.perf_counter() - start


def time_run_stream(raw: bytes) -> float:
    response = httpx.Response(200, content=raw)
    start = time.perf_counter()
    stream = RunStream(EventStream(response, classify))
    for _ in stream.events(run_tools=False):
        pass
    elapsed = time.perf_counter() - start
    assert stream.event_data.messages
    return elapsed


def measure(repeat: int = 5, deltas: int = 100_000) -> dict:
    """Parallel tool dispatch, and RunStream's cost per event against raw decoding."""
    from oairun_jupyter.server import start_local_server
    server = start_local_server(pace=0, poll_after_ms=20)
    oai.configure(base_url=server.base_url)
    try:
        assistant = oai.oai_create_assistant("scripted", tools=[oai.tool(slow_tool)])
        executor = statistics.median(time_executor() for _ in range(repeat))
        waited = statistics.median(time_wait(assistant) for _ in range(repeat))
    finally:
        server.stop()
    raw = as_sse(make_events(deltas))
    floor = statistics.median(time_floor(raw) for _ in range(repeat))
    ours = statistics.median(time_run_stream(raw) for _ in range(repeat))
    events = deltas + 2
    return {"one_call_s": 0.2, "five_calls_executor_s": executor, "five_calls_wait_s": waited,
            "executor_over_one_call": executor / 0.2, "wait_over_one_call": waited / 0.2,
            "events": events, "floor_ns_per_event": floor * 1e9 / events, "run_stream_ns_per_event": ours * 1e9 / events,
            "run_stream_over_floor": ours / floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--deltas", type=int, default=100_000)
    args = parser.parse_args()
    f = measure(args.repeat, args.deltas)
    print(f"5 parallel tool calls of 200 ms: executor {f['five_calls_executor_s'] * 1e3:.0f} ms "
          f"({f['executor_over_one_call']:.2f}x one call); Run.wait end to end {f['five_calls_wait_s'] * 1e3:.0f} ms "
          f"({f['wait_over_one_call']:.2f}x one call; sequential would be 1000 ms)")
    print(f"{f['events']:,} events: SSE+json floor {f['floor_ns_per_event']:.0f} ns/event, RunStream "
          f"{f['run_stream_ns_per_event']:.0f} ns/event, ratio {f['run_stream_over_floor']:.2f}")


if __name__ == "__main__":
    main()
