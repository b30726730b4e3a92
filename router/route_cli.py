"""``python -m router route explain``: where a request would go, without sending it.

Reads one request body (JSON) from standard input, decides as the router would (rules,
model table, sticky session, credential order) and prints the rule that matched and the
ordered candidates. Nothing is sent. Cooldowns and sticky sessions live in the running
router's memory, so this process starts with none: each candidate shows as ready here,
and the order is the first a freshly started router would use.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from router.config import ConfigError, read_config
from router.credentials import CredentialStore
from router.formats import Format
from router.relay import RelayHub
from router.routing.cooldown import Cooldowns
from router.routing.explain import explain, guess_format, render
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
    return parser


def route_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        body = json.loads(sys.stdin.read() or "null")
    except ValueError as exc:
        print(f"route explain: standard input is not JSON: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(body, dict):
        print("route explain: expected a JSON object (a request body) on stdin", file=sys.stderr)
        return EXIT_USAGE
    headers: dict[str, str] = {}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep:
            print(f"route explain: --header {item!r}: expected NAME:VALUE", file=sys.stderr)
            return EXIT_USAGE
        headers[name.strip()] = value.strip()
    try:
        loaded = read_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    fmt = Format(args.format) if args.format else guess_format(body)
    model = args.model or body.get("model")
    if not isinstance(model, str) or not model:
        print("route explain: the body names no model; pass --model", file=sys.stderr)
        return EXIT_USAGE
    config = loaded.config
    runtime = Runtime(
        loaded, Cooldowns(config.routing.cooldown), RelayHub(), CredentialStore(config.auth_dir)
    )
    result: dict[str, Any] = explain(
        runtime.table,
        runtime.rules,
        runtime.sticky,
        runtime.selector,
        fmt,
        model,
        body,
        headers=headers,
        client_key=args.key,
    )
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0 if result["candidates"] else 1
