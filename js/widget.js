// The anywidget entry point of RunWidget.
import { renderMarkdownNodes } from "./markdown.js";
import { SHARED_KEY } from "./shared.js";
import { hideTranscriptsBeside } from "./transcripts.js";
import { RunView } from "./view.js";

let warmed = false;

/** The first Markdown render of a page pays for the libraries' first use (~70 ms): paid once,
 * when the first widget shows, before any text arrives, not in the frame of the first text. */
function warmUp() {
  if (warmed) return;
  warmed = true;
  setTimeout(() => renderMarkdownNodes("a *b* $x^2$\n\n| a |\n|---|\n| 1 |\n\n```python\nx = 1\n```"), 0);
}

function render({ model, el }) {
  const view = new RunView(model, el);
  warmUp();
  const sync = () => view.sync();
  for (const name of ["header", "messages", "steps", "records", "confirm"]) model.on(`change:${name}`, sync);
  const timer = setInterval(() => view.tick(), 1000);
  const showTranscripts = hideTranscriptsBeside(el);
  return () => {
    clearInterval(timer);
    showTranscripts();
    for (const name of ["header", "messages", "steps", "records", "confirm"]) model.off(`change:${name}`, sync);
    view.dispose();
  };
}

/** The module widget's model is made (in a live kernel, or from a saved notebook's widget state):
 * its code becomes the code of every run's widget on the page (loader.js). */
function initialize() {
  if (!globalThis[SHARED_KEY]) globalThis[SHARED_KEY] = { render };
}

export default { initialize, render };
