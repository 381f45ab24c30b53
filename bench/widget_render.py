"""The widget's rendering in Debian's chromium: a long answer of mixed Markdown streamed into it.

The built bundle (src/oairun_jupyter/static/widget.js) is loaded in a page of its own, served on
127.0.0.1, with a stand-in for the widget model; the kernel's writes are replayed at the bridge's
rate (10 a second, each the text that streamed since the last one) as fast as the page takes
them. Figures:

* the longest main-thread task while the answer streams (PerformanceObserver "longtask"),
* the render cost of one frame when the message holds about 10 kB and about 1 MB (their ratio
  is the figure: live Markdown re-renders only the block still growing),
* the time from the first text arriving to the frame that shows it,
* the bundle's size and what each library in it costs (esbuild's metafile).

The page is not JupyterLab (its own work would be measured too): this measures the widget's code.

    .venv/bin/python bench/widget_render.py [--deltas 100000]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STATIC = ROOT / "src" / "oairun_jupyter" / "static"
CHROMIUM = "/usr/bin/chromium"

# One paragraph, a list, a table, a fenced code block and math: repeated to the length asked.
SECTION = ("## Section {n}\n\nThe mean of the values is $\\bar{{x}} = \\frac{{1}}{{n}}\\sum x_i$, "
           "and **most** of them are *small*.\n\n- first point\n- second point with `code`\n\n"
           "| city | temperature |\n|---|---|\n| Oslo | 9 |\n| Lima | 18 |\n\n"
           "```python\ndef mean(values):\n    return sum(values) / len(values)\n```\n\n")

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/widget.css"></head>
<body><div id="out"></div><script type="module">
import widget from "/widget.js";
const longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push([e.startTime, e.duration]); })
  .observe({ type: "longtask", buffered: true });
const frameCosts = [];  // [message length, ms] of each animation-frame callback
const raf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (fn) => raf((t) => { const s = performance.now(); fn(t);
  frameCosts.push([window.__length, performance.now() - s]); });
const handlers = new Map();
const state = { header: { status: "in_progress", run_id: "run_bench", created_at: 1 }, messages: [
  { id: "msg", role: "assistant", status: "in_progress", text: "" }], steps: [], records: {}, confirm: {}, control: {} };
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; }, send() {},
  on: (e, f) => handlers.set(e, [...(handlers.get(e) ?? []), f]), off() {} };
widget.render({ model, el: document.getElementById("out") });
// in a notebook the widget shows when the run is created, before its first text: its one-time
// warm-up (the Markdown libraries' first use) is over by then
await new Promise((resolve) => setTimeout(resolve, 300));
const frame = () => new Promise((r) => raf(() => r()));
window.stream = async (pieces) => {
  let offset = 0; window.__length = 0; let firstPixel = null;
  const start = performance.now();
  window.__streamStart = start;
  for (const piece of pieces) {
    const sent = performance.now();
    for (const f of handlers.get("msg:custom")) f({ type: "append", pieces: [["m", "msg", offset, piece]] });
    offset += piece.length; window.__length = offset;
    await frame();  // the view draws at the next frame
    if (firstPixel === null) { await frame(); firstPixel = performance.now() - sent; }  // and it is painted
  }
  const streamed = performance.now() - start;
  const streamEnd = performance.now();
  state.messages = [{ ...state.messages[0], status: "completed", text: pieces.join("") }];
  const finalStart = performance.now();
  for (const f of handlers.get("change:messages")) f();
  const finalRender = performance.now() - finalStart;
  await frame();
  return { longTasks: longTasks.filter(([at]) => at >= start && at < streamEnd).map(([, ms]) => ms),
           allLongTasks: longTasks.map(([at, ms]) => [Math.round(at - start), Math.round(ms)]),
           frameCosts, firstPixel, streamed, finalRender,
           tables: document.querySelectorAll("table").length, math: document.querySelectorAll("math").length };
};
window.ready = true;
</script></body></html>"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _pieces(total_chars: int, deltas: int, writes_per_second: float = 10.0) -> list[str]:
    """The text as the bridge writes it: `deltas` word-sized deltas, gathered 10 writes a second
    at 1,000 deltas a second (a fast model): 100 deltas a write."""
    text = "".join(SECTION.format(n=n) for n in range(total_chars // len(SECTION) + 1))[:total_chars]
    per_write = max(1, int(1000 / writes_per_second))
    step = max(1, len(text) // max(deltas, 1)) * per_write
    return [text[i:i + step] for i in range(0, len(text), step)]


def _bundle_sizes() -> dict:
    """The bundle's bytes and each library's share, from esbuild's metafile (built in a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="oairun-bench-") as folder:
        meta = Path(folder) / "meta.json"
        subprocess.run([str(ROOT / "js" / "node_modules" / ".bin" / "esbuild"), "widget.js", "--bundle", "--format=esm",
                        "--minify", "--target=es2020", f"--outfile={folder}/widget.js", f"--metafile={meta}"],
                       cwd=ROOT / "js", check=True, capture_output=True)
        outputs = json.loads(meta.read_text())["outputs"]
        (bundle,) = [v for k, v in outputs.items() if k.endswith("widget.js")]
    shares: dict[str, int] = {}
    for path, info in bundle["inputs"].items():
        parts = path.split("node_modules/")
        library = parts[-1].split("/")[0] if len(parts) > 1 else "oairun-jupyter (js/)"
        if library.startswith("@"):
            library = "/".join(parts[-1].split("/")[:2])
        shares[library] = shares.get(library, 0) + info["bytesInOutput"]
    return {"bytes": bundle["bytes"], "by_library": dict(sorted(shares.items(), key=lambda kv: -kv[1]))}


def measure(total_chars: int = 1_000_000, deltas: int = 100_000) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="oairun-bench-") as folder:
        site = Path(folder)
        (site / "index.html").write_text(PAGE)
        for name in ("widget.js", "widget.css"):
            (site / name).write_bytes((STATIC / name).read_bytes())
        handler = functools.partial(_QuietHandler, directory=str(site))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
                page.wait_for_function("window.ready === true")
                result = page.evaluate("pieces => window.stream(pieces)", _pieces(total_chars, deltas))
                browser.close()
        finally:
            server.shutdown()
    costs = result["frameCosts"]

    def around(length: int) -> float:
        near = sorted(ms for n, ms in costs if n is not None and 0.5 * length <= n <= 1.5 * length)
        return near[len(near) // 2] if near else float("nan")
    small, large = around(10_000), around(total_chars)
    return {"chars": total_chars, "writes": len(_pieces(total_chars, deltas)),
            "longest_task_ms": max(result["longTasks"], default=0.0),
            "frame_ms_10kb": small, "frame_ms_1mb": large, "frame_ratio": large / small if small else float("nan"),
            "first_pixel_ms": result["firstPixel"], "stream_seconds": result["streamed"] / 1000,
            "final_render_ms": result["finalRender"], "long_tasks": result["allLongTasks"],
            "tables": result["tables"], "math": result["math"],
            "bundle": _bundle_sizes()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--deltas", type=int, default=100_000)
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit("Debian's chromium is needed (apt-get install chromium)")
    figures = measure(args.chars, args.deltas)
    print(f"{figures['chars']:,} characters of mixed Markdown in {figures['writes']} widget writes, "
          f"streamed in {figures['stream_seconds']:.1f} s")
    longest = figures["longest_task_ms"]  # the browser reports tasks of 50 ms and more only
    print("longest main-thread task while streaming: " + (f"{longest:.0f} ms" if longest else "none of 50 ms or more"))
    print(f"render cost of a frame: {figures['frame_ms_10kb']:.2f} ms at 10 kB, {figures['frame_ms_1mb']:.2f} ms at "
          f"1 MB (x{figures['frame_ratio']:.2f})")
    print(f"first text to its frame: {figures['first_pixel_ms']:.1f} ms; final render of the whole message: "
          f"{figures['final_render_ms']:.0f} ms")
    bundle = figures["bundle"]
    print(f"bundle: {bundle['bytes'] / 1024:.0f} kB: " + ", ".join(
        f"{name} {size / 1024:.0f} kB" for name, size in bundle["by_library"].items()))


if __name__ == "__main__":
    main()
