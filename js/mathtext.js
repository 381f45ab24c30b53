// Math in a message: `$...$`, `$$...$$`, `\(...\)` and `\[...\]`, outside code, taken out of the
// text before Markdown reads it (Markdown would eat its backslashes: `\,` would become `,`), and
// put back after sanitizing as MathML made by Temml: offline, no fonts to ship, and only what
// Temml writes (its \href and the like are off). Math Temml cannot read stays its own source.
import temml from "temml";

const TOKEN = (n) => `\u27e6oairun-math-${n}\u27e7`;
export const MATH_TOKENS = /\u27e6oairun-math-(\d+)\u27e7/g;
const DELIMITERS = [["$$", "$$", true], ["\\[", "\\]", true], ["\\(", "\\)", false], ["$", "$", false]];
export const MAX_TEX_CHARS = 5_000; // one formula longer than this stays text
const MATHML_TAG = /^(math|m[a-z]+|semantics|annotation|annotation-xml|none)$/;

/** Where `close` next occurs at or after `from` (-1: nowhere), each answer kept for the next
 * opener: openers come left to right, so the text is read once per closer (100,000 characters of
 * unclosed `\\(` took seconds when each searched to the end). */
function nextCloser(text, close, from, cache) {
  const known = cache.get(close);
  if (known && known[0] <= from && (known[1] === -1 || from <= known[1])) return known[1];
  let end = text.indexOf(close, from);
  while (end !== -1 && close === "$" && text[end - 1] === "\\") end = text.indexOf(close, end + 1);
  cache.set(close, [from, end]);
  return end;
}

/** The closing delimiter of math opening at `start` (null: not math). */
function closing(text, start, cache = new Map()) {
  for (const [open, close, display] of DELIMITERS) {
    if (!text.startsWith(open, start)) continue;
    const from = start + open.length;
    const end = nextCloser(text, close, from, cache);
    if (end <= from) return null;
    const body = text.slice(from, end);
    if (open === "$" && (/^\s/.test(body) || /\s$/.test(body) || /^\d/.test(text[end + 1] ?? "") || body.includes("\n\n"))) {
      return null; // $5 and $6 are prices
    }
    if (body.includes("\n\n")) return null; // math stays within its paragraph
    return { end: end + close.length, tex: body, display, source: text.slice(start, end + close.length) };
  }
  return null;
}

/** `text` with its math replaced by tokens, and the formulas in token order. Code (fenced
 * blocks and inline `code` spans) is left as it is. */
export function extractMath(text) {
  const formulas = [];
  const closers = new Map(); // closer -> [from, where it was found], see nextCloser
  const fenced = fencedRanges(text);
  let next = 0; // the next fenced range ahead
  let result = "";
  let i = 0;
  while (i < text.length) {
    while (next < fenced.length && fenced[next][1] <= i) next += 1;
    if (next < fenced.length && i >= fenced[next][0]) { // a fenced block, as it is
      result += text.slice(i, fenced[next][1]);
      i = fenced[next][1];
      continue;
    }
    const c = text[i];
    if (c === "`") { // an inline code span, as it is (an unmatched run is just backticks)
      let run = 1;
      while (text[i + run] === "`") run += 1;
      const end = text.indexOf("`".repeat(run), i + run);
      const stop = end === -1 ? i + run : end + run;
      result += text.slice(i, stop);
      i = stop;
      continue;
    }
    if ((c === "$" || (c === "\\" && (text[i + 1] === "(" || text[i + 1] === "["))) && text[i - 1] !== "\\") {
      const found = closing(text, i, closers);
      if (found && found.tex.length <= MAX_TEX_CHARS) {
        formulas.push(found);
        result += TOKEN(formulas.length - 1);
        i = found.end;
        continue;
      }
    }
    result += c;
    i += 1;
  }
  return { text: result, formulas };
}

/** [start, end) of each fenced code block of `text`. */
function fencedRanges(text) {
  const ranges = [];
  let offset = 0;
  let fence = null;
  let start = 0;
  for (const line of text.split(/(?<=\n)/)) {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence && opener && opener[0] === fence[0] && opener.length >= fence.length) {
      ranges.push([start, offset + line.length]);
      fence = null;
    } else if (!fence && opener) {
      fence = opener;
      start = offset;
    }
    offset += line.length;
  }
  if (fence) ranges.push([start, text.length]);
  return ranges;
}

/** A formula as a DOM node: Temml's MathML, or its source as text if Temml cannot read it. */
export function mathNode(formula) {
  const box = document.createElement("span");
  box.className = formula.display ? "oairun-math oairun-math-display" : "oairun-math";
  box.title = formula.source;
  try {
    box.innerHTML = temml.renderToString(formula.tex, {
      displayMode: formula.display, throwOnError: true, trust: false, maxSize: 20, maxExpand: 200,
    });
    // what Temml wrote, checked all the same: MathML elements only, no link, no handler
    for (const node of box.querySelectorAll("*")) {
      if (!MATHML_TAG.test(node.localName)) throw new Error(`not MathML: ${node.localName}`);
      for (const attribute of [...node.attributes]) {
        const name = attribute.name.toLowerCase();
        if (name.startsWith("on") || name === "href" || name.endsWith(":href") || name === "src") {
          node.removeAttribute(attribute.name);
        }
      }
    }
  } catch {
    box.textContent = formula.source;
    box.classList.add("oairun-math-source");
  }
  return box;
}
