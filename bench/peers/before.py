"""cliproxy as it was at an earlier commit, measured in the same run as today's.

``--before REV`` adds rows for the router of commit REV: its tree is taken with
``git archive`` into the scratch folder (once per commit) and started with this
checkout's Python, with the same upstream and the same config as today's router, so a
before/after table comes from one interleaved run rather than from two runs on a machine
whose load differs between them.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from bench.cost import CHAT
from bench.peers.systems import CHAT_TO_CHAT, Context, Starter, System, Target, chat_request
from bench.processes import BENCH_ALIAS, BENCH_MODEL, REPO, TRANSLATED_MODEL, Child


def resolve(rev: str) -> str:
    """The commit's short hash; a ValueError names a revision git does not know."""
    found = subprocess.run(
        ["git", "rev-parse", "--short", f"{rev}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise ValueError(f"--before {rev}: not a commit of this repository")
    return found.stdout.strip()


def extract(commit: str, scratch: Path) -> Path:
    """The commit's tree under ``scratch`` (kept: a second run reuses it)."""
    tree = scratch / f"cliproxy-{commit}"
    if not (tree / "router").is_dir():
        archive = subprocess.run(
            ["git", "archive", commit], cwd=REPO, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
    return tree


def _starter(commit: str, path: str, body: bytes) -> Starter:
    async def start(ctx: Context) -> Target:
        return Target(await _router(ctx, commit), path, body)

    return start


async def _router(ctx: Context, commit: str) -> Child:
    key = f"before-{commit}"
    if key not in ctx.extra:
        tree = extract(commit, ctx.scratch)
        ctx.extra[key] = await ctx.processes.start_router(ctx.upstream, tree=tree)
    return ctx.extra[key]


def before_systems(rev: str) -> list[System]:
    commit = resolve(rev)
    return [
        System(
            f"before_passthrough_{commit}",
            f"cliproxy at {commit}: passthrough",
            CHAT_TO_CHAT,
            _starter(commit, CHAT, chat_request(BENCH_MODEL)),
        ),
        System(
            f"before_alias_{commit}",
            f"cliproxy at {commit}: Chat → Chat with an alias",
            CHAT_TO_CHAT + " (alias)",
            _starter(commit, CHAT, chat_request(BENCH_ALIAS)),
        ),
        System(
            f"before_chat_to_anthropic_{commit}",
            f"cliproxy at {commit}: Chat client → Anthropic upstream",
            "Chat client → Anthropic upstream (translated)",
            _starter(commit, CHAT, chat_request(TRANSLATED_MODEL)),
        ),
    ]
