"""The SSE decoder against the WHATWG EventSource parsing rules, and fuzzed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oairun_jupyter.protocol import ServerSentEvent, SSEDecoder, StreamTruncatedError, decode_sse


def _all(text: bytes):
    return list(decode_sse([text]))


def test_fields_comments_and_defaults():
    events = _all(b": a comment\nevent: greet\ndata: hello\nid: 7\nretry: 1500\n\ndata: second\n\n")
    assert events == [ServerSentEvent("greet", "hello", "7", 1500), ServerSentEvent("message", "second", "7", 1500)]


def test_multi_line_data_and_space_rules():
    events = _all(b"data:no space\ndata:  two spaces\ndata\n\n")
    assert events[0].data == "no space\n two spaces\n"


def test_empty_data_dispatches_nothing_and_resets_the_event_type():
    assert _all(b"event: x\n\ndata: y\n\n") == [ServerSentEvent("message", "y")]


def test_id_with_nul_is_ignored_and_bad_retry_is_ignored():
    (event,) = _all(b"id: a\x00b\nretry: 12x\ndata: d\n\n")
    assert event.id == "" and event.retry is None


def test_unknown_fields_are_ignored():
    assert _all(b"foo: bar\ndata: d\n\n") == [ServerSentEvent("message", "d")]


def test_utf8_split_inside_a_character():
    raw = "data: h\u00e9llo \U0001F600\n\n".encode()
    decoder = SSEDecoder()
    events = []
    for i in range(len(raw)):
        events += decoder.feed(raw[i:i + 1])
    assert events[0].data == "h\u00e9llo \U0001F600"


def test_a_stream_ending_mid_event_raises():
    decoder = SSEDecoder()
    assert decoder.feed(b"event: thread.message.delta\ndata: {\"a\"") == []
    with pytest.raises(StreamTruncatedError):
        decoder.finish()
    decoder = SSEDecoder()
    decoder.feed(b"data: complete line but no blank line\n")
    with pytest.raises(StreamTruncatedError, match="ended in the middle of an event; the connection was "
                                                   "probably dropped: retrieve the run to see its state"):
        decoder.finish()


def test_a_stream_ending_inside_a_character_raises():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\n\n\xc3") == [ServerSentEvent("message", "x")]  # then the first byte of "é"
    with pytest.raises(StreamTruncatedError):
        decoder.finish()


def test_a_trailing_cr_is_a_complete_line_at_the_end():
    assert _all(b"data: x\r\r") == [ServerSentEvent("message", "x")]


_line_text = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
_field_line = st.one_of(
    st.builds(lambda v: f"data: {v}", st.text(alphabet=_line_text, max_size=20)),
    st.builds(lambda v: f"event: {v}", st.text(alphabet="abc.", min_size=1, max_size=8)),
    st.just(": comment"), st.just(""))


@given(lines=st.lists(_field_line, max_size=30), newline=st.sampled_from(["\n", "\r\n", "\r"]),
       cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=20))
def test_any_chunking_and_line_ending_gives_the_same_events(lines, newline, cuts):
    text = ("\n".join(lines) + "\n\n").encode()
    expected = _all(text)
    other = text.replace(b"\n", newline.encode())
    points = sorted({c % (len(other) + 1) for c in cuts})
    chunks = [other[a:b] for a, b in zip([0] + points, points + [len(other)])]
    assert list(decode_sse(chunks)) == expected


@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=10))
def test_arbitrary_bytes_only_raise_the_documented_error(data, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0] + points, points + [len(data)])]
    try:
        whole = list(decode_sse([data]))
    except StreamTruncatedError:
        with pytest.raises(StreamTruncatedError):
            list(decode_sse(chunks))
        return
    assert list(decode_sse(chunks)) == whole


def test_an_empty_stream_is_complete():
    assert SSEDecoder().finish() == []


def test_keep_alive_comments_are_skipped():
    assert _all(b":\n: ping\n:\r\ndata: x\n\n") == [ServerSentEvent("message", "x")]


def test_a_byte_order_mark_is_dropped_only_at_the_very_start():
    decoder = SSEDecoder()
    assert decoder.feed("\ufeffdata: a".encode()) == []
    assert decoder.feed("\ufeffb\n\n".encode()) == [ServerSentEvent("message", "a\ufeffb")]
    decoder = SSEDecoder()  # its three bytes split across chunks: still the start of the stream
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb\xbfdata: a\n\n") == [ServerSentEvent("message", "a")]


def test_a_crlf_split_across_chunks_ends_one_line_and_the_next_lf_another():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []  # the LF of that CRLF: the line ended once
    assert decoder.feed(b"\n") == [ServerSentEvent("message", "a")]  # this LF is the blank line
