import { test } from "node:test";
import assert from "node:assert/strict";
import { applyAppend, cutText, elapsedSeconds, formatElapsed, prettyArguments, reconcile, statusLabel } from "../state.js";

test("appended pieces grow the text in order; repeats and gaps add nothing", () => {
  const buffers = new Map();
  assert.equal(applyAppend(buffers, ["m", "msg_1", 0, "Hel"]).added, "Hel");
  assert.equal(applyAppend(buffers, ["m", "msg_1", 3, "lo"]).added, "lo");
  assert.equal(applyAppend(buffers, ["m", "msg_1", 3, "lo"]).added, "");        // a repeat
  assert.equal(applyAppend(buffers, ["m", "msg_1", 4, "o!"]).added, "!");       // an overlap
  assert.equal(applyAppend(buffers, ["m", "msg_1", 99, "gap"]).added, "");      // a gap
  assert.equal(buffers.get("m:msg_1"), "Hello!");
});

test("the trait wins when it holds at least as much text", () => {
  const buffers = new Map([["m:x", "abc"]]);
  assert.deepEqual(reconcile(buffers, "m:x", "ab"), { text: "abc", replaced: false });
  assert.deepEqual(reconcile(buffers, "m:x", "abcdef"), { text: "abcdef", replaced: true });
});

test("arguments are pretty when complete and raw while partial", () => {
  assert.equal(prettyArguments('{"city":"Paris"}'), '{\n  "city": "Paris"\n}');
  assert.equal(prettyArguments('{"city":"Pa'), '{"city":"Pa');
});

test("labels, elapsed time and cutting", () => {
  assert.equal(statusLabel("requires_action"), "waiting for tools");
  assert.equal(statusLabel("in_progress"), "in progress");
  assert.equal(formatElapsed(3.21), "3 s");
  assert.equal(formatElapsed(0), "< 1 s");
  assert.equal(formatElapsed(125), "2 min 05 s");
  assert.equal(elapsedSeconds({ status: "in_progress", started_at: 100 }, 112.5), 12.5);
  assert.equal(elapsedSeconds({ status: "completed", started_at: 100, ended_at: 104 }, 999), 4);
  // from creation to the end, whatever happened between: a run started again after its tool
  // outputs (started_at moves) or after a 20 s approval still counts from its creation
  assert.equal(elapsedSeconds({ status: "completed", created_at: 100, started_at: 125, ended_at: 126 }, 999), 26);
  assert.equal(elapsedSeconds({ status: "requires_action", created_at: 100, started_at: 101 }, 121), 21);
  // ended without a known end time: nothing rather than a time that keeps growing
  assert.equal(elapsedSeconds({ status: "incomplete", created_at: 100 }, 999), null);
  assert.deepEqual(cutText("abcdef", 3), { shown: "abc", cut: true });
});

test("the piece store refuses pieces that are not [kind, id, offset >= 0, text]", async () => {
  const { PieceStore } = await import("../pieces.js");
  const store = new PieceStore();
  const heard = [];
  store.listen((changes) => heard.push(...changes));
  store.receive({ type: "append", pieces: [["m", "x", 0, "abc"]] });
  // a negative offset would reach back before the text's start (applyAppend would take its tail)
  store.receive({ type: "append", pieces: [["m", "x", -2, "zzzzzzzz"], ["m", "x", 1.5, "q"], ["m", "x", 3, 7],
    "junk", null, ["m", "x"]] });
  store.receive({ type: "append", pieces: "not a list" });
  store.receive({ type: "other", pieces: [["m", "x", 3, "d"]] });
  assert.equal(store.buffers.get("m:x"), "abc");
  assert.deepEqual(heard, [{ key: "m:x", added: "abc" }]);
});
