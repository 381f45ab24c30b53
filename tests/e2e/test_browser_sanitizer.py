"""The widget's sanitizer where it runs, in Debian's chromium: each of its two layers on its own
(DOMPurify; the second pass, `scrub`) stops every payload of the corpus, and so do both together.
With neither layer the same harness sees payloads run, so a layer that stopped working would show.

The module under test is js/markdown.js, bundled for the page by the project's own esbuild.
The same browser then plays a web page of another origin against the runs server (issue 13).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ..support.xss import PAYLOADS

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from ..support.jupyterlab import launch_page  # noqa: E402

JS = Path(__file__).resolve().parent.parent.parent / "js"
ESBUILD = JS / "node_modules" / ".bin" / "esbuild"

LAYERS = {
    "both": "{}",
    "dompurify-alone": "{scrub: (html) => html}",
    "scrub-alone": "{purify: {sanitize: (html) => html}}",
}
NEITHER = "{purify: {sanitize: (html) => html}, scrub: (html) => html}"

# what must not be left in the rendered HTML (beyond anything having run)
ACTIVE = ["script", "iframe", "object", "embed", "base", "meta", "form", "style", "[onerror]", "[onload]",
          "[onfocus]", "[ontoggle]", "[onstart]", "[style]", "a[href^='javascript' i]", "a[href^='data:' i]",
          "[formaction]", "[*|href^='javascript' i]",
          # issue 13: nothing that paints outside its box, imitates the UI, loads by itself or navigates
          "svg", "math", "video", "audio", "map", "area", "img", "[class*='jp-']", "[id]", "[srcset]",
          "[background]", "[poster]", "a:not([target='_blank'])", "a:not([rel~='noopener'])"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> str:
    assert ESBUILD.exists(), f"{ESBUILD} is missing: run `make js` (npm ci --prefix js) first"
    out = tmp_path_factory.mktemp("sanitizer") / "markdown.js"
    subprocess.run([str(ESBUILD), str(JS / "markdown.js"), "--bundle", "--format=iife",
                    "--global-name=oairunMarkdown", f"--outfile={out}"], check=True, capture_output=True, timeout=60)
    return out.read_text()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        context, page = launch_page(playwright, width=800, height=600)
        try:
            yield page
        finally:
            context.close()


def _render_corpus(page, bundle: str, layers: str) -> dict:
    """Every payload rendered into the live page with these layers; what ran and what was left."""
    page.set_content("<!doctype html><html><body><div id=out></div></body></html>")
    page.evaluate("window.__pwned = 0")
    page.add_script_tag(content=bundle)
    page.evaluate("""([payloads, layers]) => {
        const make = new Function(`return (${layers});`);
        for (const payload of payloads) {
            const box = document.createElement("div");
            box.className = "box";
            box.innerHTML = window.oairunMarkdown.renderMarkdown(payload, [], make());
            document.getElementById("out").append(box);
        }
    }""", [PAYLOADS, layers])
    page.wait_for_timeout(1000)  # onload/onerror/autofocus handlers fire after insertion
    left = {selector: page.locator(f"#out {selector}").count() for selector in ACTIVE}
    return {"ran": page.evaluate("window.__pwned"), "left": {k: v for k, v in left.items() if v}}


@pytest.mark.parametrize("layers", list(LAYERS), ids=list(LAYERS))
def test_each_sanitizer_layer_alone_stops_the_whole_corpus(browser, bundle, layers):
    seen = _render_corpus(browser, bundle, LAYERS[layers])
    assert seen == {"ran": 0, "left": {}}, f"{layers}: {seen}"


def test_without_either_layer_the_corpus_runs_in_this_harness(browser, bundle):
    seen = _render_corpus(browser, bundle, NEITHER)
    assert seen["ran"] > 0 and seen["left"], "the harness must see an unsanitized payload run"


def test_a_page_of_another_origin_cannot_create_anything_on_the_server(browser):
    # the requests a page may send without asking (no CORS preflight): a form, text/plain, no-cors JSON
    from oairun_jupyter.server import start_local_server
    with start_local_server(pace=0) as server:
        browser.set_content("<!doctype html><html><body>evil</body></html>")  # about:blank: another origin
        url = f"{server.base_url}/threads"
        browser.evaluate("""async (url) => {
            const form = document.createElement("form");
            form.method = "POST"; form.action = url; form.enctype = "text/plain"; form.target = "sink";
            const field = document.createElement("input");
            field.name = '{"metadata": {"a": "'; field.value = '"}}';
            form.append(field);
            const sink = document.createElement("iframe"); sink.name = "sink";
            document.body.append(sink, form);
            form.submit();
            for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
                await fetch(url, {method: "POST", mode: "no-cors", headers: {"Content-Type": type},
                                  body: '{"metadata": {"b": "c"}}'}).catch(() => null);
            }
            await fetch(url, {method: "POST", mode: "no-cors", body: "{}"}).catch(() => null);
            await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"})
                .catch(() => null);  // a preflighted request: refused by CORS, and by the server's Origin check
        }""", url)
        browser.wait_for_timeout(1000)  # the form's navigation completes in its frame
        assert server.store.children("thread", None) == []


def _render_into_page(page, bundle: str, text: str, annotations: list | None = None) -> None:
    page.set_content("<!doctype html><html><body><div id=out></div></body></html>")
    page.add_script_tag(content=bundle)
    page.evaluate("""([text, annotations]) => document.getElementById("out").append(
        window.oairunMarkdown.renderMarkdownNodes(text, annotations))""", [text, annotations or []])


def test_a_remote_image_is_requested_only_when_clicked(browser, bundle):
    from ..support.http_server import LoopbackServer

    pixel = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                          "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d8a2a90000000049454e44ae426082")
    with LoopbackServer(lambda request: (200, {"Content-Type": "image/png"}, pixel)) as images:
        _render_into_page(browser, bundle, f"look: ![chart]({images.base_url}/leak.png?d=tool-output)")
        browser.wait_for_timeout(1000)
        assert images.received == []  # shown as a placeholder: the model chose that URL and its query
        placeholder = browser.locator("#out button.oairun-image-load")
        assert placeholder.inner_text() == f'image "chart" from {images.base_url.split("/")[2]}: click to load'
        placeholder.click()
        browser.locator("#out img").wait_for()
        browser.wait_for_function("document.querySelector('#out img').complete")
    assert [r.path for r in images.received] == ["/v1/leak.png"]


@pytest.mark.parametrize("text,reason", [
    (">" * 3000 + " deep", "nested deeper than 32 levels"),
    ("x" * 10_000_000, "longer than 100,000 characters; 9,000,000 more characters not shown"),
    ("- a\n" + "".join("    " * i + "- b\n" for i in range(1, 60)), "nested deeper than 32 levels"),
    ("*~_" * 5000, "more than 2,000 emphasis marks (*, _ or ~) outside code"),  # marked: ~40 s at 99,000
], ids=["3000 quotes", "10 MB line", "deep list", "emphasis marks"])
def test_a_message_too_deep_or_too_long_is_shown_as_text(browser, bundle, text, reason):
    _render_into_page(browser, bundle, text)
    assert browser.locator("#out .oairun-plain").count() == 1
    assert browser.locator("#out blockquote").count() == 0
    note = browser.locator("#out .oairun-plain-note").inner_text()
    assert note == f"shown as plain text: {reason}"
    assert browser.evaluate("document.querySelector('#out .oairun-plain').textContent.length") == min(
        len(text), 1_000_000)


def test_citations_are_inserted_as_nodes_even_inside_a_link(browser, bundle):
    # the annotation's text sits in a URL: substituting HTML there would break out of the attribute
    text = 'see [the source](https://example.com/"onmouseover="window.__pwned++/CITE) and CITE'
    annotation = {"type": "file_citation", "text": "CITE", "file_citation": {"file_id": 'file-1"><b>x</b>'}}
    browser.evaluate("window.__pwned = 0")
    _render_into_page(browser, bundle, text, [annotation])
    browser.locator("#out a").hover()
    assert browser.evaluate("window.__pwned") == 0
    assert browser.locator("#out sup.oairun-cite").count() == 1  # the one in the text
    assert browser.locator("#out sup.oairun-cite").get_attribute("title") == 'file_citation: file-1"><b>x</b>'
    assert browser.locator("#out b").count() == 0
    assert browser.locator("#out a").get_attribute("href").endswith("[1]")
