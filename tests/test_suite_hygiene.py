"""The suite's own guard: what a test starts is seen by the end-of-session check and stopped with
its whole process group, the grandchildren a shell leaves behind included."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .support import processes, sockets
from .support.fault_proxy import Fault, FaultProxy

ROOT = Path(__file__).resolve().parent.parent


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


def test_a_listening_socket_is_seen_until_it_is_closed():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        assert port in sockets.listening_ports()
    finally:
        listener.close()
    assert port not in sockets.listening_ports()


def test_the_fault_proxy_stops_its_port_its_connections_and_its_threads():
    upstream = socket.create_server(("127.0.0.1", 0))  # accepts, never answers: the relay blocks
    proxy = FaultProxy(upstream.getsockname()[1], plan=lambda line, n: Fault(stall_after=1)).start()
    try:
        client = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        client.sendall(b"GET /v1/x HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 10
        while not proxy.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proxy.requests == ["GET /v1/x HTTP/1.1"]  # a serving thread is inside the relay now
        proxy.stop(timeout=5)
        assert client.recv(10) == b""  # its connection was shut
        assert proxy.port not in sockets.listening_ports()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        assert [t for t in threading.enumerate() if t.name == "fault-proxy"] == []
    finally:
        client.close()
        upstream.close()


def test_a_hanging_test_is_failed_by_the_suite_timeout(tmp_path):
    (tmp_path / "test_hang.py").write_text("import time\n\ndef test_hangs():\n    time.sleep(60)\n")
    # the suite's own settings (pyproject), only with a shorter backstop
    finished = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=1",
                               "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), str(tmp_path)],
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1, finished.stdout
    assert "Timeout" in finished.stdout and "1 failed" in finished.stdout


def test_a_session_that_leaves_a_folder_or_a_listener_behind_fails(tmp_path):
    (tmp_path / "test_leaks.py").write_text(
        "import socket, tempfile\nkept = []\n\n"
        "def test_leaks():\n"
        "    tempfile.mkdtemp(prefix='oairun-leak-')\n"
        "    kept.append(socket.create_server(('127.0.0.1', 0)))\n")
    # the suite's own session checks (tests/conftest.py as a plugin) around a test that leaks
    finished = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                               "--rootdir", str(tmp_path), str(tmp_path / "test_leaks.py")],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 1, finished.stdout
    assert "1 passed" in finished.stdout
    assert "temporary folder left behind: oairun-leak-" in finished.stdout
    assert "still listening after the suite: 127.0.0.1:" in finished.stdout
