"""Processes the tests start: each in a process group of its own, stopped with a SIGKILL fallback,
and remembered, so that the session can check that nothing it started outlives it.

`start(...)` is `subprocess.Popen` in a new session; `stop(process)` ends the whole group (a
`make lab` and the JupyterLab and kernels under it); `survivors()` lists what is still running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

__all__ = ["start", "stop", "survivors", "kill_survivors"]

_groups: list[int] = []


def start(args, **options) -> subprocess.Popen:
    """Popen in a new session (its own process group), remembered for the end-of-session check."""
    process = subprocess.Popen(args, start_new_session=True, **options)
    _groups.append(process.pid)
    return process


def _processes() -> list[tuple[int, int, int, str]]:
    """(pid, parent pid, process group, command line) of every live process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        state, ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if state != "Z":  # a zombie has already ended
            found.append((int(entry.name), int(ppid), int(pgrp), command))
    return found


def _members(group: int) -> list[int]:
    return [pid for pid, _, pgrp, _ in _processes() if pgrp == group]


def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM to the process's whole group; SIGKILL to whatever is left after `timeout` seconds."""
    group = process.pid
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while _members(group) and time.monotonic() < deadline:
        process.poll()  # reap the leader, so that it stops counting
        time.sleep(0.1)
    _kill_group(group)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        pass


def _kill_group(group: int) -> None:
    deadline = time.monotonic() + 5
    while _members(group) and time.monotonic() < deadline:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.05)


def survivors() -> list[str]:
    """What still runs of the groups the tests started, and any other child of this process."""
    me = os.getpid()
    return [f"pid {pid}: {command or '?'}" for pid, ppid, pgrp, command in _processes()
            if pid != me and (pgrp in _groups or ppid == me)]


def kill_survivors() -> None:
    """End every survivor (after the check has reported them)."""
    me = os.getpid()
    for group in _groups:
        _kill_group(group)
    for pid, ppid, _, _ in _processes():
        if ppid == me:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
