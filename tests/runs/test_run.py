"""`Run`: the seed's methods, waiting with tools from the caller's namespace, errors, interrupts."""

from __future__ import annotations

import asyncio
import json
import time

import pandas as pd
import pytest

import oairun_jupyter as oai
from oairun_jupyter import Run, tool

from ..support.flows import WEATHER_TOOL, wait_for

TRAPPED: list[str] = []


def _trap(name):
    def trap(*args, **kwargs):
        TRAPPED.append(name)
        raise AssertionError(f"{name} must never be called")
    return trap


@pytest.fixture
def assistant(server):
    return oai.oai_create_assistant("scripted", name="Runner", tools=[WEATHER_TOOL])


def _new_run(assistant, text, **options):
    thread = oai.oai_create_thread(messages=[text])
    return Run(thread, assistant_id=assistant, **options)


def get_weather(city):
    return f"sunny in {city}"


def test_construction_and_every_seed_method(assistant):
    run = _new_run(assistant, "hello", metadata={"k": "v"}, temperature=0.5)
    assert isinstance(run, Run) and run.status == "queued" and run.temperature == 0.5
    same = Run(run.thread_id, run.id)
    assert same.id == run.id
    assert Run(resp=same.to_dict()).to_dict() == same.to_dict()
    assert run.wait() is run and run.status == "completed"
    assert run.retrieve_status() == "completed"
    assert run.retrieve() is run
    steps = run.list_steps()
    assert [s.type for s in steps] == ["message_creation"]
    assert run.modify(metadata={"k": "w"}).metadata == {"k": "w"}
    assert run.thread().list_messages()[0].text == "You said: hello"
    assert run.wait().thread().list_messages(order="asc")[0].text == "hello"  # chains as in R
    assert run.assistant().name == "Runner"
    twin = run.clone()
    twin._payload["status"] = "changed"
    assert run.status == "completed"  # a clone has its own fields
    deep = run.clone(deep=True)
    deep.metadata["k"] = "x"
    assert run.metadata == {"k": "w"}
    with pytest.raises(oai.BadRequestError, match="Cannot cancel"):
        run.cancel()


def test_cancel_and_submit_tool_outputs_methods(assistant):
    run = _new_run(assistant, 'get_weather {"city": "Oslo"}')
    run = Run(resp=wait_for(run.thread_id, run.id, ("requires_action",)))
    (call,) = run.required_action["submit_tool_outputs"]["tool_calls"]
    streamed = run.submit_tool_outputs([oai.oai_tool_output(call["id"], "cold")], stream=True)
    assert isinstance(streamed, oai.RunStream)
    assert streamed.wait().status == "completed"
    slow = _new_run(assistant, "/pace 20\n/long 500")
    assert slow.cancel().status == "cancelling"
    assert wait_for(slow.thread_id, slow.id, ("cancelled",))


@pytest.mark.parametrize("calls", [1, 2, 5])
def test_wait_answers_parallel_tool_calls_from_the_caller_namespace(assistant, calls):
    cities = [f"City{i}" for i in range(calls)]
    text = " ".join(f'get_weather {{"city": "{c}"}}' for c in cities)
    run = _new_run(assistant, text).wait()
    assert run.status == "completed"
    assert [r.name for r in run.tool_calls] == ["get_weather"] * calls
    assert [r.output for r in run.tool_calls] == [f"sunny in {c}" for c in cities]
    assert all(r.status == "ok" and r.function.endswith("get_weather") and r.duration >= 0 for r in run.tool_calls)
    reply = run.thread().list_messages()[0].text
    for city in cities:
        assert f"sunny in {city}" in reply


def test_env_is_captured_from_a_nested_function_frame(assistant):
    def inner():
        def get_weather(city):  # a local, not the module's
            return f"local weather for {city}"
        return _new_run(assistant, 'get_weather {"city": "Rome"}').wait()
    run = inner()
    assert run.tool_calls[0].output == "local weather for Rome"


def test_env_as_mapping_module_or_list(assistant):
    def get_weather(city):
        return "from a list"
    assert _new_run(assistant, 'get_weather {"city": "A"}').wait(env=[get_weather]).tool_calls[0].output == "from a list"
    assert _new_run(assistant, 'get_weather {"city": "B"}').wait(
        env={"get_weather": lambda city: "from a dict"}).tool_calls[0].output == "from a dict"
    import types
    module = types.ModuleType("tools_module")
    module.get_weather = lambda city: "from a module"
    assert _new_run(assistant, 'get_weather {"city": "C"}').wait(env=module).tool_calls[0].output == "from a module"


def test_async_tool_functions(assistant):
    async def get_weather(city):
        await asyncio.sleep(0.01)
        return {"city": city, "sky": "clear"}
    run = _new_run(assistant, 'get_weather {"city": "Lima"} get_weather {"city": "Quito"}').wait()
    assert [json.loads(r.output) for r in run.tool_calls] == [{"city": "Lima", "sky": "clear"},
                                                              {"city": "Quito", "sky": "clear"}]


def test_a_tool_that_raises_becomes_an_error_output_by_default(assistant):
    def get_weather(city):
        raise ValueError(f"no station in {city}")
    run = _new_run(assistant, 'get_weather {"city": "Atlantis"}').wait()
    (record,) = run.tool_calls
    assert record.status == "error" and record.output == "Error: ValueError: no station in Atlantis"
    assert "Traceback" in record.traceback and "no station" in record.traceback
    assert isinstance(record.exception, ValueError)
    assert "Error: ValueError: no station in Atlantis" in run.thread().list_messages()[0].text


def test_on_tool_error_raise_stops_the_run(assistant):
    def get_weather(city):
        raise RuntimeError("sensor down")
    run = _new_run(assistant, 'get_weather {"city": "X"}')
    with pytest.raises(oai.ToolCallError, match="sensor down") as caught:
        run.wait(on_tool_error="raise")
    assert caught.value.record.name == "get_weather"
    assert wait_for(run.thread_id, run.id, ("cancelled",))


def test_a_tool_that_returns_a_dataframe(assistant):
    def get_weather(city):
        return pd.DataFrame({"hour": range(300), "temp": [20.5] * 300})
    run = _new_run(assistant, 'get_weather {"city": "Bern"}').wait()
    payload = json.loads(run.tool_calls[0].output)
    assert payload["note"] == "first 200 of 300 rows"
    assert payload["rows"][0] == {"hour": 0, "temp": 20.5} and len(payload["rows"]) == 200


def test_undeclared_names_never_run(assistant):
    TRAPPED.clear()
    namespace = {"get_weather": get_weather, "secret": _trap("secret"), "eval": _trap("eval"),
                 "exec": _trap("exec"), "__import__": _trap("__import__"), "system": _trap("system"),
                 "not_callable": 42}
    text = "\n".join(["/call secret {}", '/call eval {"source": "1+1"}', '/call exec {}',
                      '/call __import__ {"name": "os"}', '/call os.system {"command": "true"}',
                      '/call get_weather not json', '/call get_weather {"town": "Bad"}',
                      '/call get_weather {"city": "Good"}'])
    run = _new_run(assistant, text).wait(env=namespace)
    assert TRAPPED == []
    outputs = {(r.name, r.arguments): r for r in run.tool_calls}
    assert outputs[("secret", "{}")].output.startswith("Error: tool 'secret' is not declared for this run")
    assert outputs[("eval", '{"source": "1+1"}')].status == "refused"
    assert outputs[("os.system", '{"command": "true"}')].status == "refused"
    assert "not valid JSON" in outputs[("get_weather", "not json")].output
    assert "do not fit get_weather(city)" in outputs[("get_weather", '{"town": "Bad"}')].output
    assert outputs[("get_weather", '{"city": "Good"}')].output == "sunny in Good"
    assert all(r.function is None for r in run.tool_calls if r.status == "refused" and r.name != "get_weather")


def test_a_declared_name_missing_from_the_namespace(assistant):
    run = _new_run(assistant, 'get_weather {"city": "Z"}').wait(env={"get_weather": "a string"})
    assert run.tool_calls[0].output == "Error: 'get_weather' in the namespace is a str, not a function"
    run = _new_run(assistant, 'get_weather {"city": "Z"}').wait(env={})
    assert run.tool_calls[0].output.startswith("Error: no function 'get_weather' in the namespace")


def test_incomplete_returns_and_failed_raises(assistant):
    run = _new_run(assistant, "/long 3000", max_completion_tokens=256).wait()
    assert run.status == "incomplete" and run.incomplete_details == {"reason": "max_completion_tokens"}
    with pytest.raises(oai.RunError) as caught:
        _new_run(assistant, "/fail server_error the model crashed").wait()
    assert caught.value.status == "failed"
    assert caught.value.last_error == {"code": "server_error", "message": "the model crashed"}
    assert "the model crashed" in str(caught.value)


def test_a_timeout_cancels_the_run_on_the_server(assistant):
    run = _new_run(assistant, "/pace 50\n/long 1000")
    with pytest.raises(oai.RunTimeoutError, match="did not finish within 0.3 s"):
        run.wait(timeout=0.3)
    assert wait_for(run.thread_id, run.id, ("cancelled",))["status"] == "cancelled"


# interrupts, cancelled tasks and raised tool errors on every path: test_cancel_paths.py


def test_await_run_inside_a_running_event_loop(assistant):
    async def main():
        async def get_weather(city):
            return f"async {city}"
        run = _new_run(assistant, 'get_weather {"city": "Paris"}')
        assert asyncio.get_running_loop().is_running()
        done = await run
        return done
    run = asyncio.run(main())
    assert run.status == "completed" and run.tool_calls[0].output == "async Paris"


def test_async_construction_and_wait_async(assistant):
    async def main():
        thread = oai.oai_create_thread(messages=['get_weather {"city": "Kyiv"}'])
        run = Run(thread, assistant_id=assistant, async_=True)
        assert run.status is None  # nothing was sent yet
        await run.wait_async(env={"get_weather": get_weather}, timeout=None)  # None: no deadline
        steps = await run.list_steps()
        return run, steps
    run, steps = asyncio.run(main())
    assert run.status == "completed" and len(steps) == 2


def test_do_tool_calls_returns_outputs_without_submitting(assistant):
    run = _new_run(assistant, 'get_weather {"city": "Nice"}')
    run = Run(resp=wait_for(run.thread_id, run.id, ("requires_action",)))
    outputs = run.do_tool_calls()
    (call,) = run.required_action["submit_tool_outputs"]["tool_calls"]
    assert outputs == [{"tool_call_id": call["id"], "output": "sunny in Nice"}]
    assert run.retrieve_status() == "requires_action"
    run.submit_tool_outputs(outputs)
    assert run.wait().status == "completed"


def test_tools_declared_from_python_functions(server):
    @tool
    def convert(amount: float, currency: str = "EUR") -> str:
        """Convert an amount.

        Args:
            amount: How much.
            currency: Target currency code.
        """
        return f"{amount * 2:.1f} {currency}"
    helper = oai.oai_create_assistant("scripted", tools=[convert])
    run = _new_run(helper, 'convert {"amount": 10, "currency": null}').wait()
    assert run.tool_calls[0].output == "20.0 EUR"  # null means "use the default" under strict mode
    assert run.tools[0]["function"]["parameters"]["properties"]["amount"]["description"] == "How much."


def test_a_slow_tool_times_out_with_an_error_output(assistant):
    def get_weather(city):
        time.sleep(1.5)
        return "late"
    run = _new_run(assistant, 'get_weather {"city": "Slow"}').wait(tool_timeout=0.2)
    assert run.tool_calls[0].status == "timeout"
    assert run.tool_calls[0].output == "Error: get_weather did not finish within 0.2 s"
