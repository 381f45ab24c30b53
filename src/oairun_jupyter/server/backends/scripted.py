"""The offline, deterministic backend: no key, no network, the same reply every time.

What it answers to the last user message of the thread:

* a declared function tool's name followed by JSON arguments, `get_weather {"city": "Paris"}`
  (or `get_weather()` for none), becomes a call of that tool; several become parallel calls.
  Once the outputs are submitted it answers with a message that reports them.
* `tool_choice="required"` with no call written calls the first declared tool with `{}`;
  a named tool choice calls that tool; `tool_choice="none"` never calls a tool.
* lines starting with a slash script other shapes of the real service:
  `/call NAME ARGUMENTS` (a call of NAME with ARGUMENTS verbatim, declared or not, valid JSON or
  not: what a misbehaving model sends), `/call-padded NAME FIELD N` (a call of NAME whose FIELD
  holds N characters: arguments larger than a user message may be), `/long N` (a reply of N deltas),
  `/say TEXT` (TEXT verbatim), `/repeat N TEXT` (TEXT written N times on one line: a runaway model;
  50,000,000 characters at most), `/cite [TEXT]` (text with a file_citation annotation on TEXT),
  `/code` (a code_interpreter step with input and logs), `/search` (a file_search step),
  `/fail [CODE] [message]` (the run fails with that last_error), `/pace MS` (delay per delta).
  With calls, the text of `/say` or `/repeat` streams first, as a model that writes before it calls.
* a message asking "what can you do" gets a Markdown answer long enough to watch stream, with a
  table, a code block and math (the quickstart's first cell);
* anything else is echoed: `You said: <text>`.

The reply streams one word per delta (at most 65,536 characters of it), `pace` seconds apart
(0 for full speed).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, AsyncIterator

from .._ids import new_id
from ._base import (
    BackendError,
    CodeInterpreterCall,
    FileSearchCall,
    Finish,
    TextDelta,
    ToolCallDelta,
    TurnContext,
    TurnEvent,
    Usage,
    count_tokens,
)

__all__ = ["ScriptedBackend", "last_user_text"]

_WORD = re.compile(r"\s*\S+")
_DIRECTIVE = re.compile(r"^/(\w+)(?:[ \t]+(.*))?$", re.M)
_FORCED_CALL = re.compile(r"^/call[ \t]+(\S+)[ \t]*(.*)$", re.M)
_PADDED_CALL = re.compile(r"^/call-padded[ \t]+(\S+)[ \t]+(\w+)[ \t]+(\d{1,8})$", re.M)
_REPEAT = re.compile(r"^(\d{1,8})[ \t]+(.+)$")
_FAIL_CODES = ("server_error", "rate_limit_exceeded", "invalid_prompt")
_MAX_REPEATED = 50_000_000
_MAX_PIECE = 65_536  # a delta's text at most: a model streams a long word in parts too


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the newest user message."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return "".join(part["text"]["value"] for part in message.get("content", [])
                           if part.get("type") == "text")
    return ""


def _words(text: str) -> list[str]:
    words = _WORD.findall(text) or ([text] if text else [])
    if all(len(word) <= _MAX_PIECE for word in words):
        return words
    return [word[start:start + _MAX_PIECE] for word in words for start in range(0, len(word), _MAX_PIECE)]


# what each directive takes (see the module's docstring), for a message that says so
_SHOWCASE = r"""I am the **offline scripted assistant** of oairun-jupyter: I answer the same way every time,
with no key and no network, so you can try everything before pointing `%oai config` at a real model.

## What a run shows

| you see | where |
|---|---|
| the answer, as it streams | this message |
| each tool call, its arguments and result | the cards under *Run steps* |
| status, tokens and time | the header above |

## Tools are notebook functions

```python
def get_weather(city: str) -> dict:
    '''The current weather in a city.'''
    return {"city": city, "temperature": 21}
```

Write `get_weather {"city": "Paris"}` in a `%%oai_run --tools get_weather` cell and I call it.

## Math

Inline, $e^{i\pi} + 1 = 0$; displayed, the mean of $n$ values:

$$\bar{x} = \frac{1}{n}\sum_{i=1}^{n} x_i$$

Save the notebook and reopen it: every run is still there."""

_DIRECTIVES = {"call": "/call NAME ARGUMENTS", "long": "/long N", "say": "/say TEXT", "repeat": "/repeat N TEXT",
               "cite": "/cite [TEXT]", "code": "/code", "search": "/search", "fail": "/fail [CODE] [message]",
               "pace": "/pace MS"}
_MAX_PACE_MS = 60_000
_MAX_LONG = 1_000_000


def _bad(directive: str, problem: str) -> BackendError:
    return BackendError(f"The scripted backend could not read `{directive[:80]}`: {problem}. One directive a "
                        "line; the directives: " + ", ".join(_DIRECTIVES.values()) + ", /call-padded NAME FIELD N.",
                        "invalid_prompt")


def _checked_directives(text: str) -> dict[str, str]:
    """The message's directives by name, each one it cannot read a failure that names it."""
    for line in text.splitlines():
        if line.startswith("/call-padded") and not _PADDED_CALL.match(line):
            raise _bad(line, "/call-padded takes a tool name, a field name and a count up to 8 digits")
    directives = {}
    for name, arg in _DIRECTIVE.findall(text):
        if name not in _DIRECTIVES:
            raise _bad(f"/{name}", f"there is no directive /{name}")
        if name == "call" and not _FORCED_CALL.search(f"/call {arg}"):
            raise _bad(f"/call {arg}", "/call takes a tool name, then its arguments")
        directives[name] = (arg or "").strip()
    return directives


def _number(directives: dict[str, str], name: str, low: float, high: float, what: str, whole: bool = False) -> float:
    raw = directives[name]
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # NaN too
        raise _bad(f"/{name} {raw}", f"/{name} takes {what}, {'a whole number' if whole else 'a number'} from "
                                     f"{low:,} to {high:,}, e.g. `/{name} {20 if name == 'pace' else 100}`")
    return value


def _written(directives: dict[str, str]) -> str | None:
    """The text `/repeat N TEXT` or `/say TEXT` asks for, or None."""
    if "repeat" in directives:
        match = _REPEAT.match(directives["repeat"])
        if match is None:
            raise BackendError("/repeat takes a count and a text, e.g. `/repeat 3000 >`.", "invalid_prompt")
        count, piece = int(match.group(1)), match.group(2)
        return piece * min(count, _MAX_REPEATED // len(piece))
    return directives.get("say")


class ScriptedBackend:
    """Deterministic replies following the convention in this module's docstring."""

    name = "scripted"

    def __init__(self, pace: float = 0.02) -> None:
        self.pace = pace

    async def turn(self, context: TurnContext) -> AsyncIterator[TurnEvent]:
        text = last_user_text(context.messages)
        directives = _checked_directives(text)
        pace = _number(directives, "pace", 0, _MAX_PACE_MS, "milliseconds per delta") / 1000 \
            if "pace" in directives else self.pace
        prompt_tokens = count_tokens(context.run.get("instructions") or "") + sum(
            count_tokens(json.dumps(m.get("content"))) for m in context.messages)
        if context.tool_rounds:
            reply, annotations = self._report_outputs(context.tool_rounds[-1]), None
        else:
            if "fail" in directives:
                code, _, message = directives["fail"].partition(" ")
                if code not in _FAIL_CODES:
                    code, message = "server_error", directives["fail"]
                raise BackendError(message or "The scripted backend was asked to fail.", code)
            calls = self._tool_calls(text, context)
            written = _written(directives)
            if calls:
                pacer = _Pacer(pace)
                for piece in _words(written or ""):
                    yield TextDelta(piece)
                    await pacer.pause()
                async for event in self._stream_calls(calls, pace):
                    yield event
                yield Usage(prompt_tokens, count_tokens(written or "") + sum(count_tokens(c[1]) for c in calls))
                yield Finish("tool_calls")
                return
            if "code" in directives:
                yield CodeInterpreterCall(input="import math\nprint(math.sqrt(2))",
                                          logs="1.4142135623730951\n")
            if "search" in directives:
                yield FileSearchCall(results=[{"file_id": "file-scripted", "file_name": "notes.md",
                                               "score": 0.87, "content": [{"type": "text",
                                                                           "text": "Scripted notes."}]}])
            reply, annotations = (written, None) if written is not None else self._reply(text, directives)
        completion, pieces, pacer = 0, _words(reply), _Pacer(pace)
        for number, piece in enumerate(pieces):
            completion += count_tokens(piece)
            last = number == len(pieces) - 1  # annotations arrive with the text they cover
            yield TextDelta(piece, annotations if last else None)
            await pacer.pause()
        yield Usage(prompt_tokens, completion)
        yield Finish("stop")

    @staticmethod
    def _reply(text: str, directives: dict[str, str]) -> tuple[str, list[dict[str, Any]] | None]:
        if "long" in directives:
            count = int(_number(directives, "long", 1, _MAX_LONG, "a count of words", whole=True)) \
                if directives["long"] else 1000
            return " ".join(f"w{n}" for n in range(count)), None
        if "cite" in directives or "search" in directives:
            marker = directives.get("cite") or "\u30104:0\u2020notes.md\u3011"  # `/cite TEXT` marks TEXT
            reply = f"The notes say the answer is 42. {marker}"
            start = len(reply) - len(marker)
            return reply, [{"index": 0, "type": "file_citation", "text": marker, "start_index": start,
                            "end_index": len(reply), "file_citation": {"file_id": "file-scripted"}}]
        if "code" in directives:
            return "The square root of 2 is about 1.4142.", None
        body = _DIRECTIVE.sub("", text).strip()
        if re.search(r"what can you do", body, re.IGNORECASE):
            return _SHOWCASE, None
        return (f"You said: {body}" if body else "Hello! I am the offline scripted assistant."), None

    @staticmethod
    def _tool_calls(text: str, context: TurnContext) -> list[tuple[str, str]]:
        """(name, JSON arguments) for each tool the message calls, in the order written."""
        tools = context.function_tools
        choice = context.run.get("tool_choice")
        if choice == "none":
            return []
        forced = [(name, arguments) for name, arguments in _FORCED_CALL.findall(text)]
        forced += [(name, json.dumps({field: "y" * int(size)})) for name, field, size in _PADDED_CALL.findall(text)]
        if forced:
            return forced
        found: list[tuple[int, str, str]] = []
        for name in tools:
            for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\s*(\(\s*\)|\{{)", text):
                arguments = "{}"
                if match.group(1) == "{":
                    try:
                        value, _ = json.JSONDecoder().raw_decode(text, match.end() - 1)
                        arguments = json.dumps(value, allow_nan=False)  # 1e999 is no JSON number
                    except ValueError:
                        continue
                found.append((match.start(), name, arguments))
        calls = [(name, arguments) for _, name, arguments in sorted(found)]
        if isinstance(choice, dict) and choice.get("type") == "function":
            forced = choice["function"]["name"]
            calls = [c for c in calls if c[0] == forced] or [(forced, "{}")]
        elif choice == "required" and not calls and tools:
            calls = [(next(iter(tools)), "{}")]
        if context.run.get("parallel_tool_calls") is False:
            calls = calls[:1]
        return calls

    @staticmethod
    async def _stream_calls(calls: list[tuple[str, str]], pace: float) -> AsyncIterator[TurnEvent]:
        pacer = _Pacer(pace)
        for index, (name, arguments) in enumerate(calls):
            yield ToolCallDelta(index, "", id=new_id("call"), name=name)
            await pacer.pause()
            middle = len(arguments) // 2
            for fragment in (arguments[:middle], arguments[middle:]):
                if fragment:
                    yield ToolCallDelta(index, fragment)
                    await pacer.pause()

    @staticmethod
    def _report_outputs(calls: list[dict[str, Any]]) -> str:
        if len(calls) == 1:
            return f"{calls[0]['name']} returned: {calls[0]['output']}"
        lines = [f"- {call['name']}: {call['output']}" for call in calls]
        return "The tools returned:\n" + "\n".join(lines)


class _Pacer:
    """Sleeps `pace` per delta on average; tiny paces are paid in 1 ms installments, since the
    event loop cannot sleep for less."""

    def __init__(self, pace: float) -> None:
        self.pace = pace
        self.owed = 0.0
        self.count = 0

    async def pause(self) -> None:
        self.count += 1
        self.owed += self.pace
        if self.owed >= 0.001:
            await asyncio.sleep(self.owed)
            self.owed = 0.0
        elif self.count % 256 == 0:
            await asyncio.sleep(0)  # at full speed, still let other requests in now and then
