// A message's Markdown rendered while it streams, at a cost per frame that does not grow with the
// message: the text is cut into blocks at blank lines outside code fences; a block that is
// complete (another block has begun after it) is rendered once and stays as it is; only the last,
// still growing block is rendered again each frame. When the message ends, the view renders the
// whole text once more (the final DOM is exactly a fresh render of the full text).
import { renderMarkdownNodes } from "./markdown.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}([-+*]|\d{1,9}[.)])([ \t]|$)/;
/** A growing block longer than this (a long list or table, a paragraph with no blank line) is
 * shown as plain text until it ends: rendering it afresh every frame would cost more each frame.
 * It is rendered as Markdown once it ends, and with the whole message when the message ends. */
export const MAX_LIVE_TAIL = 16_000;

export class StreamingMarkdown {
  constructor(container, annotations = []) {
    this.container = container;
    this.annotations = annotations;
    this.reset();
  }

  reset() {
    this.text = "";
    this.stable = 0; // the text before this offset is in finished blocks, rendered
    this.scanned = 0; // lines before this offset were read for block ends
    this.fence = null; // the fence open at `scanned`
    this.lastBlank = false; // the line before `scanned` was blank
    this.listBlock = null; // whether the growing block is a list (null: it has no line yet)
    this.tail = document.createElement("div");
    this.tail.className = "oairun-tail";
    this.container.replaceChildren(this.tail);
  }

  /** Show `text` (what streamed so far, always a continuation of the last `text`). */
  update(text) {
    if (!text.startsWith(this.text)) { // replaced, not continued: start again
      this.reset();
    }
    this.text = text;
    const end = this.findStableEnd();
    if (end > this.stable) {
      const block = document.createElement("div");
      block.className = "oairun-block";
      block.append(renderMarkdownNodes(text.slice(this.stable, end), this.annotations));
      this.container.insertBefore(block, this.tail);
      this.stable = end;
    }
    const tail = text.slice(this.stable);
    if (tail.length > MAX_LIVE_TAIL) {
      this.tail.classList.add("oairun-plain");
      this.tail.textContent = tail;
    } else {
      this.tail.classList.remove("oairun-plain");
      this.tail.replaceChildren(renderMarkdownNodes(tail, this.annotations));
    }
  }

  /** The offset after the last block end found in the complete lines not read yet: a blank line
   * outside a fence followed by a line that starts a new block (not indented: a list item's
   * continuation would be). Reads each line once over the whole stream. */
  findStableEnd() {
    let end = this.stable;
    const text = this.text;
    while (true) {
      const newline = text.indexOf("\n", this.scanned);
      if (newline === -1) break; // the last line is not complete yet
      const line = text.slice(this.scanned, newline);
      const opener = FENCE.exec(line)?.[1];
      const inFence = this.fence != null;
      const item = LIST_ITEM.test(line);
      if (!inFence && this.lastBlank && line.trim() !== "" && !/^[ \t]/.test(line) && this.scanned > this.stable
          && !(item && this.listBlock)) { // a loose list's next item is the same list: it goes on growing
        end = this.scanned; // a new block starts here: everything before it is finished
        this.listBlock = item;
      } else if (this.listBlock === null && !inFence && line.trim() !== "") {
        this.listBlock = item;
      }
      if (inFence) {
        if (opener && opener[0] === this.fence[0] && opener.length >= this.fence.length) this.fence = null;
      } else if (opener) {
        this.fence = opener;
      }
      this.lastBlank = !inFence && line.trim() === "";
      this.scanned = newline + 1;
    }
    return end;
  }
}
