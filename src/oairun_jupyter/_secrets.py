"""Keeping the API key out of reprs, logs and error messages."""

from __future__ import annotations

import re

__all__ = ["Secret", "redact", "without_credentials"]

_USERINFO = re.compile(r"(?<=://)[^/@?#]*@")


class Secret:
    """A string that never shows itself: `repr` and `str` print a mask; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that needs it (the Authorization header)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __reduce__(self):  # pickling would carry the key into files
        raise TypeError("a Secret cannot be pickled")


def redact(text: str, secret: Secret | None) -> str:
    """`text` with the secret, and the masked form the service echoes back, replaced by `***`.

    The real service answered a wrong key with "Incorrect API key provided: sk-abc12**...**wxyz":
    its first eight and last four characters. Both forms are removed.
    """
    if not secret or not text:
        return text
    value = secret.reveal()
    text = text.replace(value, "***")
    if len(value) >= 12:
        masked = re.escape(value[:8]) + r"\*+" + re.escape(value[-4:])
        text = re.sub(masked, "***", text)
    return text


def without_credentials(url: str) -> str:
    """`url` with any `user:password@` replaced by `***@`, for everything that shows a URL."""
    return _USERINFO.sub("***@", url)
