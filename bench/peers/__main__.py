"""``python -m bench.peers``: cliproxy next to its peers, in one interleaved run.

Installs (once) LiteLLM proxy, claude-code-router and 9router at the versions pinned in
bench/peers/pins.py into a scratch folder outside the repository, points each at the bench
upstream, and measures the upstream alone, the bare forwarder, cliproxy's paths and each
peer at 32 connections for several short rounds, interleaved. Prints the markdown table on
stdout (progress on stderr) and writes everything to bench/results/peers.json. A peer that
fails to install or start is a row with the reason; the others are measured anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load import pick_tool
from bench.peers.install import DEFAULT_SCRATCH, SCRATCH_ENV, scratch_dir
from bench.peers.pins import PINS
from bench.peers.run import ALL_SYSTEMS, CONNECTIONS, Plan, run
from bench.peers.table import Row, markdown

RESULTS = Path(__file__).resolve().parent.parent / "results" / "peers.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    keys = ", ".join(s.key for s in ALL_SYSTEMS)
    parser = argparse.ArgumentParser(
        prog="python -m bench.peers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"systems: {keys}",
    )
    parser.add_argument(
        "--dir",
        help=f"scratch folder for the peers' installs (default: ${SCRATCH_ENV} or "
        f"{DEFAULT_SCRATCH})",
    )
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s (a smoke run)")
    parser.add_argument("--rounds", type=int, help="rounds (default 5; --quick 1)")
    parser.add_argument("--seconds", type=float, help="seconds per round (default 3)")
    parser.add_argument("--only", nargs="+", default=[], metavar="SYSTEM", help="a subset")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also measure the router of git revision REV, for a before/after table",
    )
    return parser.parse_args(argv)


def _node_version() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    done = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def report(rows: list[Row], plan: Plan, started_at: str) -> dict[str, Any]:
    return {
        "started_at": started_at,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": [round(v, 2) for v in os.getloadavg()],
            "python": platform.python_version(),
            "node": _node_version(),
            "load_tool": plan.tool,
        },
        "connections": CONNECTIONS,
        "rounds": plan.rounds,
        "round_seconds": plan.seconds,
        "versions": {pin.key: pin.version for pin in PINS},
        "rows": [row.as_dict() for row in rows],
        "table": markdown(rows),
    }


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends the run like Ctrl-C, so the peers are stopped too."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        scratch = scratch_dir(args.dir)
        plan = Plan(
            rounds=args.rounds or (1 if args.quick else 5),
            seconds=args.seconds or (2.0 if args.quick else 3.0),
            tool=pick_tool(args.load),
            only=tuple(args.only),
            before=args.before,
        )
        plan.systems()
    except (KeyError, RuntimeError, ValueError) as exc:
        print(f"bench.peers: {exc.args[0]}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="cliproxy-bench-peers-"))
    say(f"scratch folder: {scratch}; work directory: {workdir}")
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        rows = asyncio.run(run(plan, workdir, scratch, say))
    except KeyboardInterrupt:
        say("interrupted; every started process was stopped")
        return 130
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report(rows, plan, started_at), indent=2) + "\n")
    print(markdown(rows), end="")
    say(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
