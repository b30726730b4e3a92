"""``cliproxy``: one command for the scripts, the router's subcommands and client setup.

cliproxy start|stop|restart|status|logs|reload   the scripts/ of this checkout
cliproxy check-config | login PROVIDER | doctor  config, accounts, what is wrong
cliproxy keys create|list|revoke | relay-key     client keys cliproxy issues; the relay key
cliproxy route explain < request.json            which rule and candidates a request gets
cliproxy env [CLIENT...] [--shell SHELL]         exports a client needs
cliproxy shell-integration SHELL                 activate/deactivate functions
cliproxy run CLIENT -- ARGS                      run a client pointed at cliproxy

Env: CLIPROXY_CONFIG (default: the checkout's config.yaml), CLIPROXY_CLIENT_KEY (the key
clients present; default: the first of api-keys), CLIPROXY_HOME (the checkout).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from router.config import ConfigError, LoadedConfig, read_config
from router.ops.clients import (
    CLIENTS,
    PLACEHOLDER_KEY,
    SHELLS,
    Endpoint,
    client_variables,
    codex_overrides,
    render_env,
    selected_clients,
    shell_integration,
)

# The checkout whose scripts and config.yaml the command drives; CLIPROXY_HOME overrides it
# (a copy of the project that shares this installation, as the docs test makes).
PROJECT_ROOT = Path(os.environ.get("CLIPROXY_HOME") or Path(__file__).resolve().parents[2])
SCRIPTS = {
    "start": "start.sh",
    "stop": "stop.sh",
    "restart": "restart.sh",
    "status": "status.sh",
    "logs": "logs.sh",
    "reload": "reload.sh",
}
CLIENT_PACKAGES = {
    "claude": "@anthropic-ai/claude-code",
    "codex": "@openai/codex",
    "gemini": "@google/gemini-cli",
    "opencode": "opencode-ai",
}
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0 if args else EXIT_USAGE
    command, rest = args[0], args[1:]
    use_checkout_config()
    if command in SCRIPTS:
        return run_script(SCRIPTS[command], rest)
    handler = COMMANDS.get(command)
    if handler is None:
        print(f"cliproxy: unknown command {command!r} (see cliproxy --help)", file=sys.stderr)
        return EXIT_USAGE
    return handler(rest)


def use_checkout_config() -> None:
    """From any directory, mean this checkout's config.yaml, as the scripts do."""
    own = PROJECT_ROOT / "config.yaml"
    if not os.environ.get("CLIPROXY_CONFIG") and own.is_file():
        os.environ["CLIPROXY_CONFIG"] = str(own)


def run_script(name: str, args: list[str]) -> int:
    script = PROJECT_ROOT / "scripts" / name
    if not script.is_file():
        print(f"cliproxy: {script} is missing; is this a cliproxy checkout?", file=sys.stderr)
        return EXIT_USAGE
    os.execv(str(script), [str(script), *args])
    return 0  # pragma: no cover - execv does not return


def router_command(args: list[str]) -> int:
    from router.cli import main as router_main

    return router_main(args)


def check_config(args: list[str]) -> int:
    return router_command(["check-config", *args])


def keys(args: list[str]) -> int:
    return router_command(["keys", *args])


def relay_key(args: list[str]) -> int:
    return router_command(["relay-key", *args])


def route(args: list[str]) -> int:
    return router_command(["route", *args])


def login(args: list[str]) -> int:
    if args[:1] == ["aistudio"]:
        from router.ops.aistudio_login import main as aistudio_login

        return aistudio_login(args[1:])
    return router_command(["login", *args])


def doctor(args: list[str]) -> int:
    from router.ops.doctor import main as doctor_main

    return doctor_main(args)


def load_endpoint() -> Endpoint:
    """The router's URL from the config; the key from CLIPROXY_CLIENT_KEY or api-keys."""
    from router.cli import describe

    loaded = read_config()
    return Endpoint(url=describe(loaded)["url"], key=client_key(loaded))


def client_key(loaded: LoadedConfig) -> str:
    chosen = os.environ.get("CLIPROXY_CLIENT_KEY")
    if chosen:
        return chosen
    keys = [k.key for k in loaded.config.api_keys if k.key]
    return keys[0] if keys else PLACEHOLDER_KEY


def env(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cliproxy env")
    parser.add_argument("clients", nargs="*", help=f"all (default) or {', '.join(CLIENTS)}")
    parser.add_argument("--shell", choices=SHELLS, default=default_shell())
    parsed = parser.parse_args(args)
    try:
        clients = selected_clients(parsed.clients)
        endpoint = load_endpoint()
    except (ValueError, ConfigError) as exc:
        return fail(exc)
    sys.stdout.write(render_env(clients, endpoint, parsed.shell))
    return 0


def default_shell() -> str:
    name = Path(os.environ.get("SHELL", "bash")).name
    return name if name in SHELLS else "bash"


def integration(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cliproxy shell-integration")
    parser.add_argument("shell", choices=SHELLS)
    parsed = parser.parse_args(args)
    sys.stdout.write(shell_integration(parsed.shell, own_executable()))
    return 0


def own_executable() -> str:
    """This command's path, so the rc snippet works when cliproxy is not on PATH."""
    beside_python = Path(sys.executable).parent / "cliproxy"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("cliproxy") or "cliproxy"


def run(args: list[str]) -> int:
    if not args or args[0] not in CLIENT_PACKAGES:
        print(f"usage: cliproxy run {{{','.join(CLIENT_PACKAGES)}}} -- ARGS", file=sys.stderr)
        return EXIT_USAGE
    client, rest = args[0], args[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    program = shutil.which(client)
    if program is None:
        print(
            f"cliproxy: {client} is not on PATH; install it with: "
            f"npm install -g {CLIENT_PACKAGES[client]}",
            file=sys.stderr,
        )
        return 127
    try:
        endpoint = load_endpoint()
    except ConfigError as exc:
        return fail(exc)
    environment = {**os.environ, **client_variables(client, endpoint)}
    extra = codex_overrides(endpoint) if client == "codex" else []
    os.execve(program, [program, *extra, *rest], environment)
    return 0  # pragma: no cover - execve does not return


def fail(exc: Exception) -> int:
    problems = exc.problems if isinstance(exc, ConfigError) else [str(exc)]
    for problem in problems:
        print(f"cliproxy: {problem}", file=sys.stderr)
    return EXIT_USAGE


COMMANDS = {
    "check-config": check_config,
    "login": login,
    "doctor": doctor,
    "keys": keys,
    "relay-key": relay_key,
    "route": route,
    "env": env,
    "shell-integration": integration,
    "run": run,
}
