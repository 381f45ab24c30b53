"""A stream source for benchmarks: answers any POST with one pre-built run stream, at full speed.

Run as its own process (`python bench/sse_source.py DELTAS PORT`) so the client measured does not
share a GIL with it. The stream is shaped like the recorded ones: run created/queued/in_progress,
a message-creation step, the message with DELTAS text deltas, completions, done.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUN = {"id": "run_bench", "object": "thread.run", "created_at": 1761861742, "assistant_id": "asst_bench",
       "thread_id": "thread_bench", "status": "queued", "started_at": None, "expires_at": None,
       "cancelled_at": None, "failed_at": None, "completed_at": None, "required_action": None,
       "last_error": None, "model": "gpt-4o", "instructions": "", "tools": [], "tool_resources": {},
       "metadata": {}, "temperature": 1.0, "top_p": 1.0, "reasoning_effort": None,
       "max_completion_tokens": None, "max_prompt_tokens": None,
       "truncation_strategy": {"type": "auto", "last_messages": None}, "incomplete_details": None,
       "usage": None, "response_format": "auto", "tool_choice": "auto", "parallel_tool_calls": True}


def stream_body(deltas: int) -> bytes:
    def event(name: str, data: dict) -> str:
        return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
    step = {"id": "step_bench", "object": "thread.run.step", "created_at": 1761861745, "run_id": "run_bench",
            "assistant_id": "asst_bench", "thread_id": "thread_bench", "type": "message_creation",
            "status": "in_progress", "cancelled_at": None, "completed_at": None, "expires_at": None,
            "expired_at": None, "failed_at": None, "last_error": None, "metadata": {}, "usage": None,
            "step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_bench"}}}
    message = {"id": "msg_bench", "object": "thread.message", "created_at": 1761861745, "assistant_id": "asst_bench",
               "thread_id": "thread_bench", "run_id": "run_bench", "status": "in_progress",
               "incomplete_details": None, "incomplete_at": None, "completed_at": None, "role": "assistant",
               "content": [], "attachments": [], "metadata": {}}
    parts = [event("thread.run.created", RUN), event("thread.run.queued", RUN),
             event("thread.run.in_progress", {**RUN, "status": "in_progress", "started_at": 1761861744}),
             event("thread.run.step.created", step), event("thread.run.step.in_progress", step),
             event("thread.message.created", message), event("thread.message.in_progress", message)]
    words = []
    for n in range(deltas):
        word = f" w{n % 1000}" if n else "w0"
        words.append(word)
        text = {"value": word, "annotations": []} if n == 0 else {"value": word}
        parts.append(event("thread.message.delta", {"id": "msg_bench", "object": "thread.message.delta",
                                                    "delta": {"content": [{"index": 0, "type": "text", "text": text}]}}))
    final_text = "".join(words)
    done_message = {**message, "status": "completed", "completed_at": 1761861746,
                    "content": [{"type": "text", "text": {"value": final_text, "annotations": []}}]}
    usage = {"prompt_tokens": 10, "completion_tokens": deltas, "total_tokens": deltas + 10}
    parts += [event("thread.message.completed", done_message),
              event("thread.run.step.completed", {**step, "status": "completed", "completed_at": 1761861746,
                                                  "usage": usage}),
              event("thread.run.completed", {**RUN, "status": "completed", "started_at": 1761861744,
                                             "completed_at": 1761861747, "usage": usage}),
              "event: done\ndata: [DONE]\n\n"]
    return "".join(parts).encode()


def chat_body(chunks: int) -> bytes:
    """A chat.completion.chunk stream of `chunks` content pieces, shaped like the recorded text.sse."""
    def chunk(delta: dict, finish=None) -> str:
        return "data: " + json.dumps({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1727346171,
                                      "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                                                      "finish_reason": finish}]},
                                     separators=(",", ":")) + "\n\n"
    parts = [chunk({"role": "assistant", "content": ""})]
    parts += [chunk({"content": f" w{n % 1000}"}) for n in range(chunks)]
    parts.append(chunk({}, "stop"))
    parts.append("data: " + json.dumps({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1,
                                        "model": "gpt-4o", "choices": [],
                                        "usage": {"prompt_tokens": 5, "completion_tokens": chunks,
                                                  "total_tokens": chunks + 5}}) + "\n\n")
    parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()


def responses_body(chunks: int) -> bytes:
    """A Responses API stream of `chunks` output_text deltas, shaped like the recorded
    StreamingResponses.json (the same fields on each event, sequence numbers included)."""
    seq = iter(range(chunks + 100))
    item_id = "msg_0bench00000000000000000000000000000000000000000000"
    response = {"id": "resp_bench", "object": "response", "created_at": 1764777657, "status": "in_progress",
                "model": "gpt-4o-mini-2024-07-18", "output": [], "usage": None}

    def event(kind: str, **data) -> str:
        return f"event: {kind}\ndata: " + json.dumps({"type": kind, "sequence_number": next(seq), **data},
                                                     separators=(",", ":")) + "\n\n"
    parts = [event("response.created", response=response), event("response.in_progress", response=response),
             event("response.output_item.added", output_index=0, item={
                 "id": item_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}),
             event("response.content_part.added", item_id=item_id, output_index=0, content_index=0,
                   part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""})]
    words = [f" w{n % 1000}" for n in range(chunks)]
    parts += [event("response.output_text.delta", item_id=item_id, output_index=0, content_index=0, delta=word,
                    logprobs=[], obfuscation="kICTItQFBKh3o") for word in words]
    text = "".join(words)
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    item = {"id": item_id, "type": "message", "status": "completed", "content": [part], "role": "assistant"}
    parts += [event("response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=text,
                    logprobs=[]),
              event("response.content_part.done", item_id=item_id, output_index=0, content_index=0, part=part),
              event("response.output_item.done", output_index=0, item=item),
              event("response.completed", response={**response, "status": "completed", "output": [item], "usage": {
                  "input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": chunks,
                  "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": chunks + 10}})]
    return "".join(parts).encode()


BODIES = {"run": stream_body, "chat": chat_body, "responses": responses_body}


def serve(deltas: int, port: int, kind: str = "run") -> None:
    body = BODIES[kind](deltas)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            view = memoryview(body)
            for start in range(0, len(body), 65536):
                self.wfile.write(view[start:start + 65536])

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "run")
