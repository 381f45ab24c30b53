"""Model backends: what produces a run's replies. `scripted` (offline), `chat-completions` and `responses`."""

from ._base import (
                    Backend,
                    BackendError,
                    Carried,
                    CodeInterpreterCall,
                    FileSearchCall,
                    Finish,
                    HostedCallDelta,
                    HostedCallDone,
                    TextDelta,
                    ToolCallDelta,
                    TurnContext,
                    TurnEvent,
                    Usage,
                    count_tokens,
)
from ._choice import make_backend

__all__ = ["Backend", "BackendError", "Carried", "CodeInterpreterCall", "FileSearchCall", "Finish",
           "HostedCallDelta", "HostedCallDone",
           "TextDelta", "ToolCallDelta", "TurnContext", "TurnEvent", "Usage", "count_tokens",
           "make_backend"]

