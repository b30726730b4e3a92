"""``python -m router keys create|list|revoke``: manage client keys from a terminal.

Works on client-keys.json in the data directory directly (a running router picks the
change up within a second), so it needs no management secret: whoever can run it can
already read the router's files.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from router.config import ConfigError, read_config
from router.logs import utc_iso
from router.usage.keys import KeyRequestError, KeyStore

EXIT_USAGE = 2
_LIMIT_OPTIONS = (
    ("--rpm", "requests_per_minute", int),
    ("--tokens-per-day", "tokens_per_day", int),
    ("--tokens-per-month", "tokens_per_month", int),
    ("--cost-per-day", "cost_per_day", float),
    ("--cost-per-month", "cost_per_month", float),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m router keys", description=__doc__)
    parser.add_argument("--config", help="config file (default: $CLIPROXY_CONFIG or ./config.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="issue a key; its secret is printed once")
    create.add_argument("name")
    create.add_argument("--expires-days", type=float, help="expire after this many days")
    create.add_argument(
        "--model", action="append", default=[], help="allowed model name or glob (repeatable)"
    )
    for option, _, kind in _LIMIT_OPTIONS:
        create.add_argument(option, type=kind)
    commands.add_parser("list", help="issued keys, never their secrets")
    revoke = commands.add_parser("revoke", help="revoke a key: its next request gets 401")
    revoke.add_argument("name")
    return parser


def keys_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        config = read_config(args.config).config
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    store = KeyStore(config.usage.data_dir(config.auth_dir))
    if args.command == "create":
        return _create(store, args, frozenset(k.name for k in config.api_keys if k.name))
    if args.command == "revoke":
        if store.revoke(args.name) is None:
            print(f"no issued key named {args.name!r}", file=sys.stderr)
            return 1
        print(f"revoked {args.name}")
        return 0
    for key in store.all():
        print(_describe(key.public()))
    return 0


def _create(store: KeyStore, args: argparse.Namespace, taken: frozenset[str]) -> int:
    limits = {
        field: getattr(args, option[2:].replace("-", "_"))
        for option, field, _ in _LIMIT_OPTIONS
        if getattr(args, option[2:].replace("-", "_")) is not None
    }
    expires = time.time() + args.expires_days * 86400 if args.expires_days else None
    try:
        key, secret = store.create(
            args.name, expires_at=expires, models=tuple(args.model), limits=limits, taken=taken
        )
    except KeyRequestError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_USAGE
    print(secret)
    print(f"# key {key.name!r} created; store it now, it is not shown again", file=sys.stderr)
    return 0


def _describe(shown: dict[str, Any]) -> str:
    state = "revoked" if shown["revoked_at"] else "active"
    if state == "active" and shown["expires_at"] and shown["expires_at"] <= time.time():
        state = "expired"
    parts = [shown["name"], state, f"prefix={shown['prefix']}"]
    if shown["expires_at"]:
        parts.append(f"expires={utc_iso(shown['expires_at'])}")
    if shown["models"]:
        parts.append("models=" + ",".join(shown["models"]))
    parts += [f"{k}={v}" for k, v in shown["limits"].items() if v is not None]
    return " ".join(parts)
