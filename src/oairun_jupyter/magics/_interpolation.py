"""Filling a `%%oai_run` cell's `{name}` placeholders from the notebook, and nothing else.

A prompt is prose with JSON, dicts and LaTeX pasted into it, so only a placeholder that names a
notebook variable is filled: `{name}`, `{name.attr}`, `{name[key]}` (chained as in `str.format`),
with an optional `!r`/`!s`/`!a` and format spec (which may itself hold `{name}`s: `{x:{width}}`).
Every other brace is left as typed: `{"a": 1}`, `{}`, `{0}`, `\\frac{1}{3}`, `x^{n}`, a shell's
or a template's `${HOME}`. `{{name}}` is the literal text `{name}`.
"""

from __future__ import annotations

import keyword
import re
from typing import Any, Mapping

__all__ = ["interpolate", "InterpolationError"]

# {name}, {name.attr}, {name[key]}, chained, then !r and :spec; or the same inside {{ }}
_SPEC_PART = r"(?:[^{}'\",]|\{[^\W\d]\w*\})"  # a spec's character, or a nested {name} ({x:{width}})
_PLACEHOLDER = re.compile(
    r"(?P<open>\{\{?)(?P<name>[^\W\d]\w*)(?P<chain>(?:\.[^\W\d]\w*|\[[^\[\]{}]+\])*)"
    rf"(?:!(?P<conversion>[rsa]))?(?::(?P<spec>(?! [^<>=^]){_SPEC_PART}*(?:,(?! ){_SPEC_PART}*)*))?(?P<close>\}}\}}?)")
_NESTED = re.compile(r"\{([^\W\d]\w*)\}")
# a spec is what format() takes (.2f, >10, %Y-%m-%d, ","): one with quotes, ", " or a leading
# space (other than a space fill) is a dict or a set typed in the prompt ({a: 1, b: 2}), left as is
_CHAIN = re.compile(r"\.([^\W\d]\w*)|\[([^\[\]{}]+)\]")
# a brace group right after a LaTeX command (\frac{, \mathbf{), a superscript (^{), another group
# (}{) or a subscript of one letter or command (x_{, \alpha_{) is LaTeX, not a placeholder; a
# word's underscore (report_{name}) is not; after a dollar (${HOME}) it is a shell's or a template's
_LATEX_BEFORE = re.compile(r"(?:\\[A-Za-z]+\*?|\^|\}|\$|(?:(?<!\w)\w|\\[A-Za-z]+|\})_)$")
_LOOK_BACK = 40  # characters before a brace that _LATEX_BEFORE reads


class InterpolationError(ValueError):
    """A placeholder names no variable, or filling it failed; the message names it."""


def _key(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]  # d['a'] as in Python, d[a] as in str.format
    return int(text) if text.isdigit() else text


def _value(match: re.Match[str], namespace: Mapping[str, Any]) -> Any:
    value = namespace[match["name"]]
    for attribute, key in _CHAIN.findall(match["chain"]):
        value = getattr(value, attribute) if attribute else value[_key(key)]
    return value


def _filled(placeholder: str, match: re.Match[str], namespace: Mapping[str, Any]) -> str:
    try:
        value = _value(match, namespace)
        conversion = match["conversion"]
        if conversion:
            value = {"r": repr, "s": str, "a": ascii}[conversion](value)
        spec = _NESTED.sub(lambda inner: str(namespace[inner[1]]), match["spec"] or "")
        return format(value, spec)
    except Exception as error:  # the user's values: a missing key, a bad spec, a __format__ that raises
        raise InterpolationError(f"could not fill {placeholder} ({type(error).__name__}: {error}); write "
                                 f"{{{placeholder}}} for the literal text, or use --raw") from None


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """`text` with each placeholder that names a variable of `namespace` filled (see the module)."""
    out: list[str] = []
    done = 0
    for match in _PLACEHOLDER.finditer(text):
        opened, closed, name = match["open"], match["close"], match["name"]
        start, end = match.start(), match.end()
        escaped = len(opened) == 2 and len(closed) == 2  # {{name}}: the literal text {name}
        if not escaped:  # a lone extra brace ({{name} or {name}}) is text beside the placeholder
            start, end = start + len(opened) - 1, end - len(closed) + 1
        if keyword.iskeyword(name) or _LATEX_BEFORE.search(text[max(0, start - _LOOK_BACK):start]):
            continue
        if escaped:
            replacement = text[start + 1:end - 1]
        elif name not in namespace:
            raise InterpolationError(
                f"the cell uses {{{name}}} but no variable {name!r} is defined: define it, write "
                f"{{{{{name}}}}} for the literal text, or use --raw")
        else:
            replacement = _filled(text[start:end], match, namespace)
        out += [text[done:start], replacement]
        done = end
    out.append(text[done:])
    return "".join(out)
