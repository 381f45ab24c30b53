"""The static transcript a saved notebook keeps: Markdown rendered, math and code kept as written,
and HTML that is safe in any viewer whatever the model wrote."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from oairun_jupyter.display import transcript_html, transcript_text
from oairun_jupyter.display._static_markdown import markdown_html

ALLOWED_TAGS = {"div", "p", "b", "em", "strong", "code", "pre", "span", "a", "table", "thead", "tbody", "tr",
                "th", "td", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br",
                "details", "summary", "s", "style"}
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))",
           "[b](JaVaScRiPt:alert(1))", "[c](\x01javascript:alert(1))", "![d](javascript:alert(1))",
           "![e](http://tracker.example/pixel.png)", "<iframe src=//evil>", "<a href=javascript:1>x</a>",
           "[f](data:text/html;base64,PHNjcmlwdD4=)", "<svg onload=alert(1)>", "`<b>code</b>`", "\ud800"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.found


def _assert_inert(html: str) -> None:
    for tag, attrs in _tags(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        href = (attrs.get("href") or "").replace("\x01", "").strip().lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:")), attrs
        assert tag != "style" or "oairun-static" in html  # only the transcript's own rule


def test_math_is_kept_exactly_as_written_and_no_viewer_typesets_it():
    source = r"Thin $a\,b$, display $$\int_0^1 x\,dx$$, \(\alpha\) and \[\frac{1}{3}\]; costs $5 and $6."
    html = markdown_html(source)
    for math in (r"$a\,b$", r"$$\int_0^1 x\,dx$$", r"\(\alpha\)", r"\[\frac{1}{3}\]"):
        assert f'<code class="oairun-tex">{math}</code>' in html  # as code, backslashes kept
    assert "costs $5 and $6." in html  # prices are not math
    # the viewer's MathJax is told to leave the whole transcript alone (a model's \href, \style)
    state = {"header": {"status": "completed", "run_id": "run_1"},
             "messages": [{"id": "m", "role": "assistant", "text": r"$\href{javascript:alert(1)}{x}$ $ \style{x}{y}$"}]}
    assert transcript_html(state).startswith('<div class="oairun-static tex2jax_ignore"')



def test_markdown_is_rendered_with_tables_links_and_highlighted_code():
    html = markdown_html("# Title\n\n| a | b |\n|---|---|\n| 1 | **2** |\n\n[docs](https://example.org)\n\n"
                         "```python\nprint('hi')\n```")
    assert "<h1>Title</h1>" in html and "<td>1</td>" in html and "<strong>2</strong>" in html
    assert '<a href="https://example.org" target="_blank" rel="noopener noreferrer">docs</a>' in html
    assert '<span style="color: #008000">print</span>' in html  # inline styles: no stylesheet needed


def test_hostile_markdown_becomes_text_and_images_never_load():
    html = markdown_html("\n\n".join(HOSTILE))
    _assert_inert(html)
    assert "&lt;script&gt;" in html and "<img" not in html
    assert '<a href="http://tracker.example/pixel.png"' in html  # a link to click, not a pixel that loads


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)), max_size=8))
def test_whatever_the_model_writes_the_transcript_html_runs_nothing(pieces):
    text = "".join(pieces)
    state = {"header": {"status": "completed", "run_id": "run_1<b>", "model": text, "last_error": {
                 "code": "x", "message": text}},
             "messages": [{"id": "m", "role": "assistant", "status": "completed", "text": text}],
             "steps": [{"id": "s", "type": "tool_calls", "status": "completed", "tool_calls": [
                 {"id": "c", "type": "function", "name": text, "arguments": text, "output": text}]}],
             "records": {"c": {"status": "error", "output": text, "traceback": text, "duration": 0.5}}}
    _assert_inert(transcript_html(state))
    assert transcript_text(state).startswith("Run run_1<b> [completed]")


def test_a_transcript_names_each_call_with_its_arguments_output_duration_and_traceback():
    state = {"header": {"status": "completed", "run_id": "run_1", "model": "m", "created_at": 100, "ended_at": 106,
                        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
             "messages": [{"id": "u", "role": "user", "text": "hi"}, {"id": "a", "role": "assistant", "text": "done"}],
             "steps": [{"id": "s", "type": "tool_calls", "status": "completed", "tool_calls": [
                 {"id": "c1", "type": "function", "name": "get_weather", "arguments": '{"city":"Paris"}'},
                 {"id": "c2", "type": "function", "name": "broken", "arguments": "{}"}]}],
             "records": {"c1": {"status": "ok", "output": "sunny" + "x" * 30_000, "duration": 0.25},
                         "c2": {"status": "error", "output": "Error: ValueError: no", "duration": 0.01,
                                "traceback": "Traceback...\nValueError: no"}}}
    html = transcript_html(state)
    assert "<b>completed</b>" in html and "6 s" in html and "1 prompt + 2 completion = 3 tokens" in html
    assert "<b>get_weather</b> &middot; ok &middot; 0.25 s" in html
    assert "&quot;city&quot;: &quot;Paris&quot;" in html and "more characters]" in html
    assert "<b>broken</b> &middot; error &middot; 0.01 s" in html and "ValueError: no</pre></details>" in html
    assert "tool broken({}) -> error: Error: ValueError: no" in transcript_text(state)


def test_built_in_calls_of_a_responses_run_show_their_code_search_and_reasoning_summary():
    """Steps as the responses backend writes them, through the widget's state, into the transcript."""
    from oairun_jupyter.display._widget_state import step_state

    steps = [{"id": "s1", "type": "tool_calls", "status": "completed", "step_details": {"type": "tool_calls", "tool_calls": [
        {"id": "c1", "type": "reasoning", "reasoning": {"summary": "**Planning** <script>x</script>"}}]}},
        {"id": "s2", "type": "tool_calls", "status": "completed", "step_details": {"type": "tool_calls", "tool_calls": [
            {"id": "c2", "type": "web_search", "web_search": {"action": {
                "type": "search", "query": "weather Redmond",
                "sources": [{"type": "url", "url": "https://www.almanac.com/weather"}, {"type": "api", "name": "x"}]}}}]}},
        {"id": "s3", "type": "tool_calls", "status": "failed", "step_details": {"type": "tool_calls", "tool_calls": [
            {"id": "c3", "type": "code_interpreter", "code_interpreter": {"input": "1/0", "outputs": [
                {"type": "logs", "logs": "ZeroDivisionError"}]}}]}},
        {"id": "s4", "type": "tool_calls", "status": "completed", "step_details": {"type": "tool_calls", "tool_calls": [
            {"id": "c4", "type": "computer_use", "computer_use": {"x": 1}}]}}]
    state = {"header": {"status": "completed", "run_id": "run_1"}, "messages": [],
             "steps": [step_state(step) for step in steps], "records": {}}
    reasoning, search, code, unknown = (s["tool_calls"][0] for s in state["steps"])
    assert reasoning["summary"] == "**Planning** <script>x</script>" and reasoning["step_status"] == "completed"
    assert search["search"] == "query: weather Redmond\nhttps://www.almanac.com/weather"
    assert (code["code_input"], code["logs"], code["step_status"]) == ("1/0", "ZeroDivisionError", "failed")
    assert unknown["name"] == "computer_use"
    html = transcript_html(state)
    _assert_inert(html)
    assert "<details><summary>reasoning summary</summary>" in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<b>web_search</b> &middot; completed" in html and "https://www.almanac.com/weather" in html
    assert "<b>code_interpreter</b> &middot; failed" in html and "ZeroDivisionError" in html
    assert "<b>computer_use</b> &middot; completed" in html
    text = transcript_text(state)
    assert "tool web_search() -> completed: query: weather Redmond" in text
