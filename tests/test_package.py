"""The package's shape: the names a user types, the layers and which may import which, no import
circle (imports inside functions included), and function-local imports only where deliberate."""

from __future__ import annotations

import oairun_jupyter

from .support.imports import PACKAGE, cycles, module_imports, modules

# What `from oairun_jupyter import *` gives; lower-level pieces come from their subpackage.
EXPORTED = {
    "oai_create_run", "oai_create_thread_and_run", "oai_list_runs", "oai_list_run_steps", "oai_retrieve_run",
    "oai_modify_run", "oai_cancel_run", "oai_submit_tool_outputs", "oai_tool_output", "oai_retrieve_run_step",
    "oai_create_thread", "oai_retrieve_thread", "oai_modify_thread", "oai_delete_thread",
    "oai_create_message", "oai_list_messages", "oai_retrieve_message", "oai_modify_message", "oai_delete_message",
    "oai_create_assistant", "oai_list_assistants", "oai_retrieve_assistant", "oai_modify_assistant",
    "oai_delete_assistant",
    "configure", "oai_set_api_key", "get_client", "Client", "ClientConfig", "Timeouts", "Clock",
    "Run", "RunStream", "tool", "tools_from_namespace", "FunctionTool", "ToolCallRecord",
    "APIObject", "RunStep", "Message", "Thread", "Assistant", "ListObject", "classify",
    "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError", "BadRequestError",
    "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError", "UnprocessableEntityError",
    "RateLimitError", "InternalServerError", "APIStreamError", "StreamTruncatedError", "RunError",
    "RunTimeoutError", "ToolCallError", "RunStreamError", "RunProtocolError",
    "__version__", "load_ipython_extension",
}

# Which folder may import which (the root's leaf modules `_version`, `_secrets`, `_weak_table`
# import nothing and may be imported by all). Data flows up from protocol to magics.
LAYERS = {
    "protocol": set(),
    "transport": {"protocol"},
    "tools": set(),
    "api": {"protocol", "transport", "tools"},
    "runs": {"protocol", "transport", "tools", "api"},
    "display": {"protocol", "tools", "api", "runs"},
    "magics": {"protocol", "transport", "tools", "api", "runs", "display"},
    "server": {"protocol"},
}
LEAVES = {"_version", "_secrets", "_weak_table", "_server_key", "_text"}

# Imports inside functions, each deliberate (and commented where it is made).
DELIBERATE_LOCAL_IMPORTS = {
    ("oairun_jupyter", "oairun_jupyter.magics"),  # the IPython extension entry point
    ("oairun_jupyter.runs._run", "oairun_jupyter.display._mimebundle"),  # a Run's display hook
    ("oairun_jupyter.magics._session", "oairun_jupyter.server"),  # server start-up
    # the server's CLI and backend choice load what the command asks for
    ("oairun_jupyter.server._cli", "oairun_jupyter._server_key"),
    ("oairun_jupyter.server._cli", "oairun_jupyter.server._app"),
    ("oairun_jupyter.server._cli", "oairun_jupyter.server._local"),
    ("oairun_jupyter.server._cli", "oairun_jupyter.server.stores"),
    ("oairun_jupyter.server._cli", "oairun_jupyter.server._users"),
    ("oairun_jupyter.server._cli", "oairun_jupyter.server.backends"),
    ("oairun_jupyter.server.backends._choice", "oairun_jupyter.server.backends.scripted"),
    ("oairun_jupyter.server.backends._choice", "oairun_jupyter.server.backends.chat_completions"),
    ("oairun_jupyter.server.backends._choice", "oairun_jupyter.server.backends.responses"),
}


def _folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_top_level_exports_what_a_user_types():
    assert set(oairun_jupyter.__all__) == EXPORTED
    for name in EXPORTED:
        assert getattr(oairun_jupyter, name) is not None, name


def test_lower_level_pieces_come_from_their_subpackage():
    from oairun_jupyter.protocol import (
        RunEventData,
        ServerSentEvent,
        SSEDecoder,
        StreamEvent,
        accumulate_message_delta,
        accumulate_run_step_delta,
        event_kind,
        merge_delta,
    )
    from oairun_jupyter.transport import AsyncEventStream, EventStream
    assert all((RunEventData, ServerSentEvent, SSEDecoder, StreamEvent, accumulate_message_delta,
                accumulate_run_step_delta, merge_delta, event_kind, EventStream, AsyncEventStream))
    assert "SSEDecoder" not in oairun_jupyter.__all__


def test_every_folder_is_a_layer_and_its_modules_are_private():
    for name in modules():
        parts = name.split(".")
        if len(parts) == 1:
            continue
        if len(parts) == 2:
            assert parts[1] in LAYERS or parts[1] in LEAVES, f"{name} is neither a layer nor a leaf module"
        elif _folder(name) != "server":
            assert parts[-1].startswith("_"), f"{name}: modules inside a layer keep the private `_` prefix"


def test_layers_import_only_the_layers_below_them():
    wrong = []
    for item in module_imports():
        source, target = _folder(item.source), _folder(item.target)
        if item.in_function or source in ("", target) or target in LEAVES:
            continue
        if source in LEAVES:
            wrong.append(f"{item.source} (a leaf) imports {item.target}")
        elif target not in LAYERS[source]:
            wrong.append(f"{item.source}:{item.line} imports {item.target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle_counting_imports_inside_functions():
    found = cycles(module_imports())
    assert not found, "import circles:\n" + "\n".join(" -> ".join(group) for group in found)


def test_the_cycle_finder_sees_a_circle():
    from .support.imports import Import
    circle = [Import("a", "b", 1, False), Import("b", "c", 1, True), Import("c", "a", 1, False),
              Import("c", "d", 1, False)]
    assert cycles(circle) == [["a", "b", "c"]]


def test_function_local_imports_are_the_deliberate_ones():
    local = {(item.source, item.target) for item in module_imports() if item.in_function}
    assert local == DELIBERATE_LOCAL_IMPORTS


def test_each_layer_package_only_re_exports():
    import ast
    for name, path in modules().items():
        if path.name != "__init__.py" or name == PACKAGE:
            continue
        tree = ast.parse(path.read_text())
        kinds = {type(node).__name__ for node in tree.body}
        assert kinds <= {"Expr", "ImportFrom", "Import", "Assign"}, f"{name}/__init__.py defines {kinds}"
