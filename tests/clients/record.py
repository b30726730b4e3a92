"""Record what each pinned client sends: `python -m tests.clients.record [client ...]`.

Runs every client (or the ones named) headless against a capture server on a random
loopback port, through one scripted tool loop, and stores each request under
tests/clients/corpus/<client>/<version>/NNN-<method>-<path>.json (secrets redacted). The
old recording of that version is replaced. `make record-clients` runs it for all.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from tests.clients.capture import MARKER, CaptureServer
from tests.clients.clients import (
    CLIENTS_DIR,
    DEFAULT_MODELS,
    PROMPT,
    RUNNERS,
    STOPS_EARLY,
    ClientRun,
    prepare,
    version,
)

CORPUS = CLIENTS_DIR / "corpus"
TIMEOUT = 120.0
RECORDED_HOME = "/home/user"


async def run_client(run: ClientRun, timeout: float = TIMEOUT) -> tuple[int, str]:
    """Run one client to completion; returns (exit status, combined output)."""
    process = await asyncio.create_subprocess_exec(
        *run.argv,
        cwd=run.cwd,
        env=run.env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        return -1, output.decode("utf-8", "replace") + f"\n[timed out after {timeout}s]"
    return process.returncode or 0, output.decode("utf-8", "replace")


def scrub_home(out_dir: Path, home: str) -> None:
    """Replace the throwaway HOME (random per run) so re-recordings diff cleanly."""
    for path in out_dir.glob("*.json"):
        path.write_text(path.read_text().replace(home, RECORDED_HOME))


async def record(client: str) -> bool:
    out_dir = CORPUS / client / version(client)
    shutil.rmtree(out_dir, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"cliproxy-{client}-") as home:
        async with CaptureServer(out_dir) as server:
            prompt = PROMPT.format(marker=MARKER)
            run = prepare(client, server.base_url, Path(home), DEFAULT_MODELS[client], prompt)
            status, output = await run_client(run)
        scrub_home(out_dir, home)
    files = sorted(p.name for p in out_dir.glob("*.json")) if out_dir.exists() else []
    print(f"== {client} {version(client)}: exit {status}, {len(files)} requests")
    for name in files:
        print("   ", name)
    print("\n".join("  | " + line for line in output.strip().splitlines()[-15:]))
    return (status == 0 or client in STOPS_EARLY) and bool(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clients", nargs="*", help=f"any of {', '.join(RUNNERS)} (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.clients) - set(RUNNERS))
    if unknown:
        parser.error(f"unknown client {', '.join(unknown)}; expected one of {', '.join(RUNNERS)}")
    results = [asyncio.run(record(client)) for client in args.clients or RUNNERS]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
