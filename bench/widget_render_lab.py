"""The widget's rendering inside JupyterLab, in Debian's chromium: a long answer of mixed Markdown
streamed through the whole product.

A stand-in chat model on 127.0.0.1 streams the text as word deltas at a model's pace (2,000 a
second by default); the kernel's own runs server (chat-completions backend) relays them; the
notebook's `RunStream` widget shows them in JupyterLab. JupyterLab's own work is on the same
main thread, so it is measured too. Figures:

* the longest main-thread task while the answer streams (PerformanceObserver "longtask");
* the cost of a frame the widget draws in (the sum of the frame's requestAnimationFrame
  callbacks, the widget's and JupyterLab's) while the message holds about 10 kB and while it
  holds about 1 MB, and their ratio (the page never reads the message's length while it streams: the model writes
  at a steady pace, so the time says how much has arrived);
* the time from the model's first text leaving the stand-in to the frame that shows it in the
  notebook (same machine, same clock);
* the standalone page's figures for the same text (bench/widget_render.py), as the baseline
  measured in the same run: what JupyterLab adds.

    .venv/bin/python bench/widget_render_lab.py [--chars 1000000] [--rate 2000]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import widget_render  # noqa: E402

from tests.support.jupyterlab import JupyterLab, launch_page, open_notebook, run_all_cells  # noqa: E402
from tests.support.notebooks import make_notebook  # noqa: E402

PROBE = """
window.__bench = { longTasks: [], frames: [], firstPixel: null };
new PerformanceObserver((list) => { for (const e of list.getEntries())
  window.__bench.longTasks.push([performance.timeOrigin + e.startTime, e.duration]); })
  .observe({ type: "longtask", buffered: true });
const raf = window.requestAnimationFrame.bind(window);
// every callback of a frame gets the frame's time `t`; the widget's own (its view's flush) is told
// apart from JupyterLab's by its source, so that frames the widget draws in can be picked out
window.requestAnimationFrame = (fn) => { const widget = window.__tagWidgetFrames && String(fn).includes("flush()");
  return raf((t) => { const s = performance.now(); fn(t);
    window.__bench.frames.push([performance.timeOrigin + t, performance.now() - s, widget]); }); };
// the length is never read while the answer streams (reading 1 MB of text is a cost of its own):
// the model writes at a steady pace, so the time says how much has arrived
window.__length = () => [...document.querySelectorAll(".oairun-assistant")].reduce((n, m) => n + m.textContent.length, 0);
// the first text's frame: watched closely (a mutation observer, until it is seen)
const watch = new MutationObserver(() => {
  if (document.querySelector(".oairun-assistant") && window.__length() > 0) {
    watch.disconnect();
    raf(() => raf(() => { window.__bench.firstPixel = Date.now(); }));
  }
});
document.addEventListener("DOMContentLoaded", () => watch.observe(document.body, { subtree: true, childList: true, characterData: true }));
"""


class PacedChatModel:
    """A chat-completions stand-in streaming `text` as word deltas, `rate` a second."""

    def __init__(self, text: str, rate: float, think_seconds: float) -> None:
        words = re.findall(r"\S*\s*", text)
        self.chunks = [w for w in words if w]
        self.rate = rate
        self.think_seconds = think_seconds  # before the first text, as a model thinks (the widget shows meanwhile)
        self.first_text_at: float | None = None
        self.last_text_at: float | None = None
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                model.stream(self.wfile)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _chunk(delta: dict, finish: str | None = None) -> bytes:
        return ("data: " + json.dumps({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1,
                                        "model": "bench", "choices": [{"index": 0, "delta": delta,
                                                                       "finish_reason": finish}]}) + "\n\n").encode()

    def stream(self, out) -> None:
        out.write(self._chunk({"role": "assistant", "content": ""}))
        out.flush()
        time.sleep(self.think_seconds)
        per_write = max(1, int(self.rate / 100))  # a write every 10 ms
        started = time.monotonic()
        for n in range(0, len(self.chunks), per_write):
            if self.first_text_at is None:
                self.first_text_at = time.time()
            out.write(b"".join(self._chunk({"content": piece}) for piece in self.chunks[n:n + per_write]))
            out.flush()
            pause = started + (n + per_write) / self.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self.last_text_at = time.time()
        out.write(self._chunk({}, "stop") + b"data: [DONE]\n\n")
        out.flush()

    def stop(self) -> None:
        self.server.shutdown()


def measure(chars: int, rate: float, tag_widget_frames: bool, think_seconds: float = 2.0) -> dict:
    """One streamed answer in JupyterLab. Telling the widget's frames apart reads each frame
    callback's source, a cost of its own (long tasks appear): a run that does so gives the frame
    costs only, a run that does not gives the long tasks and the first pixel."""
    from playwright.sync_api import sync_playwright

    text = "".join(widget_render.SECTION.format(n=n) for n in range(chars // len(widget_render.SECTION) + 1))[:chars]
    model = PacedChatModel(text, rate, think_seconds)
    lab = JupyterLab()
    try:
        setup = (
            "from oairun_jupyter import configure, oai_create_assistant, oai_create_thread_and_run\n"
            "from oairun_jupyter.server import start_local_server\n"
            f"server = start_local_server(backend='chat-completions', base_url={model.base_url!r}, api_key='unused')\n"
            "configure(base_url=server.base_url)\n"
            "assistant = oai_create_assistant('bench', name='Render bench')")
        name = lab.add("render.ipynb", json.dumps(make_notebook(
            setup, "run = oai_create_thread_and_run(assistant, thread={'messages': ['write']}, stream=True)\nrun")))
        with sync_playwright() as playwright:
            context, page = launch_page(playwright)
            try:
                context.add_init_script(f"window.__tagWidgetFrames = {str(tag_widget_frames).lower()};\n" + PROBE)
                open_notebook(page, lab, name)
                run_all_cells(page)
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.jp-OutputArea-output .oairun-badge')]"
                    ".some(b => b.textContent === 'completed')", timeout=(chars / rate / 5 + 300) * 1000)
                bench = page.evaluate("() => ({ ...window.__bench, length: window.__length() })")
            finally:
                context.close()
    finally:
        lab.stop()
        model.stop()
    started, final = model.first_text_at, bench["length"]
    ended = model.last_text_at

    def length_at(at_ms: float) -> float:  # the model writes at a steady pace
        return final * min(max((at_ms / 1000 - started) / (ended - started), 0.0), 1.0)

    per_frame: dict[float, list[float]] = {}  # frame time -> [all callbacks' cost, the widget's]
    for at, ms, widget in bench["frames"]:
        if started * 1000 <= at <= ended * 1000:
            costs = per_frame.setdefault(at, [0.0, 0.0])
            costs[0] += ms
            costs[1] += ms if widget else 0.0
    # the frames the widget drew in (about ten a second: it draws when text arrives)
    streaming = [(length_at(at), whole) for at, (whole, widget) in per_frame.items() if widget > 0]

    def around(size: int) -> float:
        near = sorted(ms for n, ms in streaming if 0.5 * size <= n <= 1.5 * size)
        return near[len(near) // 2] if near else float("nan")
    small, large = around(10_000), around(final)
    long_tasks = [ms for at, ms in bench["longTasks"] if started * 1000 <= at <= ended * 1000]
    # where in the answer they came: the percentage of it shown by then
    long_task_places = [(round(100 * length_at(at) / final) if final else 0, round(ms))
                        for at, ms in bench["longTasks"] if started * 1000 <= at <= ended * 1000]
    return {"chars": final, "stream_seconds": ended - started,
            "longest_task_ms": max(long_tasks, default=0.0), "long_tasks": len(long_tasks),
            "long_task_places": long_task_places,
            "frame_ms_10kb": small, "frame_ms_final": large,
            "frame_ratio": large / small if small else float("nan"),
            "first_pixel_ms": (bench["firstPixel"] - started * 1000) if bench["firstPixel"] else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="word deltas a second")
    args = parser.parse_args()
    lab = measure(args.chars, args.rate, tag_widget_frames=False)
    frames = measure(args.chars, args.rate, tag_widget_frames=True)
    lab.update({key: frames[key] for key in ("frame_ms_10kb", "frame_ms_final", "frame_ratio")})
    alone = widget_render.measure(args.chars, int(args.chars / 7))
    print(f"in JupyterLab: {lab['chars']:,} characters of mixed Markdown streamed in {lab['stream_seconds']:.0f} s")
    longest = lab["longest_task_ms"]
    print("longest main-thread task while streaming: "
          + (f"{longest:.0f} ms ({lab['long_tasks']} tasks of 50 ms or more)" if longest else "none of 50 ms or more")
          + f"; standalone page: {alone['longest_task_ms']:.0f} ms")
    if lab["long_task_places"]:
        print("  (% of the answer shown, ms): " + ", ".join(f"{p}%: {ms}" for p, ms in lab["long_task_places"][:30]))
    print(f"cost of a frame the widget draws in: {lab['frame_ms_10kb']:.2f} ms at 10 kB, "
          f"{lab['frame_ms_final']:.2f} ms at {lab['chars'] / 1e6:.1f} MB (x{lab['frame_ratio']:.2f}); "
          f"standalone page: x{alone['frame_ratio']:.2f}")
    print(f"model's first text to its frame in the notebook: {lab['first_pixel_ms']:.0f} ms "
          f"(standalone page, widget only: {alone['first_pixel_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
