"""Runs-server figures: time to first event, events per second of one run, 50 concurrent runs.

The server runs as its own process (`oairun-jupyter serve --pace-ms 0`, in-memory SQLite) so
that it does not share a GIL with the client measuring it. Figures are medians of repeats.

    .venv/bin/python bench/server.py [--repeat 5] [--deltas 100000] [--concurrent 50]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time

import httpx

HEADERS = {"OpenAI-Beta": "assistants=v2", "Accept": "text/event-stream"}


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "oairun_jupyter.server", "serve", "--port", str(port),
                                "--db", ":memory:", "--pace-ms", "0"], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(400):
        try:
            httpx.get(base + "/assistants", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def stream_run(client: httpx.Client, base: str, assistant: str, text: str) -> tuple[float, float, int]:
    """(seconds to the first event, seconds to the end, number of events) of one streamed run."""
    start = time.perf_counter()
    first, events = None, 0
    with client.stream("POST", base + "/threads/runs", headers=HEADERS, json={
            "assistant_id": assistant, "stream": True, "thread": {"messages": [{"role": "user", "content": text}]}}) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                events += 1
                if first is None:
                    first = time.perf_counter() - start
    return first, time.perf_counter() - start, events


async def concurrent_runs(base: str, assistant: str, count: int, text: str) -> tuple[float, int, int]:
    """(total seconds, completed runs, errors) of `count` streamed runs at once."""
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=count)) as client:
        async def one() -> bool:
            async with client.stream("POST", base + "/threads/runs", headers=HEADERS, json={
                    "assistant_id": assistant, "stream": True,
                    "thread": {"messages": [{"role": "user", "content": text}]}}) as r:
                last = ""
                async for line in r.aiter_lines():
                    if line.startswith("event: "):
                        last = line
                return last == "event: done"
        start = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
        elapsed = time.perf_counter() - start
    completed = sum(1 for r in results if r is True)
    return elapsed, completed, count - completed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--concurrent", type=int, default=50)
    args = parser.parse_args()
    process, base = start_server()
    try:
        with httpx.Client(timeout=300) as client:
            assistant = client.post(base + "/assistants", headers=HEADERS, json={"model": "scripted"}).json()["id"]
            stream_run(client, base, assistant, "warm up")
            firsts = [stream_run(client, base, assistant, "hello")[0] for _ in range(args.repeat * 4)]
            long_runs = [stream_run(client, base, assistant, f"/long {args.deltas}") for _ in range(args.repeat)]
        rates = [events / total for _, total, events in long_runs]
        print(f"time to first event (loopback, median of {len(firsts)}): {statistics.median(firsts) * 1e3:.1f} ms")
        print(f"one run of {args.deltas:,} deltas at zero pace: {statistics.median(t for _, t, _ in long_runs):.2f} s, "
              f"{statistics.median(rates):,.0f} events/s (median of {args.repeat})")
        totals = [asyncio.run(concurrent_runs(base, assistant, args.concurrent, "/long 200"))
                  for _ in range(max(1, args.repeat // 2))]
        elapsed = statistics.median(t for t, _, _ in totals)
        print(f"{args.concurrent} concurrent streaming runs of 200 deltas: {elapsed:.2f} s in all, "
              f"completed {min(c for _, c, _ in totals)}/{args.concurrent}, errors {max(e for _, _, e in totals)}")
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
