// Model output is untrusted: Markdown is rendered, then sanitized (no script, no event-handler
// attributes, no javascript: URLs); citations become marked footnotes.
import { marked } from "marked";
import DOMPurify from "dompurify";

const TOKEN = (n) => `\u27e6oairun-cite-${n}\u27e7`;
const SAFE_URL = /^(https?:|mailto:|#|\/|\.{0,2}\/|[^:]*$)/i;
const URL_ATTRIBUTES = ["href", "src", "xlink:href", "action", "formaction", "background", "poster"];
const FORBIDDEN = "script,style,iframe,object,embed,form,input,button,textarea,select,link,meta,base,frame,frameset";

/** A second, independent pass over sanitized HTML: drop every event-handler attribute, every
 * unsafe URL and every active element, whatever the sanitizer let through. */
export function scrub(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  template.content.querySelectorAll(FORBIDDEN).forEach((node) => node.remove());
  template.content.querySelectorAll("*").forEach((node) => {
    for (const attribute of [...node.attributes]) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\u0000-\u0020]/g, "");
      if (name.startsWith("on") || name === "style" ||
          (URL_ATTRIBUTES.includes(name) && !SAFE_URL.test(value))) {
        node.removeAttribute(attribute.name);
      }
    }
    if (node.tagName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  return template.innerHTML;
}

/** Sanitized HTML for a message's Markdown text and its annotations. Two independent layers:
 * DOMPurify, then `scrub`; `layers` replaces either (the browser tests try each one alone). */
export function renderMarkdown(text, annotations = [], layers = {}) {
  const purify = layers?.purify ?? DOMPurify;
  const secondPass = layers?.scrub ?? scrub;
  let source = text ?? "";
  const notes = [];
  annotations.forEach((annotation) => {
    if (!annotation?.text || !source.includes(annotation.text)) return;
    notes.push(annotation);
    source = source.split(annotation.text).join(TOKEN(notes.length));
  });
  const html = marked.parse(source, { async: false, gfm: true, breaks: false });
  let clean = secondPass(purify.sanitize(html, {
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
    FORBID_ATTR: ["style"],
    ALLOW_DATA_ATTR: false,
  }));
  notes.forEach((annotation, i) => {
    const label = escapeHtml(citationTitle(annotation));
    clean = clean.split(TOKEN(i + 1)).join(
      `<sup class="oairun-cite" title="${label}">[${i + 1}]</sup>`);
  });
  return clean;
}

/** What a citation refers to, for its tooltip. */
export function citationTitle(annotation) {
  const file = annotation.file_citation?.file_id ?? annotation.file_path?.file_id ?? "";
  return `${annotation.type ?? "citation"}${file ? ": " + file : ""}`;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
