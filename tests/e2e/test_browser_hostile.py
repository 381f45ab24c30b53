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

from ..support.jupyterlab import JupyterLab, assert_links_inert, launch_page, open_notebook, run_all_cells, screenshot, wait_for_badges  # noqa: E402

assert len(PAYLOADS) >= 30


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
    ]


@pytest.fixture(scope="module")
def lab():
    server = JupyterLab()
    yield server
    server.stop()


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
        open_notebook(page, lab, name)
        run_all_cells(page)
        wait_for_badges(page, "completed", 4, timeout=120_000)
        screenshot(page, "hostile-live")
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
        wait_for_badges(page, "completed", 4, timeout=120_000)
        screenshot(page, "hostile-saved")
        _assert_nothing_ran(page)
        context.close()
