// The streamed text of one run's widget, kept from the moment its model is made.
//
// A view may render long after its model: on a fresh page the 400 kB RunView module is still
// loading while the kernel already streams. A view that kept the pieces itself lost those sent
// before it existed, and every later piece then left a gap it refused, so a message showed
// nothing until it ended (or, for a run stopped mid-answer, never). So the pieces go to a store
// per widget, made in the model's `initialize` (anywidget holds the model's messages until
// `initialize` ran), and every view of the widget reads and follows that store.
//
// anywidget hands `initialize` and each `render` a model object of their own (a proxy of the
// real one), so the store is found by the widget's `stream_id` trait, not by the object.
import { applyAppend } from "./state.js";

// on the page, not in this module: the loader and the RunView module are bundled apart, and
// both must find the same store for a widget
const STORES_KEY = "__oairunPieces_2";

/** Appended text per key (`m:<message>` or `a:<step>:<call>`), and who follows it. */
export class PieceStore {
  constructor() {
    this.buffers = new Map();
    this.listeners = new Set();
  }

  /** A custom message from the kernel; other messages are not this store's. */
  receive(message) {
    if (message?.type !== "append" || !Array.isArray(message.pieces)) return;
    const added = [];
    for (const piece of message.pieces) {
      if (!Array.isArray(piece) || typeof piece[3] !== "string" || !Number.isInteger(piece[2])) continue;
      const change = applyAppend(this.buffers, piece);
      if (change.added) added.push(change);
    }
    if (!added.length) return;
    for (const listener of this.listeners) listener(added);
  }

  /** Call `listener([{key, added}, ...])` for each message that added text; returns the unsubscribe. */
  listen(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function subscribe(model, store) {
  model.on("msg:custom", (message) => store.receive(message));
}

/** The widget's store: made, and subscribed to the model's custom messages, by the first caller
 * (the model's `initialize`). A widget without a `stream_id` (a notebook saved by an older
 * release: nothing streams to it) gets a store of its own. */
export function piecesOf(model) {
  const id = model.get("stream_id");
  if (typeof id !== "string" || !id) {
    const store = new PieceStore();
    subscribe(model, store);
    return store;
  }
  const stores = (globalThis[STORES_KEY] ??= new Map());
  let store = stores.get(id);
  if (!store) {
    store = new PieceStore();
    stores.set(id, store);
    subscribe(model, store);
    model.on("destroy", () => stores.delete(id)); // the widget closed: its text goes with it
  }
  return store;
}
