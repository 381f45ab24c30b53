"""Tool results become output strings the model can read; long ones are cut with a note."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pydantic

from oairun_jupyter.tools import MAX_OUTPUT_CHARS, tool_output_string


@dataclasses.dataclass
class Reading:
    city: str
    temp: float


class Model(pydantic.BaseModel):
    name: str
    tags: list[str]


def test_values_become_json_or_repr():
    assert tool_output_string("plain") == "plain"
    assert tool_output_string(None) == ""
    assert tool_output_string(3) == "3" and tool_output_string(True) == "true"
    assert json.loads(tool_output_string(Reading("Oslo", -2.5))) == {"city": "Oslo", "temp": -2.5}
    assert json.loads(tool_output_string(Model(name="n", tags=["a"]))) == {"name": "n", "tags": ["a"]}
    assert json.loads(tool_output_string(np.float64(1.5))) == 1.5
    assert json.loads(tool_output_string(np.arange(3))) == [0, 1, 2]
    assert json.loads(tool_output_string({"when": pd.Timestamp("2026-01-02")}))["when"].startswith("2026-01-02")
    assert json.loads(tool_output_string(pd.Series({"a": 1}))) == {"a": 1}
    assert tool_output_string(object).startswith("<class 'object'>")  # anything else: its repr
    assert tool_output_string(float("nan")) == "null"  # JSON has no NaN: null, as pandas writes it


def test_long_outputs_are_cut_with_a_note():
    text = tool_output_string("x" * (MAX_OUTPUT_CHARS + 10))
    assert text.endswith(f"[output cut: {MAX_OUTPUT_CHARS + 10:,} characters, the first {MAX_OUTPUT_CHARS:,} sent]")
    assert len(text) < MAX_OUTPUT_CHARS + 100
