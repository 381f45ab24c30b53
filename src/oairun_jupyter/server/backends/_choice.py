"""Choosing a backend by name; each backend module loads only when it is chosen."""

from __future__ import annotations

from ._base import Backend

__all__ = ["make_backend", "BACKENDS"]

BACKENDS = ("scripted", "chat-completions", "responses")


def make_backend(name: str, **options) -> Backend:
    """The backend called `name` (one of `BACKENDS`), built with `options`."""
    # a backend's module (and what it needs, httpx for an upstream) loads only when chosen
    if name == "scripted":
        from .scripted import ScriptedBackend
        return ScriptedBackend(**options)
    if name == "chat-completions":
        from .chat_completions import ChatCompletionsBackend
        return ChatCompletionsBackend(**options)
    if name == "responses":
        from .responses import ResponsesBackend
        return ResponsesBackend(**options)
    raise ValueError(f"unknown backend {name!r}: use {', '.join(map(repr, BACKENDS))}")
