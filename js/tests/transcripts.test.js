import { after, test } from "node:test";
import assert from "node:assert/strict";
import { closeDom, installDom } from "./setup.js";

const window = installDom();
after(() => closeDom(window));
const { hideTranscriptsBeside } = await import("../transcripts.js");

function outputArea() {
  const area = document.createElement("div");
  area.className = "jp-OutputArea";
  document.body.append(area);
  return area;
}

function child(html) {
  const node = document.createElement("div");
  node.className = "jp-OutputArea-child";
  const output = document.createElement("div");
  output.className = "jp-OutputArea-output";
  output.innerHTML = html;
  node.append(output);
  return node;
}

const TRANSCRIPT = '<div class="oairun-static"><style>.x{}</style><b>completed</b></div>';

test("the transcript beside a shown widget is hidden, also one added later, and shown again when the widget goes", async () => {
  const area = outputArea();
  const widget = child('<div class="oairun-run"></div>');
  const before = child(TRANSCRIPT);
  const other = child("<p>an output of the user's own</p>");
  area.append(widget, before, other);
  const undo = hideTranscriptsBeside(widget.querySelector(".oairun-run"));
  assert.ok(before.classList.contains("oairun-transcript-hidden"));
  assert.equal(before.querySelector("style").media, "not all"); // its :has() rule is off while the widget shows
  assert.ok(!other.classList.contains("oairun-transcript-hidden"));
  assert.ok(!widget.classList.contains("oairun-transcript-hidden"));
  const later = child(TRANSCRIPT); // the run's end updates the transcript: a new child
  area.append(later);
  await new Promise((resolve) => setTimeout(resolve, 0)); // mutation observers run after the task
  assert.ok(later.classList.contains("oairun-transcript-hidden"));
  undo();
  assert.equal(area.querySelectorAll(".oairun-transcript-hidden").length, 0);
  assert.equal(before.querySelector("style").media, "");
  area.remove();
});

test("a widget outside any output area, or not yet in the page, hides nothing and stops cleanly", async () => {
  const loose = document.createElement("div");
  const undo = hideTranscriptsBeside(loose); // not attached: it looks again a few times, then gives up
  const area = outputArea();
  const transcript = child(TRANSCRIPT);
  area.append(transcript);
  undo(); // stopped before it found an area
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.ok(!transcript.classList.contains("oairun-transcript-hidden"));
  area.remove();
});
