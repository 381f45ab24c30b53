"""`oairun-jupyter serve`: the runs server from the command line."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys

__all__ = ["main"]


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to 65535, or 0 for a free one")
    return port


def _not_empty(what: str):
    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"an empty {what} means nothing: leave the option out for the default")
        return text
    return check


def _number(low: float, high: float, unit: str):
    """An argparse type: a number from `low` to `high` (NaN and text refused, saying so)."""
    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:  # NaN too
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit} from {low:g} to {high:g}")
        return value
    return check


_milliseconds = _number(0, 60_000, "milliseconds")
_seconds = _number(0.2, 3600, "seconds")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oairun-jupyter", description="oairun-jupyter tools")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the local Assistants-compatible runs server")
    serve.add_argument("--host", type=_not_empty("host"), default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 picks a free one)")
    serve.add_argument("--db", type=_not_empty("database path"), default=None, help="SQLite file (default: in the user data directory; "
                       "':memory:' keeps nothing), or a postgresql://user@host:port/db URL for a team server "
                       "shared by several processes")
    serve.add_argument("--backend", choices=("scripted", "chat-completions", "responses"), default="scripted",
                       help="what answers: scripted (offline, the default), chat-completions (any "
                            "OpenAI-compatible chat model) or responses (the Responses API and its hosted tools)")
    serve.add_argument("--pace-ms", type=_milliseconds, default=20.0,
                       help="scripted backend: milliseconds between deltas (default 20)")
    serve.add_argument("--upstream-base-url", default=os.environ.get("OAIRUN_UPSTREAM_BASE_URL") or None,
                       help="chat-completions and responses backends: the upstream /v1 URL "
                            "(default: $OAIRUN_UPSTREAM_BASE_URL)")
    serve.add_argument("--upstream-api-key-env", default="OPENAI_API_KEY",
                       help="chat-completions and responses backends: environment variable holding the upstream key")
    serve.add_argument("--server-key-env", default="OAIRUN_SERVER_KEY",
                       help="environment variable holding the key clients must send; when it is "
                            "unset, the key in the user's server-key file (made on first start, "
                            "0600; this user's clients read it on their own)")
    serve.add_argument("--users", action="store_true",
                       help="a team server: every request must carry the key of a user made with "
                            "'oairun-jupyter users add NAME', and each user sees only their own assistants and threads")
    serve.add_argument("--no-auth", action="store_true",
                       help="accept requests without a key (loopback only): any local user or "
                            "program can then drive the runs")
    serve.add_argument("--lease-seconds", type=_seconds, default=10.0,
                       help="PostgreSQL: a server process that has not beaten its heartbeat for this long "
                            "is dead, and its runs in flight end failed (default 10)")
    serve.add_argument("--poll-after-ms", type=_milliseconds, default=200,
                       help="how long clients are asked to wait between polls (default 200)")
    users = commands.add_parser("users", help="the users of a team server (serve --users) and their keys")
    users.add_argument("--db", type=_not_empty("database"), default=None,
                       help="the team server's database (a postgresql:// URL, or a SQLite file; default: the "
                            "file in the user data directory)")
    actions = users.add_subparsers(dest="action", required=True)
    actions.add_parser("add", help="add a user and print their new key (shown once)").add_argument("name")
    actions.add_parser("remove", help="remove a user: their key stops working").add_argument("name")
    actions.add_parser("list", help="the users' names")
    return parser


def _open_store(db: object, command: str):
    """The store, or None after saying on stderr why it cannot be opened."""
    from .stores import StoreError, open_store

    try:
        return open_store(db)
    except StoreError as error:
        print(f"oairun-jupyter {command}: {error}", file=sys.stderr)
    except (sqlite3.Error, OSError) as error:
        print(f"oairun-jupyter {command}: cannot open the database {db} ({error}): give a file in a folder you "
              "can write with --db, or --db :memory: to keep nothing", file=sys.stderr)
    return None


def _users(args: argparse.Namespace) -> int:
    from ._users import add_user, check_user_name
    from .stores import default_db_path

    store = _open_store(args.db or default_db_path(), "users")
    if store is None:
        return 2
    try:
        if args.action == "list":
            for name in store.users():
                print(name)
        elif args.action == "add":
            print(add_user(store, args.name))
        elif not store.remove_user(check_user_name(args.name)):
            raise ValueError(f"there is no user named {args.name!r}")
    except ValueError as error:
        print(f"oairun-jupyter users: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return _users(args) if args.command == "users" else _serve(args)


def _serve(args: argparse.Namespace) -> int:
    # loaded after parsing, so that `--help` and a usage error answer at once
    from .._server_key import ensure_server_key, server_key_path
    from ._app import create_app
    from ._local import LocalServer, check_exposure
    from .backends import make_backend
    from .stores import default_db_path

    try:
        if args.users and args.no_auth:
            raise ValueError("--users and --no-auth contradict each other: with --users every request needs "
                             "a user's key")
        if args.users:
            server_key, key_source = None, "of each user (oairun-jupyter users add NAME)"
        elif args.no_auth:
            server_key, key_source = None, "none: --no-auth, any local user can drive the runs"
        elif os.environ.get(args.server_key_env):
            server_key, key_source = os.environ[args.server_key_env], f"from ${args.server_key_env}"
        else:
            server_key, key_source = ensure_server_key(), f"in {server_key_path()} (read by your clients)"
        check_exposure(args.host, server_key, users=args.users)
        if args.backend != "scripted":
            if not args.upstream_base_url:
                raise ValueError(f"--backend {args.backend} needs --upstream-base-url "
                                 "(for example https://api.openai.com/v1 or http://127.0.0.1:11434/v1)")
            backend = make_backend(args.backend, base_url=args.upstream_base_url,
                                   api_key=os.environ.get(args.upstream_api_key_env) or None)
        else:
            backend = make_backend("scripted", pace=args.pace_ms / 1000)
    except ValueError as error:
        print(f"oairun-jupyter serve: {error}", file=sys.stderr)
        return 2
    store = _open_store(args.db or default_db_path(), "serve")
    if store is None:
        return 2
    if args.users and not store.users():
        print("oairun-jupyter serve: no users yet, so every request is refused: add one with "
              f"oairun-jupyter users --db {store.path} add NAME", file=sys.stderr, flush=True)
    app = create_app(store, backend, poll_after_ms=int(args.poll_after_ms), server_key=server_key, host=args.host,
                     lease_seconds=args.lease_seconds, users=args.users)
    try:
        server = LocalServer(app, host=args.host, port=args.port)
    except OSError as error:  # in use, not an address of this machine, not allowed
        print(f"oairun-jupyter serve: cannot listen on {args.host} port {args.port} ({error.strerror or error}): "
              "choose another --port (0 picks a free one) or --host", file=sys.stderr)
        return 2
    print(f"oairun-jupyter runs server ({args.backend} backend, database {store.path}) on {server.base_url}; "
          f"key {key_source}", flush=True)
    server.start()
    try:
        server._thread.join()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
