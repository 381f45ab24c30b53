"""Delta merging by `index`, where the R package and the official SDK go wrong (ANCHORS.md)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from oairun_jupyter.protocol import RunEventData, accumulate_message_delta, accumulate_run_step_delta, merge_delta


def _step_delta(step_id, *tool_calls):
    return {"id": step_id, "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": list(tool_calls)}}}


def test_a_second_parallel_tool_call_at_index_1():
    step = {"id": "step_1", "step_details": {"type": "tool_calls", "tool_calls": []}}
    accumulate_run_step_delta(step, _step_delta("step_1", {"index": 0, "id": "call_a", "type": "function",
                                                          "function": {"name": "f", "arguments": "", "output": None}}))
    accumulate_run_step_delta(step, _step_delta("step_1", {"index": 1, "id": "call_b", "type": "function",
                                                          "function": {"name": "g", "arguments": ""}}))
    accumulate_run_step_delta(step, _step_delta("step_1", {"index": 1, "function": {"arguments": '{"x":'}}))
    accumulate_run_step_delta(step, _step_delta("step_1", {"index": 0, "function": {"arguments": '{}'}}))
    accumulate_run_step_delta(step, _step_delta("step_1", {"index": 1, "function": {"arguments": ' 1}'}}))
    calls = step["step_details"]["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("call_a", "f", "{}"), ("call_b", "g", '{"x": 1}')]


def test_an_entry_is_found_by_index_not_by_position():
    step = {"id": "s", "step_details": {"type": "tool_calls", "tool_calls": []}}
    # index 1 arrives first: it must not be treated as position 0
    accumulate_run_step_delta(step, _step_delta("s", {"index": 1, "id": "call_b", "function": {"arguments": "b"}}))
    accumulate_run_step_delta(step, _step_delta("s", {"index": 0, "id": "call_a", "function": {"arguments": "a"}}))
    accumulate_run_step_delta(step, _step_delta("s", {"index": 1, "function": {"arguments": "B"}}))
    calls = step["step_details"]["tool_calls"]
    assert [(c["index"], c["id"], c["function"]["arguments"]) for c in calls] == [
        (0, "call_a", "a"), (1, "call_b", "bB")]


def test_code_interpreter_input_fragments_are_concatenated_and_outputs_kept_per_index():
    step = {"id": "s", "step_details": {"type": "tool_calls", "tool_calls": []}}
    for fragment in ["import ", "math\n", "print(math.pi)"]:
        accumulate_run_step_delta(step, _step_delta("s", {"index": 0, "type": "code_interpreter",
                                                         "code_interpreter": {"input": fragment}}))
    accumulate_run_step_delta(step, _step_delta("s", {"index": 0, "code_interpreter": {
        "outputs": [{"index": 0, "type": "logs", "logs": "3.14"}]}}))
    accumulate_run_step_delta(step, _step_delta("s", {"index": 0, "code_interpreter": {
        "outputs": [{"index": 0, "logs": "159"}, {"index": 1, "type": "image", "image": {"file_id": "file_1"}}]}}))
    (call,) = step["step_details"]["tool_calls"]
    assert call["code_interpreter"]["input"] == "import math\nprint(math.pi)"
    assert call["code_interpreter"]["outputs"] == [
        {"index": 0, "type": "logs", "logs": "3.14159"},
        {"index": 1, "type": "image", "image": {"file_id": "file_1"}}]


def test_annotation_updates_are_merged_per_index():
    message = {"id": "msg", "content": []}
    accumulate_message_delta(message, {"delta": {"content": [
        {"index": 0, "type": "text", "text": {"value": "See ", "annotations": []}}]}})
    accumulate_message_delta(message, {"delta": {"content": [
        {"index": 0, "type": "text", "text": {"value": "[1]", "annotations": [
            {"index": 0, "type": "file_citation", "text": "[1]", "start_index": 4, "end_index": 7,
             "file_citation": {"file_id": "file_a"}}]}}]}})
    accumulate_message_delta(message, {"delta": {"content": [
        {"index": 0, "type": "text", "text": {"annotations": [
            {"index": 0, "file_citation": {"quote": "q"}}]}}]}})
    (part,) = message["content"]
    assert part["text"]["value"] == "See [1]"
    (annotation,) = part["text"]["annotations"]
    assert annotation["file_citation"] == {"file_id": "file_a", "quote": "q"}
    assert annotation["end_index"] == 7


def test_a_delta_never_writes_into_the_event_it_came_from():
    delta = {"delta": {"content": [{"index": 0, "type": "text", "text": {"value": "a", "annotations": []}}]}}
    message = {"id": "m", "content": []}
    accumulate_message_delta(message, delta)
    accumulate_message_delta(message, {"delta": {"content": [{"index": 0, "text": {"value": "b"}}]}})
    assert delta["delta"]["content"][0]["text"]["value"] == "a"
    assert message["content"][0]["text"]["value"] == "ab"


def test_a_delta_for_a_step_created_in_an_earlier_stream_is_kept():
    data = RunEventData()  # the creation event was in a stream this state never saw
    data.apply("thread.run.step.delta", _step_delta("step_old", {"index": 0, "id": "call_1",
                                                                  "function": {"name": "f", "arguments": "{}"}}))
    assert data.run_steps["step_old"]["step_details"]["tool_calls"][0]["function"]["arguments"] == "{}"


def test_a_completed_step_replaces_the_snapshot():
    data = RunEventData()
    data.apply("thread.run.step.created", {"id": "s", "object": "thread.run.step", "status": "in_progress",
                                           "step_details": {"type": "tool_calls", "tool_calls": []}})
    data.apply("thread.run.step.delta", _step_delta("s", {"index": 0, "id": "c", "function": {"name": "f", "arguments": "{}"}}))
    final = {"id": "s", "object": "thread.run.step", "status": "completed",
             "step_details": {"type": "tool_calls", "tool_calls": [
                 {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}", "output": "ok"}}]}}
    data.apply("thread.run.step.completed", final)
    assert data.run_steps["s"] == final


@given(text=st.text(max_size=300), cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=30))
def test_any_split_of_a_text_accumulates_to_the_text(text, cuts):
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0] + points, points + [len(text)])]
    message = {"id": "m", "content": []}
    for piece in pieces:
        accumulate_message_delta(message, {"delta": {"content": [
            {"index": 0, "type": "text", "text": {"value": piece}}]}})
    assert message["content"][0]["text"]["value"] == text


def test_entries_without_an_index_stay_first_when_a_delta_arrives_out_of_order():
    # a snapshot may hold entries the service sent whole (no index): indexed ones sort after them
    snapshot = {"content": ["a plain entry", {"note": "no index"}, {"index": 2, "text": {"value": "two"}}]}
    merge_delta(snapshot, {"content": [{"index": 0, "text": {"value": "zero"}}]})
    assert snapshot["content"] == ["a plain entry", {"note": "no index"}, {"index": 0, "text": {"value": "zero"}},
                                   {"index": 2, "text": {"value": "two"}}]


def _text_part(index, value, **more):
    return {"index": index, "type": "text", "text": {"value": value, **more}}


def test_each_message_delta_goes_to_the_part_of_its_index():
    message = {"id": "msg", "content": []}
    # two parts in one delta, out of order; then one-part deltas to each; then deltas of other shapes
    accumulate_message_delta(message, {"delta": {"content": [_text_part(1, "B"), _text_part(0, "A")]}})
    accumulate_message_delta(message, {"delta": {"content": [_text_part(1, "b")]}})
    accumulate_message_delta(message, {"delta": {"content": [_text_part(0, "a")]}})
    accumulate_message_delta(message, {"delta": {"role": "assistant", "content": [_text_part(0, "!")]}})
    accumulate_message_delta(message, {"delta": {"content": [_text_part(1, "?", annotations=[])]}})
    accumulate_message_delta(message, {"delta": {"content": [{"index": 1, "type": "text", "text": {"value": "."},
                                                              "extra": 1}]}})
    accumulate_message_delta(message, {"delta": {"content": [{"index": 2, "type": "image_file",
                                                              "image_file": {"file_id": "file_1"}}]}})
    assert [(part["index"], part.get("text", {}).get("value")) for part in message["content"]] == [
        (0, "Aa!"), (1, "Bb?."), (2, None)]
    assert message["role"] == "assistant" and message["content"][1]["text"]["annotations"] == []
    assert message["content"][2]["image_file"] == {"file_id": "file_1"}


def test_a_text_delta_for_a_part_without_text_yet_starts_its_text():
    message = {"id": "msg", "content": [{"index": 0, "type": "text", "text": {"value": None}},
                                        {"index": 1, "type": "text"}]}
    accumulate_message_delta(message, {"delta": {"content": [_text_part(0, "x")]}})
    accumulate_message_delta(message, {"delta": {"content": [_text_part(1, "y")]}})
    accumulate_message_delta(message, {"delta": {"content": [_text_part(5, "z")]}})  # a part not seen before
    accumulate_message_delta(message, {"delta": {"content": [_text_part(0, "x")]}})
    assert [(part["index"], part["text"]["value"]) for part in message["content"]] == [(0, "xx"), (1, "y"), (5, "z")]
    assert message["content"][0] == {"index": 0, "type": "text", "text": {"value": "xx"}}  # nothing else written


def test_values_of_other_shapes_replace_and_nulls_leave_what_is_there():
    snapshot = {"a": {"x": 1}, "b": [1, 2], "c": [{"index": 0}], "arguments": 5, "keep": "k", "d": 1}
    merge_delta(snapshot, {"a": 5, "b": 7, "c": [3, 4], "keep": None, "arguments": "x", "d": 2})
    assert snapshot == {"a": 5, "b": 7, "c": [3, 4], "arguments": "x", "keep": "k", "d": 2}
