"""The `%%oai_run` cell magic and the `%oai` line magic (`%load_ext oairun_jupyter`).

A user mistake or an API error is one `UsageError` line that says what to do, never a
traceback. The run streams into its widget while the cell runs; tools are looked up in the
notebook's namespace; the kernel's stop button cancels the run on the server.
"""

from __future__ import annotations

import asyncio
import keyword
import sys
import threading
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..api import oai_create_run
from ..display import drive_elsewhere, driving, flush
from ..protocol import APIConnectionError, APIError, APIObject
from ..runs import RunError, WaitOptions
from ..tools import tools_from_namespace
from ._interpolation import InterpolationError, interpolate
from ._line import run_line_command
from ._session import BackgroundRun, Session

__all__ = ["OaiMagics"]


def _object_or_id(value: str | None, namespace: dict[str, Any]) -> Any:
    if value is None:
        return None
    found = namespace.get(value)
    if isinstance(found, (str, APIObject)):
        return found
    return value


def _one_line(error: BaseException) -> UsageError:
    if isinstance(error, APIConnectionError):
        return UsageError(f"{error} (`%oai local start` runs the offline server, `%oai config` shows where "
                          "requests go)")
    return UsageError(str(error))


def _show_final(run: Any) -> None:
    """The run's last changes to its widget; its bridge writes the final transcript to the output
    beside the widget (what a saved or exported notebook keeps)."""
    driving(run, None)
    flush(run)


@magics_class
class OaiMagics(Magics):
    """`%%oai_run` and `%oai`."""

    @magic_arguments()
    @argument("-a", "--assistant", help="assistant id, or a variable holding one (default: the session's)")
    @argument("-t", "--thread", help="thread id, a variable holding one, or `new` (default: the current thread)")
    @argument("-m", "--model", help="model for this run (and for the default assistant)")
    @argument("-i", "--instructions", help="instructions that replace the assistant's for this run")
    @argument("--additional-instructions", help="instructions appended to the assistant's")
    @argument("--tools", help="comma-separated functions of the notebook to offer as tools, e.g. f,g")
    @argument("--temperature", type=float, help="sampling temperature, 0 to 2")
    @argument("--top-p", type=float, help="nucleus sampling, 0 to 1")
    @argument("--max-prompt-tokens", type=int, help="prompt token budget (at least 256)")
    @argument("--max-completion-tokens", type=int, help="completion token budget (at least 256)")
    @argument("--tool-choice", help="none, auto, required, or the name of a function to force")
    @argument("--response-format", help="auto, text or json_object")
    @argument("--no-stream", action="store_true", help="poll the run instead of streaming it")
    @argument("--out", help="also bind the Run to this variable (it is always in _oai_run)")
    @argument("--background", action="store_true", help="return at once; the run and its tools go on")
    @argument("--confirm", action="store_true", help="approve each tool call in the widget (implies --background)")
    @argument("--on-tool-error", choices=("submit", "raise"), default="submit",
              help="submit: the model sees a failing tool's error (default); raise: stop the run")
    @argument("--tool-timeout", type=float, default=60.0, help="seconds each tool call may take (default 60)")
    @argument("--quiet", action="store_true", help="show no widget")
    @argument("--raw", action="store_true", help="send the cell as typed: no {name} filling")
    @cell_magic
    def oai_run(self, line: str, cell: str) -> None:
        """Send the cell to the assistant and watch the run: `%%oai_run --tools get_weather`.

        The cell is the message. A placeholder naming a notebook variable is filled from it:
        `{name}`, `{name.attr}`, `{name[key]}` (chained, as in str.format), with an optional
        `!r`/`!s`/`!a` and format spec (`{price:.2f}`, `{when:%Y-%m-%d}`). A placeholder whose name
        is not defined is an error naming it. Every other brace is sent as typed: JSON, dicts and
        sets (`{"a": 1}`, `{a: 1, b: 2}`), `{}`, `{0}`, LaTeX (`\frac{1}{3}`, `x^{n}`, `x_{i}`).
        `{{name}}` sends the text `{name}`; `--raw` sends the whole cell as typed.
        """
        args = parse_argstring(self.oai_run, line)
        for name, value in vars(args).items():  # IPython keeps the quotes of quoted options
            if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                setattr(args, name, value[1:-1])
        namespace = self.shell.user_ns
        try:
            text = (cell if args.raw else interpolate(cell, namespace)).strip()
        except InterpolationError as error:
            raise UsageError(f"{error} (nothing was started)") from None
        if not text:
            raise UsageError("the cell is empty: write the message to send below %%oai_run")
        if args.confirm and args.quiet:
            raise UsageError("--confirm asks for each tool call's approval in the run's widget, which --quiet "
                             "hides: drop --quiet (nothing was started)")
        if args.out and not (args.out.isidentifier() and not keyword.iskeyword(args.out)):
            raise UsageError(f"--out takes a variable name, got {args.out!r} (nothing was started)")
        try:  # checked before anything starts: a bad option must not leave a run nobody waits for
            WaitOptions.make(None, args.on_tool_error, args.tool_timeout)
        except ValueError as error:
            raise UsageError(f"--tool-timeout: {error} (nothing was started)") from None
        session = Session.get()
        try:
            run = self._start(args, text, namespace, session)
        except (APIError, ValueError) as error:
            raise _one_line(error) from None
        session.remember(run)
        namespace["_oai_run"] = run
        if args.out:
            namespace[args.out] = run
        drive_elsewhere(run)  # the magic drives it, not the display hook
        if not args.quiet:  # its widget, and its transcript (written again when the run ends)
            display(run)
        if args.background or args.confirm:  # approval clicks reach the kernel only while it is free
            if args.confirm and not args.background:
                print(f"oairun: run {run.id} waits for your approvals in the background (--confirm implies "
                      "--background: clicks reach the kernel only while it is free)", file=sys.stderr)
            self._drive_in_background(run, args, namespace, session)
            return
        self._drive(run, args, namespace)

    def _start(self, args: Any, text: str, namespace: dict[str, Any], session: Session) -> Any:
        session.ensure_server()
        chosen = _object_or_id(args.assistant, namespace)
        assistant = chosen or session.default_assistant()
        # the session's own assistant runs on the session's model of now (`%oai config model=`)
        model = args.model or (None if chosen else session.model)
        thread_arg = _object_or_id(args.thread, namespace)
        if thread_arg == "new":
            thread = session.current_thread(new=True)
        else:  # a thread given by -t becomes the session's once a run was started on it
            thread = thread_arg or session.current_thread()
        tools = None
        if args.tools:
            try:
                tools = tools_from_namespace(args.tools, namespace)
            except ValueError as error:
                raise UsageError(f"--tools: {error}") from None
        tool_choice = args.tool_choice
        if tool_choice and tool_choice not in ("none", "auto", "required"):
            tool_choice = {"type": "function", "function": {"name": tool_choice}}
        run = oai_create_run(
            thread, assistant, model=model, instructions=args.instructions,
            additional_instructions=args.additional_instructions, additional_messages=[text], tools=tools,
            temperature=args.temperature, top_p=args.top_p, max_prompt_tokens=args.max_prompt_tokens,
            max_completion_tokens=args.max_completion_tokens, tool_choice=tool_choice,
            # approvals wait on the async client in the background thread: a polled run there
            response_format=args.response_format, stream=not (args.no_stream or args.confirm))
        # the session keeps only what a started run proved: its thread, and a first -m as its model
        session.thread_id = thread if isinstance(thread, str) else thread.id
        session.model = session.model or args.model
        return run

    @staticmethod
    def _drive(run: Any, args: Any, namespace: dict[str, Any]) -> None:
        driving(run, "blocking")  # the widget's Stop button interrupts the kernel
        try:
            run.wait(env=namespace, on_tool_error=args.on_tool_error, tool_timeout=args.tool_timeout, timeout=None)
        except KeyboardInterrupt:
            print(f"oairun: run {run.id} cancelled on the server (interrupted)", file=sys.stderr)
        except RunError as error:
            print(f"oairun: {error}", file=sys.stderr)
        except APIError as error:
            raise _one_line(error) from None
        finally:
            _show_final(run)

    @staticmethod
    def _drive_in_background(run: Any, args: Any, namespace: dict[str, Any], session: Session) -> None:
        entry: BackgroundRun

        def drive() -> None:
            driving(run, "background")  # the kernel is free: the Stop button's message reaches it
            try:
                if args.confirm:
                    asyncio.run(run.wait_async(env=namespace, on_tool_error=args.on_tool_error,
                                               tool_timeout=args.tool_timeout, timeout=None, confirm=True))
                else:
                    run.wait(env=namespace, on_tool_error=args.on_tool_error, tool_timeout=args.tool_timeout,
                             timeout=None)
            except (RunError, APIError) as error:
                print(f"oairun: {error}", file=sys.stderr)
            except BaseException as error:  # a tool's KeyboardInterrupt or sys.exit(), a bug: on this
                # thread nobody catches it, and threading's hook would print a traceback into
                # whichever cell runs (the wait then returns after the run's last word)
                what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                said = " ".join(getattr(error, "__notes__", ()))  # how the run was left (runs/_cancel.py)
                print(f"oairun: run {run.id} stopped: {what}"
                      + (f"; {said.removeprefix('oairun: ')}" if said else f" (now {run.status})"), file=sys.stderr)
            finally:
                try:
                    _show_final(run)
                finally:
                    entry.done.set()  # `%oai wait` returns once the final transcript is written

        entry = BackgroundRun(run, threading.Thread(target=drive, name="oairun-background-run", daemon=True),
                              confirm=bool(args.confirm))
        session.add_background(entry)
        entry.worker.start()

    @line_magic
    def oai(self, line: str) -> None:
        """`%oai config [key=value ...]`, `%oai local start|stop|status`, `%oai thread`, `%oai runs`,
        `%oai cancel`, `%oai wait [--timeout SECONDS]`.

        `%oai wait` blocks until every run `%%oai_run --background` (or `--confirm`) left going
        has ended, so its final transcript is written into the notebook: end a notebook run
        headless (nbconvert --execute, papermill, nbclient) with it, or such a run is saved as
        still in progress. Not waited for: a run waiting for approval clicks (they reach the kernel
        only once the cell ends), a run whose server has not answered for 30 s, an async run on
        the kernel's event loop; each is named. An interrupt stops the wait, not the runs."""
        try:
            run_line_command(line, Session.get(), self.shell)
        except (APIError, ValueError) as error:
            raise _one_line(error) from None
