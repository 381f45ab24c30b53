"""Team-server figures (issue 18): streaming runs per second and time to first event with 1 and 2
workers on PostgreSQL and 1 on SQLite (the baseline, measured in the same run), 1,000 concurrent
streaming runs across two workers, and the time a killed worker's run takes to end.

Each worker is `oairun-jupyter serve` in a process of its own (scripted backend, no pacing);
PostgreSQL is Debian's, started in a temporary folder by the tests' own helper and stopped at
the end. A run streams `/long 20` (20 text deltas, about 35 events).

    .venv/bin/python bench/team.py [--runs 300] [--clients 30] [--concurrent 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import server as server_bench  # noqa: E402

from tests.support.postgres import PostgresCluster  # noqa: E402


def start_worker(db: str, lease_seconds: float = 10.0) -> tuple[subprocess.Popen, str]:
    """A worker on `db` (the server bench's start-up, with the database and lease given)."""
    return server_bench.start_server(["--db", db, "--lease-seconds", str(lease_seconds)])


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


async def one_run(client: httpx.AsyncClient, base: str, assistant: str) -> tuple[float, bool]:
    """(seconds to the first event, whether the run completed) of one streamed run."""
    started = time.perf_counter()
    first = None
    completed = False
    body = {"assistant_id": assistant, "stream": True,
            "thread": {"messages": [{"role": "user", "content": "/long 20"}]}}
    async with client.stream("POST", f"{base}/threads/runs", json=body) as response:
        async for line in response.aiter_lines():
            if first is None and line.startswith("event:"):
                first = time.perf_counter() - started
            if line == "event: thread.run.completed":
                completed = True
    return (first if first is not None else float("nan")), completed


async def drive(bases: list[str], runs: int, clients: int) -> dict:
    """`runs` streamed runs, `clients` at a time, spread over the workers in turn."""
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        assistant = (await client.post(f"{bases[0]}/assistants", json={"model": "scripted"})).json()["id"]
        gate = asyncio.Semaphore(clients)
        results: list[tuple[float, bool]] = []
        errors: list[str] = []

        async def run(n: int) -> None:
            async with gate:
                try:
                    results.append(await one_run(client, bases[n % len(bases)], assistant))
                except Exception as error:
                    errors.append(repr(error))
        started = time.perf_counter()
        await asyncio.gather(*(run(n) for n in range(runs)))
        wall = time.perf_counter() - started
    firsts = sorted(first for first, _ in results)
    return {"runs_per_second": runs / wall, "wall": wall, "completed": sum(ok for _, ok in results),
            "errors": len(errors), "first_error": errors[0] if errors else None,
            "first_event_p50_ms": 1000 * statistics.median(firsts) if firsts else float("nan"),
            "first_event_p99_ms": 1000 * firsts[min(len(firsts) - 1, int(len(firsts) * 0.99))] if firsts else float("nan")}


def measure(db_of, workers: int, runs: int, clients: int) -> dict:
    db = db_of()
    started = [start_worker(db) for _ in range(workers)]
    try:
        return asyncio.run(drive([base for _, base in started], runs, clients))
    finally:
        stop([process for process, _ in started])


def takeover(db: str, lease_seconds: float) -> float:
    """Seconds from the SIGKILL of the worker running a run to the run ending, seen from a survivor."""
    (victim, base_a), (survivor, base_b) = start_worker(db, lease_seconds), start_worker(db, lease_seconds)
    try:
        assistant = httpx.post(f"{base_a}/assistants", json={"model": "scripted"}).json()["id"]
        run = httpx.post(f"{base_a}/threads/runs", json={"assistant_id": assistant, "thread": {
            "messages": [{"role": "user", "content": "/long 1000000"}]}}).json()
        url = f"{base_b}/threads/{run['thread_id']}/runs/{run['id']}"
        while httpx.get(url).json()["status"] != "in_progress":
            time.sleep(0.01)
        victim.kill()  # SIGKILL
        killed = time.perf_counter()
        while httpx.get(url).json()["status"] not in ("failed", "cancelled", "completed"):
            time.sleep(0.02)
        return time.perf_counter() - killed
    finally:
        stop([victim, survivor])


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=1000)
    args = parser.parse_args([] if __name__ != "__main__" else None)
    cluster = PostgresCluster()
    folder = Path(tempfile.mkdtemp(prefix="oairun-bench-team-"))
    figures: dict = {}
    try:
        sqlite_files = iter(str(folder / f"runs{n}.sqlite3") for n in range(10))
        figures["sqlite_1"] = measure(lambda: next(sqlite_files), 1, args.runs, args.clients)
        figures["postgres_1"] = measure(cluster.new_database, 1, args.runs, args.clients)
        figures["postgres_2"] = measure(cluster.new_database, 2, args.runs, args.clients)
        figures["postgres_2_concurrent"] = measure(cluster.new_database, 2, args.concurrent, args.concurrent)
        figures["takeover_seconds_lease_2"] = takeover(cluster.new_database(), 2.0)
        figures["takeover_seconds_lease_10"] = takeover(cluster.new_database(), 10.0)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    base = figures["sqlite_1"]["runs_per_second"]
    print(f"{'configuration':<26}{'runs/s':>9}{'x SQLite':>10}{'first p50':>11}{'first p99':>11}{'done':>7}{'errors':>8}")
    for name in ("sqlite_1", "postgres_1", "postgres_2", "postgres_2_concurrent"):
        f = figures[name]
        print(f"{name:<26}{f['runs_per_second']:>9.1f}{f['runs_per_second'] / base:>10.2f}"
              f"{f['first_event_p50_ms']:>9.1f}ms{f['first_event_p99_ms']:>9.1f}ms{f['completed']:>7}{f['errors']:>8}")
        if f["first_error"]:
            print(f"   first error: {f['first_error']}")
    print(f"takeover after SIGKILL: {figures['takeover_seconds_lease_2']:.2f} s with a 2 s lease, "
          f"{figures['takeover_seconds_lease_10']:.2f} s with the default 10 s lease")
    return figures


if __name__ == "__main__":
    main()
