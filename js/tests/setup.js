// A DOM for the widget's code under Node's test runner (happy-dom), installed before import.
import { Window } from "happy-dom";

export function installDom() {
  const window = new Window({ url: "http://localhost/" });
  for (const name of ["window", "document", "navigator", "HTMLElement", "Node", "DOMParser",
    "DocumentFragment", "Element", "NodeFilter", "NamedNodeMap", "HTMLFormElement", "Text", "Comment",
    "requestAnimationFrame", "cancelAnimationFrame", "MutationObserver"]) {
    Object.defineProperty(globalThis, name, { value: name === "window" ? window : window[name],
      configurable: true, writable: true });
  }
  return window;
}

/** Close the DOM so that Node's test runner can exit. */
export async function closeDom(window) {
  await window.happyDOM.close();
}

/** The anywidget model interface the view uses: get, on/off change events, send, custom messages. */
export class FakeModel {
  constructor(state) {
    this.state = { ...state };
    this.handlers = new Map();
    this.sent = [];
  }
  get(name) { return this.state[name]; }
  set(name, value) {
    this.state[name] = value;
    for (const fn of this.handlers.get(`change:${name}`) ?? []) fn();
  }
  on(event, fn) { this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]); }
  off(event, fn) { this.handlers.set(event, (this.handlers.get(event) ?? []).filter((f) => f !== fn)); }
  send(message) { this.sent.push(message); }
  custom(message) { for (const fn of this.handlers.get("msg:custom") ?? []) fn(message); }
}

/** What anywidget hands `initialize` and each `render`: an object of their own over the one model
 * (get, set, send, on, off bound to it), never the model itself. */
export function proxyOf(model) {
  return { get: model.get.bind(model), set: model.set.bind(model), send: model.send.bind(model),
    on: model.on.bind(model), off: model.off.bind(model) };
}
