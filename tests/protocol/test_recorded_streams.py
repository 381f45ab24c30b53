"""Every recorded Assistants stream decodes and accumulates to one final state, however it is cut.

Ground truth: tests/data/recorded/*.sse, real streams of api.openai.com (see data/PROVENANCE.md).
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oairun_jupyter.protocol import DONE, RunEventData, SSEDecoder, interpret_sse, text_of_message

from ..support.replay import RECORDED

STREAMS = sorted(p.name for p in RECORDED.glob("*.sse"))


def _bytes(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def _decode(chunks) -> list[tuple[str, object]]:
    """(event, payload) pairs up to [DONE], which must be present."""
    decoder, events = SSEDecoder(), []
    for chunk in chunks:
        events += decoder.feed(chunk)
    events += decoder.finish()
    out = []
    for sse in events:
        item = interpret_sse(sse, lambda payload: payload)
        if item is DONE:
            out.append(("[DONE]", None))
            continue
        out.append((item.event, item.data))
    assert out[-1] == ("[DONE]", None), "every recorded stream ends with [DONE]"
    return out[:-1]


def _state(events) -> dict:
    data = RunEventData()
    for event, payload in events:
        data.apply(event, payload)
    return json.loads(json.dumps(data.to_dict()))


def _splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0] + points, points + [len(data)])]


@pytest.mark.parametrize("name", STREAMS)
def test_whole_bytewise_and_crlf_give_the_same_state(name):
    raw = _bytes(name)
    whole = _decode([raw])
    assert _decode([raw[i:i + 1] for i in range(len(raw))]) == whole
    crlf = raw.replace(b"\n", b"\r\n")
    assert _decode([crlf]) == whole
    assert _decode([crlf[i:i + 1] for i in range(len(crlf))]) == whole
    cr_only = raw.replace(b"\n", b"\r")
    assert _decode([cr_only[i:i + 7] for i in range(0, len(cr_only), 7)]) == whole
    assert _decode([b"\xef\xbb\xbf" + raw]) == whole  # a leading BOM is skipped
    assert _state(whole) == _state(_decode([raw[i:i + 1] for i in range(len(raw))]))


@pytest.mark.parametrize("name", STREAMS)
@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0), max_size=60))
def test_random_splits_give_the_same_events(name, cuts):
    raw = _bytes(name)
    assert _decode(_splits(raw, cuts)) == _decode([raw])
    crlf = raw.replace(b"\n", b"\r\n")
    assert _decode(_splits(crlf, cuts)) == _decode([raw])


@pytest.mark.parametrize("name", [n for n in STREAMS if "StreamingToolCall.entry1" not in n])
def test_accumulated_text_equals_the_completed_message(name):
    events = _decode([_bytes(name)])
    data = RunEventData()
    checked = 0
    for event, payload in events:
        if event == "thread.message.completed":
            streamed = data.messages[payload["id"]]
            assert text_of_message(streamed) == text_of_message(payload)
            assert text_of_message(payload)  # the recorded answers are not empty
            streamed_annotations = [a for part in streamed["content"] for a in part["text"]["annotations"]]
            final_annotations = [a for part in payload["content"] for a in part["text"]["annotations"]]
            assert [a["text"] for a in streamed_annotations] == [a["text"] for a in final_annotations]
            checked += 1
        data.apply(event, payload)
    assert checked >= 1
    for message_id, message in data.messages.items():
        assert message["status"] == "completed", message_id
    assert data.run["status"] == "completed"


def test_file_citation_annotation_is_kept_while_streaming():
    events = _decode([_bytes("openai-dotnet.FileSearchStreamingWorks.entry3.sse")])
    data = RunEventData()
    for event, payload in events:
        if event == "thread.message.completed":
            break
        data.apply(event, payload)
    annotations = [a for m in data.messages.values() for part in m["content"]
                   for a in part["text"]["annotations"]]
    assert [a["type"] for a in annotations] == ["file_citation"]
    assert annotations[0]["file_citation"]["file_id"].startswith("file")


def test_tool_call_name_and_arguments_are_what_the_stream_carried():
    events = _decode([_bytes("openai-dotnet.StreamingToolCall.entry1.sse")])
    assert [e for e, _ in events][:2] == ["thread.created", "thread.run.created"]
    data = RunEventData()
    for event, payload in events:
        data.apply(event, payload)
    assert data.thread["id"] == "thread_6oUGUBxLwhyApwhYBhWjHI5f"
    (step,) = data.run_steps.values()
    (call,) = step["step_details"]["tool_calls"]
    assert call["function"]["name"] == "get_current_weather"
    assert call["function"]["arguments"] == "{}"
    required = data.run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert required[0]["id"] == call["id"]
    assert data.run["status"] == "requires_action"


def test_continuation_stream_completes_the_step_of_the_first():
    """entry2 (after submit_tool_outputs) starts with the completed tool step from entry1."""
    data = RunEventData()
    for name in ("openai-dotnet.StreamingToolCall.entry1.sse", "openai-dotnet.StreamingToolCall.entry2.sse"):
        for event, payload in _decode([_bytes(name)]):
            data.apply(event, payload)
    tool_step = next(s for s in data.run_steps.values() if s["type"] == "tool_calls")
    assert tool_step["status"] == "completed"
    assert tool_step["step_details"]["tool_calls"][0]["function"]["output"] == "warm and sunny"
    assert data.run["status"] == "completed"
    (message,) = data.messages.values()
    assert message["status"] == "completed" and text_of_message(message)


def test_shuffled_chunk_sizes_on_every_stream():
    rng = random.Random(7)
    for name in STREAMS:
        raw = _bytes(name)
        chunks, i = [], 0
        while i < len(raw):
            size = rng.choice([1, 2, 3, 5, 64, 4096])
            chunks.append(raw[i:i + size])
            i += size
        assert _decode(chunks) == _decode([raw])
