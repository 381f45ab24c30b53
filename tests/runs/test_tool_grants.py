"""Only the kernel decides what runs: the tools a run may call are the ones this client declared,
and the server's reply can narrow that set, never widen it (issue 13, part 2).

The server here is the real local server; what "someone else" does to it (another user with
access, a hijacked server rewriting an assistant) is done with plain HTTP requests that do not go
through this client, so this client never declared them. A lying server, which the real one
cannot be made into, is a loopback fake.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

import oairun_jupyter as oai
from oairun_jupyter import Run

from ..support.flows import WEATHER_TOOL
from ..support.http_server import LoopbackServer, json_reply

TRAPPED: list[str] = []
OPEN_TOOL = {"type": "function", "function": {"name": "open", "parameters": {"type": "object"}}}
SECRET_TOOL = {"type": "function", "function": {"name": "read_secret", "parameters": {"type": "object"}}}


def get_weather(city):
    return f"sunny in {city}"


def read_secret():
    TRAPPED.append("read_secret")
    return "the secret"


@pytest.fixture(autouse=True)
def _clear():
    TRAPPED.clear()


def _elsewhere(server, method: str, path: str, body: dict | None = None) -> dict:
    """A request that does not go through this client: what another program or user sends."""
    reply = httpx.request(method, server.base_url + path, json=body)
    reply.raise_for_status()
    return reply.json()


def _run_calling(assistant, *calls: str, **options) -> Run:
    thread = oai.oai_create_thread(messages=["\n".join(calls)])
    return Run(thread, assistant_id=assistant, **options)


def test_the_assistants_tools_as_declared_here_run_and_say_so(server):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    run = _run_calling(assistant, 'get_weather {"city": "Paris"}').wait()
    (record,) = run.tool_calls
    assert (record.status, record.output) == ("ok", "sunny in Paris")
    assert record.allowed_by == "tools= when the assistant was created"


def test_an_assistant_rewritten_by_someone_else_cannot_add_a_tool(server, tmp_path):
    # the scenario of the issue: another user rewrites the session assistant's tools, and the
    # victim's next plain run is asked to call open(path, "w") and a function of the notebook
    victim = tmp_path / "private.txt"
    victim.write_text("keep me")
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    _elsewhere(server, "POST", f"/assistants/{assistant.id}", {"tools": [WEATHER_TOOL, OPEN_TOOL, SECRET_TOOL]})
    run = _run_calling(assistant, f'open {{"file": "{victim}", "mode": "w"}}', "read_secret()").wait()
    assert {tool["function"]["name"] for tool in run.tools} == {"get_weather", "open", "read_secret"}
    assert victim.read_text() == "keep me" and TRAPPED == []
    assert [r.status for r in run.tool_calls] == ["refused", "refused"]
    assert "tool 'open' is not declared for this run (allowed: get_weather;" in run.tool_calls[0].output
    assert run.tool_calls[1].allowed_by is None


def test_tools_none_at_creation_means_none_whatever_the_assistant_has(server):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    run = _run_calling(assistant, '/call get_weather {"city": "Paris"}', tools=[]).wait()
    assert run.tools == []
    (record,) = run.tool_calls
    assert record.status == "refused"
    assert record.output == ("Error: tool 'get_weather' is not declared for this run (allowed: none; rule: "
                             "declared when the run was created (tools=, or a cell's --tools))")


def test_a_run_this_kernel_did_not_create_runs_only_functions_the_user_wrote(server):
    # an assistant and a run made elsewhere: the seed's behaviour, limited to the user's own code
    assistant = _elsewhere(server, "POST", "/assistants", {
        "model": "scripted", "tools": [WEATHER_TOOL, SECRET_TOOL,
                                        {"type": "function", "function": {"name": "loads"}}]})
    thread = _elsewhere(server, "POST", "/threads", {"messages": [{"role": "user", "content": (
        'get_weather {"city": "Oslo"}\nloads {"s": "1"}')}]})
    created = _elsewhere(server, "POST", f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    run = Run(thread["id"], created["id"])
    loads = json.loads  # a library function under a tool's name
    run.wait(env={"get_weather": get_weather, "loads": loads})
    weather, library = run.tool_calls
    assert (weather.status, weather.output) == ("ok", "sunny in Oslo")
    assert weather.allowed_by.startswith("declared by the server for a run this kernel did not create")
    assert library.status == "refused" and "json.loads, a library function" in library.output


def test_wait_tools_names_the_set_exactly_and_the_server_can_only_narrow_it(server):
    assistant = _elsewhere(server, "POST", "/assistants", {"model": "scripted",
                                                           "tools": [WEATHER_TOOL, SECRET_TOOL]})
    run = _run_calling(assistant["id"], 'get_weather {"city": "Rome"}', "read_secret()")
    run.wait(tools=[get_weather])
    assert [r.status for r in run.tool_calls] == ["ok", "refused"] and TRAPPED == []
    assert run.tool_calls[0].allowed_by == "tools= given to wait()"
    # declared by the caller but not by the run: the server's reply narrows the set
    other = _run_calling(assistant["id"], "/call convert {}")
    other.wait(tools=[get_weather, "convert"], env={"convert": lambda: "converted"})
    assert other.tool_calls[0].status == "refused"
    assert "allowed: get_weather;" in other.tool_calls[0].output


def test_an_env_list_is_the_set_of_tools(server):
    assistant = _elsewhere(server, "POST", "/assistants", {"model": "scripted",
                                                           "tools": [WEATHER_TOOL, SECRET_TOOL]})
    run = _run_calling(assistant["id"], 'get_weather {"city": "Rome"}', "read_secret()").wait(env=[get_weather])
    assert [r.status for r in run.tool_calls] == ["ok", "refused"] and TRAPPED == []
    assert run.tool_calls[0].allowed_by == "the functions given as env="


@pytest.mark.parametrize("bad", ["get_weather", get_weather, 3])
def test_tools_must_be_a_list(server, bad):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    run = _run_calling(assistant, "hello")
    with pytest.raises(ValueError, match="tools= takes a list of functions, tool\\(\\) objects or names"):
        run.wait(tools=bad)
    assert run.wait().status == "completed"  # the refused wait changed nothing


def test_a_streamed_run_keeps_its_grant_and_so_does_the_same_run_retrieved(server):
    # the assistant declares both tools, the streamed run only get_weather: the run's own grant decides
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL, SECRET_TOOL])
    thread = oai.oai_create_thread(messages=['/call get_weather {"city": "Lima"}\n/call read_secret {}'])
    stream = oai.oai_create_run(thread, assistant, tools=[WEATHER_TOOL], stream=True)
    stream.wait()
    assert [r.status for r in stream.tool_calls] == ["ok", "refused"] and TRAPPED == []
    assert stream.tool_calls[0].allowed_by == "declared when the run was created (tools=, or a cell's --tools)"
    assert "allowed: get_weather; rule: declared when the run was created" in stream.tool_calls[1].output
    oai.oai_create_message(thread, "read_secret()")
    again = oai.oai_create_run(thread, assistant, tools=[SECRET_TOOL])
    retrieved = Run(thread, again.id)  # retrieved by id: this kernel created it, with tools=[read_secret]
    retrieved.wait()
    (record,) = retrieved.tool_calls
    assert record.name == "read_secret" and TRAPPED == ["read_secret"]
    assert record.allowed_by == "declared when the run was created (tools=, or a cell's --tools)"


def test_rerun_accepts_only_a_call_that_was_allowed(server):
    assistant = oai.oai_create_assistant("scripted", tools=[WEATHER_TOOL])
    run = _run_calling(assistant, '/call get_weather {"city": "Paris"}', "/call read_secret {}").wait()
    allowed, refused = run.tool_calls
    again = run.rerun_tool(allowed.call_id, '{"city": "Bern"}')
    assert again.output == "sunny in Bern" and allowed.reruns[0]["output"] == "sunny in Bern"
    with pytest.raises(ValueError, match="was refused .*only calls of the tools declared for the run can be re-run"):
        run.rerun_tool(refused.call_id)
    assert TRAPPED == [] and refused.reruns == []


def _lying_server(tools: list[dict], call_name: str, arguments: str) -> LoopbackServer:
    """A server that answers every run with `tools` of its choosing and a pending call."""
    run = {"id": "run_lie", "object": "thread.run", "thread_id": "thread_lie", "assistant_id": "asst_lie",
           "status": "requires_action", "tools": tools,
           "required_action": {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
               {"id": "call_lie", "type": "function", "function": {"name": call_name, "arguments": arguments}}]}}}

    def answer(request):
        if request.path.endswith("/submit_tool_outputs"):
            run.update(status="completed", required_action=None)
        return json_reply(200, run)
    return LoopbackServer(answer)


@pytest.mark.parametrize("server_tools", [[OPEN_TOOL, WEATHER_TOOL], []], ids=["names open", "names nothing"])
def test_a_lying_server_cannot_widen_the_set(server_tools, tmp_path):
    victim = tmp_path / "private.txt"
    victim.write_text("keep me")
    with _lying_server(server_tools, "open", json.dumps({"file": str(victim), "mode": "w"})) as liar:
        client = oai.Client(oai.ClientConfig(base_url=liar.base_url, api_key="sk-local"))
        run = oai.oai_create_run("thread_lie", "asst_lie", tools=[WEATHER_TOOL], client=client)
        run.wait(env={"open": open, "get_weather": get_weather})
        client.close()
    (record,) = run.tool_calls
    assert record.status == "refused" and victim.read_text() == "keep me"
    submitted = [r.json() for r in liar.received if r.path.endswith("/submit_tool_outputs")]
    assert submitted[0]["tool_outputs"][0]["output"].startswith("Error: tool 'open' is not declared")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_server_asking_again_for_an_answered_call_is_stopped_not_obeyed(mode):
    """A server that takes the outputs and asks for the same call again would keep the tool
    running until the timeout: the second ask ends the wait and the run is cancelled."""
    run_payload = {"id": "run_loop", "object": "thread.run", "thread_id": "thread_loop", "assistant_id": "asst_loop",
                   "status": "requires_action", "tools": [WEATHER_TOOL],
                   "required_action": {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
                       {"id": "call_again", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]}}}

    def answer(request):
        if request.path.endswith("/cancel"):
            run_payload.update(status="cancelled", required_action=None)
        return json_reply(200, run_payload)  # outputs taken, the same call asked again
    calls = []

    def counted_weather(city: str) -> str:
        calls.append(city)
        return f"sunny in {city}"
    with LoopbackServer(answer) as liar:
        client = oai.Client(oai.ClientConfig(base_url=liar.base_url, api_key="sk-local"))
        run = oai.oai_create_run("thread_loop", "asst_loop", tools=[WEATHER_TOOL], client=client,
                                 async_=mode == "async")
        with pytest.raises(oai.RunProtocolError, match="asked again for tool call 'call_again'"):
            if mode == "sync":
                run.wait(env={"get_weather": counted_weather}, timeout=30)
            else:
                async def drive():
                    nonlocal run
                    run = await run
                    await run.wait_async(env={"get_weather": counted_weather}, timeout=30)
                asyncio.run(drive())
        client.close()
    assert calls == ["Oslo"]
    paths = [r.path for r in liar.received]
    assert sum(p.endswith("/submit_tool_outputs") for p in paths) == 1
    assert sum(p.endswith("/cancel") for p in paths) == 1 and run.status == "cancelled"
