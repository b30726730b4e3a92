"""``cliproxy doctor``: find what commonly goes wrong and say how to fix each.

Checks, in order: the config and what its enabled programs need (Chromium, packages),
unset ``${VAR}`` references, whether the router answers or its port is held by another
program, the webai and AI Studio services (reachable, relay connected, Google session),
a provider that serves models but has no usable credential, and clock skew against the
``Date`` header of the configured upstreams (token lifetimes and signed requests fail
when the clock is off). Exit 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import errno
import json
import socket
import sys
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import aiohttp

from router.config import ConfigError, LoadedConfig, read_config
from router.config.proxy import ProxySetting
from router.config.wire.chatgpt import UPSTREAM_NAME as CHATGPT_PROVIDER
from router.config.wire.claude import UPSTREAM_NAME as CLAUDE_PROVIDER
from router.config.wire.ctonew import UPSTREAM_NAME as CTONEW_PROVIDER
from router.ops.assess import service_findings
from router.ops.checks import deployment_problems, unset_variable_warnings
from router.ops.probe import HealthUnavailable, fetch_health, operator_key
from router.outbound import client_session

MAX_CLOCK_SKEW_S = 60.0
LOGIN_COMMANDS = {
    CLAUDE_PROVIDER: "cliproxy login claude",
    CHATGPT_PROVIDER: "cliproxy login chatgpt",
    CTONEW_PROVIDER: "store a cookie: POST /v1/auth/ctonew (docs/PROVIDERS.md)",
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cliproxy doctor", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    args = parser.parse_args(argv)
    checks = run_checks()
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for check in checks:
            print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
            if check.fix:
                print(f"      fix: {check.fix}")
    return 0 if all(c.ok for c in checks) else 1


def run_checks() -> list[Check]:
    try:
        loaded = read_config()
    except ConfigError as exc:
        problems = "; ".join(exc.problems)
        return [Check("config", False, problems, "edit the config; cliproxy check-config")]
    checks = [config_check(loaded), *variable_checks(loaded)]
    url = router_url(loaded)
    document, router_check = router_checks(loaded, url)
    checks.append(router_check)
    if document is not None:
        checks.extend(service_checks(loaded, document))
    checks.extend(credential_checks(loaded))
    if document is not None:
        checks.extend(login_checks(loaded, document))
    checks.append(clock_check(loaded))
    return checks


def config_check(loaded: LoadedConfig) -> Check:
    problems = deployment_problems(loaded)
    where = str(loaded.path or "built-in defaults")
    if not problems:
        return Check("config", True, f"{where} is valid")
    details = [p.split("; ", 1) for p in problems]
    return Check(
        "config",
        False,
        "; ".join(d[0] for d in details),
        "; ".join(d[1] for d in details if len(d) > 1),
    )


def variable_checks(loaded: LoadedConfig) -> list[Check]:
    warnings = unset_variable_warnings(loaded)
    if not warnings:
        return [Check("variables", True, "every ${VAR} the config uses is set")]
    return [Check("variables", False, w.split(" (add ", 1)[0], _fix_of(w)) for w in warnings]


def _fix_of(warning: str) -> str:
    _, _, rest = warning.partition(" (add ")
    return f"add {rest.rstrip(')')} (mode 0600), then: cliproxy restart" if rest else ""


def router_url(loaded: LoadedConfig) -> str:
    from router.cli import describe

    return describe(loaded)["url"]


def router_checks(loaded: LoadedConfig, url: str) -> tuple[dict[str, object] | None, Check]:
    """Whether the router answers; if not, whether another program holds its port."""
    try:
        document = fetch_health(f"{url}/v1/health", operator_key(loaded))
    except HealthUnavailable as unavailable:
        reason = str(unavailable)
    else:
        return document, Check("router", True, f"answers at {url} ({document['status']})")
    config = loaded.config
    holder = port_holder(config.host, config.port)
    if holder is not None:
        return None, Check(
            "port",
            False,
            f"{config.host}:{config.port} is taken by another program ({holder}), "
            f"and it is not cliproxy ({reason})",
            "stop that program, or choose another port: port: in config.yaml "
            "or CLIPROXY_PORT in .env, then: cliproxy restart",
        )
    return None, Check("router", False, f"not running ({reason})", "cliproxy start")


def port_holder(host: str, port: int) -> str | None:
    """Who listens on host:port when we cannot bind it; None when the port is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return None
        else:
            return None
    return listener_name(port)


def listener_name(port: int) -> str:
    import psutil

    try:
        for connection in psutil.net_connections("inet"):
            if connection.laddr and connection.laddr.port == port and connection.pid:
                return f"{psutil.Process(connection.pid).name()}, pid {connection.pid}"
    except (psutil.Error, OSError):
        pass
    return "unknown program"


def service_checks(loaded: LoadedConfig, document: dict[str, object]) -> list[Check]:
    from router.cli import describe

    expected = describe(loaded)["programs"]
    findings = service_findings(document, expected)
    checks = [Check(f.subject, False, f.problem, f.fix) for f in findings]
    for name in ("webai", "aistudio"):
        if name in expected and not any(f.subject == name for f in findings):
            checks.append(Check(name, True, "running and connected"))
    return checks


def credential_checks(loaded: LoadedConfig) -> list[Check]:
    """Providers with models (or routes) but not one usable key."""
    config = loaded.config
    routed = {target.partition("/")[0] for route in config.routes for target in route.providers}
    checks = []
    for provider in config.providers:
        if not provider.enabled or not (provider.models or provider.name in routed):
            continue
        if any(key.key for key in provider.api_keys):
            continue
        variables = sorted(
            name
            for path, name in loaded.unset_env.items()
            if path.startswith(f"providers[{config.providers.index(provider)}]")
        )
        hint = f"set {', '.join(variables)} in .env" if variables else "add api-keys"
        checks.append(
            Check(
                "credentials",
                False,
                f"provider {provider.name} serves models but has no usable api key",
                f"{hint} for provider {provider.name}, then: cliproxy reload",
            )
        )
    if not checks:
        checks.append(Check("credentials", True, "every provider with models has a key"))
    return checks


def login_checks(loaded: LoadedConfig, document: dict[str, object]) -> list[Check]:
    """Routes that name a subscription nobody has logged in to."""
    providers = document.get("providers")
    if not isinstance(providers, dict):
        return []
    routed = {t.partition("/")[0] for r in loaded.config.routes for t in r.providers}
    checks = []
    for name in sorted(routed):
        view = providers.get(name)
        if isinstance(view, dict) and view.get("status") == "not_logged_in":
            command = LOGIN_COMMANDS.get(name, "see docs/PROVIDERS.md")
            checks.append(
                Check(
                    "credentials",
                    False,
                    f"a route sends models to {name}, with no account",
                    command,
                )
            )
    return checks


def clock_check(loaded: LoadedConfig) -> Check:
    """Compare the local clock with the Date header of the first upstream that answers."""
    for origin, proxy in upstream_origins(loaded):
        remote = asyncio.run(remote_time(origin, proxy))
        if remote is None:
            continue
        skew = time.time() - remote
        if abs(skew) > MAX_CLOCK_SKEW_S:
            return Check(
                "clock",
                False,
                f"this machine's clock is {skew:+.0f} s off {origin}'s",
                "enable time sync: sudo timedatectl set-ntp true (or install chrony)",
            )
        return Check("clock", True, f"within {abs(skew):.0f} s of {origin}")
    return Check("clock", True, "skipped: no upstream answered to compare clocks with")


def upstream_origins(loaded: LoadedConfig) -> list[tuple[str, ProxySetting]]:
    """Each upstream origin once, with the outbound proxy its requests go through."""
    config = loaded.config
    urls = [(p.base_url, p.proxy_url) for p in config.providers if p.enabled]
    subscriptions = config.subscriptions
    urls += [
        (s.token_url, s.proxy_url)
        for s in (subscriptions.claude, subscriptions.chatgpt)
        if s.enabled
    ]
    origins: dict[str, ProxySetting] = {}
    for url, own_proxy in urls:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.netloc and origin not in origins:
            origins[origin] = config.proxy_for(own_proxy)
    return list(origins.items())


async def remote_time(origin: str, proxy: ProxySetting) -> float | None:
    """The Date an upstream answers a HEAD with, asked the way the router would ask it."""
    try:
        async with (
            client_session(proxy, timeout=aiohttp.ClientTimeout(total=3)) as session,
            session.head(origin + "/", allow_redirects=False) as response,
        ):
            date = response.headers.get("Date")
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
        return None
    if not date:
        return None
    try:
        return email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
