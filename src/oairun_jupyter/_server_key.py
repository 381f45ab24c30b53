"""The CLI server's key: made on its first start, kept where only this user can read it, and read
by this user's clients on their own when they talk to a server on this machine.

`oairun-jupyter serve` refuses requests without it (unless started with `--no-auth`), so other
local users, and web pages that reach 127.0.0.1, cannot drive the user's runs. The file lives in
the user's config directory (`$XDG_CONFIG_HOME/oairun-jupyter/server-key`, or the path in
`OAIRUN_SERVER_KEY_FILE`), 0600 in a 0700 folder; a file that others can read is refused, not
used, since its key could be anybody's.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["server_key_path", "ensure_server_key", "read_server_key", "is_loopback_url", "key_for_local_url"]


def server_key_path() -> Path:
    """Where this user's server key is kept."""
    override = os.environ.get("OAIRUN_SERVER_KEY_FILE")
    if override:
        return Path(override)
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "oairun-jupyter" / "server-key"


def _private_reason(info: os.stat_result, path: Path) -> str | None:
    if info.st_uid != os.geteuid():
        return f"{path} belongs to another user (uid {info.st_uid})"
    if stat.S_IMODE(info.st_mode) & 0o077:
        return f"{path} can be read by other users (mode {stat.S_IMODE(info.st_mode):o}): run `chmod 600 {path}`"
    return None


def ensure_server_key(path: Path | None = None) -> str:
    """The key in `path`, made (0600, in a 0700 folder) if there is none yet.

    Raises ValueError when the file is not private to this user."""
    path = path or server_key_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.parent.stat().st_uid == os.geteuid():
        path.parent.chmod(0o700)  # a folder made earlier with a looser mode
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
    key = read_server_key(path, strict=True)
    assert key is not None  # strict reading raises instead
    return key


def read_server_key(path: Path | None = None, *, strict: bool = False) -> str | None:
    """The key in `path`, or None when there is none or the file is not private to this user
    (with `strict`, those are a ValueError naming the problem)."""
    path = path or server_key_path()
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        if strict:
            raise ValueError(f"cannot read the server key file {path}: {error.strerror}") from None
        return None
    with os.fdopen(descriptor) as file:
        problem = _private_reason(os.fstat(file.fileno()), path)
        key = file.read(1024).strip() if problem is None else ""
    if problem or not key:
        if strict:
            raise ValueError(problem or f"the server key file {path} is empty: delete it to make a new key")
        return None
    return key


@functools.lru_cache(maxsize=64)
def is_loopback_url(url: str) -> bool:
    """Whether `url` names a server on this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_for_local_url(url: str) -> str | None:
    """The server key a client sends to a server on this machine when it was given no key: only
    when the port is listened on by this user (another user squatting the port gets nothing)."""
    if not is_loopback_url(url):
        return None
    path = server_key_path()
    try:
        info = os.stat(path)
    except OSError:
        return None
    parts = urlsplit(url)
    if not _listened_on_by_me(parts.port or (443 if parts.scheme == "https" else 80)):
        return None
    # read again only when the file changes (its content, owner or mode)
    return _key_of(str(path), info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_size)


@functools.lru_cache(maxsize=4)
def _key_of(path: str, *file_state: int) -> str | None:
    return read_server_key(Path(path))


def _listened_on_by_me(port: int) -> bool:
    """Whether every listener on `port` belongs to this user (Linux's /proc/net tables say who
    owns a socket; where they cannot be read, the port is taken to be this user's). Read at every
    request (about 2 ms here), not cached: a port the user's server just left can be taken by
    another user within any caching window."""
    owners = set()
    readable = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                readable = True
                next(rows, None)  # the header
                for row in rows:
                    fields = row.split()
                    if len(fields) > 7 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        owners.add(int(fields[7]))
        except OSError:
            continue
    if not readable:
        return True
    return owners == {os.geteuid()}
