"""Client configuration: from arguments first, then the environment, then defaults."""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping

import httpx

from .._secrets import Secret, without_credentials
from ._clock import SYSTEM_CLOCK, Clock

__all__ = ["Timeouts", "ClientConfig", "DEFAULT_BASE_URL", "config_from_env"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# Environment variables the official SDKs read, in order of preference.
_ENV_API_KEY = ("OPENAI_API_KEY",)
_ENV_BASE_URL = ("OPENAI_BASE_URL",)
_ENV_ORGANIZATION = ("OPENAI_ORG_ID", "OPENAI_ORGANIZATION")
_ENV_PROJECT = ("OPENAI_PROJECT_ID", "OPENAI_PROJECT")


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, between two reads, and for a whole request with its retries.

    `total` bounds a non-streaming request including retries and back-off; for a stream it
    bounds the wait for the response headers, since a run may stream for long.
    """

    connect: float = 10.0
    read: float = 600.0
    total: float | None = 900.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if value is None and name == "total":
                continue
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"timeout {name!r} must be a number of seconds above 0, got {value!r}")


def _check_url(url: str, shown: str) -> None:
    """A base URL every request can be sent to: parsed now, not at the first request."""
    try:
        parsed = httpx.URL(url)
        problem = None if parsed.host else "it names no host"
        if any(character.isspace() for character in url):
            problem = "it holds a space or another blank"
        elif parsed.query or parsed.fragment or "?" in url or "#" in url:
            problem = "it has a query (?...) or fragment (#...), which would swallow every request's path"
        if parsed.port is not None and not 0 < parsed.port < 65536:
            problem = f"port {parsed.port} is not between 1 and 65535"
    except httpx.InvalidURL as error:  # its message names the character or port, never the URL
        problem = str(error)
    if problem:
        raise ValueError(f"base_url {shown!r} is not a valid URL ({problem}); write it as "
                         "http://host:port/v1, with an IPv6 host in brackets: http://[::1]:8000/v1")


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to talk to an Assistants-compatible server.

    The API key is held as a `Secret`, so printing a config never shows it.
    """

    api_key: Secret = dataclasses.field(default_factory=lambda: Secret(""))
    base_url: str = dataclasses.field(default=DEFAULT_BASE_URL, repr=False)  # may hold credentials
    organization: str | None = None
    project: str | None = None
    timeouts: Timeouts = dataclasses.field(default_factory=Timeouts)
    max_retries: int = 2
    clock: Clock = SYSTEM_CLOCK
    default_headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.api_key, str):  # a plain string is taken, and kept hidden from then on
            object.__setattr__(self, "api_key", Secret(self.api_key))
        if not isinstance(self.api_key, Secret):
            raise ValueError(f"api_key must be a string, got {type(self.api_key).__name__}")
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries must be an integer of 0 or more, got {self.max_retries!r}")
        if not isinstance(self.base_url, str):
            raise ValueError(f"base_url must be a string such as http://127.0.0.1:8000/v1, got "
                             f"{type(self.base_url).__name__}")
        scheme, sep, rest = self.base_url.partition("://")  # a scheme is case-insensitive; a path's end slash
        object.__setattr__(self, "base_url", (scheme.lower() + sep + rest).rstrip("/"))  # doubles every path's
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://, got {self.shown_base_url!r}; "
                "for the local server use the URL printed by `oairun-jupyter serve`")
        _check_url(self.base_url, self.shown_base_url)

    @property
    def shown_base_url(self) -> str:
        """The base URL as reprs, messages and logs show it: credentials in it replaced by `***`."""
        return without_credentials(self.base_url)

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        return f"ClientConfig(base_url={self.shown_base_url!r}, {fields})"

    def replace(self, **changes) -> "ClientConfig":
        """A copy with some fields changed; a plain string `api_key` is wrapped as a Secret.

        A key belongs to the server it was given for: a new `base_url` without a new `api_key`
        sends no key (an OpenAI key must not reach the local server, or whatever listens on a
        port the user typed)."""
        if isinstance(changes.get("api_key"), str):
            changes["api_key"] = Secret(changes["api_key"])
        if isinstance(changes.get("base_url"), str):
            changes["base_url"] = changes["base_url"].rstrip("/")
            if changes["base_url"] != self.base_url and "api_key" not in changes:
                changes["api_key"] = Secret("")
        return dataclasses.replace(self, **changes)


def _first_env(names: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name)
        if value:
            return value
    return None


def config_from_env(environ: Mapping[str, str] | None = None) -> ClientConfig:
    """The configuration the environment describes (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, ...)."""
    environ = os.environ if environ is None else environ
    return ClientConfig(
        api_key=Secret(_first_env(_ENV_API_KEY, environ) or ""),
        base_url=(_first_env(_ENV_BASE_URL, environ) or DEFAULT_BASE_URL).rstrip("/"),
        organization=_first_env(_ENV_ORGANIZATION, environ),
        project=_first_env(_ENV_PROJECT, environ),
    )


def environment_key_for(base_url: str, environ: Mapping[str, str] | None = None) -> str:
    """The environment's API key if `base_url` is the server the environment names (its
    `OPENAI_BASE_URL`, or OpenAI's when unset); else no key: a key goes only where it was meant to."""
    environ = os.environ if environ is None else environ
    configured = config_from_env(environ)
    return configured.api_key.reveal() if base_url.rstrip("/") == configured.base_url else ""
