"""Listening TCP sockets held by this process, read from /proc: what the end-of-session check uses
to see a server a test started and never stopped (a thread's listener, not only a child process's);
and a free loopback port for a server a test starts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from . import processes
from .deadline import Deadline

__all__ = ["listening_ports", "free_port", "wait_until_serving"]

_LISTEN = "0A"  # the TCP state column of /proc/net/tcp


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fds = Path(f"/proc/{pid}/fd")
    try:
        entries = list(fds.iterdir())
    except OSError:
        return inodes
    for entry in entries:
        try:
            target = os.readlink(entry)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def listening_ports(pid: int | None = None) -> set[int]:
    """The TCP ports (IPv4 and IPv6) on which process `pid` (this one by default) listens."""
    mine = _socket_inodes(os.getpid() if pid is None else pid)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _LISTEN and inode in mine:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def free_port() -> int:
    """A loopback port nothing listens on now (for a server process a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, what: str = "the server to listen") -> None:
    """Until `url` answers (any status); else the process is stopped and the failure shows its output."""
    deadline = Deadline(20, what)
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError as error:
            try:
                if process.poll() is not None:
                    raise AssertionError(f"the server ended: {process.stdout.read() if process.stdout else ''}") from error
                deadline.check(error)
            except AssertionError:
                processes.stop(process)
                raise
            time.sleep(0.05)
