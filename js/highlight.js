// Code blocks in messages, highlighted offline by highlight.js with the common languages only
// (each one bundled costs the widget a few kB; an unknown language stays plain text).
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import r from "highlight.js/lib/languages/r";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

for (const [name, language] of Object.entries({ bash, c, cpp, css, go, java, javascript, json, markdown, python, r,
  rust, sql, typescript, xml, yaml })) {
  hljs.registerLanguage(name, language);
}

export const MAX_HIGHLIGHTED_CHARS = 100_000; // a longer block stays plain: colouring it would stall the page

/** Colour `code` (a <code> element holding text) as `language`; whether it was coloured. The
 * HTML highlight.js writes escapes the code: only its own spans are added. */
export function highlightCode(code, language) {
  const text = code.textContent ?? "";
  const name = String(language ?? "").trim().split(/\s/)[0].toLowerCase();
  if (!name || text.length > MAX_HIGHLIGHTED_CHARS || !hljs.getLanguage(name)) return false;
  try {
    code.innerHTML = hljs.highlight(text, { language: name, ignoreIllegals: true }).value;
    code.classList.add("oairun-hljs");
    return true;
  } catch {
    code.textContent = text;
    return false;
  }
}
