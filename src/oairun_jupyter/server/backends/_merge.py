"""Deltas that arrived in one network read, joined: a fast upstream's many small pieces then cost
one message delta per read instead of one each (bench/server.py measures the gain)."""

from __future__ import annotations

from ._base import TextDelta, ToolCallDelta, TurnEvent

__all__ = ["merged"]


def merged(events: list[TurnEvent]) -> list[TurnEvent]:
    """Deltas that arrived together as one: text pieces in a row, and argument pieces of one call
    in a row. A fast upstream's many small chunks then cost one message delta per network read
    instead of one each; a slow one's come one by one as before."""
    out: list[TurnEvent] = []
    pieces: list[str] = []  # of the delta at out[-1], joined once it is complete

    def close() -> None:
        if len(pieces) > 1:
            last = out[-1]
            out[-1] = TextDelta("".join(pieces)) if isinstance(last, TextDelta) else \
                ToolCallDelta(last.index, "".join(pieces), id=last.id, name=last.name)
        pieces.clear()
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, TextDelta) and isinstance(last, TextDelta) and not (last.annotations or event.annotations):
            pieces.append(event.text)
        elif (isinstance(event, ToolCallDelta) and isinstance(last, ToolCallDelta) and event.index == last.index
              and event.id is None and event.name is None):
            pieces.append(event.arguments)
        else:
            close()
            out.append(event)
            pieces.append(event.text if isinstance(event, TextDelta) else
                          event.arguments if isinstance(event, ToolCallDelta) else "")
    close()
    return out
