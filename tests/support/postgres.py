"""A real PostgreSQL server for the tests, from Debian's packages (`apt-get install postgresql`).

`PostgresCluster` makes a cluster in a temporary folder, starts `postgres` on 127.0.0.1 at a free
port (as `nobody` when the tests run as root: postgres refuses root), hands out fresh empty
databases, and stops the server and removes the folder at the end, however the tests ended.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from . import processes
from .sockets import free_port

__all__ = ["PostgresCluster", "postgres_bin"]


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL binaries, newest version first (None: not installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *args] if os.geteuid() == 0 else args


class PostgresCluster:
    """One running PostgreSQL server; `new_database()` gives a URL to a fresh empty database."""

    def __init__(self) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError("the tests need Debian's PostgreSQL: apt-get install postgresql (.ci/run does)")
        # outside the session's private temporary folder: the server's user must be able to reach it
        self.folder = Path(tempfile.mkdtemp(prefix="oairun-pg-", dir="/tmp"))
        self.process: subprocess.Popen | None = None
        self._count = 0
        try:
            if os.geteuid() == 0:
                shutil.chown(self.folder, "nobody")
            data = self.folder / "data"
            subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                            "--no-sync", "-E", "UTF8"]),
                           check=True, capture_output=True, timeout=120)
            self.port = free_port()
            self._command = _as_server_user([
                str(bin_dir / "postgres"), "-D", str(data), "-k", str(self.folder), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300",
                "-c", "full_page_writes=off"])
            self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
            self.start()
        except BaseException:
            self.stop()
            raise

    def start(self) -> None:
        """Start the server (again, after `stop_server`) and wait until it answers."""
        self.process = processes.start(self._command, stdout=subprocess.DEVNULL,
                                       stderr=open(self.folder / "log", "a"))
        self._wait_ready()

    def stop_server(self) -> None:
        """Fast shutdown, the data kept (a restart, with `start`)."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            processes.stop(self.process)

    def _wait_ready(self, timeout: float = 60.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.folder / "log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
                time.sleep(0.1)

    def new_database(self) -> str:
        """The URL of a new empty database of this server."""
        import psycopg

        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: sessions are ended), then the folder goes."""
        self.stop_server()
        shutil.rmtree(self.folder, ignore_errors=True)
