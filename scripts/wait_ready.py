"""Wait until the router answers its health URL, or fail early if supervisord gives up on it.

Usage: wait_ready.py --health-url URL --socket PATH [--program router] [--timeout SECONDS]
Exit codes: 0 ready, 1 timed out, 3 the program reached a terminal state (FATAL, ...).
"""

from __future__ import annotations

import argparse
import sys
import time

from supervisor_rpc import program_infos

from router.ops.probe import HealthUnavailable, fetch_health

POLL_INTERVAL_S = 0.5
TERMINAL_STATES = frozenset({"FATAL", "STOPPED", "UNKNOWN"})


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--health-url", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--program", default="router")
    parser.add_argument("--timeout", type=float, default=30.0)
    return parser.parse_args(argv)


def program_state(socket_path: str, program: str) -> str:
    try:
        info = program_infos(socket_path).get(program)
    except OSError:
        return "UNREACHABLE"
    return info.state if info else "UNKNOWN"


def wait_ready(health_url: str, socket_path: str, program: str, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    last_problem = "not polled yet"
    while True:
        try:
            document = fetch_health(health_url)
        except HealthUnavailable as problem:
            last_problem = str(problem)
        else:
            print(f"health status={document['status']} url={health_url}")
            return 0
        state = program_state(socket_path, program)
        if state in TERMINAL_STATES:
            print(f"error: {program} is {state} (supervisord gave up on it)", file=sys.stderr)
            return 3
        if time.monotonic() >= deadline:
            print(
                f"error: {program} not healthy after {timeout_s:g}s "
                f"(state={state}, last problem: {last_problem})",
                file=sys.stderr,
            )
            return 1
        time.sleep(POLL_INTERVAL_S)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    return wait_ready(args.health_url, args.socket, args.program, args.timeout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
