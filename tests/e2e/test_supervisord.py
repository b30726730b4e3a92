"""End-to-end: scripts/start.sh, status.sh and stop.sh driving a real supervisord and router.

Each test builds a throwaway copy of the project (scripts and config files copied; router/,
providers/ and .venv symlinked to this checkout, so nothing is reinstalled) and serves the
router on a free port through CLIPROXY_PORT, so a developer's own instance is never touched.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COPIED_FILES = ("scripts", "supervisord.conf", "config.example.yaml", "pyproject.toml")
LINKED_DIRS = ("router", "providers", ".venv")
SCRIPT_TIMEOUT_S = 120
OPTIONAL_PROGRAMS = ("aistudio", "webai")
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch_health(port: int, key: str = "") -> tuple[int, dict[str, Any]]:
    """Health as anyone sees it, or with its details when ``key`` is the relay or a client key."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/health")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with NO_PROXY_OPENER.open(request, timeout=5) as response:
        return response.status, json.loads(response.read())


def health_answers(port: int) -> bool:
    try:
        status, document = fetch_health(port)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return status == 200 and document.get("status") in {"ok", "degraded"}


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.25)


def is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"exit={result.returncode}\n--- stdout ---\n{result.stdout}"
        f"\n--- stderr ---\n{result.stderr}"
    )


@dataclass
class ProjectCopy:
    """A disposable project directory whose scripts run against the real router code."""

    root: Path
    port: int
    env: dict[str, str]
    seen_pids: set[int] = field(default_factory=set)

    def run(
        self, *command: str, timeout_s: float = SCRIPT_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=self.root.parent,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def with_env(self, **changes: str | None) -> ProjectCopy:
        """The same copy run with some variables changed (None removes one)."""
        env = {**self.env, **{k: v for k, v in changes.items() if v is not None}}
        for key in (k for k, v in changes.items() if v is None):
            env.pop(key, None)
        return ProjectCopy(root=self.root, port=self.port, env=env, seen_pids=self.seen_pids)

    def script(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.root / "scripts" / name), *args)

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        supervisorctl = self.root / ".venv" / "bin" / "supervisorctl"
        return self.run(str(supervisorctl), "-c", str(self.root / "supervisord.conf"), *args)

    def supervisord_pid(self) -> int:
        pid = int((self.root / "run" / "supervisord.pid").read_text().strip())
        self.seen_pids.add(pid)
        return pid

    def router_pid(self) -> int:
        result = self.ctl("pid", "router")
        pid = int(result.stdout.strip() or 0)
        if pid:
            self.seen_pids.add(pid)
        return pid

    def router_state(self) -> str:
        fields = self.ctl("status", "router").stdout.split()
        return fields[1] if len(fields) > 1 else "UNKNOWN"

    def own_processes(self) -> list[psutil.Process]:
        """Live processes started from this copy (supervisord, router, sidecars)."""
        marker = str(self.root)
        found = []
        for process in psutil.process_iter(["cmdline", "status"]):
            cmdline = process.info["cmdline"] or []
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(marker in part for part in cmdline):
                found.append(process)
        return found

    def cleanup(self) -> None:
        """Stop everything this copy started, even after a failed assertion."""
        if not self.own_processes():
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.script("stop.sh")
        for process in self.own_processes():
            try:
                process.kill()
            except psutil.NoSuchProcess:
                continue


@pytest.fixture(scope="session")
def repo_installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The copies borrow this checkout's .venv, so it must be installed and stamped.

    The cliproxy command is linked into a throwaway bin directory, not the user's ~/.local/bin.
    """
    bin_dir = tmp_path_factory.mktemp("bin")
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install.sh")],
        stdin=subprocess.DEVNULL,
        env={**os.environ, "CLIPROXY_BIN_DIR": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, explain(result)
    linked = bin_dir / "cliproxy"
    assert linked.resolve() == (REPO_ROOT / ".venv" / "bin" / "cliproxy").resolve(), explain(result)


@pytest.fixture
def project(
    repo_installed: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProjectCopy]:
    # A short base path keeps run/supervisor.sock well under the unix socket path limit.
    root = tmp_path_factory.mktemp("cliproxy") / "project"
    root.mkdir()
    for name in COPIED_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    for name in LINKED_DIRS:
        (root / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLIPROXY_")}
    port = free_port()
    env["CLIPROXY_PORT"] = str(port)
    env["CLIPROXY_START_TIMEOUT"] = "60"
    copy = ProjectCopy(root=root, port=port, env=env)
    try:
        yield copy
    finally:
        copy.cleanup()


def status_rows(output: str) -> dict[str, list[str]]:
    """Program table rows of status.sh, keyed by program name."""
    rows = {}
    table = output.split("\n\n", 1)[0]
    for line in table.splitlines():
        fields = line.split()
        if fields and fields[0] in {"router", *OPTIONAL_PROGRAMS}:
            rows[fields[0]] = fields
    return rows


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_start_status_kill_reload_restart_stop(project: ProjectCopy) -> None:
    started = project.script("start.sh")
    assert started.returncode == 0, explain(started)
    assert f"http://127.0.0.1:{project.port}" in started.stdout, explain(started)
    assert (project.root / "config.yaml").is_file(), "install.sh should create config.yaml"
    status_code, document = fetch_health(project.port)
    assert status_code == 200
    assert document["status"] in {"ok", "degraded"}
    supervisord_pid = project.supervisord_pid()
    supervisord_started_at = psutil.Process(supervisord_pid).create_time()

    again = project.script("start.sh")
    assert again.returncode == 0, explain(again)
    assert "already running" in again.stdout, explain(again)
    assert project.supervisord_pid() == supervisord_pid
    assert psutil.Process(supervisord_pid).create_time() == supervisord_started_at
    supervisords = [p for p in project.own_processes() if "supervisord" in " ".join(p.cmdline())]
    assert [p.pid for p in supervisords] == [supervisord_pid]

    # The running instance keeps the port it started with, whatever the caller's env says.
    moved = project.with_env(CLIPROXY_PORT=str(free_port())).script("start.sh")
    assert moved.returncode != 0, explain(moved)
    assert "scripts/restart.sh" in moved.stderr, explain(moved)
    unset = project.with_env(CLIPROXY_PORT=None).script("status.sh")
    assert f"url=http://127.0.0.1:{project.port}/v1/health" in unset.stdout, explain(unset)

    wait_until(lambda: project.router_state() == "RUNNING", 30, "router RUNNING")
    router_pid = project.router_pid()
    status = project.script("status.sh")
    assert status.returncode == 0, explain(status)
    rows = status_rows(status.stdout)
    _, state, pid, uptime, rss, unit = rows["router"][:6]
    assert (state, int(pid)) == ("RUNNING", router_pid), status.stdout
    assert re.fullmatch(r"\d+:\d{2}:\d{2}", uptime), status.stdout
    assert float(rss) > 1.0 and unit == "MiB", status.stdout
    for optional in OPTIONAL_PROGRAMS:
        assert rows[optional][1] == "STOPPED", f"{optional} must not autostart:\n{status.stdout}"
    assert re.search(r"^router health: (ok|degraded) ", status.stdout, re.MULTILINE), status.stdout
    # workers: auto runs one router process per core, each listed with its pid.
    workers = re.search(r"^workers: (\d+) of (\d+) running", status.stdout, re.MULTILINE)
    assert workers and workers[1] == workers[2] == str(os.cpu_count()), status.stdout
    assert f"worker 0: pid={router_pid} " in status.stdout, status.stdout
    # Health hides details from callers without a key; status.sh sends the relay key.
    assert re.search(r"^  llmux-claude: .*status=not_logged_in", status.stdout, re.MULTILINE), (
        status.stdout
    )

    # autorestart=true: supervisord replaces a killed router with a new process.
    psutil.Process(router_pid).kill()
    wait_until(
        lambda: project.router_pid() not in {0, router_pid} and project.router_state() == "RUNNING",
        45,
        "supervisord to restart the killed router",
    )
    wait_until(lambda: health_answers(project.port), 30, "health after the restart")
    assert project.script("status.sh").returncode == 0

    # A router that should run but is stopped makes status.sh fail; start.sh brings it back.
    stopped = project.ctl("stop", "router")
    assert stopped.returncode == 0, explain(stopped)
    down = project.script("status.sh")
    assert down.returncode == 1, explain(down)
    assert status_rows(down.stdout)["router"][1] == "STOPPED", down.stdout
    assert "router health: DOWN" in down.stdout
    revived = project.script("start.sh")
    assert revived.returncode == 0, explain(revived)
    assert project.supervisord_pid() == supervisord_pid
    assert health_answers(project.port)

    # SIGHUP reloads the config in place: the router logs the reload and keeps its process.
    wait_until(lambda: project.router_state() == "RUNNING", 30, "router RUNNING")
    router_pid = project.router_pid()
    router_log = project.root / "logs" / "router.log"
    reloads_before = router_log.read_text().count("event=reloaded")
    hup = project.ctl("signal", "HUP", "router")
    assert hup.returncode == 0, explain(hup)
    wait_until(
        lambda: router_log.read_text().count("event=reloaded") > reloads_before,
        20,
        "event=reloaded in router.log after SIGHUP",
    )
    assert project.router_pid() == router_pid
    assert project.router_state() == "RUNNING"
    assert health_answers(project.port)

    logs = project.script("logs.sh", "--no-follow", "-n", "200", "router")
    assert logs.returncode == 0, explain(logs)
    assert "event=reloaded" in logs.stdout
    assert project.script("logs.sh", "--no-follow", "nosuchprogram").returncode == 2

    # restart.sh replaces supervisord itself, so env and supervisord.conf changes apply.
    restarted = project.script("restart.sh")
    assert restarted.returncode == 0, explain(restarted)
    assert project.supervisord_pid() != supervisord_pid
    assert not is_alive(supervisord_pid)
    assert health_answers(project.port)

    stopped_all = project.script("stop.sh")
    assert stopped_all.returncode == 0, explain(stopped_all)
    assert project.own_processes() == []
    assert not any(is_alive(pid) for pid in project.seen_pids)
    assert not (project.root / "run" / "supervisord.pid").exists()
    assert not (project.root / "run" / "describe.json").exists()
    assert not health_answers(project.port)

    idle_stop = project.script("stop.sh")
    assert idle_stop.returncode == 0, explain(idle_stop)
    assert "not running" in idle_stop.stdout
    assert project.script("status.sh").returncode == 3


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_start_runs_the_optional_programs_the_config_enables(project: ProjectCopy) -> None:
    config = yaml.safe_load((project.root / "config.example.yaml").read_text())
    webai_port = free_port()
    config["webai"].update(
        {"enabled": True, "port": webai_port, "key": "e2e-webai-key", "providers": ["Gemini"]}
    )
    (project.root / "config.yaml").write_text(yaml.safe_dump(config))

    started = project.script("start.sh")
    assert started.returncode == 0, explain(started)
    assert "starting webai" in started.stdout, explain(started)
    wait_until(lambda: project.router_state() == "RUNNING", 30, "router RUNNING")
    wait_until(
        lambda: status_rows(project.script("status.sh").stdout)["webai"][1] == "RUNNING",
        30,
        "webai RUNNING in status.sh",
    )
    with NO_PROXY_OPENER.open(f"http://127.0.0.1:{webai_port}/health", timeout=5) as response:
        assert response.status == 200
    status = project.script("status.sh")
    assert status.returncode == 0, explain(status)
    assert status_rows(status.stdout)["aistudio"][1] == "STOPPED"

    stopped = project.script("stop.sh")
    assert stopped.returncode == 0, explain(stopped)
    assert project.own_processes() == []


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_start_fails_clearly_when_router_cannot_serve(project: ProjectCopy) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", project.port))
        squatter.listen(1)
        # Hold the port without answering HTTP: the router cannot bind and health never passes.
        project.env["CLIPROXY_START_TIMEOUT"] = "20"
        failed = project.script("start.sh")
    assert failed.returncode != 0, explain(failed)
    assert "router.log" in failed.stderr, explain(failed)
    assert "--- last" in failed.stderr, explain(failed)
    stopped = project.script("stop.sh")
    assert stopped.returncode == 0, explain(stopped)
    assert project.own_processes() == []


def test_supervisord_conf_is_self_contained() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "supervisord.conf")
    path_keys = {"file", "logfile", "pidfile", "childlogdir", "directory", "stdout_logfile"}
    for section in parser.sections():
        for key, value in parser.items(section):
            if key in path_keys or key in {"command", "serverurl"}:
                assert "%(here)s" in value, f"[{section}] {key} must be project-relative"
            assert key != "user", f"[{section}] must not switch users"
    assert parser.get("program:router", "autostart") == "true"
    for optional in OPTIONAL_PROGRAMS:
        assert parser.get(f"program:{optional}", "autostart") == "false"
        assert f"-m providers.{optional}" in parser.get(f"program:{optional}", "command")


def test_install_is_cheap_and_keeps_an_existing_config(project: ProjectCopy) -> None:
    config = project.root / "config.yaml"
    config.write_text("port: 8317\n")
    result = project.script("install.sh")
    assert result.returncode == 0, explain(result)
    assert "dependencies up to date" in result.stdout, explain(result)
    assert "installing" not in result.stdout, explain(result)
    assert config.read_text() == "port: 8317\n"


def test_install_refuses_to_modify_a_borrowed_venv(project: ProjectCopy) -> None:
    stamp = project.root / ".venv" / ".cliproxy-install.stamp"
    stamp_before = stamp.read_text()
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# changed in the copy only\n")
    result = project.script("install.sh")
    assert result.returncode != 0, explain(result)
    assert "is a symlink" in result.stderr, explain(result)
    assert stamp.read_text() == stamp_before


def test_install_rejects_an_unknown_optional_program(project: ProjectCopy) -> None:
    result = project.script("install.sh", "--with", "nosuchprogram")
    assert result.returncode == 2, explain(result)
    assert "unknown optional program: nosuchprogram" in result.stderr
