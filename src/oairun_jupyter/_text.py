"""Text that can be written anywhere: sent, shown, saved (a leaf module: the tools layer and the
server both hold model output to it)."""

from __future__ import annotations

__all__ = ["valid_text"]


def valid_text(text: str) -> str:
    """`text` as valid Unicode: a surrogate pair written as two code points is joined, a lone
    surrogate (text decoded with `surrogateescape`, a JSON `\\ud800` escape) becomes U+FFFD.
    Such text cannot be encoded as UTF-8: not sent, not shown, not saved in a notebook."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
