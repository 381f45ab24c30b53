"""One measured read of a benchmark stream, in a fresh process: time, CPU and peak memory.

    python bench/stream_client.py MODE BASE_URL   (MODE: raw | sdk | ours)

Prints one JSON line: events, seconds, cpu, peak_rss_kb, start_rss_kb, text_length.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_raw(base_url: str) -> tuple[int, int]:
    """The wire's own cost: httpx line iteration and json.loads of each data line."""
    import httpx
    events = length = 0
    with httpx.Client(timeout=None) as client:
        with client.stream("POST", f"{base_url}/threads/thread_bench/runs", json={"assistant_id": "asst_bench",
                                                                               "stream": True}) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    data = json.loads(line[6:])
                    events += 1
                    if data.get("object") == "thread.message.delta":
                        length += len(data["delta"]["content"][0]["text"]["value"])
    return events, length


def read_sdk(base_url: str) -> tuple[int, int]:
    """The official SDK's runs.stream with an AssistantEventHandler that keeps the text."""
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    import openai

    class Collector(openai.AssistantEventHandler):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.events = 0

        def on_event(self, event) -> None:
            self.events += 1

        def on_text_delta(self, delta, snapshot) -> None:
            self.parts.append(delta.value or "")

    handler = Collector()
    with openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0) as client:
        with client.beta.threads.runs.stream(thread_id="thread_bench", assistant_id="asst_bench",
                                             event_handler=handler) as stream:
            stream.until_done()
    return handler.events, len("".join(handler.parts))


def read_ours(base_url: str) -> tuple[int, int]:
    """Our RunStream, accumulating event_data."""
    import oairun_jupyter as oai
    oai.configure(base_url=base_url, max_retries=0)
    run = oai.oai_create_run("thread_bench", "asst_bench", stream=True)
    events = sum(1 for _ in run.events(run_tools=False))
    message = run.event_data.messages["msg_bench"]
    return events, len(message["content"][0]["text"]["value"])


if __name__ == "__main__":
    mode, base_url = sys.argv[1], sys.argv[2]
    reader = {"raw": read_raw, "sdk": read_sdk, "ours": read_ours}[mode]
    import httpx  # noqa: F401  (imports are not part of the measurement)
    if mode == "sdk":
        import openai  # noqa: F401
    if mode == "ours":
        import oairun_jupyter  # noqa: F401
    start_rss = _rss_kb()
    wall, cpu = time.perf_counter(), time.process_time()
    events, length = reader(base_url)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"events": events, "seconds": wall, "cpu": cpu, "peak_rss_kb": peak,
                      "start_rss_kb": start_rss, "text_length": length}))
