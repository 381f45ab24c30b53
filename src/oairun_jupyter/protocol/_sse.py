"""An incremental Server-Sent Events decoder following the WHATWG EventSource parsing rules.

Feed it bytes as they arrive, split anywhere (inside a line, a CRLF pair or a UTF-8 character);
it returns the events completed so far. `finish()` at the end of the stream raises if an event
was cut off, instead of dropping it as a browser would: a lost event is a lost part of a run.
"""

from __future__ import annotations

import codecs
import re
from typing import Iterable, Iterator

from ._errors import StreamTruncatedError

__all__ = ["ServerSentEvent", "SSEDecoder", "decode_sse"]

_LINE_END = re.compile(r"\r\n|\r|\n")


class ServerSentEvent:
    """One dispatched event: its type (default "message"), data, last event id and retry."""

    __slots__ = ("event", "data", "id", "retry")

    def __init__(self, event: str, data: str, id: str = "", retry: int | None = None) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerSentEvent) and (
            (self.event, self.data, self.id, self.retry)
            == (other.event, other.data, other.id, other.retry))

    def __repr__(self) -> str:
        data = self.data if len(self.data) <= 60 else self.data[:57] + "..."
        return f"ServerSentEvent(event={self.event!r}, data={data!r})"


class SSEDecoder:
    """Turns a byte stream into `ServerSentEvent`s, one chunk at a time."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._at_start = True
        self._tail = ""  # the unterminated last line
        self._skip_lf = False  # the last chunk ended in CR: drop an LF that starts the next
        self._event = ""
        self._data: list[str] = []
        self._last_id = ""
        self._retry: int | None = None
        self._has_fields = False  # a field of the current event was seen (for truncation)

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode `chunk` and return the events it completed."""
        text = self._utf8.decode(chunk)
        if self._at_start and text:
            self._at_start = False
            if text[0] == "\ufeff":
                text = text[1:]
        return self._feed_text(text)

    def finish(self) -> list[ServerSentEvent]:
        """End of input: the events still pending, or StreamTruncatedError if one is incomplete."""
        events = self._feed_text(self._utf8.decode(b"", final=True))
        if self._tail or self._has_fields:
            raise StreamTruncatedError(
                "the event stream ended in the middle of an event; the connection was probably "
                "dropped: retrieve the run to see its state")
        return events

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":  # second half of a CRLF split across chunks
                text = text[1:]
        buffer = self._tail + text
        if not buffer:
            return []
        ends_with_cr = buffer[-1] == "\r"
        if ends_with_cr:
            buffer = buffer[:-1]
        lines = _LINE_END.split(buffer) if "\r" in buffer else buffer.split("\n")
        if ends_with_cr:  # every line is complete; an LF may still follow the CR
            self._tail = ""
            self._skip_lf = True
        else:
            self._tail = lines.pop()
        return self._take_lines(lines)

    def _take_lines(self, lines: Iterable[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if line[:5] == "data:":  # most lines of a stream: read here, not through _field (a third faster)
                self._data.append(line[6:] if line[5:6] == " " else line[5:])
                self._has_fields = True
            elif not line:
                if self._data:
                    events.append(self._dispatch())
                else:  # an event with no data is not dispatched
                    self._has_fields = False
                    self._event = ""
            elif line[0] != ":":
                name, sep, value = line.partition(":")
                if sep and value[:1] == " ":
                    value = value[1:]
                self._field(name, value)
        return events

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        else:
            return  # unknown fields are ignored by the standard
        self._has_fields = True

    def _dispatch(self) -> ServerSentEvent | None:
        self._has_fields = False
        event_type, self._event = self._event, ""
        if not self._data:
            return None
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        self._data = []
        return ServerSentEvent(event_type or "message", data, self._last_id, self._retry)


def decode_sse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """All events of a complete byte stream; raises StreamTruncatedError if it was cut off."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.finish()
