// The RunWidget view: header, transcript and steps, kept in sync with the model's traits, with
// streamed text appended to the DOM once per animation frame (never a whole re-render).
import { copyButton, renderMarkdownNodes } from "./markdown.js";
import { StreamingMarkdown } from "./streaming.js";
import { piecesOf } from "./pieces.js";
import { ACTIVE, elapsedSeconds, formatElapsed, prettyArguments, reconcile, statusLabel,
  usageText } from "./state.js";
import { interruptKernel } from "./kernel.js";
import { ToolCard } from "./toolcard.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

export class RunView {
  constructor(model, root, scheduleFrame = (fn) => requestAnimationFrame(fn)) {
    this.model = model;
    this.scheduleFrame = scheduleFrame;
    // the model's streamed text, also what arrived before this view was made (pieces.js)
    this.pieces = piecesOf(model);
    this.buffers = this.pieces.buffers;
    this.pending = new Map(); // key -> text appended since the last frame
    this.framePending = false;
    this.messageNodes = new Map();
    this.streams = new Map(); // message key -> its StreamingMarkdown while it streams
    this.stepNodes = new Map();
    this.cards = new Map();
    this.root = el("div", "oairun-run");
    this.root.setAttribute("role", "region");
    this.root.setAttribute("aria-label", "assistant run");
    this.header = el("div", "oairun-header");
    this.badge = el("span", "oairun-badge");
    this.title = el("span", "oairun-title");
    this.meta = el("span", "oairun-meta");
    this.elapsed = el("span", "oairun-elapsed");
    this.usage = el("span", "oairun-usage");
    this.stopButton = el("button", "oairun-button oairun-stop", "Stop");
    this.stopButton.type = "button";
    this.stopButton.title = "Cancel this run on the server";
    this.stopButton.addEventListener("click", () => this.stop());
    this.header.append(this.badge, this.title, this.meta, this.elapsed, this.usage, this.stopButton);
    this.problem = el("div", "oairun-problem");
    this.transcript = el("div", "oairun-transcript");
    this.steps = el("div", "oairun-steps");
    const stepsTitle = el("div", "oairun-section", "Run steps");
    this.root.append(this.header, this.problem, this.transcript, stepsTitle, this.steps);
    root.append(this.root);
    this.sync();
    this.unlisten = this.pieces.listen((added) => this.onAdded(added));
  }

  /** Stop following the model's streamed text (the view is removed). */
  dispose() {
    this.unlisten();
  }

  /** Bring the DOM up to date with the traits. */
  sync() {
    this.syncHeader(this.model.get("header") ?? {});
    this.syncMessages(this.model.get("messages") ?? []);
    this.syncSteps(this.model.get("steps") ?? []);
  }

  syncHeader(header) {
    this.headerState = header;
    this.badge.textContent = statusLabel(header.status);
    this.badge.dataset.status = header.status ?? "starting";
    const assistant = header.assistant_name ? `${header.assistant_name} (${header.assistant_id})` : header.assistant_id;
    this.title.textContent = assistant ?? "";
    this.meta.textContent = [header.model, header.backend, header.run_id].filter(Boolean).join(" \u00b7 ");
    this.usage.textContent = usageText(header.usage);
    this.stopButton.hidden = !ACTIVE.has(header.status) || header.status === "cancelling" || !header.run_id;
    if (this.stopButton.hidden) {
      this.stopButton.disabled = false;
      this.stopButton.textContent = "Stop";
    }
    this.tick();
    const problem = header.last_error
      ? `${header.status || "not started"}: ${header.last_error.message} (${header.last_error.code})`
      : header.incomplete_details ? `incomplete: ${header.incomplete_details.reason}` : "";
    this.problem.textContent = problem;
    this.problem.hidden = !problem;
  }

  /** The Stop button: the kernel cancels the run when it gets the message; a cell that blocks
   * the kernel on this run is interrupted instead (its interrupt cancels the run). */
  async stop() {
    this.stopButton.disabled = true;
    this.stopButton.textContent = "Stopping\u2026";
    this.model.send({ type: "stop" });
    const control = this.model.get("control") ?? {};
    if (control.driving === "blocking" && control.kernel_id) {
      const interrupted = await interruptKernel(control.kernel_id);
      if (!interrupted) this.stopButton.title = "This frontend could not interrupt the kernel: the run stops when the kernel is free (or use the kernel's stop button)";
    }
  }

  /** Update the elapsed time (called every second while the run is active). */
  tick() {
    this.elapsed.textContent = formatElapsed(elapsedSeconds(this.headerState, Date.now() / 1000));
    return ACTIVE.has(this.headerState?.status);
  }

  syncMessages(messages) {
    for (const message of messages) {
      let node = this.messageNodes.get(message.id);
      const key = `m:${message.id}`;
      if (!node) {
        node = el("div", `oairun-message oairun-${message.role === "user" ? "user" : "assistant"}`);
        const role = el("div", "oairun-role", message.role);
        role.append(copyButton(() => this.buffers.get(key) ?? "", "Copy"));
        node.append(role, el("div", "oairun-body"));
        node.dataset.message = message.id;
        this.messageNodes.set(message.id, node);
        this.transcript.append(node);
      }
      const body = node.lastChild;
      const { text } = reconcile(this.buffers, key, message.text);
      const finished = message.status !== "in_progress";
      node.dataset.status = message.status;
      const renderedAs = `${finished}:${text.length}`;
      if (finished && body.dataset.rendered !== renderedAs) {
        // sanitized twice; too long, too deep or failing to render: plain text, never an exception
        body.replaceChildren(renderMarkdownNodes(text, message.annotations ?? []));
        body.dataset.rendered = renderedAs;
        body.classList.remove("oairun-streaming");
        this.streams.delete(key);
      } else if (!finished && (!body.classList.contains("oairun-streaming") || this.streams.get(key)?.text !== text)) {
        // what this view drew is compared, not `replaced`: the buffers are shared by the views of
        // the widget, and only the first to reconcile a longer trait text sees it replaced
        body.classList.add("oairun-streaming");
        this.streamOf(key, body, message.annotations).update(text);
      }
    }
  }

  syncSteps(steps) {
    const records = this.model.get("records") ?? {};
    const confirm = this.model.get("confirm") ?? {};
    for (const step of steps) {
      let node = this.stepNodes.get(step.id);
      if (!node) {
        node = el("div", "oairun-step");
        node.dataset.step = step.id;
        node.append(el("div", "oairun-step-title"), el("div", "oairun-step-body"));
        this.stepNodes.set(step.id, node);
        this.steps.append(node);
      }
      node.dataset.status = step.status;
      const label = step.type === "message_creation" ? "message" : "tool calls";
      node.firstChild.textContent = `${label} \u00b7 ${statusLabel(step.status)}`;
      if (step.type !== "tool_calls") continue;
      for (const call of step.tool_calls ?? []) {
        const key = `${step.id}:${call.index}`;
        let card = this.cards.get(key);
        if (!card) {
          card = new ToolCard(key, (message) => this.model.send(message));
          this.cards.set(key, card);
          node.lastChild.append(card.root);
        }
        card.update(call, records[call.id], confirm[call.id], this.buffers.get(`a:${key}`));
      }
    }
  }

  /** The live renderer of a streaming message's body. */
  streamOf(key, body, annotations = []) {
    let stream = this.streams.get(key);
    if (!stream || stream.container !== body) {
      stream = new StreamingMarkdown(body, annotations ?? []);
      this.streams.set(key, stream);
    }
    return stream;
  }

  /** Text the model's store took from the kernel's appended pieces (message text and tool
   * arguments): drawn at the next frame. */
  onAdded(changes) {
    for (const { key, added } of changes) this.pending.set(key, (this.pending.get(key) ?? "") + added);
    if (!this.framePending && this.pending.size) {
      this.framePending = true;
      this.scheduleFrame(() => this.flush());
    }
  }

  /** One redraw per frame: append what arrived to the DOM. */
  flush() {
    this.framePending = false;
    for (const [key, text] of this.pending) {
      if (key.startsWith("m:")) {
        const node = this.messageNodes.get(key.slice(2));
        const body = node?.lastChild;
        // rendered as it streams: only the block still growing is rendered again
        if (body && body.classList.contains("oairun-streaming")) this.streamOf(key, body).update(this.buffers.get(key));
      } else {
        const card = this.cards.get(key.slice(2));
        if (card) card.args.textContent = prettyArguments(this.buffers.get(key));
      }
    }
    this.pending.clear();
  }
}
