"""Users of a team server: each has an API key of their own and sees only their own objects.

A server started with users (`oairun-jupyter serve --users`) answers only requests whose bearer
key belongs to a user; the keys are stored as SHA-256 hashes (they are long random strings, so a
plain hash cannot be reversed by guessing). Assistants and threads belong to the user who created
them, and everything under a thread (its messages, runs, steps and events) is reached only
through it: another user's id is a 404, as if it did not exist, and lists show one's own objects.
A server without users (in the kernel, on loopback) has a single owner, '' (every object).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from starlette.requests import Request

from ._errors import ServiceError, error_response
from ._ids import now
from .stores import Store

__all__ = ["add_user", "hash_key", "request_user", "UserKeyMiddleware", "OWNED_KINDS", "check_user_name"]

OWNED_KINDS = frozenset({"assistant", "thread"})  # what a user's id filter applies to; the rest hangs below
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def check_user_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name[:70]!r} is not a user name: use 1 to 64 letters, digits, '.', '_', '@' or '-', "
                         "starting with a letter or digit")
    return name


def add_user(store: Store, name: str) -> str:
    """Add a user and return their new key (shown once: only its hash is kept)."""
    check_user_name(name)
    key = "oairun-" + secrets.token_urlsafe(32)
    if not store.add_user(name, hash_key(key), now()):
        raise ValueError(f"there is already a user named {name!r}: remove them first to give them a new key")
    return key


def request_user(request: Request) -> str | None:
    """The user a request comes from (None: the server has no users)."""
    return request.scope.get("state", {}).get("user")


class UserKeyMiddleware:
    """Every request must carry `Authorization: Bearer <a user's key>`; the user goes in its scope."""

    def __init__(self, app: Any, store: Store) -> None:
        self.app = app
        self._store = store

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            user = None
            if given[:7] == b"Bearer " and len(given) < 1024:
                user = self._store.user_of_key_hash(hash_key(given[7:].decode("latin-1")))
            if user is None:
                response = error_response(ServiceError(
                    401, "Missing or unknown user key: send your key as 'Authorization: Bearer <key>' "
                         "(the server's admin makes one with: oairun-jupyter users add NAME).",
                    code="invalid_api_key"))
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
