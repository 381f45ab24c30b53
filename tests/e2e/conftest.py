"""The fixtures of the JupyterLab browser tests: one JupyterLab per module (its defaults, so
"Save Widget State Automatically" is off), a fresh chromium page per test. The browser test
modules skip themselves when Debian's chromium is not installed."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from ..support.jupyterlab import JupyterLab, launch_page


@pytest.fixture(scope="module")
def lab():
    server = JupyterLab()
    yield server
    server.stop()


@pytest.fixture
def page():
    with sync_playwright() as playwright:
        context, page = launch_page(playwright)
        yield page
        context.close()
