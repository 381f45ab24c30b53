// Where the widget shows, the run's static transcript beside it (the output saved for viewers that
// cannot show the widget) is hidden, and the transcript's style (which hides JupyterLab's "Error
// displaying widget" panels where no widget can show) is switched off. Done by marking elements,
// not with CSS :has(): the browser checks a :has() over an output area again at every node the
// streaming widget adds, and restyled the whole growing output at every frame (long tasks in
// JupyterLab past about 600 kB of answer).

const HIDDEN = "oairun-transcript-hidden";
const TRANSCRIPT = ":scope > .jp-OutputArea-output > .oairun-static";

/** Hide the transcripts in the output area that holds `el` (once `el` is in it); returns undo. */
export function hideTranscriptsBeside(el) {
  let area = null;
  let observer = null;
  let stopped = false;
  const mark = () => {
    for (const child of area.children) {
      if (!child.querySelector(TRANSCRIPT)) continue;
      child.classList.add(HIDDEN);
      for (const style of child.querySelectorAll(".oairun-static > style")) style.media = "not all";
    }
  };
  const attach = (tries) => {
    if (stopped) return;
    area = el.closest(".jp-OutputArea");
    if (!area) { // not in the page yet (or not in a notebook at all: nothing to hide)
      if (tries < 50) setTimeout(() => attach(tries + 1), 100);
      return;
    }
    mark();
    observer = new MutationObserver(mark); // the area's own children only: cheap, whatever streams
    observer.observe(area, { childList: true });
  };
  attach(0);
  return () => {
    stopped = true;
    observer?.disconnect();
    for (const child of area?.querySelectorAll(`.${HIDDEN}`) ?? []) {
      child.classList.remove(HIDDEN);
      for (const style of child.querySelectorAll(".oairun-static > style")) style.media = "";
    }
  };
}
