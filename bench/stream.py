"""Stream processing against the official SDK and the wire, and how it scales.

A source process (sse_source.py) sends a run stream of N message deltas at full speed; each reader
runs in a fresh process (stream_client.py) so that time, CPU and peak memory are its own:
(a) raw httpx lines + json.loads, (b) the official SDK's runs.stream with an event handler,
(c) our RunStream accumulating event_data.

    .venv/bin/python bench/stream.py [--deltas 100000] [--repeat 3] [--scaling]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Source:
    def __init__(self, deltas: int) -> None:
        self.port = _port()
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "sse_source.py"), str(deltas),
                                         str(self.port)], stdout=subprocess.PIPE, text=True)
        self.process.stdout.readline()
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(10)


def read(mode: str, url: str) -> dict:
    out = subprocess.run([sys.executable, os.path.join(HERE, "stream_client.py"), mode, url],
                         capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def compare(deltas: int, repeat: int) -> dict:
    """(a), (b), (c) on one stream of `deltas` deltas: medians of `repeat` reads each."""
    with Source(deltas) as source:
        rows = {mode: [read(mode, source.url) for _ in range(repeat)] for mode in ("raw", "ours", "sdk")}
    figures = {mode: {"cpu_s": median(r, "cpu"), "wall_s": median(r, "seconds"),
                      "events_per_s": median(r, "events") / median(r, "seconds")} for mode, r in rows.items()}
    lengths = {mode: r[0]["text_length"] for mode, r in rows.items()}
    assert len(set(lengths.values())) == 1, f"the readers disagree on the text: {lengths}"
    return {"deltas": deltas, "readers": figures,
            "sdk_over_ours_cpu": figures["sdk"]["cpu_s"] / figures["ours"]["cpu_s"],
            "ours_over_raw_cpu": figures["ours"]["cpu_s"] / figures["raw"]["cpu_s"]}


def scaling(sizes=(10_000, 100_000, 1_000_000), repeat: int = 3) -> dict:
    """Our reader's time and peak memory above the text itself, at growing sizes."""
    out = {}
    for size in sizes:
        with Source(size) as source:
            rows = [read("ours", source.url) for _ in range(repeat if size < 1_000_000 else max(1, repeat - 1))]
        grown = median(rows, "peak_rss_kb") * 1024 - median(rows, "start_rss_kb") * 1024
        out[size] = {"cpu_s": median(rows, "cpu"), "wall_s": median(rows, "seconds"),
                     "memory_above_text_bytes": max(grown - rows[0]["text_length"], 0),
                     "text_bytes": rows[0]["text_length"]}
    keys = sorted(out)
    ratios = {f"{b}/{a}": {"time": out[b]["cpu_s"] / out[a]["cpu_s"],
                           "memory": out[b]["memory_above_text_bytes"] / max(out[a]["memory_above_text_bytes"], 1)}
              for a, b in zip(keys, keys[1:])}
    return {"sizes": out, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scaling", action="store_true")
    args = parser.parse_args()
    print(json.dumps(compare(args.deltas, args.repeat), indent=2))
    if args.scaling:
        print(json.dumps(scaling(repeat=args.repeat), indent=2))


if __name__ == "__main__":
    main()
