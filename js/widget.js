// The anywidget entry point of RunWidget.
import { RunView } from "./view.js";

function render({ model, el }) {
  const view = new RunView(model, el);
  const sync = () => view.sync();
  const onMessage = (message) => view.onMessage(message);
  for (const name of ["header", "messages", "steps", "records", "confirm"]) model.on(`change:${name}`, sync);
  model.on("msg:custom", onMessage);
  const timer = setInterval(() => view.tick(), 1000);
  return () => {
    clearInterval(timer);
    for (const name of ["header", "messages", "steps", "records", "confirm"]) model.off(`change:${name}`, sync);
    model.off("msg:custom", onMessage);
  };
}

export default { render };
