// Each run's widget: its code is the RunView module's, registered once per page (shared.js).
import { piecesOf } from "./pieces.js";
import { SHARED_KEY } from "./shared.js";

const WAIT_MS = 30_000;

function registered() {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const look = () => {
      const view = globalThis[SHARED_KEY];
      if (view && typeof view.render === "function") resolve(view);
      else if (Date.now() - started > WAIT_MS) reject(new Error("the widget's code did not load"));
      else setTimeout(look, 25);
    };
    look();
  });
}

async function render({ model, el }) {
  try {
    const view = await registered();
    return view.render({ model, el });
  } catch {
    el.textContent = "This run's widget could not load its code (the RunView module widget of the notebook is "
      + "missing); its transcript is in the output beside this one.";
    return undefined;
  }
}

/** The model is made: its streamed text is kept from now on, whenever its view renders. */
function initialize({ model }) {
  piecesOf(model, { made: true });
}

export default { initialize, render };
