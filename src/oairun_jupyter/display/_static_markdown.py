"""A message's Markdown as HTML that is safe anywhere, for the static transcript.

The transcript is what a saved notebook, nbconvert and plain viewers show, so its HTML carries
no script, no raw HTML of the model's, no link that runs code and no image that loads by
itself (a hostile message could track who opens the notebook): images become links. Math
(`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`) is kept exactly as written, backslashes and all,
as code: the transcript's container tells MathJax to leave it alone (`tex2jax_ignore`), so no
viewer typesets TeX the model wrote (nor a price's dollars); code blocks are highlighted with inline styles (no stylesheet
survives a sanitizer).
"""

from __future__ import annotations

import html
import re
from typing import Any

from markdown_it import MarkdownIt

__all__ = ["markdown_html"]

MAX_HIGHLIGHTED = 100_000  # characters of one code block worth colouring; longer ones stay plain
_SAFE_LINK = re.compile(r"^(https?:|mailto:|#|/|\.{0,2}/|[^:]*$)", re.IGNORECASE)
_MATH_DELIMITERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))


def _next_closer(state: Any, closer: str, start: int) -> int:
    """Where `closer` next occurs in the inline text at or after `start` (-1: nowhere), each answer
    kept for the next opener: openers come left to right, so the text is read once per closer
    (a message of 100,000 unclosed `\\(` took seconds when each searched to its end)."""
    cache = state.env.setdefault("oairun_closers", {})
    key = (id(state.src), closer)
    known = cache.get(key)
    if known is not None and known[0] <= start and (known[1] == -1 or start <= known[1]):
        return known[1]
    end = state.src.find(closer, start)
    while end != -1 and closer == "$" and state.src[end - 1] == "\\":  # \$ is a dollar sign inside the math
        end = state.src.find(closer, end + 1)
    cache[key] = (start, end)
    return end


def _math_rule(state: Any, silent: bool) -> bool:
    """Inline math, taken before Markdown reads its backslashes (`\\,` stays `\\,`)."""
    src, pos = state.src, state.pos
    found = next(((o, c) for o, c in _MATH_DELIMITERS if src.startswith(o, pos)), None)
    if found is None:
        return False
    opener, closer = found
    start = pos + len(opener)
    end = _next_closer(state, closer, start)
    if end <= start:
        return False
    if opener == "$":  # $5 and $6 are prices: math opens and closes next to what it holds
        body = src[start:end]
        if body[0].isspace() or body[-1].isspace() or (src[end + 1:end + 2].isdigit()):
            return False
    if not silent:
        token = state.push("math_inline", "", 0)
        token.content = src[pos:end + len(closer)]
    state.pos = end + len(closer)
    return True


def _highlight(code: str, language: str, _attributes: Any) -> str:
    if not language or len(code) > MAX_HIGHLIGHTED:
        return ""  # markdown-it escapes it in a plain <pre><code>
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return ""
    return highlight(code, lexer, HtmlFormatter(nowrap=True, noclasses=True, style="default"))


def _image_as_link(self: Any, tokens: list, index: int, options: Any, env: Any) -> str:
    token = tokens[index]
    source = token.attrGet("src") or ""
    alt = html.escape(self.renderInlineAsText(token.children or [], options, env))
    return (f'<a href="{html.escape(source)}" target="_blank" rel="noopener noreferrer">[image: {alt or source}]</a>'
            if _SAFE_LINK.match(source) else f"[image: {alt}]")


def _link_open(self: Any, tokens: list, index: int, options: Any, env: Any) -> str:
    tokens[index].attrSet("target", "_blank")
    tokens[index].attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, index, options, env)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: bool(_SAFE_LINK.match(re.sub(r"[\x00-\x20]", "", url)))
    md.inline.ruler.before("escape", "math_inline", _math_rule)
    # math as its source, in code: a viewer's MathJax typesets none of the model's TeX (its \\href and
    # \\style would act in the page), and the source is what the notebook keeps
    md.add_render_rule("math_inline", lambda self, tokens, index, options, env:
                       f'<code class="oairun-tex">{html.escape(tokens[index].content)}</code>')
    md.add_render_rule("image", _image_as_link)
    md.add_render_rule("link_open", _link_open)
    return md


_MARKDOWN: MarkdownIt | None = None


def markdown_html(text: str) -> str:
    """`text` (Markdown from the model or the user) as safe HTML."""
    global _MARKDOWN
    if _MARKDOWN is None:
        _MARKDOWN = _parser()
    try:
        return _MARKDOWN.render(text)
    except RecursionError:  # nesting deeper than the parser goes: the text as it is
        return f'<pre style="white-space:pre-wrap">{html.escape(text)}</pre>'
