"""Every response and client is closed when its owner is done or dropped (issue 14): 300 runs
alternating sync and async (each async one on a fresh event loop, as `asyncio.run` in a script
makes) and 150 streams dropped unread leave open file descriptors and threads where they were."""

from __future__ import annotations

import asyncio
import gc
import os
import threading

import oairun_jupyter as oai


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settled(count) -> int:
    gc.collect()
    return count()


def test_mixed_runs_and_dropped_streams_leave_no_sockets_or_threads_behind(server):
    assistant = oai.oai_create_assistant("scripted")

    async def one_async() -> None:
        run = await oai.oai_create_thread_and_run(assistant, thread={"messages": ["hi"]}, async_=True)
        await run.wait_async(timeout=30)

    def one_sync() -> None:
        oai.oai_create_thread_and_run(assistant, thread={"messages": ["hi"]}).wait(timeout=30)

    one_sync()
    asyncio.run(one_async())  # the first of each kind made its pools
    fds, threads = _settled(_open_fds), _settled(threading.active_count)
    for number in range(300):
        one_sync() if number % 2 else asyncio.run(one_async())
    for _ in range(150):  # streamed runs nobody reads: each holds a connection until dropped
        oai.oai_create_thread_and_run(assistant, thread={"messages": ["hi"]}, stream=True)
    after_runs = _settled(_open_fds)
    assert oai.oai_list_assistants(limit=1)  # the pool still serves: no connection is held by a dropped stream
    assert after_runs <= fds + 2, f"open file descriptors {fds} -> {after_runs}"
    assert _settled(threading.active_count) <= threads, "threads left running"


STUCK_TOOL = """
import asyncio, sys, time
import oairun_jupyter as oai
from oairun_jupyter.server import start_local_server
server = start_local_server(pace=0)
oai.configure(base_url=server.base_url)

def get_weather(city: str) -> str:
    '''Stuck.'''
    time.sleep(3600)

assistant = oai.oai_create_assistant("scripted", tools=[oai.tool(get_weather)])
thread = {"messages": ['get_weather {"city": "Oslo"}']}
run = oai.oai_create_thread_and_run(assistant, thread=thread).wait(env={"get_weather": get_weather}, tool_timeout=0.5)
print(run.status, run.tool_calls[0].status, flush=True)

async def main():
    run = await oai.oai_create_thread_and_run(assistant, thread=thread, async_=True)
    await run.wait_async(env={"get_weather": get_weather}, tool_timeout=0.5)
    return run
run = asyncio.run(main())  # returns though the tool's thread still sleeps
print(run.status, run.tool_calls[0].status, flush=True)
server.stop()
"""


def test_a_tool_stuck_past_its_timeout_holds_neither_asyncio_run_nor_the_process_exit(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "stuck.py"
    script.write_text(STUCK_TOOL)
    env = {**os.environ, "OAIRUN_SERVER_KEY_FILE": str(tmp_path / "key")}
    # the tool sleeps an hour: a process that waited for it would be killed by this timeout
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["completed timeout", "completed timeout"]
