"""``python -m router [serve|check-config|describe|login PROVIDER|hash-secret|relay-key]``.

Also ``python -m router keys ...`` (router/keys_cli.py) and ``route explain``
(router/route_cli.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TypedDict

from router import event_loop
from router.config import ConfigError, LoadedConfig, read_config
from router.config.secret import hash_secret
from router.config.workers import worker_count
from router.keys_cli import keys_main
from router.login_cli import LOGIN_PROVIDERS, terminal_login
from router.logs import log_fields, setup_logging
from router.ops.checks import (
    deployment_problems,
    proxy_lines,
    unset_variable_warnings,
    unset_variables,
)
from router.ops.probe import local_url
from router.relay.key import ensure_relay_key, relay_key_path
from router.route_cli import route_main
from router.shared import WorkerRole

log = logging.getLogger("router.server")

EXIT_CONFIG = 2
EXIT_BIND = 1


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["keys"]:  # keys create|list|revoke: router/keys_cli.py
        return keys_main(arguments[1:])
    if arguments[:1] == ["route"]:  # route explain: router/route_cli.py
        return route_main(arguments[1:])
    parser = argparse.ArgumentParser(prog="python -m router", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "check-config", "describe", "login", "hash-secret", "relay-key"),
        help="serve (default); check-config: validate and exit; describe: print URLs as JSON; "
        "login claude|chatgpt: log in to a subscription; hash-secret: hash a management "
        "secret read from standard input; relay-key: print the key relay peers (the AI "
        "Studio Build applet) present on /v1/ws, generating it if needed",
    )
    parser.add_argument("provider", nargs="?", help="for login: claude or chatgpt")
    parser.add_argument("--config", help="config file (default: $CLIPROXY_CONFIG or ./config.yaml)")
    args = parser.parse_args(argv)
    if args.command == "hash-secret":
        return _hash_secret()
    if args.command == "login" and args.provider not in LOGIN_PROVIDERS:
        parser.error(f"login needs one of: {', '.join(LOGIN_PROVIDERS)}")
    try:
        loaded = read_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check-config":
        return _check_config(loaded)
    if args.command == "describe":
        print(json.dumps(describe(loaded)))
        return 0
    if args.command == "login":
        return asyncio.run(terminal_login(loaded, args.provider))
    if args.command == "relay-key":
        return _print_relay_key(loaded)
    setup_logging(loaded.config.log_level)
    try:
        event_loop.run(_serve(loaded, args.config), loaded.config.server.event_loop)
    except OSError as exc:
        config = loaded.config
        print(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc} "
            "(another process has the port? set port: or CLIPROXY_PORT)",
            file=sys.stderr,
        )
        return EXIT_BIND
    return 0


async def _serve(loaded: LoadedConfig, config_path: str | None) -> None:
    """One process, one worker of a parent (its role in the environment), or the parent
    of ``workers`` processes."""
    from router.server import serve
    from router.workers import serve_workers, sharing_unsupported

    role = WorkerRole.from_env()
    if role is not None:
        await serve(loaded, config_path, role)
        return
    count = worker_count(loaded.config.workers)
    unsupported = sharing_unsupported() if count > 1 else None
    if unsupported is not None:
        log_fields(log, logging.WARNING, event="workers_single", reason=unsupported)
        count = 1
    if count == 1:
        await serve(loaded, config_path)
        return
    await serve_workers(loaded, config_path, count)


def _check_config(loaded: LoadedConfig) -> int:
    for warning in unset_variable_warnings(loaded):
        print(f"warning: {warning}", file=sys.stderr)
    problems = deployment_problems(loaded)
    for problem in problems:
        print(f"config error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    print(f"config ok: {loaded.path or 'built-in defaults (no config file)'}")
    for line in proxy_lines(loaded.config):
        print(line)
    return 0


def _hash_secret() -> int:
    secret = sys.stdin.readline().strip()
    if not secret:
        print("expected the secret on standard input", file=sys.stderr)
        return EXIT_CONFIG
    print(hash_secret(secret))
    return 0


def _print_relay_key(loaded: LoadedConfig) -> int:
    try:
        print(ensure_relay_key(loaded.config))
    except OSError as exc:
        print(f"cannot read or write {relay_key_path(loaded.config)}: {exc}", file=sys.stderr)
        return EXIT_BIND
    return 0


class Description(TypedDict):
    """What ``python -m router describe`` prints (as JSON) for the scripts."""

    url: str
    health_url: str
    programs: list[str]
    unset_variables: list[str]


def describe(loaded: LoadedConfig) -> Description:
    """What scripts need to know: where the router answers, which programs to run, and
    which variables the enabled sections miss (names only: start.sh compares them)."""
    config = loaded.config
    url = local_url(config)
    programs = ["router"]
    if config.aistudio.enabled:
        programs.append("aistudio")
    if config.webai.enabled:
        programs.append("webai")
    return Description(
        url=url,
        health_url=f"{url}/v1/health",
        programs=programs,
        unset_variables=unset_variables(loaded),
    )
