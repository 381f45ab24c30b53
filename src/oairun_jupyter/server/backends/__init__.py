"""Model backends: what produces a run's replies. `scripted` (offline) and `chat-completions`."""

from ._base import (Backend, BackendError, CodeInterpreterCall, FileSearchCall, Finish, TextDelta,
                    ToolCallDelta, TurnContext, TurnEvent, Usage, count_tokens)

__all__ = ["Backend", "BackendError", "CodeInterpreterCall", "FileSearchCall", "Finish",
           "TextDelta", "ToolCallDelta", "TurnContext", "TurnEvent", "Usage", "count_tokens",
           "make_backend"]


def make_backend(name: str, **options):
    """The backend called `name` ("scripted" or "chat-completions"), built with `options`."""
    if name == "scripted":
        from .scripted import ScriptedBackend
        return ScriptedBackend(**options)
    if name == "chat-completions":
        from .chat_completions import ChatCompletionsBackend
        return ChatCompletionsBackend(**options)
    raise ValueError(f"unknown backend {name!r}: use 'scripted' or 'chat-completions'")
