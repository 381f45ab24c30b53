// One card per tool call: name, arguments (pretty even while streaming), the Python function it
// resolved to, the output (cut, with an expander), the error and its traceback, the duration,
// and the debugger: copy the arguments, re-run with the same or edited ones, approve or reject.
import { cutText, prettyArguments } from "./state.js";

const OUTPUT_LIMIT = 2000;

// Characters that change what a text looks like without showing themselves: bidi controls
// (U+202A-202E, U+2066-2069, U+200E/F, U+061C), zero-width and other format characters, and
// controls other than newline and tab. On an approval card they are shown as escapes, so what the
// card shows is what runs.
const HIDDEN = /[\p{Cf}\p{Cc}\p{Co}\p{Cn}\u2028\u2029]/gu;

/** `text` with every invisible or direction-changing character written as a visible \u{...}. */
export function revealHidden(text) {
  return String(text ?? "").replace(HIDDEN, (c) => (c === "\n" || c === "\t")
    ? c : `\\u{${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}}`);
}

const LOOK_ALIKE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u,
  /\p{Script=Armenian}/u, /\p{Script=Cherokee}/u, /\p{Script=Georgian}/u];

/** The words of `text` that mix letters of look-alike scripts (a Cyrillic "а" in "pаypal"). */
export function mixedScriptWords(text) {
  const words = String(text ?? "").match(/[\p{L}\p{M}\p{N}_]+/gu) ?? [];
  return words.filter((word) => LOOK_ALIKE_SCRIPTS.filter((script) => script.test(word)).length > 1);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function button(label, onClick, className = "oairun-button") {
  const node = el("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

/** An output block: the first part shown, "Show all" to expand, collapsible as a whole. */
function outputBlock(title, text, className) {
  const details = el("details", `oairun-output ${className ?? ""}`);
  details.open = true;
  const { shown, cut } = cutText(text, OUTPUT_LIMIT);
  details.append(el("summary", "oairun-output-title", `${title} (${text.length.toLocaleString()} characters)`));
  const pre = el("pre", "oairun-pre", shown);
  details.append(pre);
  if (cut) {
    const more = button(`Show all ${text.length.toLocaleString()} characters`, () => {
      pre.textContent = text;
      more.remove();
    }, "oairun-button oairun-more");
    details.append(more);
  }
  return details;
}

/** The editor behaves like an editor inside a notebook: Enter and Shift+Enter write a newline,
 * Ctrl+Enter (Cmd+Enter) applies, Escape cancels, and no key reaches the notebook's shortcuts
 * (Shift+Enter would run the whole cell again: a new request to the model). */
export function editorKeys(editor, apply, cancel) {
  editor.setAttribute("data-lm-suppress-shortcuts", "true"); // JupyterLab's and Notebook 7's shortcuts
  editor.addEventListener("keydown", (event) => {
    event.stopPropagation(); // nor any other handler of the page's
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      apply();
    } else if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    }
  });
}

export class ToolCard {
  constructor(callKey, send) {
    this.callKey = callKey;
    this.send = send;
    this.root = el("div", "oairun-tool");
    this.root.dataset.call = callKey;
    this.head = el("div", "oairun-tool-head");
    this.name = el("span", "oairun-tool-name");
    this.badge = el("span", "oairun-tool-status");
    this.duration = el("span", "oairun-tool-duration");
    this.warning = el("span", "oairun-tool-warning");
    this.warning.hidden = true;
    this.head.append(this.name, this.badge, this.duration, this.warning);
    this.fn = el("div", "oairun-tool-fn");
    this.allowed = el("div", "oairun-tool-allowed");
    this.args = el("pre", "oairun-pre oairun-tool-args");
    this.edited = el("div", "oairun-tool-edited");
    this.edited.hidden = true;
    this.result = el("div", "oairun-tool-result");
    this.actions = el("div", "oairun-tool-actions");
    this.reruns = el("div", "oairun-tool-reruns");
    this.root.append(this.head, this.fn, this.allowed, this.args, this.edited, this.result, this.actions, this.reruns);
    this.rendered = "";
    this.arguments = null; // not shown yet
  }

  /** Show the call as the traits describe it (and the streamed arguments so far). */
  update(call, record, confirm, streamedArguments) {
    this.name.textContent = revealHidden(call.name || call.type);
    // a built-in call (code interpreter, file search, web search, reasoning) ends with its step
    const status = record?.status ?? (call.output != null ? "ok"
      : call.type !== "function" && call.step_status && call.step_status !== "in_progress" ? call.step_status : "pending");
    this.badge.textContent = confirm === "pending" ? "awaiting approval" : status;
    this.badge.dataset.status = confirm === "pending" ? "pending" : status;
    this.duration.textContent = record?.duration != null ? `${record.duration.toFixed(2)} s` : "";
    this.fn.textContent = record?.function ? `\u2192 ${record.function}` : "";
    const asked = (call.arguments ?? "").length >= (streamedArguments ?? "").length
      ? call.arguments : streamedArguments;
    // what ran, when it is not what the model asked (the user edited it before approving)
    const ran = record?.arguments != null && record.arguments !== asked ? record.arguments : null;
    const argumentsText = ran ?? asked;
    if ((argumentsText ?? "") !== this.arguments || call.name !== this.shownName) {
      this.showArguments(call.name, argumentsText ?? ""); // once per change, not per redraw
    }
    this.edited.textContent = ran == null ? "" : `edited before it ran; the model asked: ${revealHidden(asked ?? "")}`;
    this.edited.hidden = ran == null;
    const signature = JSON.stringify([status, record?.output, record?.error, record?.allowed_by, call.output, confirm,
      (record?.reruns ?? []).length, call.code_input, call.logs, call.results, call.summary, call.search]);
    if (signature !== this.rendered) {
      this.rendered = signature;
      this.renderResult(call, record, confirm);
      this.allowed.textContent = record?.allowed_by ? `allowed: ${record.allowed_by}` : "";
    }
  }

  /** The arguments as text, hidden characters as escapes, and a warning for mixed scripts. */
  showArguments(name, argumentsText) {
    this.arguments = argumentsText;
    this.shownName = name;
    this.args.textContent = revealHidden(prettyArguments(argumentsText));
    const mixed = mixedScriptWords(`${name ?? ""} ${argumentsText}`);
    this.root.dataset.mixedScripts = mixed.length ? "true" : "false";
    this.args.title = mixed.length ? `mixed scripts (look-alike letters): ${mixed.slice(0, 5).join(", ")}` : "";
    this.warning.textContent = mixed.length ? `\u26a0 mixed scripts: ${revealHidden(mixed.slice(0, 3).join(", "))}` : "";
    this.warning.hidden = !mixed.length;
  }

  renderResult(call, record, confirm) {
    this.result.replaceChildren();
    if (call.code_input) this.result.append(outputBlock("Input", call.code_input, "oairun-code"));
    if (call.logs) this.result.append(outputBlock("Logs", call.logs));
    for (const image of call.images ?? []) this.result.append(el("div", "oairun-image", `image ${image}`));
    if (call.results) this.result.append(outputBlock("Results", JSON.stringify(call.results, null, 2)));
    if (call.search) this.result.append(outputBlock("Search", call.search));
    if (call.summary) { // what the model thought, shown on demand
      const summary = outputBlock("Reasoning summary", call.summary);
      summary.open = false;
      this.result.append(summary);
    }
    const output = record?.output ?? call.output;
    if (record?.error) {
      this.result.append(outputBlock("Error", record.error, "oairun-error"));
      if (record.traceback) {
        const tb = outputBlock("Traceback", record.traceback, "oairun-traceback");
        tb.open = false;
        this.result.append(tb);
      }
    } else if (output != null && output !== "") {
      this.result.append(outputBlock("Output", output));
    }
    this.renderActions(call, confirm, record);
    this.reruns.replaceChildren(...(record?.reruns ?? []).map((rerun, i) => {
      const box = el("div", "oairun-rerun");
      box.append(el("div", "oairun-rerun-title", `Re-run ${i + 1}: ${rerun.status}`));
      box.append(el("pre", "oairun-pre", prettyArguments(rerun.arguments)));
      box.append(outputBlock(rerun.error ? "Error" : "Output", rerun.error ?? rerun.output ?? "",
        rerun.error ? "oairun-error" : ""));
      return box;
    }));
  }

  renderActions(call, confirm, record) {
    this.actions.replaceChildren();
    if (call.type !== "function") return;
    // a call refused before it could run (its tool not declared for the run) has no Re-run
    const refused = record?.status === "refused" && !record?.allowed_by;
    this.actions.append(button("Copy arguments", () => navigator.clipboard?.writeText(this.arguments ?? "")));
    const editor = el("textarea", "oairun-editor");
    editor.setAttribute("aria-label", "arguments (JSON): Ctrl+Enter applies, Escape cancels");
    const pending = confirm === "pending";
    const runEdited = button(pending ? "Approve edited" : "Run edited", () => this.send(pending
      ? { type: "decide", call_id: call.id, decision: "approve", arguments: editor.value }
      : { type: "rerun", call_id: call.id, arguments: editor.value }));
    const edit = button(pending ? "Edit" : "Edit and re-run", () => {
      editor.hidden = runEdited.hidden = false;
      editor.value = prettyArguments(this.arguments);
      editor.focus();
    });
    editor.hidden = runEdited.hidden = true; // shown by Edit
    editorKeys(editor, () => runEdited.click(), () => {
      editor.hidden = runEdited.hidden = true;
      edit.focus();
    });
    if (pending) {
      this.actions.append(
        button("Approve", () => this.send({ type: "decide", call_id: call.id, decision: "approve" })),
        edit,
        button("Reject", () => this.send({ type: "decide", call_id: call.id, decision: "reject" })),
        runEdited, editor);
      return;
    }
    if (refused) return;
    this.actions.append(
      button("Re-run", () => this.send({ type: "rerun", call_id: call.id, arguments: this.arguments })),
      edit, runEdited, editor);
  }
}
