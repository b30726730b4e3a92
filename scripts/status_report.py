"""Print the state of every supervised program, the router's health and its services.

Usage: status_report.py --socket PATH --health-url URL [--expect PROGRAM ...] [--json]
Exit codes: 0 everything that should run is up and working; 1 something that should run
is down (stopped, FATAL, BACKOFF), the router does not answer, or an enabled service is
down, disconnected from the relay or needs a login; 3 supervisord itself is not running.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import psutil
from supervisor_rpc import ProgramInfo, program_infos

from router.ops.assess import Finding, program_findings, service_findings
from router.ops.probe import HealthUnavailable, fetch_health, operator_key

EXIT_OK = 0
EXIT_DOWN = 1
EXIT_SUPERVISORD_DOWN = 3
ROW_FORMAT = "{:<10} {:<9} {:>8} {:>12} {:>11}  {}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--health-url", required=True)
    parser.add_argument("--expect", nargs="*", default=["router"])
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def format_uptime(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def process_usage(pid: int) -> tuple[float | None, int | None]:
    """Uptime in seconds and resident bytes of a process plus its children."""
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
        return None, None
    return uptime, rss


def program_record(name: str, info: ProgramInfo | None, expected: bool) -> dict[str, Any]:
    uptime, rss = process_usage(info.pid) if info and info.pid else (None, None)
    return {
        "name": name,
        "state": info.state if info else "UNKNOWN",
        "pid": info.pid if info and info.pid else None,
        "uptime_s": round(uptime, 1) if uptime is not None else None,
        "rss_bytes": rss,
        "expected": expected,
        "description": info.description if info else "not in supervisord.conf",
    }


def program_line(record: dict[str, Any], problems: set[str]) -> str:
    uptime = format_uptime(record["uptime_s"]) if record["uptime_s"] is not None else "-"
    rss = f"{record['rss_bytes'] / 1048576:.1f} MiB" if record["rss_bytes"] else "-"
    if record["name"] in problems:
        note = f"PROBLEM ({record['description']})" if record["description"] else "PROBLEM"
    elif record["state"] == "STARTING":
        note = "starting"
    elif not record["expected"] and record["state"] != "RUNNING":
        note = "not enabled"
    else:
        note = ""
    pid = str(record["pid"]) if record["pid"] else "-"
    return ROW_FORMAT.format(record["name"], record["state"], pid, uptime, rss, note).rstrip()


def scalar_line(name: str, details: Any) -> str:
    if not isinstance(details, dict):
        return f"  {name}: {details}"
    scalars = [
        f"{key}={value}"
        for key, value in details.items()
        if isinstance(value, str | int | float | bool) or value is None
    ]
    return f"  {name}: {' '.join(scalars)}".rstrip()


def print_health(document: dict[str, Any] | None, problem: str, health_url: str) -> None:
    if document is None:
        print(f"router health: DOWN ({problem})")
        return
    print(
        f"router health: {document['status']} version={document.get('version', '?')} "
        f"uptime_s={document.get('uptime_s', '?')} url={health_url}"
    )
    providers = document.get("providers") or {}
    if not providers:
        print("  (no providers configured)")
    for name in sorted(providers):
        print(scalar_line(name, providers[name]))
    print_workers(document.get("workers"))
    services = document.get("services") or {}
    if services:
        print("services:")
    for name in sorted(services):
        print(scalar_line(name, services[name]))
        inner = services[name].get("service") if isinstance(services[name], dict) else None
        if isinstance(inner, dict):
            print("  " + scalar_line(f"{name}.service", inner).lstrip())


def print_workers(workers: Any) -> None:
    """One line per router worker process (several share the port with workers: N)."""
    if not isinstance(workers, dict):
        return
    listed = workers.get("list") or []
    print(f"workers: {len(listed)} of {workers.get('count', '?')} running")
    for worker in listed:
        sessions = ",".join(worker.get("relay_sessions") or []) or "-"
        print(
            f"  worker {worker['worker']}: pid={worker['pid']} "
            f"uptime={format_uptime(worker['uptime_s'])} rss_mb={worker['rss_mb']} "
            f"relay_sessions={sessions}"
        )


def collect(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    try:
        infos = program_infos(args.socket)
    except OSError as error:
        problem = f"supervisord is not running (socket {args.socket}: {error.strerror or error})"
        return {"ok": False, "supervisord": False, "problems": [problem]}, EXIT_SUPERVISORD_DOWN
    names = sorted(set(infos) | set(args.expect), key=lambda n: (n != "router", n))
    records = [program_record(n, infos.get(n), n in args.expect) for n in names]
    document, health_problem = None, ""
    try:
        document = fetch_health(args.health_url, operator_key())
    except HealthUnavailable as unavailable:
        health_problem = str(unavailable)
    states = {r["name"]: r["state"] for r in records}
    findings: list[Finding] = program_findings(states, args.expect, document is not None)
    if document is None:
        findings.append(Finding("router", f"health does not answer: {health_problem}", ""))
    else:
        findings.extend(service_findings(document, args.expect))
    report = {
        "ok": not findings,
        "supervisord": True,
        "programs": records,
        "health_url": args.health_url,
        "health": document,
        "health_problem": health_problem or None,
        "problems": [f"{f.subject}: {f.problem}" for f in findings],
        "fixes": [f.fix for f in findings],
    }
    return report, EXIT_OK if not findings else EXIT_DOWN


def print_report(report: dict[str, Any], health_url: str) -> None:
    if not report["supervisord"]:
        print(report["problems"][0])
        return
    troubled = {p.split(":", 1)[0] for p in report["problems"]}
    print(ROW_FORMAT.format("PROGRAM", "STATE", "PID", "UPTIME", "RSS", "NOTE").rstrip())
    for record in report["programs"]:
        print(program_line(record, troubled))
    print()
    print_health(report["health"], report["health_problem"] or "", health_url)
    if report["problems"]:
        print()
        for problem, fix in zip(report["problems"], report["fixes"], strict=True):
            print(f"PROBLEM {problem}" + (f"; fix: {fix}" if fix else ""))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    report, code = collect(args)
    report["exit_code"] = code
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, args.health_url)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
