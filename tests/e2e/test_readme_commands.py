"""The README's main command, run as written: JupyterLab answers and the quickstart opens.
(The test command is what .ci/run runs.) Also: the quickstart run top to bottom in a browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from ..support import processes  # noqa: E402
from ..support.jupyterlab import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    JupyterLab,
    launch_page,
    open_notebook,
    run_all_cells,
    screenshot,
    wait_for_badges,
)
from ..support.sockets import free_port  # noqa: E402


def _readme_command(label: str) -> str:
    """The command shown under a README heading's paragraph containing `label`."""
    text = (ROOT / "README.md").read_text()
    section = text.split(label, 1)[1]
    return re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()


def test_the_main_command_opens_the_quickstart_in_jupyterlab(tmp_path):
    command = _readme_command("Start JupyterLab on the quickstart")
    assert command == "make lab"
    port = free_port()
    # the "browser" prints what JupyterLab asks it to open (a page that redirects to the notebook)
    env = {**os.environ, "JUPYTER_PORT": str(port), "BROWSER": "echo OPEN-IN-BROWSER %s",
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    # checkpoints go to the test's folder: the repository stays as it was
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "jupyter_server_config.py").write_text(
        f"c.FileCheckpoints.checkpoint_dir = {str(tmp_path / 'checkpoints')!r}\n")
    log = open(tmp_path / "lab.log", "w+")
    process = processes.start(command, shell=True, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = opened = None
        deadline = time.monotonic() + 240
        while (url is None or opened is None) and time.monotonic() < deadline:
            time.sleep(0.5)
            log.seek(0)
            text = log.read()
            found = re.search(rf"(http://(?:localhost|127\.0\.0\.1):{port}/lab[^\s]*\?token=\w+)", text)
            url = found.group(1) if found else None
            found = re.search(r"OPEN-IN-BROWSER (\S+)", text)
            opened = found.group(1) if found else None
            assert process.poll() is None, text[-2000:]
        assert url and opened, (tmp_path / "lab.log").read_text()[-2000:]
        token = url.rsplit("token=", 1)[1]
        contents = httpx.get(f"http://127.0.0.1:{port}/api/contents/quickstart.ipynb?token={token}")
        assert contents.status_code == 200 and contents.json()["type"] == "notebook"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(opened)
            page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
            page.wait_for_function("() => [...document.querySelectorAll('.lm-TabBar-tabLabel')]"
                                   ".some(t => t.textContent === 'quickstart.ipynb')", timeout=60_000)
            page.wait_for_timeout(2000)  # the notebook's open asks for the build status
            browser.close()
        log.seek(0)
        text = log.read()
        # no package.json above .venv, which made JupyterLab's build check read its scripts as ES modules
        assert "Dynamic require" not in text and "Could not determine jupyterlab build status" not in text, text[-3000:]
    finally:
        processes.stop(process, timeout=30)
        log.close()
    assert not (ROOT / "notebooks" / ".ipynb_checkpoints").exists()


def test_the_quickstart_runs_top_to_bottom_in_a_browser():
    lab = JupyterLab()
    try:
        shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", lab.root / "quickstart.ipynb")  # a copy: autosave
        with sync_playwright() as playwright:
            context, page = launch_page(playwright, 1100, 2400)
            open_notebook(page, lab, "quickstart.ipynb")
            run_all_cells(page)
            wait_for_badges(page, "completed", 5, timeout=120_000)
            page.wait_for_timeout(500)
            shot = screenshot(page, "quickstart")
            cards = page.locator(".jp-OutputArea-output .oairun-tool")
            assert cards.count() >= 3
            assert "get_weather" in cards.first.locator(".oairun-tool-name").text_content()
            assert page.locator(".jp-OutputArea-output .oairun-badge", has_text="failed").count() == 0
            # the README's picture (docs/widget.png) is a copy of this one
            page.locator(".jp-OutputArea-output .oairun-run").nth(2).screenshot(path=str(shot.parent / "widget.png"))
            context.close()
        assert shot.exists()
    finally:
        lab.stop()
