"""Model backends: what produces a run's replies. `scripted` (offline) and `chat-completions`."""

from ._base import (
                    Backend,
                    BackendError,
                    CodeInterpreterCall,
                    FileSearchCall,
                    Finish,
                    TextDelta,
                    ToolCallDelta,
                    TurnContext,
                    TurnEvent,
                    Usage,
                    count_tokens,
)
from ._choice import make_backend

__all__ = ["Backend", "BackendError", "CodeInterpreterCall", "FileSearchCall", "Finish",
           "TextDelta", "ToolCallDelta", "TurnContext", "TurnEvent", "Usage", "count_tokens",
           "make_backend"]

