"""The notebook is the deliverable: runs survive save, reopen and export, with JupyterLab's
default settings (widget state not saved), in Debian's chromium driven by Playwright.

Screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import nbformat
import pytest

from ..support.notebooks import make_notebook

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)


from ..support.jupyterlab import open_notebook, run_all_cells, screenshot, wait_for_badges  # noqa: E402

CELLS = (
    "%load_ext oairun_jupyter\n"
    "def get_weather(city: str) -> str:\n    '''The weather in a city.'''\n    return f'sunny in {city}'",
    '%%oai_run --tools get_weather\nget_weather {"city": "Paris"}',
    "%%oai_run\nA table:\n\n| city | sky |\n|---|---|\n| Oslo | *grey* |\n\nand $x^{2} + \\frac{1}{3}$",
    "from oairun_jupyter import oai_create_thread_and_run, tool\n"
    "shown = oai_create_thread_and_run(_oai_run.assistant_id, thread={'messages': ['get_weather {\"city\": \"Rome\"}']},"
    " tools=[tool(get_weather)], stream=True)\nshown",
)






def _visible_transcripts(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output .oairun-static')]
        .filter(node => node.offsetParent !== null).map(node => node.innerText)""")


def _visible_widget_errors(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output')]
        .filter(node => node.offsetParent !== null && /(Error displaying|Loading) widget/.test(node.textContent))
        .map(node => node.textContent)""")


def _wait_for_no_kernel(lab, name: str, timeout: float = 30) -> None:
    """Until the notebook `name` has no kernel any more."""
    deadline = time.monotonic() + timeout
    while any(session["path"] == name and session.get("kernel")
              for session in httpx.get(f"{lab.url}/api/sessions", timeout=5).json()):
        assert time.monotonic() < deadline, f"the kernel of {name} did not stop within {timeout:.0f} s"
        time.sleep(0.2)


def _saved(lab, name: str, runs: int, timeout: float = 30) -> nbformat.NotebookNode:
    """The notebook as JupyterLab saved it, once it holds `runs` final transcripts."""
    deadline = time.monotonic() + timeout
    while True:
        notebook = nbformat.reads((lab.root / name).read_text(), as_version=4)
        finals = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "oairun-static" in o.get("data", {}).get("text/html", "") and "<b>completed</b>" in o["data"]["text/html"]]
        if len(finals) >= runs or time.monotonic() > deadline:
            return notebook
        time.sleep(0.2)


def test_a_notebook_saved_with_default_settings_shows_every_run_when_reopened_and_exported(lab, page, tmp_path):
    name = lab.add("deliverable.ipynb", nbformat.writes(make_notebook(*CELLS)))
    open_notebook(page, lab, name)
    run_all_cells(page)
    wait_for_badges(page, "completed", 3)
    page.wait_for_timeout(500)  # the last transcript update after the last widget write
    # live: each run shows once, as its widget; its transcript waits hidden beside it
    assert page.locator(".jp-OutputArea-output .oairun-run").count() == 3
    assert page.locator(".jp-OutputArea-output .oairun-static").count() == 3
    assert _visible_transcripts(page) == []
    screenshot(page, "transcripts-live")

    page.evaluate("void window.jupyterapp.commands.execute('docmanager:save')")
    saved = _saved(lab, name, 3)
    assert "widgets" not in saved.metadata  # the default: no widget state in the file
    # what the file keeps of each run: its transcript, final (nothing says it is starting)
    finals = [o["data"]["text/html"] for c in saved.cells for o in c.get("outputs", [])
              if "oairun-static" in o.get("data", {}).get("text/html", "")]
    assert len(finals) == 3 and all("<b>completed</b>" in html for html in finals), finals
    assert not any("when this output was written" in html for html in finals)

    # reopened later: the kernel that held the widgets is gone, a new one knows nothing of them
    page.evaluate("void window.jupyterapp.commands.execute('kernelmenu:shutdown')")
    _wait_for_no_kernel(lab, name)  # reopened before the old kernel went, the page could attach to it
    open_notebook(page, lab, name)
    page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output .oairun-static').length === 3")
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-OutputArea-output')]
        .filter(node => node.textContent.includes('Error displaying widget')).length === 3""")  # what JupyterLab says
    shown = _visible_transcripts(page)
    screenshot(page, "transcripts-reopened")
    assert len(shown) == 3, shown
    assert _visible_widget_errors(page) == []  # JupyterLab's "model not found" line is hidden
    paris, table, rome = shown
    assert "completed" in paris and "get_weather" in paris and '"city": "Paris"' in paris
    assert "sunny in Paris" in paris and "get_weather returned: sunny in Paris" in paris
    assert "sunny in Rome" in rome
    # the answer's Markdown is rendered: a table with its cells, math kept for the notebook's MathJax
    assert page.locator(".jp-OutputArea-output .oairun-static table td").first.text_content() == "Oslo"
    assert page.locator(".jp-OutputArea-output .oairun-static em").first.text_content() == "grey"

    # exported by nbconvert and opened offline: the same transcripts, nothing "starting"
    html_file = tmp_path / "deliverable.html"
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(lab.root / name),
                    "--output", str(html_file)], check=True, capture_output=True, env=lab.env, timeout=120)
    markdown_file = tmp_path / "deliverable.md"
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", str(lab.root / name),
                    "--output", str(markdown_file)], check=True, capture_output=True, env=lab.env, timeout=120)
    exported = markdown_file.read_text()
    assert "sunny in Paris" in exported and "sunny in Rome" in exported and "<td>Oslo</td>" in exported
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(html_file.as_uri())
    text = page.locator("body").inner_text()
    screenshot(page, "transcripts-nbconvert")
    assert text.count("completed") >= 3 and "sunny in Paris" in text and "sunny in Rome" in text
    assert '"city": "Paris"' in text
    assert "starting" not in text and "when this output was written" not in text
    assert page.evaluate("window.__pwned") == 0
    page.unroute("**/*")

    # an untrusted copy (a notebook someone sent): JupyterLab sanitizes its HTML and renders no
    # widget, as GitHub-like viewers do; the transcripts still say everything, and nothing runs
    for cell in saved.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            if "oairun-static" in html:  # a model's hostile text, were a transcript to hold it raw
                output["data"]["text/html"] = html.replace("sunny in Paris", "sunny in Paris<img src=x "
                                                           "onerror=window.__pwned=1>", 1)
    sent = lab.add("sent.ipynb", nbformat.writes(saved), trusted=False)
    open_notebook(page, lab, sent)
    page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output .oairun-static').length === 3")
    page.wait_for_timeout(500)
    shown = _visible_transcripts(page)
    screenshot(page, "transcripts-untrusted")
    assert len(shown) == 3 and "sunny in Paris" in shown[0] and '"city": "Paris"' in shown[0]
    assert page.locator(".jp-OutputArea-output .oairun-run").count() == 0  # untrusted: no widget
    assert page.evaluate("window.__pwned") == 0 and _visible_widget_errors(page) == []
