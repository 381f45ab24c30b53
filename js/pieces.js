// The streamed text of one run's model, kept from the moment the model is made.
//
// A view may render long after its model: on a fresh page the 400 kB RunView module is still
// loading while the kernel already streams. A view that kept the pieces itself lost those sent
// before it existed, and every later piece then left a gap it refused, so a message showed
// nothing until it ended (or, for a run stopped mid-answer, never). So the pieces go to a store
// per model, made in the model's `initialize` (anywidget holds the model's messages until
// `initialize` ran), and every view of the model reads and follows that store.
import { applyAppend } from "./state.js";

// on the page, not in this module: the loader and the RunView module are bundled apart, and
// both must find the same store for a model
const STORES_KEY = "__oairunPieces_1";

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

/** The model's store, made (and subscribed to the model's custom messages) on first use. */
export function piecesOf(model) {
  const stores = (globalThis[STORES_KEY] ??= new WeakMap());
  let store = stores.get(model);
  if (!store) {
    store = new PieceStore();
    stores.set(model, store);
    model.on("msg:custom", (message) => store.receive(message));
  }
  return store;
}
