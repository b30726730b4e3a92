"""The offline parts of ``make bench-peers`` (bench/peers): no peer is installed here.

Table rendering from measured rounds and from a failed peer, CPU accounting over a real
process tree, the egress check, the scratch folder's rules, a failing start kept as a row,
and that ``make bench`` does not pick the peers up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import bench.suites  # noqa: F401  (registers make bench's benchmarks)
from bench.cpu import CpuMeter, tree_cpu_seconds
from bench.peers.egress import outside_addresses
from bench.peers.install import InstallFailed, install, scratch_dir
from bench.peers.pins import PINS, Pin
from bench.peers.run import ALL_SYSTEMS, Plan, start_all
from bench.peers.systems import Context, System, Target
from bench.peers.table import HEADER, Row, markdown
from bench.processes import REPO, Processes
from bench.registry import REGISTRY, groups

ROUND = {"rps": 1000.0, "p50_ms": 10.0, "p99_ms": 20.0, "cpu_ms_per_request": 0.5, "errors": 0}


def test_rows_render_the_median_of_their_rounds() -> None:
    row = Row("cliproxy_passthrough", "cliproxy passthrough", "Chat client → Chat upstream")
    row.rounds = [
        {**ROUND, "rps": 900.0, "p99_ms": 30.0},
        {**ROUND, "rps": 1100.0, "cpu_ms_per_request": 0.7},
        {**ROUND, "rps": 1234.5, "errors": 2},
    ]
    lines = markdown([row]).splitlines()
    assert lines[:2] == list(HEADER)
    assert lines[2] == (
        "| cliproxy passthrough | Chat client → Chat upstream | 1,100 | 10.0 | 20.0 | 0.50 "
        "| 2 errors |"
    )
    assert row.as_dict()["median"]["rps"] == 1100.0


def test_a_failed_peer_is_a_row_with_its_reason() -> None:
    row = Row("9router", "9router 0.5.69", "Chat client → Chat upstream")
    row.failure = "InstallFailed: `npm install --prefix ...` exited with 1:\nnpm error 404 | x"
    line = markdown([row]).splitlines()[2]
    assert line.startswith("| 9router 0.5.69 | Chat client → Chat upstream | — | — | — | — |")
    assert "failed: InstallFailed: `npm install --prefix ...` exited with 1: npm error 404 / x" in (
        line
    )
    assert row.as_dict()["median"] is None


def test_outside_addresses_are_noted() -> None:
    row = Row("litellm", "LiteLLM proxy", "Chat client → Chat upstream", rounds=[ROUND])
    row.outside = {"140.82.112.3:443"}
    assert markdown([row]).splitlines()[2].endswith("| talked to 140.82.112.3:443 |")


BURN = (
    "import time\nend = time.process_time() + 0.4\n"
    "while time.process_time() < end: pass\ntime.sleep(30)\n"
)
SPAWN = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURN!r}])"


def own_cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def test_cpu_is_counted_over_the_whole_process_tree() -> None:
    """A parent that only waits for a child burning 0.4 s of CPU: the meter counts the
    child's time, which the parent's own counters do not hold."""
    parent = subprocess.Popen([sys.executable, "-c", SPAWN], start_new_session=True)
    try:
        with CpuMeter(parent.pid) as meter:
            deadline = time.monotonic() + 30
            while tree_cpu_seconds(parent.pid) - own_cpu(parent.pid) < 0.4:
                assert time.monotonic() < deadline, "the child never burnt its 0.4 s"
                time.sleep(0.05)
        assert meter.seconds >= 0.35
        assert own_cpu(parent.pid) < 0.3
        assert meter.per_ms(100) == pytest.approx(meter.seconds * 10)
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()


def test_a_process_talking_only_to_loopback_has_no_outside_address() -> None:
    assert outside_addresses(99_999_999) == set()


def test_the_scratch_folder_is_never_inside_the_repository(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="inside the repository"):
        scratch_dir(str(REPO / "bench" / "scratch"))
    assert scratch_dir(str(tmp_path / "peers")) == (tmp_path / "peers").resolve()


NPM_PEER = Pin("peer", "a peer", "npm", "a-peer", "1.0")


async def test_a_complete_install_is_reused_without_running_anything(tmp_path: Path) -> None:
    root = tmp_path / "peer-1.0"
    root.mkdir()
    (root / ".installed").write_text("a-peer@1.0\n")
    said: list[str] = []
    installed = await install(NPM_PEER, tmp_path, said.append)
    assert installed.root == root and said == []
    assert installed.package_dir == root / "pkg" / "node_modules" / "a-peer"


async def test_an_install_that_cannot_run_fails_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    with pytest.raises(InstallFailed, match="npm is not installed"):
        await install(NPM_PEER, tmp_path, lambda _: None)
    assert not (tmp_path / "peer-1.0" / ".installed").exists()


async def test_a_peer_that_fails_to_start_keeps_its_row(tmp_path: Path) -> None:
    async def broken(ctx: Context) -> Target:
        raise RuntimeError("npm is not installed")

    async def fine(ctx: Context) -> Target:
        return Target(ctx.upstream, "/v1/chat/completions", b"{}")

    said: list[str] = []
    systems = [System("peer", "a peer 1.0", "Chat", broken), System("up", "upstream", "-", fine)]
    async with Processes(tmp_path) as processes:
        upstream = await processes.start_upstream()
        ctx = Context(processes, upstream, tmp_path, tmp_path / "scratch", said.append)
        started = await start_all(ctx, systems)
    (failed, none), (ok, target) = started
    assert none is None and failed.failure == "RuntimeError: npm is not installed"
    assert ok.failure is None and target is not None
    assert any("not measured: RuntimeError" in line for line in said)


def test_make_bench_does_not_run_the_peers() -> None:
    assert "peers" not in groups()
    assert not any(b.run.__module__.startswith("bench.peers") for b in REGISTRY.values())


def test_every_pin_is_named_once_and_every_system_is_selectable() -> None:
    assert len({pin.key for pin in PINS}) == len(PINS)
    keys = [s.key for s in ALL_SYSTEMS]
    assert len(set(keys)) == len(keys)
    assert Plan(1, 1.0, "python", ("litellm",)).systems()[0].key == "litellm"
    with pytest.raises(KeyError):
        Plan(1, 1.0, "python", ("nope",)).systems()
