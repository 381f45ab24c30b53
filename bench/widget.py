"""Widget bridge figures in a real kernel: messages and bytes sent for a long run, and CPU.

For a run of N deltas (default 100,000) streamed through a displayed RunWidget: the number of
widget messages from kernel to browser, their bytes against the length of the text, and the
kernel's CPU time with the widget displayed against the same run read without any display.

    .venv/bin/python bench/widget.py [--deltas 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from jupyter_client.manager import start_new_kernel

SETUP = """
import resource
from oairun_jupyter import *
from oairun_jupyter.server import start_local_server
server = start_local_server(pace=0)
configure(base_url=server.base_url)
assistant = oai_create_assistant('scripted')
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
"""


def execute(client, code: str) -> list[dict]:
    msg_id = client.execute(code)
    seen = []
    while True:
        message = client.get_iopub_msg(timeout=600)
        message["received"] = time.monotonic()
        seen.append(message)
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle" \
                and message["parent_header"].get("msg_id") == msg_id:
            return seen


def printed(messages: list[dict]) -> str:
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


def one(client, deltas: int, displayed: bool) -> dict:
    execute(client, "c0 = cpu()")
    code = (f"run = oai_create_thread_and_run(assistant, thread={{'messages': ['/long {deltas}']}}, stream=True)\n"
            + ("run" if displayed else "run.wait();"))
    messages = execute(client, code)
    cpu = float(printed(execute(client, "print(cpu() - c0)")))
    text_length = int(printed(execute(client, "print(len(list(run.event_data.messages.values())[0]"
                                               "['content'][0]['text']['value']))")))
    widget = [m for m in messages if m["msg_type"] in ("comm_open", "comm_msg")]
    sent = sum(len(json.dumps(m["content"])) for m in widget)
    module = sum(len(json.dumps(m["content"])) for m in widget if m["msg_type"] == "comm_open")
    times = [m["received"] for m in widget]
    return {"cpu": cpu, "messages": len(widget), "bytes": sent, "module": module, "text": text_length,
            "seconds": (times[-1] - times[0]) if times else 0.0, "busiest_second": busiest_second(times)}


def busiest_second(times: list[float]) -> int:
    """The most messages that arrived within any one second (a window starting at each arrival)."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(ordered):
        while ordered[first] <= moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def measure(deltas: int = 100_000, repeat: int = 3) -> dict:
    """Widget messages, bytes and kernel CPU for one long run, displayed against not displayed."""
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        execute(client, SETUP)
        shown = [one(client, deltas, True) for _ in range(repeat)]
        bare = [one(client, deltas, False) for _ in range(repeat)]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    median = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    text = median(shown, "text")
    return {"deltas": deltas, "text_chars": text, "messages": median(shown, "messages"),
            "seconds": median(shown, "seconds"),
            "messages_per_s": median(shown, "messages") / max(median(shown, "seconds"), 1e-9),
            "busiest_second": max(r["busiest_second"] for r in shown),
            "bytes": median(shown, "bytes"), "module_bytes": median(shown, "module"),
            "bytes_over_text": median(shown, "bytes") / text,
            "bytes_over_text_without_module": (median(shown, "bytes") - median(shown, "module")) / text,
            "cpu_with_widget_s": median(shown, "cpu"), "cpu_without_s": median(bare, "cpu"),
            "cpu_ratio": median(shown, "cpu") / median(bare, "cpu")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    f = measure(args.deltas, args.repeat)
    print(f"{args.deltas:,} deltas, {f['text_chars']:,.0f} characters of text:")
    print(f"  widget messages: {f['messages']:.0f} over {f['seconds']:.2f} s ({f['messages_per_s']:.1f}/s), bytes "
          f"{f['bytes']:,.0f} = {f['bytes_over_text']:.2f} x the text; without the one-time widget module "
          f"({f['module_bytes']:,.0f} bytes): {f['bytes_over_text_without_module']:.2f} x")
    print(f"  busiest second: {f['busiest_second']} widget messages (throttle: 2 per write, 10 writes/s)")
    print(f"  kernel CPU: {f['cpu_with_widget_s']:.2f} s with the widget, {f['cpu_without_s']:.2f} s without "
          f"(ratio {f['cpu_ratio']:.2f})")


if __name__ == "__main__":
    main()
