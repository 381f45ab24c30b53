"""The RunWidget in JupyterLab, in a real browser (Debian's chromium driven by Playwright).

Screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import json
import os
import time

import nbformat
import pytest

from ..support.notebooks import execute, make_notebook

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from ..support.jupyterlab import (  # noqa: E402
    JupyterLab,
    assert_links_inert,
    launch_page,
    open_notebook,
    run_all_cells,
    screenshot,
    wait_for_approvals,
    wait_for_badges,
    wait_until,
)

HOSTILE = [
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=1</script>",
    "[click me](javascript:window.__pwned=1)",
    "<a href=javascript:window.__pwned=1>link</a>",
    "<svg onload=window.__pwned=1></svg>",
    "<iframe srcdoc='<script>parent.__pwned=1</script>'></iframe>",
    "<details open ontoggle=window.__pwned=1>x</details>",
    "<input autofocus onfocus=window.__pwned=1>",
]

SETUP = """
from oairun_jupyter import configure, oai_create_assistant, oai_create_thread_and_run, tool
from oairun_jupyter.server import start_local_server
server = start_local_server(pace=0.01)
configure(base_url=server.base_url)

def get_weather(city: str) -> str:
    '''The weather in a city.'''
    return f"sunny in {city}"

assistant = oai_create_assistant("scripted", name="Browser helper", tools=[tool(get_weather)])
"""






def _notebook(*cells: str) -> str:
    return nbformat.writes(make_notebook(*cells))


def test_a_run_streams_live_with_tool_cards_and_hostile_text_runs_nothing(lab, page):
    hostile_text = "\\n\\n".join(HOSTILE)
    hostile_args = " ".join("get_weather " + json.dumps({"city": h}) for h in HOSTILE[:3])
    name = lab.add("live.ipynb", _notebook(
        SETUP,
        'run = oai_create_thread_and_run(assistant, thread={"messages": ["/long 300"]}, stream=True)\nrun',
        'tools = oai_create_thread_and_run(assistant, thread={"messages": [\'get_weather {"city": "Paris"}\']},'
        ' stream=True)\ntools',
        f'hostile = oai_create_thread_and_run(assistant, thread={{"messages": ["{hostile_text}"]}}, stream=True)\n'
        'hostile',
        f'hostile_tools = oai_create_thread_and_run(assistant, thread={{"messages": [{hostile_args!r}]}},'
        ' stream=True)\nhostile_tools'))
    open_notebook(page, lab, name)
    page.evaluate("""() => {
        window.__lengths = [];
        new MutationObserver(() => {
            const body = document.querySelector('.jp-OutputArea-output .oairun-assistant .oairun-body');
            if (body) window.__lengths.push(body.textContent.length);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    run_all_cells(page)
    wait_for_badges(page, "completed", 4)
    shot = screenshot(page, "widget-live")
    lengths = page.evaluate("window.__lengths")
    distinct = sorted(set(lengths))
    assert len(distinct) >= 5, f"the text should grow over several observations, saw {distinct[:20]}"
    final = page.evaluate("document.querySelector('.jp-OutputArea-output .oairun-assistant .oairun-body').textContent")
    assert final.strip() == " ".join(f"w{n}" for n in range(300))
    card = page.locator(".jp-OutputArea-output .oairun-tool").first
    assert card.locator(".oairun-tool-name").text_content() == "get_weather"
    assert json.loads(card.locator(".oairun-tool-args").text_content()) == {"city": "Paris"}
    assert card.locator(".oairun-tool-fn").text_content() == "\u2192 get_weather"
    assert "sunny in Paris" in card.locator(".oairun-output pre").first.text_content()
    assert "waiting for tools" not in page.locator(".jp-OutputArea-output .oairun-badge").all_text_contents()
    # hostile markup: rendered as nothing active, and no link can run code
    assert_links_inert(page, ".jp-OutputArea-output .oairun-run")
    assert page.locator(".jp-OutputArea-output .oairun-run a").count() >= 1  # the links are there, made harmless
    assert page.evaluate("window.__pwned") == 0 and page.dialogs == []
    assert page.locator(".jp-OutputArea-output .oairun-run script, .jp-OutputArea-output .oairun-run iframe").count() == 0
    assert page.locator(".jp-OutputArea-output .oairun-run [onerror], .jp-OutputArea-output .oairun-run [onload]").count() == 0
    assert shot.exists()


def test_a_saved_notebook_shows_the_final_run_from_its_widget_state(lab, page):
    """Reopened in a new session, the run renders from the widget state saved in the notebook:
    the fresh kernel knows nothing of it (the view is marked disconnected)."""
    notebook = execute(make_notebook(
        SETUP,
        'run = oai_create_thread_and_run(assistant, thread={"messages": [\'get_weather {"city": "Oslo"}\']},'
        ' stream=True)\nrun'))
    name = lab.add("saved.ipynb", nbformat.writes(notebook), trusted=True)
    open_notebook(page, lab, name)
    wait_for_badges(page, "completed", timeout=60_000)
    screenshot(page, "widget-saved")
    assert page.locator(".jp-OutputArea-output .jupyter-widgets-disconnected .oairun-run").count() == 1
    # its transcript (the output beside the widget's) is in the notebook but not shown twice
    assert page.locator(".jp-OutputArea-output .oairun-static").count() == 1
    assert not page.locator(".jp-OutputArea-output .oairun-static").is_visible()
    text = page.locator(".jp-OutputArea-output .oairun-assistant .oairun-body").first.text_content()
    assert text.strip() == "get_weather returned: sunny in Oslo"
    assert "sunny in Oslo" in page.locator(".jp-OutputArea-output .oairun-tool .oairun-output pre").first.text_content()


def test_the_debugger_reruns_a_fixed_tool_from_its_card(lab, page):
    name = lab.add("debugger.ipynb", _notebook(
        "%load_ext oairun_jupyter\n"
        "def get_price(ticker: str) -> float:\n    '''A price.'''\n    return {'ACME': 12.5}[ticker]",
        '%%oai_run --tools get_price\nget_price {"ticker": "ZZZ"}',
        "def get_price(ticker: str) -> float:\n    '''A price, 0 when unknown.'''\n    return {'ACME': 12.5}.get(ticker, 0.0)"))
    open_notebook(page, lab, name)
    run_all_cells(page)
    wait_for_badges(page, "completed")
    page.wait_for_function(  # the last cell ran: the kernel is free to take clicks
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'")
    card = page.locator(".jp-OutputArea-output .oairun-tool").first
    assert "KeyError" in card.locator(".oairun-error pre").first.text_content()
    card.get_by_role("button", name="Re-run", exact=True).click()
    page.wait_for_selector(".jp-OutputArea-output .oairun-rerun", timeout=30_000)
    rerun = card.locator(".oairun-rerun").first
    assert rerun.locator(".oairun-rerun-title").text_content() == "Re-run 1: ok"
    assert rerun.locator(".oairun-output pre").text_content() == "0.0"
    card.get_by_role("button", name="Edit and re-run").click()
    editor = card.locator("textarea.oairun-editor")
    runs_before = page.evaluate("window.jupyterapp.shell.currentWidget.content.widgets[1].model.executionCount")
    # the editor types like an editor: Enter and Shift+Enter write newlines and never reach the
    # notebook (Shift+Enter would run the %%oai_run cell again), Ctrl+Enter applies
    editor.fill('{"ticker":')
    editor.press("End")
    editor.press("Enter")
    editor.press("Shift+Enter")
    editor.type('"ACME"}')
    assert editor.input_value() == '{"ticker":\n\n"ACME"}'
    editor.press("Control+Enter")
    page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output .oairun-rerun').length >= 2",
                           timeout=30_000)
    assert page.evaluate("window.jupyterapp.shell.currentWidget.content.widgets[1].model.executionCount") \
        == runs_before  # the cell did not run again
    assert page.locator(".jp-OutputArea-output .oairun-run").count() == 1
    assert card.locator(".oairun-rerun").nth(1).locator(".oairun-output pre").text_content() == "12.5"
    assert "KeyError" in card.locator(".oairun-error pre").first.text_content()  # the old result stays
    screenshot(page, "debugger-rerun")


def test_approval_mode_waits_for_approve_and_reject_clicks(lab, page):
    name = lab.add("approval.ipynb", _notebook(
        "%load_ext oairun_jupyter\nran = []\n"
        "def get_weather(city: str) -> str:\n    '''The weather.'''\n    ran.append(city)\n    return f'sunny in {city}'",
        '%%oai_run --tools get_weather --confirm --out pending\n'  # --confirm alone: it implies --background
        'get_weather {"city": "Yes"} get_weather {"city": "No"}'))
    open_notebook(page, lab, name)
    run_all_cells(page)
    wait_for_approvals(page, 2)
    screenshot(page, "approval-pending")
    cards = page.locator(".jp-OutputArea-output .oairun-tool")
    cards.nth(0).get_by_role("button", name="Approve", exact=True).click()
    cards.nth(1).get_by_role("button", name="Reject", exact=True).click()
    wait_for_badges(page, "completed", timeout=60_000)
    assert "sunny in Yes" in cards.nth(0).locator(".oairun-output pre").first.text_content()
    assert cards.nth(1).locator(".oairun-tool-status").text_content() == "refused"
    assert "the user rejected this call" in cards.nth(1).locator(".oairun-error pre").first.text_content()
    screenshot(page, "approval-done")


def test_the_widget_follows_the_dark_theme():
    dark = JupyterLab(theme="JupyterLab Dark")
    try:
        name = dark.add("dark.ipynb", _notebook(
            SETUP, 'run = oai_create_thread_and_run(assistant, thread={"messages": [\'get_weather {"city": "Rome"}\']},'
                   ' stream=True)\nrun'))
        with sync_playwright() as playwright:
            context, page = launch_page(playwright, 1100, 900)
            open_notebook(page, dark, name)
            run_all_cells(page)
            wait_for_badges(page, "completed")
            screenshot(page, "widget-dark")
            luminance = page.evaluate("""() => {
                const rgb = c => c.match(/\\d+/g).slice(0, 3).map(Number);
                const l = ([r, g, b]) => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
                const run = getComputedStyle(document.querySelector('.oairun-run'));
                const card = getComputedStyle(document.querySelector('.oairun-tool'));
                return [l(rgb(run.backgroundColor)), l(rgb(run.color)), l(rgb(card.backgroundColor))]; }""")
            context.close()
        background, text, card = luminance
        assert background < 0.3 and card < 0.35 and text > 0.6, luminance  # dark surfaces, light text
    finally:
        dark.stop()


@pytest.mark.parametrize("frontend", ["lab", "notebook"])
def test_the_stop_button_cancels_a_run_a_blocking_cell_is_waiting_on(lab, page, frontend):
    """The kernel handles no widget message while `%%oai_run` holds it: the Stop button asks the
    Jupyter server to interrupt the kernel, whose interrupt cancels the run on the server. In
    JupyterLab and in Notebook 7."""
    name = lab.add(f"stop-{frontend}.ipynb", _notebook(
        "%load_ext oairun_jupyter",
        "%%oai_run --out slow\n/pace 50\n/long 4000",  # about 200 s if nothing stops it
        "print(slow.status, [s.status for s in slow.list_steps()], slow.usage['completion_tokens'] > 0)"))
    if frontend == "lab":
        open_notebook(page, lab, name)
    else:
        page.goto(f"{lab.url}/notebooks/{name}")
        page.wait_for_function(
            """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                       const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                       return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""", timeout=60_000)
    run_all_cells(page)
    wait_until(page, "() => (document.querySelector('.jp-OutputArea-output .oairun-assistant .oairun-body')"
               "?.textContent.length ?? 0) > 20", "the answer to stream its first words")
    stop = page.locator(".jp-OutputArea-output .oairun-stop")
    assert stop.is_visible()
    clicked = time.monotonic()
    stop.click()
    wait_for_badges(page, "cancelled", timeout=30_000)
    took = time.monotonic() - clicked
    screenshot(page, f"stop-cancelled-{frontend}")
    page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                           ".some(o => o.textContent.startsWith('cancelled ['))", timeout=30_000)
    printed = [t for t in page.locator(".jp-OutputArea-output").all_text_contents() if t.startswith("cancelled [")]
    assert printed == ["cancelled ['cancelled'] True\n"], printed
    assert not stop.is_visible()
    assert page.locator(".jp-OutputArea-output .oairun-step").first.get_attribute("data-status") == "cancelled"
    assert took < 10, f"the run ended {took:.1f} s after the click"  # a click, not the run's 200 s


def test_a_view_made_after_text_streamed_shows_it_and_follows_the_stream(lab, page):
    """The widget's streamed text is kept from its model's start, for every view: a second view of
    a streaming run (shown 3 s in) shows what streamed before it and grows with the first (a view
    made late once showed nothing until the message ended: each view had its own store)."""
    name = lab.add("second-view.ipynb", _notebook(
        "%load_ext oairun_jupyter\nfrom oairun_jupyter.display import bridge_of\nimport time",
        "%%oai_run --background --out slow\n/pace 50\n/long 4000",  # about 200 s unless stopped
        "time.sleep(3)\ndisplay(bridge_of(slow).widget)"))
    open_notebook(page, lab, name)
    run_all_cells(page)
    lengths = "() => [...document.querySelectorAll('.jp-OutputArea-output .oairun-assistant .oairun-body')]" \
              ".map(b => b.textContent.length)"
    wait_until(page, f"() => ({lengths})().length === 2", "the run's second view")
    wait_until(page, f"() => ({lengths})()[1] > 50", "the second view to show the text streamed before it")
    before = page.evaluate(lengths)
    wait_until(page, f"([seen]) => ({lengths})()[1] > seen + 20", "the second view to follow the stream", arg=[before[1]])
    first, second = page.evaluate(lengths)
    assert abs(first - second) < 200, (first, second)  # the same text, give or take a frame
    badges = page.locator(".jp-OutputArea-output .oairun-badge").all_text_contents()
    assert badges == ["in progress", "in progress"], badges  # seen while the message still streams
    page.locator(".jp-OutputArea-output .oairun-stop").first.click()
    wait_for_badges(page, "cancelled", 2, timeout=30_000)


def test_markdown_tables_code_and_math_render_while_the_answer_streams(lab, page):
    """Seen mid-stream (the message still streaming): a table, highlighted code and MathML are in
    the DOM before the message completes; the finished message keeps them."""
    name = lab.add("live-markdown.ipynb", _notebook(
        "%load_ext oairun_jupyter", "%%oai_run\n/pace 40\nWhat can you do?"))
    open_notebook(page, lab, name)
    run_all_cells(page)
    # one look at the page: the message still streaming and the run in progress, its table, math
    # and highlighted code already drawn (the math ends about 20 words before the answer)
    wait_until(page, """() => {
        const body = document.querySelector('.jp-OutputArea-output .oairun-assistant .oairun-body.oairun-streaming');
        const badge = document.querySelector('.jp-OutputArea-output .oairun-badge');
        return body && badge && badge.textContent === 'in progress' && body.querySelector('table td')
            && body.querySelector('math') && body.querySelector('.hljs-keyword');
    }""", "a table, math and highlighted code in the answer while it streams")
    screenshot(page, "markdown-mid-stream")
    wait_for_badges(page, "completed", timeout=60_000)
    body = page.locator(".jp-OutputArea-output .oairun-assistant .oairun-body").first
    assert body.locator("table td").first.text_content() == "the answer, as it streams"
    assert body.locator("math").count() >= 2 and body.locator(".hljs-keyword").count() >= 1
    assert body.locator("pre > .oairun-copy").count() == 1
    source = body.locator(".oairun-math").first.get_attribute("title")
    assert source == "$e^{i\\pi} + 1 = 0$"  # the math's source, backslashes kept


def test_a_responses_run_shows_its_reasoning_summary_collapsed_and_its_code_step(lab, page):
    """The in-kernel server with the responses backend, in front of a fake upstream on 127.0.0.1
    replaying recorded Responses traffic: the reasoning summary is a card of its own, collapsed
    until clicked; the code interpreter's card shows its code; both say completed."""
    from ..support.http_server import LoopbackServer
    from ..support.replay import RECORDED

    def recorded(name: str):
        entries = json.loads((RECORDED / "responses" / f"{name}.json").read_text())["Entries"]
        return 200, {"Content-Type": "text/event-stream"}, ["".join(entries[0]["ResponseBody"]).encode()]
    replies = [recorded("StreamingResponsesWithReasoningSummary"), recorded("CodeInterpreterToolStreaming")]
    with LoopbackServer(lambda request: replies.pop(0)) as fake:
        name = lab.add("responses-run.ipynb", _notebook(
            f"%load_ext oairun_jupyter\n%oai local start --memory --backend responses --upstream-base-url {fake.base_url}",
            "%%oai_run\nPlan my trip", "%%oai_run\nFactorial of 5"))
        open_notebook(page, lab, name)
        run_all_cells(page)
        wait_for_badges(page, "completed", count=2, timeout=60_000)
    reasoning = page.locator(".oairun-tool", has=page.locator(".oairun-tool-name", has_text="reasoning")).first
    assert reasoning.locator(".oairun-tool-status").text_content() == "completed"
    summary = reasoning.locator("details.oairun-output")
    assert summary.get_attribute("open") is None and "Reasoning summary" in summary.locator("summary").text_content()
    assert not summary.locator("pre").is_visible()
    summary.locator("summary").click()
    assert "Planning a New York itinerary" in summary.locator("pre").text_content()
    code = page.locator(".oairun-tool", has=page.locator(".oairun-tool-name", has_text="code_interpreter")).first
    assert code.locator(".oairun-tool-status").text_content() == "completed"
    assert "def factorial(n):" in code.locator(".oairun-tool-result").text_content()
    screenshot(page, "responses-reasoning-and-code")
