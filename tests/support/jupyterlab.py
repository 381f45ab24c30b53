"""JupyterLab in a headless Debian chromium, driven by Playwright (recipes of shared/TESTING.md).

`JupyterLab` starts a real server on 127.0.0.1 with a throwaway root, config and settings;
`open_notebook` waits until the kernel is really connected before cells may run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from . import processes
from .sockets import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


class JupyterLab:
    """A JupyterLab server on a free loopback port, serving files from `root`."""

    def __init__(self, theme: str | None = None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="oairun-lab-"))
        self.root = self.base / "root"
        self.root.mkdir()
        settings = self.base / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        if theme:
            (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(self.base / "config"),
               "JUPYTER_RUNTIME_DIR": str(self.base / "runtime"), "JUPYTER_DATA_DIR": str(self.base / "data")}
        env.pop("OPENAI_API_KEY", None)
        self.env = env
        self.log = open(self.base / "lab.log", "w")
        self.process = processes.start(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
             "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
             "--JupyterNotebookApp.expose_app_in_browser=True", "--allow-root",
             f"--ServerApp.root_dir={self.root}", f"--LabApp.workspaces_dir={self.base / 'workspaces'}",
             f"--LabApp.user_settings_dir={self.base / 'settings'}", "--LabApp.news_url=None"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"JupyterLab did not start:\n{(self.base / 'lab.log').read_text()[-3000:]}")

    def add(self, name: str, notebook_json: str, trusted: bool = False) -> str:
        """Put a notebook in the root; `trusted` signs it, as a user's own executed notebook is."""
        (self.root / name).write_text(notebook_json)
        if trusted:
            subprocess.run([sys.executable, "-m", "jupyter", "trust", str(self.root / name)], env=self.env,
                           check=True, capture_output=True)
        return name

    def stop(self) -> None:
        """Stop JupyterLab and its kernels (its whole process group), then remove its folders."""
        processes.stop(self.process)
        self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)


def open_notebook(page, lab: JupyterLab, name: str, *, with_kernel: bool = True, timeout: float = 60_000) -> None:
    page.goto(f"{lab.url}/lab/tree/{name}?reset")  # a fresh workspace: no tabs of earlier tests
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=timeout)
    if with_kernel:
        page.wait_for_function(
            """() => { const w = window.jupyterapp.shell.currentWidget;
                       const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                       return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""",
            timeout=timeout)


def run_all_cells(page) -> None:
    # `void`: never wait on the command's promise (it may never settle); wait on the DOM instead
    page.evaluate("void window.jupyterapp.commands.execute('notebook:run-all-cells')")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def launch_page(playwright, width: int = 1200, height: int = 1600):
    """(context, page) of Debian's chromium with a fresh profile; hostile code trips `window.__pwned`
    (set to 0 in every page), and every dialog is recorded in `page.dialogs` (and dismissed)."""
    profile = tempfile.mkdtemp(prefix="oairun-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": width, "height": height})
    close = context.close

    def close_and_remove_profile(*args, **kwargs):  # the profile goes once chromium has stopped writing it
        try:
            close(*args, **kwargs)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
    context.close = close_and_remove_profile
    context.add_init_script("window.__pwned = 0;")  # every page and tab of the context
    page = context.pages[0] if context.pages else context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return context, page


# what the widget's sanitizer lets a link point to (js/markdown.js, SAFE_URL)
_SAFE_HREF = re.compile(r"^(https?:|mailto:|#|/|\.{0,2}/|[^:]*$)", re.I)


def assert_links_inert(page, scope: str) -> None:
    """Every link under `scope` points somewhere harmless and opens apart from the notebook: a
    `javascript:` or `data:` link never survives, whichever way it was spelt."""
    links = page.locator(f"{scope} a")
    found = [(links.nth(i).get_attribute("href"), links.nth(i).get_attribute("target"),
              links.nth(i).get_attribute("rel")) for i in range(links.count())]
    bad = [link for link in found if link[0] is not None and (
        not _SAFE_HREF.match(re.sub(r"[\x00-\x20]", "", link[0])) or link[1:] != ("_blank", "noopener noreferrer"))]
    assert bad == [], f"links that could run code or replace the notebook: {bad}"


def wait_until(page, expression: str, what: str, *, arg=None, timeout: float = 60_000) -> None:
    """Wait until `expression` (a JS function of `arg`) is true; on a timeout, fail saying `what`
    was awaited and what the notebook's outputs showed (a run on a CI machine leaves no screenshot
    to look at)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout)
    except PlaywrightTimeout:
        shown = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                              ".map(o => o.textContent.replace(/\\s+/g, ' ').trim().slice(0, 400))")
        raise AssertionError(f"waited {timeout / 1000:.0f} s for {what}; the outputs showed: {shown}") from None


def wait_for_badges(page, status: str, count: int = 1, timeout: float = 90_000) -> None:
    """Wait until at least `count` run widgets show `status`."""
    wait_until(page, "([status, count]) => [...document.querySelectorAll('.jp-OutputArea-output .oairun-badge')]"
               ".filter(b => b.textContent === status).length >= count",
               f"{count} run widget(s) showing {status!r}", arg=[status, count], timeout=timeout)


def wait_for_approvals(page, count: int, timeout: float = 90_000) -> None:
    """Wait until exactly `count` tool cards are awaiting approval."""
    wait_until(page, "count => [...document.querySelectorAll('.jp-OutputArea-output .oairun-tool-status')]"
               ".filter(s => s.textContent === 'awaiting approval').length === count",
               f"{count} tool card(s) awaiting approval", arg=count, timeout=timeout)
