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
    this.models = 0; // the widget's models that feed it (see piecesOf)
  }

  /** A custom message from the kernel; other messages are not this store's. */
  receive(message) {
    if (message?.type !== "append" || !Array.isArray(message.pieces)) return;
    const added = [];
    for (const piece of message.pieces) {
      if (!Array.isArray(piece) || typeof piece[3] !== "string" || !Number.isInteger(piece[2]) || piece[2] < 0) continue;
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

/** The widget's store, found by its `stream_id`. `initialize` passes `{ made: true }`: each
 * model made for the widget (a tab reopened on a live kernel makes a new one, and JupyterLab
 * never destroys the old) feeds the store from its custom messages, and the store goes when the
 * last of them is destroyed. A view only reads it (its proxy's listeners go with the view). A
 * widget without a `stream_id` (a notebook saved by an older release: nothing streams to it)
 * gets a store of its own. */
export function piecesOf(model, { made = false } = {}) {
  const id = model.get("stream_id");
  if (typeof id !== "string" || !id) {
    const store = new PieceStore();
    model.on("msg:custom", (message) => store.receive(message));
    return store;
  }
  const stores = (globalThis[STORES_KEY] ??= new Map());
  let store = stores.get(id);
  if (!store) {
    store = new PieceStore();
    stores.set(id, store);
  }
  if (made || store.models === 0) { // no model feeds it yet (an anywidget that called no initialize)
    store.models += 1;
    model.on("msg:custom", (message) => store.receive(message));
    model.on("destroy", () => {
      store.models -= 1;
      if (store.models === 0 && stores.get(id) === store) stores.delete(id); // the widget closed
    });
  }
  return store;
}
