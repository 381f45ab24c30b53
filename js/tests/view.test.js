import { after, test } from "node:test";
import assert from "node:assert/strict";
import { closeDom, installDom, FakeModel, proxyOf } from "./setup.js";

const window = installDom();
after(() => closeDom(window));
const { RunView } = await import("../view.js");
const { renderMarkdown, renderMarkdownNodes } = await import("../markdown.js");

const HOSTILE = [
  "<img src=x onerror=\"window.__pwned=1\">",
  "<script>window.__pwned=1</script>",
  "[click](javascript:window.__pwned=1)",
  "<a href=\"javascript:alert(1)\">x</a>",
  "<div onmouseover=\"window.__pwned=1\">hover</div>",
  "<svg><script>window.__pwned=1</script></svg>",
  "<iframe src=\"javascript:alert(1)\"></iframe>",
];

function header(status = "in_progress") {
  return { status, run_id: "run_1", assistant_id: "asst_1", assistant_name: "Helper", model: "gpt-x",
    backend: "scripted", started_at: 1000 };
}

test("markdown is rendered and hostile markup is removed", () => {
  const html = renderMarkdown("**bold** and `code`\n\n" + HOSTILE.join("\n\n"));
  assert.match(html, /<strong>bold<\/strong>/);
  assert.doesNotMatch(html, /<script|onerror|onmouseover|javascript:|<iframe/i);
});

test("citations become marked footnotes", () => {
  const marker = "\u30104:0\u2020notes.md\u3011";
  const html = renderMarkdown(`The answer is 42. ${marker}`, [{ type: "file_citation", text: marker,
    file_citation: { file_id: "file-1" } }]);
  assert.match(html, /<sup class="oairun-cite" title="file_citation: file-1">\[1\]<\/sup>/);
  assert.doesNotMatch(html, /\u3010/);
});

test("a web search's url citation stays the link the answer wrote", () => {
  const link = "([weather-atlas.com](https://www.weather-atlas.com/en/redmond))";
  const html = renderMarkdown(`Partly sunny, 59°F. ${link}`, [{ type: "url_citation", text: link,
    url_citation: { url: "https://www.weather-atlas.com/en/redmond", title: "Redmond" } }]);
  assert.match(html, /<a [^>]*href="https:\/\/www\.weather-atlas\.com\/en\/redmond"[^>]*>weather-atlas\.com<\/a>/);
  assert.doesNotMatch(html, /oairun-cite/);
});

test("the view streams appended text, then renders the final markdown once", () => {
  const model = new FakeModel({ header: header(), messages: [
    { id: "msg_u", role: "user", status: "completed", text: "Hi **there**" },
    { id: "msg_a", role: "assistant", status: "in_progress", text: "" }], steps: [], records: {}, confirm: {} });
  const root = document.createElement("div");
  const frames = [];
  const view = new RunView(model, root, (fn) => frames.push(fn));
  assert.equal(root.querySelector(".oairun-badge").textContent, "in progress");
  assert.match(root.querySelector(".oairun-title").textContent, /Helper \(asst_1\)/);
  model.custom({ type: "append", pieces: [["m", "msg_a", 0, "Hello"]] });
  model.custom({ type: "append", pieces: [["m", "msg_a", 5, " *world*"]] });
  assert.equal(frames.length, 1, "appends between two frames are coalesced into one redraw");
  frames.shift()();
  model.custom({ type: "append", pieces: [["m", "msg_a", 13, "!"]] });
  frames.shift()();
  const body = root.querySelector('[data-message="msg_a"] .oairun-body');
  assert.equal(body.textContent.trim(), "Hello world!");
  assert.equal(body.querySelector("em").textContent, "world"); // Markdown while it streams
  // a finished block is rendered once and stays; only the growing block is rendered again
  model.custom({ type: "append", pieces: [["m", "msg_a", 14, "\n\n- one\n- two\n\nmore"]] });
  frames.shift()();
  const first = body.querySelector(".oairun-block");
  assert.equal(first.textContent.trim(), "Hello world!");
  model.custom({ type: "append", pieces: [["m", "msg_a", 33, " text"]] });
  frames.shift()();
  assert.equal(body.querySelector(".oairun-block"), first, "the finished block was not rendered again");
  assert.equal(body.querySelectorAll(".oairun-tail li").length, 2); // (happy-dom's DOMPurify drops <table>)
  assert.match(body.querySelector(".oairun-tail").textContent, /more text/);
  const full = "Hello *world*!\n\n- one\n- two\n\nmore text";
  model.set("messages", [model.get("messages")[0], { id: "msg_a", role: "assistant", status: "completed", text: full }]);
  view.sync();
  assert.match(body.innerHTML, /Hello <em>world<\/em>!/);  // and the whole text rendered afresh at the end
  const fresh = document.createElement("div");
  fresh.append(renderMarkdownNodes(full));
  assert.equal(body.innerHTML, fresh.innerHTML);
  assert.ok(!body.classList.contains("oairun-streaming"));
  assert.equal(root.querySelector('[data-message="msg_u"] strong').textContent, "there");
});

test("tool cards show arguments while streaming, the function, the output and errors", () => {
  const model = new FakeModel({ header: header("requires_action"), messages: [], records: {}, confirm: {},
    steps: [{ id: "step_1", type: "tool_calls", status: "in_progress", tool_calls: [
      { index: 0, id: "call_1", type: "function", name: "get_weather", arguments: "" }] }] });
  const root = document.createElement("div");
  const frames = [];
  const view = new RunView(model, root, (fn) => frames.push(fn));
  assert.equal(root.querySelector(".oairun-badge").textContent, "waiting for tools");
  model.custom({ type: "append", pieces: [["a", "step_1:0", 0, '{"city": "Pa']] });
  frames.shift()();
  assert.equal(root.querySelector(".oairun-tool-args").textContent, '{"city": "Pa');
  model.set("records", { call_1: { status: "error", function: "weather.get_weather", duration: 0.25,
    error: "ValueError: <img src=x onerror=alert(1)>", traceback: "Traceback ...", output: "Error: ..." } });
  model.set("steps", [{ id: "step_1", type: "tool_calls", status: "completed", tool_calls: [
    { index: 0, id: "call_1", type: "function", name: "get_weather", arguments: '{"city": "Paris"}', output: "x" }] }]);
  view.sync();
  const card = root.querySelector(".oairun-tool");
  assert.equal(card.querySelector(".oairun-tool-fn").textContent, "\u2192 weather.get_weather");
  assert.equal(card.querySelector(".oairun-tool-args").textContent, '{\n  "city": "Paris"\n}');
  assert.match(card.querySelector(".oairun-error pre").textContent, /ValueError: <img/);
  assert.equal(card.querySelector("img"), null, "error text is text, never markup");
  assert.equal(card.querySelector(".oairun-tool-duration").textContent, "0.25 s");
  const rerun = [...card.querySelectorAll("button")].find((b) => b.textContent === "Re-run");
  rerun.click();
  assert.deepEqual(model.sent, [{ type: "rerun", call_id: "call_1", arguments: '{"city": "Paris"}' }]);
});

test("long outputs are cut with an expander, and approval buttons send decisions", () => {
  const long = "y".repeat(5000);
  const model = new FakeModel({ header: header("requires_action"), messages: [],
    records: { call_1: { status: "ok", output: long } }, confirm: { call_2: "pending" },
    steps: [{ id: "s", type: "tool_calls", status: "in_progress", tool_calls: [
      { index: 0, id: "call_1", type: "function", name: "f", arguments: "{}" },
      { index: 1, id: "call_2", type: "function", name: "g", arguments: "{}" }] }] });
  const root = document.createElement("div");
  new RunView(model, root, (fn) => fn());
  const [first, second] = root.querySelectorAll(".oairun-tool");
  assert.equal(first.querySelector(".oairun-output pre").textContent.length, 2000);
  first.querySelector(".oairun-more").click();
  assert.equal(first.querySelector(".oairun-output pre").textContent.length, 5000);
  assert.equal(second.querySelector(".oairun-tool-status").textContent, "awaiting approval");
  [...second.querySelectorAll("button")].find((b) => b.textContent === "Reject").click();
  assert.deepEqual(model.sent.at(-1), { type: "decide", call_id: "call_2", decision: "reject" });
});

test("failed runs show last_error", () => {
  const model = new FakeModel({ header: { ...header("failed"), last_error: { code: "server_error", message: "boom" } },
    messages: [], steps: [], records: {}, confirm: {} });
  const root = document.createElement("div");
  new RunView(model, root, (fn) => fn());
  assert.equal(root.querySelector(".oairun-problem").textContent, "failed: boom (server_error)");
  assert.equal(window.__pwned, undefined);
});

test("render() wires traits and custom messages to the view, and cleans up", async () => {
  const { default: widget } = await import("../widget.js");
  const model = new FakeModel({ header: header(), messages: [
    { id: "m", role: "assistant", status: "in_progress", text: "" }], steps: [], records: {}, confirm: {} });
  const root = document.createElement("div");
  const cleanup = widget.render({ model, el: root });
  model.custom({ type: "append", pieces: [["m", "m", 0, "streamed"]] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(root.querySelector(".oairun-body").textContent.trim(), "streamed");
  model.set("header", header("completed"));
  assert.equal(root.querySelector(".oairun-badge").textContent, "completed");
  cleanup();
  for (const [event, handlers] of model.handlers) {
    if (event.startsWith("change:")) assert.equal(handlers.length, 0, `${event} still followed`);
  }
  model.custom({ type: "append", pieces: [["m", "m", 8, " more"]] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(root.querySelector(".oairun-body").textContent.trim(), "streamed", "a removed view is not drawn");
});

test("a view made after the kernel streamed shows what came before it and follows what comes next", async () => {
  // on a fresh page the RunView module loads while the kernel already streams: the loader's
  // initialize keeps the pieces from the model's start. anywidget gives initialize and each
  // render a proxy of their own, as here
  const { default: loader } = await import("../loader.js");
  const { default: widget } = await import("../widget.js");
  const model = new FakeModel({ header: header(), messages: [], steps: [], records: {}, confirm: {},
    stream_id: "widget-1" });
  const other = new FakeModel({ header: header(), messages: [], steps: [], records: {}, confirm: {},
    stream_id: "widget-2" });
  loader.initialize({ model: proxyOf(model) });
  loader.initialize({ model: proxyOf(other) });
  model.custom({ type: "append", pieces: [["m", "m", 0, "Early\n\n**first** "]] });
  model.custom({ type: "append", pieces: [["m", "m", 17, "words"], ["a", "step_1:0", 0, '{"city": ']] });
  other.custom({ type: "append", pieces: [["m", "m", 0, "another widget's text"]] });
  model.set("messages", [{ id: "m", role: "assistant", status: "in_progress", text: "" }]);
  other.set("messages", [{ id: "m", role: "assistant", status: "in_progress", text: "" }]);
  const first = document.createElement("div");
  const second = document.createElement("div");
  const third = document.createElement("div");
  const cleanups = [widget.render({ model: proxyOf(model), el: first }), widget.render({ model: proxyOf(model), el: second }),
    widget.render({ model: proxyOf(other), el: third })];
  try {
    model.custom({ type: "append", pieces: [["m", "m", 22, " and more"]] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const root of [first, second]) {
      const body = root.querySelector(".oairun-body");
      assert.equal(body.querySelector("strong")?.textContent, "first"); // rendered as it streams
      assert.equal(body.textContent.replace(/\s+/g, " ").trim(), "Early first words and more");
    }
    assert.equal(third.querySelector(".oairun-body").textContent.trim(), "another widget's text");
    model.custom({ type: "append", pieces: [["m", "m", 99, "a gap"], ["m", "m", 22, " and more"], ["m", "m", -30, "negative"], "junk", null]});
    model.custom({ type: "something else" });
    model.custom(null);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(first.querySelector(".oairun-body").textContent.replace(/\s+/g, " ").trim(), "Early first words and more");
  } finally {
    cleanups.forEach((cleanup) => cleanup()); // their timers would keep the test runner alive
  }
  // the widget closes: the page lets go of its text
  for (const fn of model.handlers.get("destroy") ?? []) fn();
  assert.equal(globalThis.__oairunPieces_2.has("widget-1"), false);
  assert.equal(globalThis.__oairunPieces_2.has("widget-2"), true);
});

test("a widget's model made again (a tab reopened on a live kernel) feeds the same text; it goes with the last model", async () => {
  const { default: loader } = await import("../loader.js");
  const { default: widget } = await import("../widget.js");
  const state = { header: header(), messages: [{ id: "m", role: "assistant", status: "in_progress", text: "" }],
    steps: [], records: {}, confirm: {}, stream_id: "widget-reopened" };
  const closedTab = new FakeModel(state);
  loader.initialize({ model: proxyOf(closedTab) });
  closedTab.custom({ type: "append", pieces: [["m", "m", 0, "before "]] });
  const reopened = new FakeModel(state); // JupyterLab keeps the closed tab's model, never destroyed
  loader.initialize({ model: proxyOf(reopened) });
  const root = document.createElement("div");
  const cleanup = widget.render({ model: proxyOf(reopened), el: root });
  try {
    reopened.custom({ type: "append", pieces: [["m", "m", 7, "and after"]] }); // only the new model hears the kernel
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(root.querySelector(".oairun-body").textContent.trim(), "before and after");
  } finally {
    cleanup();
  }
  for (const fn of reopened.handlers.get("destroy") ?? []) fn();
  assert.equal(globalThis.__oairunPieces_2.has("widget-reopened"), true, "the other model still holds it");
  for (const fn of closedTab.handlers.get("destroy") ?? []) fn();
  assert.equal(globalThis.__oairunPieces_2.has("widget-reopened"), false);
});

test("every view of a widget shows a longer text the traits bring while the message still streams", async () => {
  const { default: loader } = await import("../loader.js");
  const { default: widget } = await import("../widget.js");
  const model = new FakeModel({ header: header(), messages: [{ id: "m", role: "assistant", status: "in_progress",
    text: "" }], steps: [], records: {}, confirm: {}, stream_id: "widget-two-views" });
  loader.initialize({ model: proxyOf(model) });
  const roots = [document.createElement("div"), document.createElement("div")];
  const cleanups = roots.map((el) => widget.render({ model: proxyOf(model), el }));
  try {
    model.custom({ type: "append", pieces: [["m", "m", 0, "one two"]] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // a write carries the message's text in full, still in progress, before its held-back piece
    model.set("messages", [{ id: "m", role: "assistant", status: "in_progress", text: "one two three four" }]);
    model.custom({ type: "append", pieces: [["m", "m", 7, " three four"]] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const root of roots) assert.equal(root.querySelector(".oairun-body").textContent.trim(), "one two three four");
  } finally {
    cleanups.forEach((cleanup) => cleanup());
  }
});

test("math is kept as written and shown as MathML, code is highlighted, prices and code stay text", async () => {
  const { extractMath } = await import("../mathtext.js");
  const source = "Costs $5 and $6; Euler $e^{i\\pi}$, thin $a\\,b$, \\(x\\) and `$code$`\n\n```python\nprint('$x$')\n```";
  const { text, formulas } = extractMath(source);
  assert.deepEqual(formulas.map((f) => f.source), ["$e^{i\\pi}$", "$a\\,b$", "\\(x\\)"]);
  assert.match(text, /Costs \$5 and \$6/);
  assert.match(text, /`\$code\$`/);
  const box = document.createElement("div");
  box.append(renderMarkdownNodes(source));
  const math = [...box.querySelectorAll(".oairun-math")];
  assert.equal(math.length, 3);
  assert.deepEqual(math.map((m) => m.title), ["$e^{i\\pi}$", "$a\\,b$", "\\(x\\)"]); // the source, backslashes kept
  assert.ok(box.querySelector(".oairun-math math"), "rendered as MathML");
  assert.equal(box.querySelector("code").textContent, "$code$"); // inline code keeps its dollars
  assert.equal(box.querySelector("pre code").textContent, "print('$x$')\n");
  assert.ok(box.querySelector("pre code .hljs-built_in, pre code .hljs-string"), "highlighted");
  assert.ok(box.querySelector("pre > .oairun-copy"), "a copy button on the code block");
  const hostile = document.createElement("div");
  hostile.append(renderMarkdownNodes("$\\href{javascript:alert(1)}{x}$ and $\\unknowncommand{$"));
  assert.equal(hostile.querySelectorAll("a, [href], [onerror], [onload]").length, 0);
  assert.equal(hostile.querySelector(".oairun-math-source").textContent, "$\\href{javascript:alert(1)}{x}$");
});

test("underscores inside math do not count as emphasis marks: a formula-heavy answer still renders", async () => {
  const { plainTextReason, MAX_EMPHASIS_MARKS } = await import("../markdown.js");
  const formulas = "$x_1 + x_2 + x_3$ and \\(a_i b_j\\) ".repeat(Math.ceil(MAX_EMPHASIS_MARKS / 5) + 10);
  assert.equal(plainTextReason(formulas), null);
  const box = document.createElement("div");
  box.append(renderMarkdownNodes(formulas.slice(0, 200)));
  assert.ok(box.querySelector(".oairun-math"), "rendered as math");
  const emphasis = "_a_ *b* ".repeat(Math.ceil(MAX_EMPHASIS_MARKS / 4) + 10); // outside math: still counted
  assert.match(plainTextReason(emphasis), /emphasis marks/);
  const mixed = `$x_1$ ${"_".repeat(MAX_EMPHASIS_MARKS + 1)}`;
  assert.match(plainTextReason(mixed), /emphasis marks/);
});

test("a block that keeps growing past the live limit streams as plain text, then renders when it ends", async () => {
  const { StreamingMarkdown, MAX_LIVE_TAIL } = await import("../streaming.js");
  const box = document.createElement("div");
  const stream = new StreamingMarkdown(box);
  const list = Array.from({ length: 2000 }, (_, i) => `- item ${i}`).join("\n");
  assert.ok(list.length > MAX_LIVE_TAIL);
  stream.update(list);
  assert.equal(box.querySelector(".oairun-tail").classList.contains("oairun-plain"), true);
  assert.equal(box.querySelectorAll("li").length, 0); // not re-rendered as Markdown each frame
  stream.update(list + "\n\nafter\n");
  assert.equal(box.querySelectorAll(".oairun-block li").length, 2000); // the block ended: rendered once
  assert.equal(box.querySelector(".oairun-tail").textContent.trim(), "after");
});

test("a loose list streams as one list (its items are not cut into lists of their own), then blocks go on", async () => {
  const { StreamingMarkdown } = await import("../streaming.js");
  const box = document.createElement("div");
  const stream = new StreamingMarkdown(box);
  const text = "Steps:\n\n1. load\n\n2. clean\n\n   still step two\n\n3. fit\n\nDone.\n\n- a\n\n- b\n";
  const holder = (word) => [...box.querySelectorAll("li")].find((li) => li.textContent.trim().split(/\s/)[0] === word)
    ?.closest(".oairun-block, .oairun-tail");
  let shown = "";
  for (const piece of text.match(/[^]{1,3}/g)) {
    shown += piece;
    stream.update(shown);
    if (holder("fit")) { // mid-stream: every item of the list in the one block that holds the list
      assert.equal(holder("load"), holder("fit"), `a list cut apart at ${JSON.stringify(shown)}`);
      assert.equal(holder("clean"), holder("fit"));
    }
  }
  assert.equal(holder("a"), holder("b"));
  assert.notEqual(holder("fit"), holder("b")); // "Done." ended the first list's block
  const fresh = document.createElement("div");
  fresh.append(renderMarkdownNodes(text));
  assert.equal(box.textContent.replace(/\s+/g, " ").trim(), fresh.textContent.replace(/\s+/g, " ").trim());
});
