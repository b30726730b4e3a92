"""Print the state of every supervised program and the router's health per provider.

Usage: status_report.py --socket PATH --health-url URL [--expect PROGRAM ...]
The router shows per-provider details to a key holder: $CLIPROXY_HEALTH_KEY is sent.
Exit codes: 0 every expected program runs and the router answers its health URL,
1 something expected is down, 3 supervisord itself is not running.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import psutil
from health import HealthUnavailable, fetch_health
from supervisor_rpc import ProgramInfo, program_infos

EXIT_OK = 0
EXIT_DOWN = 1
EXIT_SUPERVISORD_DOWN = 3
ROW_FORMAT = "{:<10} {:<9} {:>8} {:>12} {:>11}  {}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--health-url", required=True)
    parser.add_argument("--expect", nargs="*", default=["router"])
    return parser.parse_args(argv)


def format_uptime(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def process_usage(pid: int) -> tuple[str, str]:
    """Uptime and resident memory of a process plus its children, as display strings."""
    try:
        process = psutil.Process(pid)
        uptime = time.time() - process.create_time()
        rss = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                rss += child.memory_info().rss
            except psutil.Error:
                continue
    except psutil.Error:
        return "-", "-"
    return format_uptime(uptime), f"{rss / 1048576:.1f} MiB"


def program_row(name: str, info: ProgramInfo | None, expected: bool) -> tuple[str, bool]:
    """One table line for a program and whether it is a problem (expected but not up)."""
    if info is None:
        return ROW_FORMAT.format(name, "UNKNOWN", "-", "-", "-", "not in supervisord.conf"), True
    running = info.state == "RUNNING"
    if info.pid:
        uptime, rss = process_usage(info.pid)
        pid = str(info.pid)
    else:
        uptime, rss, pid = "-", "-", "-"
    if running:
        note = ""
    elif expected:
        note = f"should run ({info.description})" if info.description else "should run"
    else:
        note = "not enabled"
    return ROW_FORMAT.format(name, info.state, pid, uptime, rss, note), expected and not running


def provider_line(name: str, details: Any) -> str:
    if not isinstance(details, dict):
        return f"  {name}: {details}"
    scalars = [
        f"{key}={value}"
        for key, value in details.items()
        if isinstance(value, str | int | float | bool) or value is None
    ]
    return f"  {name}: {' '.join(scalars)}".rstrip()


def report_health(health_url: str) -> bool:
    """Print the router's health summary; return whether it answered."""
    try:
        document = fetch_health(health_url, key=os.environ.get("CLIPROXY_HEALTH_KEY", ""))
    except HealthUnavailable as problem:
        print(f"router health: DOWN ({problem})")
        return False
    print(
        f"router health: {document['status']} version={document.get('version', '?')} "
        f"uptime_s={document.get('uptime_s', '?')} url={health_url}"
    )
    providers = document.get("providers") or {}
    if "details" in document:
        print(f"  ({document['details']})")
    elif not providers:
        print("  (no providers configured)")
    for name in sorted(providers):
        print(provider_line(name, providers[name]))
    return True


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        infos = program_infos(args.socket)
    except OSError as error:
        print(f"supervisord is not running (socket {args.socket}: {error.strerror or error})")
        return EXIT_SUPERVISORD_DOWN
    expected = set(args.expect)
    print(ROW_FORMAT.format("PROGRAM", "STATE", "PID", "UPTIME", "RSS", "NOTE").rstrip())
    problems = 0
    for name in sorted(set(infos) | expected, key=lambda n: (n != "router", n)):
        line, is_problem = program_row(name, infos.get(name), name in expected)
        print(line.rstrip())
        problems += is_problem
    print()
    router_answers = report_health(args.health_url)
    if problems or not router_answers:
        return EXIT_DOWN
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
