// Pure state logic of the widget: appended text pieces, their reconciliation with the traits,
// and small formatting helpers. No DOM here, so it is tested on its own.

/** Apply one appended piece [kind, id, offset, text] to the text buffers; returns the key and
 * the text actually added ("" when the piece was a repeat or left a gap the traits will fill). */
export function applyAppend(buffers, piece) {
  const [kind, id, offset, text] = piece;
  const key = `${kind}:${id}`;
  const current = buffers.get(key) ?? "";
  if (offset === current.length) {
    buffers.set(key, current + text);
    return { key, added: text };
  }
  if (offset < current.length && offset + text.length > current.length) {
    const added = text.slice(current.length - offset);
    buffers.set(key, current + added);
    return { key, added };
  }
  return { key, added: "" };
}

/** The text to show for a key: the trait's when it is at least as long as what was appended. */
export function reconcile(buffers, key, traitText) {
  const current = buffers.get(key) ?? "";
  if ((traitText ?? "").length >= current.length) {
    buffers.set(key, traitText ?? "");
    return { text: traitText ?? "", replaced: traitText !== current };
  }
  return { text: current, replaced: false };
}

/** Arguments as pretty JSON when they parse, as they are while still streaming (partial). */
export function prettyArguments(text) {
  if (!text) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export const ACTIVE = new Set(["queued", "in_progress", "requires_action", "cancelling"]);

/** "< 1 s" / "12 s" / "2 min 05 s" for an elapsed number of seconds: whole seconds, as precise as
 * the run's timestamps (the server's are whole seconds). */
export function formatElapsed(seconds) {
  if (seconds == null || !isFinite(seconds) || seconds < 0) return "";
  if (seconds < 1) return "< 1 s";
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, "0")} s`;
}

/** Seconds the run has taken, from its creation (not its last start: a run starts again after
 * each round of tool outputs) until it ended, or until `now` while it is active. */
export function elapsedSeconds(header, nowSeconds) {
  const start = header?.created_at ?? header?.started_at;
  if (!start) return null;
  const end = ACTIVE.has(header.status) ? nowSeconds : header.ended_at;
  return end == null ? null : Math.max(0, end - start);
}

/** A human label for a status (requires_action reads as "waiting for tools"). */
export function statusLabel(status) {
  if (status === "requires_action") return "waiting for tools";
  return (status ?? "starting").replace(/_/g, " ");
}

/** "123 prompt + 45 completion = 168 tokens" */
export function usageText(usage) {
  if (!usage) return "";
  return `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion = ${usage.total_tokens} tokens`;
}

/** The first `limit` characters of a long text, and whether it was cut. */
export function cutText(text, limit) {
  if (!text || text.length <= limit) return { shown: text ?? "", cut: false };
  return { shown: text.slice(0, limit), cut: true };
}
