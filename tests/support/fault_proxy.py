"""A fault-injecting TCP proxy on 127.0.0.1: real sockets between the client and a real server.

Each accepted connection is forwarded to the upstream port; the proxy's `plan` decides, per
connection, what goes wrong: answer with an HTTP error status instead of forwarding, drop the
connection after some bytes of the response, stall the response, or cut it in the middle of an
SSE event. Requests it saw are counted by their first line.

`stop()` ends everything it started: the listener stops accepting (the port refuses), every open
socket is shut, a stalled relay wakes, and each of its threads is joined.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Fault:
    """What to do to one connection (all None: forward untouched)."""

    status: int | None = None          # answer this status instead of forwarding
    retry_after: str | None = None     # with this Retry-After header
    drop_after: int | None = None      # close after this many response bytes
    stall_after: int | None = None     # stop sending (keep the socket open) after this many bytes
    cut_mid_event: bool = False        # drop in the middle of the first SSE event after drop_after bytes


@dataclass
class FaultProxy:
    upstream_port: int
    plan: Callable[[str, int], Fault] = lambda first_line, number: Fault()
    requests: list[str] = field(default_factory=list)

    def start(self) -> "FaultProxy":
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)
        return self

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="fault-proxy")
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._open.add(sock)
        return sock

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self, timeout: float = 5.0) -> None:
        """Refuse new connections, shut every open one, and join every thread of the proxy."""
        self._stop.set()
        # shutdown wakes a thread blocked in accept(); close alone does not on Linux
        for sock in [self._listener, *self._open]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected, or already closed by its thread
        self._listener.close()
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(deadline - time.monotonic(), 0))
        alive = [thread for thread in self._threads if thread.is_alive()]
        if alive:
            raise RuntimeError(f"FaultProxy.stop: {len(alive)} thread(s) still running after {timeout} s")

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._stop.is_set():
                client.close()
                return
            self._spawn(self._serve, self._track(client))

    @staticmethod
    def _read_request(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _serve(self, client: socket.socket) -> None:
        """One request per connection (the proxy answers `Connection: close`)."""
        try:
            request = self._read_request(client)
            if not request:
                return
            first_line = request.split(b"\r\n", 1)[0].decode()
            self.requests.append(first_line)
            fault = self.plan(first_line, len(self.requests))
            if fault.status is not None:
                body = b'{"error": {"message": "injected %d", "type": "server_error", "param": null, "code": null}}' % fault.status
                headers = [f"HTTP/1.1 {fault.status} Injected", "Content-Type: application/json",
                           f"Content-Length: {len(body)}", "Connection: close"]
                if fault.retry_after is not None:
                    headers.append(f"Retry-After: {fault.retry_after}")
                client.sendall(("\r\n".join(headers) + "\r\n\r\n").encode() + body)
                return
            # ask upstream for a closed connection so the response ends with the socket
            request = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
            with self._track(socket.create_connection(("127.0.0.1", self.upstream_port))) as upstream:
                upstream.sendall(request)
                self._relay(upstream, client, fault)
                self._forget(upstream)
        except OSError:
            pass
        finally:
            self._forget(client)
            client.close()

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def _relay(self, upstream: socket.socket, client: socket.socket, fault: Fault) -> None:
        sent = 0
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                return
            limit = fault.drop_after if fault.drop_after is not None else fault.stall_after
            if limit is not None and sent + len(chunk) >= limit:
                cut = max(limit - sent, 0)
                if fault.cut_mid_event:
                    start = chunk.find(b"data: ", cut)
                    cut = start + 10 if start >= 0 else cut  # inside the event's JSON
                client.sendall(chunk[:cut])
                if fault.stall_after is not None:
                    self._stop.wait(30)  # the client's read timeout must notice; stop() wakes it
                return
            client.sendall(chunk)
            sent += len(chunk)
