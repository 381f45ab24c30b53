// Model output is untrusted. A message's Markdown is rendered, then passes two independent
// sanitizing layers (DOMPurify, then `scrub`): no script, no event handler, no unsafe URL, no
// SVG or MathML (which can paint outside the message's box), no class, id or style (which can
// imitate JupyterLab's own dialogs). Then, whatever the layers did, `finish` makes every link
// open a new tab, turns every image into a placeholder that loads on click (a remote image is
// a request the model chose, carrying what it chose), and inserts citations as DOM nodes.
// A message too long or too deeply nested to parse safely is shown as plain text.
import { marked } from "marked";
import DOMPurify from "dompurify";
import { highlightCode } from "./highlight.js";
import { MATH_TOKENS, extractMath, mathNode } from "./mathtext.js";

const TOKEN = (n) => `\u27e6oairun-cite-${n}\u27e7`;
const TOKENS = /\u27e6oairun-cite-(\d+)\u27e7/g;
const ENCODED_TOKENS = /%E2%9F%A6oairun-cite-(\d+)%E2%9F%A7/gi; // a token inside a URL
const SAFE_URL = /^(https?:|mailto:|#|\/|\.{0,2}\/|[^:]*$)/i;
const SAFE_IMAGE = /^(https?:|data:image\/(png|jpeg|gif|webp);)/i;
const URL_ATTRIBUTES = ["href", "src", "xlink:href", "action", "formaction"];
const DROPPED_ATTRIBUTES = ["style", "class", "id", "srcset", "background", "poster", "ping", "lowsrc",
  "dynsrc", "usemap"];
const FORBIDDEN_TAGS = ["script", "style", "iframe", "object", "embed", "form", "input", "button", "textarea",
  "select", "link", "meta", "base", "frame", "frameset", "svg", "math", "audio", "video", "source", "track",
  "picture", "map", "area", "template", "noscript"];

/** Above these, a message is shown as plain text: the parser would take too long or too deep. */
export const MAX_MARKDOWN_CHARS = 100_000;
export const MAX_NESTING = 32;
/** Emphasis and strikethrough delimiters cost marked quadratic time: 20,000 characters of "*a_"
 * take 3 s, 99,000 take 40 s. Outside code fences, a message may hold this many of them. */
export const MAX_EMPHASIS_MARKS = 2_000;
/** Above this, plain text is cut (the rest is named, not shown): a 10 MB line would freeze layout. */
export const MAX_SHOWN_CHARS = 1_000_000;

/** A second, independent pass over sanitized HTML: drop every event-handler attribute, every
 * unsafe URL, every attribute that styles or names, and every active or foreign element,
 * whatever the first layer let through. */
export function scrub(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  template.content.querySelectorAll(FORBIDDEN_TAGS.join(",")).forEach((node) => node.remove());
  template.content.querySelectorAll("*").forEach((node) => {
    if (node.namespaceURI !== "http://www.w3.org/1999/xhtml") {
      node.remove();
      return;
    }
    for (const attribute of [...node.attributes]) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\u0000-\u0020]/g, "");
      if (name.startsWith("on") || DROPPED_ATTRIBUTES.includes(name) ||
          (URL_ATTRIBUTES.includes(name) && !SAFE_URL.test(value))) {
        node.removeAttribute(attribute.name);
      }
    }
  });
  return template.innerHTML;
}

const PURIFY_OPTIONS = {
  USE_PROFILES: { html: true }, // no SVG, no MathML
  FORBID_TAGS: FORBIDDEN_TAGS,
  FORBID_ATTR: DROPPED_ATTRIBUTES,
  ALLOW_DATA_ATTR: false,
};

/** How deeply the Markdown nests: the most block-quote markers (and list indents) on one line. */
export function nestingDepth(text) {
  let deepest = 0;
  for (const match of text.matchAll(/^[ \t>]*/gm)) {
    const prefix = match[0];
    const depth = (prefix.match(/>/g)?.length ?? 0) + Math.floor(prefix.replace(/>/g, "").length / 4);
    if (depth > deepest) deepest = depth;
  }
  return deepest;
}

/** How many `*`, `_` and `~` the text holds outside fenced code blocks (one pass over the lines:
 * a regular expression pairing fences backtracks, 2 s on 100,000 characters of unclosed ones). */
export function emphasisMarks(text) {
  let marks = 0;
  let fence = null; // the open fence's character and length
  for (const line of text.split("\n")) {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence && opener && opener[0] === fence[0] && opener.length >= fence.length && !line.trim().slice(opener.length)) {
      fence = null;
    } else if (!fence && opener) {
      fence = opener;
    } else if (!fence) {
      marks += line.match(/[*_~]/g)?.length ?? 0;
    }
  }
  return marks;
}

/** Why a message is shown as plain text rather than Markdown (null: it is not). */
export function plainTextReason(text) {
  if (text.length > MAX_MARKDOWN_CHARS) return `longer than ${MAX_MARKDOWN_CHARS.toLocaleString("en")} characters`;
  if (nestingDepth(text) > MAX_NESTING) return `nested deeper than ${MAX_NESTING} levels`;
  // marks inside math ($x_1 + x_2$) are the formula's, never emphasis: counted again without it
  if (emphasisMarks(text) > MAX_EMPHASIS_MARKS && emphasisMarks(extractMath(text).text) > MAX_EMPHASIS_MARKS) {
    return `more than ${MAX_EMPHASIS_MARKS.toLocaleString("en")} emphasis marks (*, _ or ~) outside code`;
  }
  return null;
}

/** A message as plain text (cut at MAX_SHOWN_CHARS), with the reason it is not rendered. */
export function plainTextNodes(text, reason) {
  const fragment = document.createDocumentFragment();
  const body = document.createElement("div");
  body.className = "oairun-plain";
  body.textContent = text.length > MAX_SHOWN_CHARS ? text.slice(0, MAX_SHOWN_CHARS) : text;
  fragment.append(body);
  const rest = text.length - body.textContent.length;
  const note = document.createElement("div");
  note.className = "oairun-plain-note";
  note.textContent = `shown as plain text: ${reason}` +
    (rest > 0 ? `; ${rest.toLocaleString("en")} more characters not shown` : "");
  fragment.append(note);
  return fragment;
}

/** Sanitized DOM nodes for a message's Markdown text and its annotations. `layers` replaces
 * either sanitizing layer (the browser tests try each one alone). */
export function renderMarkdownNodes(text, annotations = [], layers = {}) {
  const source = String(text ?? "");
  const reason = plainTextReason(source);
  if (reason) return plainTextNodes(source, reason);
  try {
    return renderChecked(source, annotations, layers);
  } catch (error) {
    return plainTextNodes(source, `it could not be rendered (${error?.name ?? "error"})`);
  }
}

function renderChecked(source, annotations, layers) {
  const purify = layers?.purify ?? DOMPurify;
  const secondPass = layers?.scrub ?? scrub;
  const notes = [];
  for (const annotation of Array.isArray(annotations) ? annotations : []) { // one pass over them
    if (typeof annotation?.text !== "string" || !annotation.text || !source.includes(annotation.text)) continue;
    // a url citation's text is the link itself (a web search answer writes it): it stays a link
    if (annotation.type === "url_citation") continue;
    notes.push(annotation);
    source = source.split(annotation.text).join(TOKEN(notes.length));
  }
  const math = extractMath(source); // before Markdown reads (and eats) its backslashes
  const options = { async: false, gfm: true, breaks: false };
  const tokens = marked.lexer(math.text, options);
  const languages = []; // of the code blocks, in document order (the sanitizers drop their classes)
  marked.walkTokens(tokens, (token) => { if (token.type === "code") languages.push(token.lang ?? ""); });
  const html = marked.parser(tokens, options);
  const template = document.createElement("template");
  template.innerHTML = secondPass(purify.sanitize(html, PURIFY_OPTIONS));
  finish(template.content, notes, math.formulas, languages);
  return template.content;
}

/** Sanitized HTML for a message (what `renderMarkdownNodes` makes, serialized). */
export function renderMarkdown(text, annotations = [], layers = {}) {
  const box = document.createElement("div");
  box.append(renderMarkdownNodes(text, annotations, layers));
  return box.innerHTML;
}

/** What every rendered message gets, whatever the sanitizing layers did. */
function finish(root, notes, formulas = [], languages = []) {
  root.querySelectorAll("a").forEach((link) => {
    const href = (link.getAttribute("href") ?? "").replace(/[\u0000-\u0020]/g, "");
    if (!SAFE_URL.test(href)) link.removeAttribute("href");
    link.setAttribute("target", "_blank");
    link.setAttribute("rel", "noopener noreferrer");
  });
  root.querySelectorAll("img").forEach((image) => image.replaceWith(imagePlaceholder(image)));
  insertCitations(root, notes);
  insertMath(root, formulas);
  root.querySelectorAll("pre > code").forEach((code, i) => {
    highlightCode(code, languages[i]);
    code.parentElement.classList.add("oairun-codeblock");
    code.parentElement.prepend(copyButton(() => code.textContent, "Copy code"));
  });
}

/** A small button that copies `text()` to the clipboard. */
export function copyButton(text, label = "Copy") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "oairun-copy";
  button.textContent = label;
  button.title = label;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = label; }, 1500);
  });
  return button;
}

/** Formulas back where their tokens are: as MathML in text, as their source in an attribute. */
function insertMath(root, formulas) {
  if (!formulas.length) return;
  const source = (n) => formulas[Number(n)]?.source ?? "";
  root.querySelectorAll("*").forEach((node) => {
    for (const attribute of [...node.attributes]) {
      const value = attribute.value.replace(MATH_TOKENS, (_, n) => source(n));
      if (value !== attribute.value) node.setAttribute(attribute.name, value);
    }
  });
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) if (walker.currentNode.nodeValue.includes("\u27e6oairun-math-")) texts.push(walker.currentNode);
  for (const textNode of texts) {
    const inCode = textNode.parentElement?.closest("code, pre");
    const parts = textNode.nodeValue.split(MATH_TOKENS); // text, number, text, number, ...
    textNode.replaceWith(...parts.map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const formula = formulas[Number(part)];
      if (!formula) return document.createTextNode("");
      return inCode ? document.createTextNode(formula.source) : mathNode(formula);
    }));
  }
}

/** A button standing for an image: the image is requested only when the user clicks it. */
function imagePlaceholder(image) {
  const src = (image.getAttribute("src") ?? "").trim();
  const alt = image.getAttribute("alt") ?? "";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "oairun-image-load";
  let where = "";
  try { where = new URL(src, document.baseURI).host; } catch { where = ""; }
  button.textContent = `image${alt ? ` "${alt}"` : ""}${where ? ` from ${where}` : ""}: click to load`;
  button.title = src;
  if (!SAFE_IMAGE.test(src)) {
    button.disabled = true;
    button.textContent = `image${alt ? ` "${alt}"` : ""} (not loaded: not an http(s) or bitmap data URL)`;
    return button;
  }
  button.addEventListener("click", () => {
    const loaded = document.createElement("img");
    loaded.alt = alt;
    loaded.referrerPolicy = "no-referrer";
    loaded.src = src;
    button.replaceWith(loaded);
  });
  return button;
}

/** Citation marks as DOM nodes: in text, a `sup` element; inside an attribute, plain `[n]`. */
function insertCitations(root, notes) {
  if (!notes.length) return;
  const mark = (n) => `[${n}]`;
  root.querySelectorAll("*").forEach((node) => {
    for (const attribute of [...node.attributes]) {
      const value = attribute.value.replace(TOKENS, (_, n) => mark(n)).replace(ENCODED_TOKENS, (_, n) => mark(n));
      if (value !== attribute.value) node.setAttribute(attribute.name, value);
    }
  });
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) if (walker.currentNode.nodeValue.includes("\u27e6")) texts.push(walker.currentNode);
  for (const textNode of texts) {
    const parts = textNode.nodeValue.split(TOKENS); // text, number, text, number, ...
    const pieces = parts.map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const annotation = notes[Number(part) - 1];
      if (!annotation) return document.createTextNode(mark(part));
      const sup = document.createElement("sup");
      sup.className = "oairun-cite";
      sup.title = citationTitle(annotation);
      sup.textContent = mark(part);
      return sup;
    });
    textNode.replaceWith(...pieces);
  }
}

/** What a citation refers to, for its tooltip. */
export function citationTitle(annotation) {
  const file = annotation.file_citation?.file_id ?? annotation.file_path?.file_id ?? "";
  return `${annotation.type ?? "citation"}${file ? ": " + file : ""}`;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
