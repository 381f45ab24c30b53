"""The suite's own guard: what a test starts is seen by the end-of-session check and stopped with
its whole process group, the grandchildren a shell leaves behind included."""

from __future__ import annotations

import subprocess
import time

from .support import processes


def _sleepers() -> list[str]:
    return [line for line in processes.survivors() if line.endswith(": sleep 61")]


def test_a_started_group_is_seen_and_stopped_with_its_grandchildren():
    # the shell ignores SIGTERM and its background child would outlive it: the SIGKILL fallback ends all
    shell = processes.start(["sh", "-c", "trap '' TERM; sleep 61 & sleep 61; wait"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while len(_sleepers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_sleepers()) == 2
    finally:
        processes.stop(shell, timeout=1)
    assert _sleepers() == []
    assert shell.returncode is not None
