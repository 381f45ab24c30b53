"""Runs-server figures: time to first event, events per second of one run, 50 concurrent runs.

The server runs as its own process (`oairun-jupyter serve --pace-ms 0`, in-memory SQLite) so
that it does not share a GIL with the client measuring it. Figures are medians of repeats.

    .venv/bin/python bench/server.py [--repeat 5] [--deltas 100000] [--concurrent 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time

import httpx

HEADERS = {"OpenAI-Beta": "assistants=v2", "Accept": "text/event-stream"}


def start_server(extra: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "oairun_jupyter.server", "serve", "--port", str(port),
                                "--db", ":memory:", "--pace-ms", "0", "--no-auth", *(extra or [])],
                               stdout=subprocess.DEVNULL)
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


def measure(repeat: int = 5, deltas: int = 100_000, concurrent: int = 50) -> dict:
    """Time to first event, events/s of one run, N concurrent runs (scripted backend, pace 0)."""
    process, base = start_server()
    try:
        with httpx.Client(timeout=300) as client:
            assistant = client.post(base + "/assistants", headers=HEADERS, json={"model": "scripted"}).json()["id"]
            stream_run(client, base, assistant, "warm up")
            firsts = [stream_run(client, base, assistant, "hello")[0] for _ in range(repeat * 4)]
            long_runs = [stream_run(client, base, assistant, f"/long {deltas}") for _ in range(repeat)]
        totals = [asyncio.run(concurrent_runs(base, assistant, concurrent, "/long 200"))
                  for _ in range(max(1, repeat // 2))]
    finally:
        process.terminate()
        process.wait(10)
    return {"first_event_ms": statistics.median(firsts) * 1e3,
            "one_run_seconds": statistics.median(t for _, t, _ in long_runs),
            "one_run_events_per_s": statistics.median(events / total for _, total, events in long_runs),
            "deltas": deltas, "concurrent": concurrent,
            "concurrent_seconds": statistics.median(t for t, _, _ in totals),
            "concurrent_completed": min(c for _, c, _ in totals),
            "concurrent_errors": max(e for _, _, e in totals)}


# how each model backend's upstream is read directly: the source's kind, the path, and which events carry data
UPSTREAMS = {"chat-completions": ("chat", "/chat/completions", "data: {"),
             "responses": ("responses", "/responses", "data: {")}


def backend_overhead(backend: str = "chat-completions", chunks: int = 20_000, repeat: int = 3) -> dict:
    """A model backend (`chat-completions` or `responses`) against reading the same upstream
    stream directly (each event parsed as JSON), and the time to the first event through it."""
    import os
    kind, path, data_prefix = UPSTREAMS[backend]
    here = os.path.dirname(os.path.abspath(__file__))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        upstream_port = s.getsockname()[1]
    upstream = subprocess.Popen([sys.executable, os.path.join(here, "sse_source.py"), str(chunks),
                                 str(upstream_port), kind], stdout=subprocess.PIPE, text=True)
    upstream.stdout.readline()
    upstream_url = f"http://127.0.0.1:{upstream_port}/v1"
    process, base = start_server(["--backend", backend, "--upstream-base-url", upstream_url])
    try:
        with httpx.Client(timeout=300) as client:
            def direct() -> float:
                start = time.perf_counter()
                with client.stream("POST", upstream_url + path, json={"stream": True}) as r:
                    for line in r.iter_lines():
                        if line.startswith(data_prefix):
                            json.loads(line[6:])
                return time.perf_counter() - start
            assistant = client.post(base + "/assistants", headers=HEADERS, json={"model": "gpt-4o"}).json()["id"]
            direct()
            stream_run(client, base, assistant, "warm up")  # the server's first upstream connection, imports
            directs = [direct() for _ in range(repeat)]
            runs = [stream_run(client, base, assistant, "hello") for _ in range(repeat)]
    finally:
        process.terminate()
        process.wait(10)
        upstream.terminate()
        upstream.wait(10)
    through = [seconds for _, seconds, _ in runs]
    return {"backend": backend, "chunks": chunks, "direct_seconds": statistics.median(directs),
            "through_server_seconds": statistics.median(through),
            "first_event_ms": statistics.median(first for first, _, _ in runs) * 1000,
            "overhead_ratio": statistics.median(through) / statistics.median(directs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--concurrent", type=int, default=50)
    args = parser.parse_args()
    figures = measure(args.repeat, args.deltas, args.concurrent)
    print(f"time to first event (loopback): {figures['first_event_ms']:.1f} ms")
    print(f"one run of {args.deltas:,} deltas at zero pace: {figures['one_run_seconds']:.2f} s, "
          f"{figures['one_run_events_per_s']:,.0f} events/s")
    print(f"{args.concurrent} concurrent streaming runs: {figures['concurrent_seconds']:.2f} s, completed "
          f"{figures['concurrent_completed']}/{args.concurrent}, errors {figures['concurrent_errors']}")
    for backend in UPSTREAMS:
        figures = backend_overhead(backend, repeat=max(1, args.repeat // 2))
        print(f"{backend} backend, {figures['chunks']:,} chunks: {figures['through_server_seconds']:.2f} s through "
              f"the server against {figures['direct_seconds']:.2f} s reading the upstream directly "
              f"(x{figures['overhead_ratio']:.2f}); first event {figures['first_event_ms']:.1f} ms")


if __name__ == "__main__":
    main()
