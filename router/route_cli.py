"""``python -m router route explain``: where a request would go, without sending it.

Reads one request body (JSON) from standard input, decides as the router would (rules,
model table, sticky session, credential order) and prints the rule that matched and the
ordered candidates. Nothing is sent upstream. Cooldowns and sticky sessions live in the
running router's memory, so when a router runs (at the config's host and port) the
decision is asked of it (router/ops/live_explain.py): candidates cooling down show how
long and until when. With no router answering, or with ``--static``, this process decides
from the config file alone, where every candidate is ready, and says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from router.config import ConfigError, LoadedConfig, read_config
from router.credentials import CredentialStore
from router.formats import Format
from router.ops.live_explain import NotLive, RequestRefused, ask_router
from router.relay import RelayHub
from router.routing.cooldown import Cooldowns
from router.routing.explain import guess_format, render
from router.runtime import Runtime

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m router route", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    explain_cmd = commands.add_parser("explain", help="explain a request read from stdin")
    explain_cmd.add_argument(
        "--config", help="config file (default: $CLIPROXY_CONFIG or ./config.yaml)"
    )
    explain_cmd.add_argument(
        "--format",
        choices=[f.value for f in Format],
        help="the client API the body is in (default: guessed from its fields)",
    )
    explain_cmd.add_argument("--model", help="the model (Gemini keeps it in the URL)")
    explain_cmd.add_argument("--key", help="the client key name the request would come with")
    explain_cmd.add_argument(
        "--header", action="append", default=[], help="NAME:VALUE a rule may look at"
    )
    explain_cmd.add_argument("--json", action="store_true", help="print JSON")
    explain_cmd.add_argument(
        "--static",
        action="store_true",
        help="decide from the config file alone, without asking a running router",
    )
    return parser


def route_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        body, headers = _read_request(args)
        loaded = read_config(args.config)
    except _UsageError as exc:
        print(f"route explain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    fmt = Format(args.format) if args.format else guess_format(body)
    model = args.model or body.get("model")
    if not isinstance(model, str) or not model:
        print("route explain: the body names no model; pass --model", file=sys.stderr)
        return EXIT_USAGE
    try:
        live, source, result = _decide(loaded, args, fmt, model, body, headers)
    except RequestRefused as exc:
        print(f"route explain: the router refused the request: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({**result, "live": live, "source": source}, indent=2))
    else:
        print(render(result, source))
    return 0 if result["candidates"] else 1


class _UsageError(Exception):
    """What was given on the command line or stdin cannot be explained."""


def _read_request(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        body = json.loads(sys.stdin.read() or "null")
    except ValueError as exc:
        raise _UsageError(f"standard input is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _UsageError("expected a JSON object (a request body) on stdin")
    headers: dict[str, str] = {}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep:
            raise _UsageError(f"--header {item!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    return body, headers


def _decide(
    loaded: LoadedConfig,
    args: argparse.Namespace,
    fmt: Format,
    model: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> tuple[bool, str, dict[str, Any]]:
    """Whether the running router decided, a line saying where it was decided, the result."""
    why = "--static"
    if not args.static:
        params = [("format", fmt.value), ("model", model)]
        params += [("key", args.key)] if args.key else []
        params += [("header", f"{name}:{value}") for name, value in headers.items()]
        try:
            url, result = ask_router(loaded.config, body, params)
        except NotLive as exc:
            why = str(exc)
        else:
            return True, f"live: decided by the router at {url}, with its cooldowns now", result
    config = loaded.config
    runtime = Runtime(
        loaded, Cooldowns(config.routing.cooldown), RelayHub(), CredentialStore(config.auth_dir)
    )
    result = runtime.explain(fmt, model, body, headers=headers, client_key=args.key)
    source = (
        f"static: {why}; decided from the config file alone, without cooldowns or sticky sessions"
    )
    return False, source, result
