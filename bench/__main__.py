"""Run cliproxy benchmarks and report every number, each target and whether it was met.

Progress lines go to stderr; one JSON object with everything goes to stdout and to
bench/results/latest.json. The exit status is 0 even when a target is MISSED (this is a
measurement, not a test); it is 1 only when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench.suites  # noqa: F401  (registers the benchmarks)
from bench.load import pick_tool
from bench.registry import REGISTRY, RunOptions, groups, select

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    listing = "\n".join(f"  {b.name:16} [{b.group}] {b.summary}" for b in REGISTRY.values())
    group_list = ", ".join(f"{g} ({', '.join(names)})" for g, names in groups().items())
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"benchmarks:\n{listing}\ngroups: {group_list}",
    )
    parser.add_argument("names", nargs="*", help="benchmarks or groups to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="shorter runs (under a minute)")
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="non-streaming load generator (auto: wrk when /usr/bin/wrk exists)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (process logs, configs)"
    )
    return parser.parse_args(argv)


async def run_all(options: RunOptions, names: list[str]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": options.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": [round(v, 2) for v in os.getloadavg()],
            "python": platform.python_version(),
            "load_tool": options.load_tool,
        },
        "benchmarks": {},
    }
    began = time.monotonic()
    for chosen in select(names):
        options.say(f"== {chosen.name}: {chosen.summary}")
        started = time.monotonic()
        try:
            result = await chosen.run(options)
        except Exception as exc:
            options.say(f"ERROR {chosen.name}: {exc}")
            report["benchmarks"][chosen.name] = {"error": str(exc)}
            continue
        entry = result.as_dict()
        entry["seconds"] = round(time.monotonic() - started, 1)
        report["benchmarks"][chosen.name] = entry
        for target in result.targets:
            options.say(f"  {target.line()}")
        for note in result.notes:
            options.say(f"  note: {note}")
    report["seconds"] = round(time.monotonic() - began, 1)
    targets = [t for b in report["benchmarks"].values() for t in b.get("targets", [])]
    report["targets_passed"] = sum(1 for t in targets if t["passed"])
    report["targets_missed"] = [t["name"] for t in targets if not t["passed"]]
    report["errors"] = [name for name, b in report["benchmarks"].items() if "error" in b]
    return report


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = [f"== summary ({report['seconds']} s)"]
    for entry in report["benchmarks"].values():
        for target in entry.get("targets", []):
            verdict = "PASS" if target["passed"] else "MISSED"
            lines.append(f"  {verdict:6} {target['name']}: {target['value']} {target['unit']}")
    lines += [f"  ERROR  {name}" for name in report["errors"]]
    missed = report["targets_missed"]
    lines.append(f"  MISSED targets: {', '.join(missed)}" if missed else "  all targets met")
    return lines


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends the run like Ctrl-C, so the children are stopped too."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        select(args.names)
        tool = pick_tool(args.load)
    except (KeyError, RuntimeError) as exc:
        print(f"bench: {exc.args[0]}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="cliproxy-bench-"))
    options = RunOptions(quick=args.quick, workdir=workdir, load_tool=tool)
    options.say(f"work directory: {workdir}")
    try:
        report = asyncio.run(run_all(options, args.names))
    except KeyboardInterrupt:
        options.say("interrupted; every started process was stopped")
        return 130
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    for line in summary_lines(report):
        options.say(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
