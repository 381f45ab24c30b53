// The tool card as an approval surface: what it shows is what runs (issue 13).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { closeDom, installDom } from "./setup.js";

const window = installDom();
after(() => closeDom(window));
const { ToolCard, mixedScriptWords, revealHidden } = await import("../toolcard.js");

test("bidi controls and invisible characters are shown as escapes", () => {
  // U+202E turns the rest of the line around: "/home/victim" would read as something else
  assert.equal(revealHidden('{"path": "\u202emitciv/emoh/"}'), '{"path": "\\u{202E}mitciv/emoh/"}');
  assert.equal(revealHidden("a\u200bb\u2066c\u00add"), "a\\u{200B}b\\u{2066}c\\u{00AD}d");
  assert.equal(revealHidden("line\n\tnext"), "line\n\tnext"); // layout characters stay
  assert.equal(revealHidden("Zürich 東京 😀"), "Zürich 東京 😀"); // visible text is untouched
});

test("words mixing look-alike scripts are flagged, one script per word is not", () => {
  assert.deepEqual(mixedScriptWords("p\u0430ypal.com and paypal"), ["p\u0430ypal"]); // Cyrillic а
  assert.deepEqual(mixedScriptWords("Москва Athens Αθήνα"), []);
});

test("the card escapes the name and arguments, warns of mixed scripts, and a refused call has no Re-run", () => {
  const sent = [];
  const card = new ToolCard("step_1:0", (message) => sent.push(message));
  const call = { id: "call_1", type: "function", name: "delete_files", arguments: '{"path": "\u202e/home/v\u0456ctim"}' };
  card.update(call, { status: "refused", error: "not declared", output: "Error: not declared", allowed_by: null });
  assert.match(card.args.textContent, /\\u\{202E\}/);
  assert.equal(card.root.dataset.mixedScripts, "true");
  assert.match(card.warning.textContent, /mixed scripts: v\u0456ctim/);
  const labels = [...card.actions.querySelectorAll("button")].map((b) => b.textContent);
  assert.deepEqual(labels, ["Copy arguments"]);
  card.update({ ...call, id: "call_2" }, { status: "ok", output: "done", allowed_by: "tools= given to wait()" });
  const allowedLabels = [...card.actions.querySelectorAll("button")].map((b) => b.textContent);
  assert.ok(allowedLabels.includes("Re-run"));
  assert.equal(card.allowed.textContent, "allowed: tools= given to wait()");
});

test("the argument editor keeps its keys from the notebook: Enter writes, Ctrl+Enter applies, Escape cancels", () => {
  const sent = [];
  const card = new ToolCard("step_1:0", (message) => sent.push(message));
  const call = { id: "call_1", type: "function", name: "get_weather", arguments: '{"city": "Paris"}' };
  card.update(call, { status: "error", error: "boom", output: "Error: boom", allowed_by: "declared" });
  const editor = card.actions.querySelector("textarea");
  const reached = [];
  card.root.addEventListener("keydown", (event) => reached.push(event.key)); // stands for the notebook
  [...card.actions.querySelectorAll("button")].find((b) => b.textContent === "Edit and re-run").click();
  assert.equal(editor.hidden, false);
  assert.equal(editor.getAttribute("data-lm-suppress-shortcuts"), "true");
  const key = (init) => {
    const event = new window.KeyboardEvent("keydown", { bubbles: true, cancelable: true, ...init });
    editor.dispatchEvent(event);
    return event;
  };
  assert.equal(key({ key: "Enter" }).defaultPrevented, false); // the textarea writes its newline
  assert.equal(key({ key: "Enter", shiftKey: true }).defaultPrevented, false);
  assert.deepEqual(reached, []); // neither reached the notebook (Shift+Enter would run the cell)
  editor.value = '{"city": "Oslo"}';
  assert.equal(key({ key: "Enter", ctrlKey: true }).defaultPrevented, true);
  assert.deepEqual(sent, [{ type: "rerun", call_id: "call_1", arguments: '{"city": "Oslo"}' }]);
  key({ key: "Escape" });
  assert.equal(editor.hidden, true);
  assert.deepEqual(reached, []);
});

test("after Approve edited the card shows the arguments that ran and what the model asked", () => {
  const card = new ToolCard("step_1:0", () => {});
  const call = { id: "call_1", type: "function", name: "get_weather", arguments: '{"city": "Paris"}' };
  card.update(call, { status: "ok", output: "sunny", allowed_by: "declared", arguments: '{"city": "Oslo"}' });
  assert.equal(JSON.parse(card.args.textContent).city, "Oslo");
  assert.equal(card.edited.hidden, false);
  assert.match(card.edited.textContent, /the model asked: \{"city": "Paris"\}/);
  card.update(call, { status: "ok", output: "sunny", allowed_by: "declared", arguments: '{"city": "Paris"}' });
  assert.equal(JSON.parse(card.args.textContent).city, "Paris");
  assert.equal(card.edited.hidden, true);
});

test("a built-in call shows its step's status; a reasoning summary is there, collapsed; a search its sources", () => {
  const card = new ToolCard("step_9:0", () => {});
  card.update({ id: "call_r", type: "reasoning", name: "reasoning", summary: "**Planning** the <b>trip</b>",
    step_status: "completed" });
  assert.equal(card.badge.textContent, "completed");
  const summary = card.result.querySelector("details");
  assert.equal(summary.open, false);
  assert.match(summary.textContent, /\*\*Planning\*\* the <b>trip<\/b>/); // shown as text, never as markup
  assert.equal(summary.querySelector("b"), null);
  assert.deepEqual([...card.actions.querySelectorAll("button")], []); // nothing to re-run
  const search = new ToolCard("step_9:1", () => {});
  search.update({ id: "call_w", type: "web_search", name: "web_search", step_status: "in_progress",
    search: "query: weather Redmond\nhttps://www.almanac.com/weather" });
  assert.equal(search.badge.textContent, "pending");
  assert.match(search.result.textContent, /query: weather Redmond\nhttps:\/\/www\.almanac\.com\/weather/);
});
