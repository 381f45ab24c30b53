"""Every benchmark in one run (`make bench`): a table, bench/results/latest.json and latest.md.

Each figure comes with the baseline it is compared with, measured in the same run (medians of
repeats), and each target of the benchmark issue is checked: met, or missed with the figure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import runs as runs_bench  # noqa: E402
import server as server_bench  # noqa: E402
import stream as stream_bench  # noqa: E402
import widget as widget_bench  # noqa: E402
import widget_render as render_bench  # noqa: E402


def main() -> None:
    started = time.monotonic()
    results = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    print("stream processing (100,000 deltas) ...", flush=True)
    results["stream"] = stream_bench.compare(100_000, 3)
    print("scaling (10k, 100k, 1M deltas) ...", flush=True)
    results["scaling"] = stream_bench.scaling(repeat=3)
    print("widget bridge (100,000 deltas, real kernel) ...", flush=True)
    results["widget"] = widget_bench.measure(100_000, 3)
    print("widget rendering (1 MB of mixed Markdown, chromium) ...", flush=True)
    results["render"] = render_bench.measure()
    print("runs server ...", flush=True)
    results["server"] = server_bench.measure(repeat=5)
    results["chat_backend"] = server_bench.backend_overhead("chat-completions", repeat=3)
    results["responses_backend"] = server_bench.backend_overhead("responses", repeat=3)
    print("tool dispatch ...", flush=True)
    results["tools"] = runs_bench.measure(repeat=5)
    results["seconds"] = time.monotonic() - started

    s, sc, w, sv, ch, rs, t, rd = (results[k] for k in ("stream", "scaling", "widget", "server", "chat_backend",
                                                         "responses_backend", "tools", "render"))
    r = sc["ratios"]["1000000/100000"]
    rows = [
        ("(b) official SDK / (c) RunStream, CPU", f"{s['sdk_over_ours_cpu']:.1f}x", ">= 2x", s["sdk_over_ours_cpu"] >= 2),
        ("(c) RunStream / (a) httpx lines + json, CPU", f"{s['ours_over_raw_cpu']:.2f}x", "<= 2x", s["ours_over_raw_cpu"] <= 2),
        ("events/s: (a) wire / (b) SDK / (c) ours",
         " / ".join(f"{s['readers'][m]['events_per_s']:,.0f}" for m in ("raw", "sdk", "ours")), "", True),
        ("1M / 100k deltas, time", f"{r['time']:.2f}x", "<= 12x", r["time"] <= 12),
        ("1M / 100k deltas, memory above the text", f"{r['memory']:.2f}x", "<= 12x", r["memory"] <= 12),
        ("widget messages per second", f"{w['messages_per_s']:.1f}/s ({w['messages']:.0f} in {w['seconds']:.2f} s)",
         "<= 20/s", w["messages_per_s"] <= 20),
        ("widget messages in the busiest second", f"{w['busiest_second']}", "<= 24", w["busiest_second"] <= 24),
        ("widget bytes / text length (without the one-time module)",
         f"{w['bytes_over_text']:.2f}x ({w['bytes_over_text_without_module']:.2f}x)", "<= 2x",
         w["bytes_over_text_without_module"] <= 2),
        ("kernel CPU with widget / without", f"{w['cpu_ratio']:.2f}x", "", True),
        ("widget: longest main-thread task while 1 MB of Markdown streams", f"{rd['longest_task_ms']:.0f} ms",
         "< 50 ms", rd["longest_task_ms"] < 50),
        ("widget: frame render cost at 1 MB / at 10 kB",
         f"{rd['frame_ratio']:.2f}x ({rd['frame_ms_1mb']:.1f} ms / {rd['frame_ms_10kb']:.1f} ms)", "<= 2x",
         rd["frame_ratio"] <= 2),
        ("widget: first text to its frame; bundle", f"{rd['first_pixel_ms']:.0f} ms; {rd['bundle']['bytes'] / 1024:.0f} kB "
         "(" + ", ".join(f"{k} {v / 1024:.0f}" for k, v in rd["bundle"]["by_library"].items()) + ")", "", True),
        ("server: time to first event", f"{sv['first_event_ms']:.1f} ms", "< 20 ms", sv["first_event_ms"] < 20),
        ("server: one run of 100k deltas", f"{sv['one_run_events_per_s']:,.0f} events/s ({sv['one_run_seconds']:.2f} s)", "", True),
        ("server: 50 concurrent streaming runs",
         f"{sv['concurrent_completed']}/50 in {sv['concurrent_seconds']:.2f} s, {sv['concurrent_errors']} errors",
         "all complete", sv["concurrent_completed"] == 50 and sv["concurrent_errors"] == 0),
        ("chat-completions backend / reading upstream directly",
         f"{ch['overhead_ratio']:.2f}x ({ch['through_server_seconds']:.2f} s vs {ch['direct_seconds']:.2f} s)", "<= 1.5x",
         ch["overhead_ratio"] <= 1.5),
        ("responses backend / reading upstream directly",
         f"{rs['overhead_ratio']:.2f}x ({rs['through_server_seconds']:.2f} s vs {rs['direct_seconds']:.2f} s)", "<= 1.5x",
         rs["overhead_ratio"] <= 1.5),
        ("responses backend: time to first event", f"{rs['first_event_ms']:.1f} ms", "", True),
        ("5 parallel 200 ms tools / one call (executor; Run.wait)",
         f"{t['executor_over_one_call']:.2f}x; {t['wait_over_one_call']:.2f}x", "<= 1.5x",
         t["wait_over_one_call"] <= 1.5),
    ]
    results["targets"] = [{"figure": f, "value": v, "target": g, "met": bool(m)} for f, v, g, m in rows]
    width = max(len(f) for f, *_ in rows)
    print()
    for figure, value, target, met in rows:
        mark = "" if not target else ("  met" if met else "  MISSED")
        print(f"{figure:<{width}}  {value:<40} {target:<12}{mark}")
    print(f"\n{results['machine']}; all benchmarks in {results['seconds']:.0f} s")
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "latest.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    with open(os.path.join(out, "latest.md"), "w") as handle:
        handle.write(f"# Benchmarks ({results['when']}, {results['machine']})\n\n`make bench`\n\n"
                     "| figure | value | target | |\n| --- | --- | --- | --- |\n")
        for figure, value, target, met in rows:
            handle.write(f"| {figure} | {value} | {target} | {'' if not target else ('met' if met else 'MISSED')} |\n")


if __name__ == "__main__":
    main()
