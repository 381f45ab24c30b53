"""Delta accumulation must be linear in the total text: 100,000 deltas cost <= 10x 10,000.

Prints the median of several repetitions for 10,000 / 100,000 / 1,000,000 deltas, for the
accumulator alone and for the whole path (SSE bytes -> decoder -> json -> accumulator), and the
ratios between sizes. A quadratic accumulator would show ratios near 100.

    .venv/bin/python bench/accumulation.py [--repeat 5] [--max 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from oairun_jupyter.protocol import DONE, RunEventData, SSEDecoder, interpret_sse

MESSAGE_ID = "msg_bench"
STEP_ID = "step_bench"


def make_events(deltas: int) -> list[tuple[str, dict]]:
    """A run's events: a message growing by `deltas` pieces, and a tool call whose arguments grow too."""
    events = [("thread.message.created", {"id": MESSAGE_ID, "object": "thread.message", "content": [],
                                          "status": "in_progress", "role": "assistant"}),
              ("thread.run.step.created", {"id": STEP_ID, "object": "thread.run.step", "type": "tool_calls",
                                           "step_details": {"type": "tool_calls", "tool_calls": []}})]
    for n in range(deltas):
        if n % 10 == 9:  # one in ten deltas is a tool-call argument fragment
            events.append(("thread.run.step.delta", {"id": STEP_ID, "object": "thread.run.step.delta", "delta": {
                "step_details": {"type": "tool_calls", "tool_calls": [
                    {"index": 0, "type": "function", "function": {"arguments": "x, "}}]}}}))
        else:
            events.append(("thread.message.delta", {"id": MESSAGE_ID, "object": "thread.message.delta", "delta": {
                "content": [{"index": 0, "type": "text", "text": {"value": f"w{n % 97} "}}]}}))
    return events


def as_sse(events: list[tuple[str, dict]]) -> bytes:
    lines = [f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n" for event, data in events]
    return ("".join(lines) + "event: done\ndata: [DONE]\n\n").encode()


def time_accumulator(events) -> float:
    start = time.perf_counter()
    state = RunEventData()
    for event, data in events:
        state.apply(event, data)
    elapsed = time.perf_counter() - start
    assert len(state.messages[MESSAGE_ID]["content"][0]["text"]["value"]) > 0
    return elapsed


def time_pipeline(raw: bytes, chunk: int = 16384) -> float:
    start = time.perf_counter()
    decoder, state = SSEDecoder(), RunEventData()
    for i in range(0, len(raw), chunk):
        for sse in decoder.feed(raw[i:i + chunk]):
            item = interpret_sse(sse, lambda payload: payload)
            if item is not DONE:
                state.apply(item.event, item.data)
    decoder.finish()
    return time.perf_counter() - start


def fresh_events(deltas: int):
    # events are copied for each repetition: the accumulator stores the payloads it is given
    return json.loads(json.dumps(make_events(deltas)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max", type=int, default=1_000_000)
    args = parser.parse_args()
    sizes = [n for n in (10_000, 100_000, 1_000_000) if n <= args.max]
    results = {}
    for size in sizes:
        repeat = args.repeat if size < 1_000_000 else max(1, args.repeat // 2)
        accumulate = statistics.median(time_accumulator(fresh_events(size)) for _ in range(repeat))
        raw = as_sse(make_events(size))
        pipeline = statistics.median(time_pipeline(raw) for _ in range(repeat))
        results[size] = (accumulate, pipeline)
        print(f"{size:>9,} deltas: accumulator {accumulate * 1e3:9.1f} ms "
              f"({size / accumulate:>11,.0f} deltas/s)   SSE+JSON+accumulator {pipeline * 1e3:9.1f} ms "
              f"({size / pipeline:>11,.0f} deltas/s)")
    for small, large in zip(sizes, sizes[1:]):
        a = results[large][0] / results[small][0]
        p = results[large][1] / results[small][1]
        verdict = "linear" if a <= 10 * 1.15 and p <= 10 * 1.15 else "NOT LINEAR"
        print(f"ratio {large:,} / {small:,} deltas (10 is linear): accumulator {a:.2f}, "
              f"pipeline {p:.2f}  -> {verdict}")


if __name__ == "__main__":
    main()
