"""A notebook's runs survive PDF export, both of nbconvert's ways: `--to webpdf` (the exported
HTML printed by chromium: the rendered transcript) and `--to pdf` through LaTeX (the transcript's
text). The notebook is run in a real kernel (nbclient), as `jupyter nbconvert --execute` would.

webpdf is nbconvert's own exporter, in this process, printing with Debian's chromium: nbconvert
launches Playwright's default browser, a download this machine never makes, so its launch is
pointed at /usr/bin/chromium. No TeX is installed here: the LaTeX source nbconvert would compile
is checked instead, which is where the transcript's content is decided.
"""

from __future__ import annotations

import io
import os

import pytest

from ..support.notebooks import execute, make_notebook
from .test_browser_transcripts import CELLS

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def executed():
    return execute(make_notebook(*CELLS), timeout=120)


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed "
                    "(apt-get install chromium); .ci/run installs it")
def test_webpdf_export_shows_each_run_rendered(executed, monkeypatch):
    import playwright.async_api
    from nbconvert import WebPDFExporter

    launch = playwright.async_api.BrowserType.launch

    async def launch_debian_chromium(self, *args, **kwargs):
        return await launch(self, *args, **{**kwargs, "executable_path": CHROMIUM})

    monkeypatch.setattr(playwright.async_api.BrowserType, "launch", launch_debian_chromium)
    pdf, _ = WebPDFExporter(disable_sandbox=True).from_notebook_node(executed)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert text.count("completed · run_") == 3, text  # each run's header, final
    assert "get_weather · ok" in text and '"city": "Paris"' in text and "sunny in Paris" in text  # the tool card
    assert "get_weather returned: sunny in Paris" in text and "sunny in Rome" in text  # the answers
    assert text.count("Oslo grey") == 2  # the table rendered, in the prompt and the answer (the cell's source keeps its pipes)
    assert "\\frac{1}{3}" in text  # the math's source, backslashes kept (MathJax is not there offline)
    assert "starting" not in text and "when this output was written" not in text


def test_latex_export_for_pdf_holds_each_run_as_text(executed):
    from nbconvert import LatexExporter

    latex, _ = LatexExporter().from_notebook_node(executed)
    # LaTeX takes no HTML: each run is its transcript's text, escaped for TeX
    assert latex.count("[completed] model=scripted") == 3
    assert "assistant: get\\_weather returned: sunny in Paris" in latex
    assert 'tool get\\_weather(\\{"city": "Paris"\\}) -> ok: sunny in Paris' in latex
    assert "sunny in Rome" in latex and "when this output was written" not in latex
