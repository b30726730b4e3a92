"""End-to-end day-two operations with a real supervisord: one instance, many changes.

restart.sh with a broken config or an unset required variable changes nothing; a secret
added to the .env beside config.yaml reaches the router on restart (and a loose .env mode
is tightened); status.sh's exit codes follow the programs' states (STARTING right after
start.sh is up, a FATAL webai is a failure) with the services block and --json; the
systemd unit install.sh --service writes passes systemd-analyze verify.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_supervisord import (
    ProjectCopy,
    explain,
    fetch_health,
    health_answers,
    status_rows,
    wait_until,
)

SECRET = "e2e-secret-value-7f3a"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"


def base_config(project: ProjectCopy) -> dict[str, Any]:
    config = yaml.safe_load((project.root / "config.example.yaml").read_text())
    config["auth-dir"] = str(project.root / "auth")
    config["providers"] = [
        {
            "name": "e2e",
            "base-url": "http://127.0.0.1:9/v1",
            "api-keys": ["${E2E_SECRET}"],
            "models": ["e2e-model"],
        }
    ]
    return config


def write_config(project: ProjectCopy, config: dict[str, Any]) -> None:
    (project.root / "config.yaml").write_text(yaml.safe_dump(config))


def provider_view(project: ProjectCopy) -> dict[str, Any]:
    relay_key = (project.root / "auth" / "relay.key").read_text().strip()
    return fetch_health(project.port, relay_key)[1]["providers"]["e2e"]


def status_json(project: ProjectCopy) -> tuple[int, dict[str, Any]]:
    result = project.script("status.sh", "--json")
    return result.returncode, json.loads(result.stdout)


@pytest.mark.e2e
@pytest.mark.timeout(400)
def test_restart_validates_first_env_file_reaches_router_status_tells_truth(
    project: ProjectCopy,
) -> None:
    project.env.pop("E2E_SECRET", None)
    config = base_config(project)
    write_config(project, config)
    started = project.script("start.sh")
    assert started.returncode == 0, explain(started)
    # Right after start.sh the router may still be STARTING (startsecs): that is up.
    status = project.script("status.sh")
    assert status.returncode == 0, explain(status)
    assert "services:" in status.stdout and "webai: status=disabled" in status.stdout
    assert provider_view(project)["configured"] is False
    assert "E2E_SECRET" in provider_view(project)["reason"]
    supervisord_pid = project.supervisord_pid()

    # start.sh on the running instance does not pretend a newly exported secret took effect.
    exported = project.with_env(E2E_SECRET=SECRET).script("start.sh")
    assert exported.returncode == 1, explain(exported)
    assert "E2E_SECRET set now but not when cliproxy started" in exported.stderr
    assert "scripts/restart.sh" in exported.stderr
    assert project.supervisord_pid() == supervisord_pid

    # A typo: restart.sh refuses before stopping anything.
    write_config(project, {**config, "prot": 1})
    broken = project.script("restart.sh")
    assert broken.returncode == 2, explain(broken)
    assert "did you mean" in broken.stderr and "nothing was changed" in broken.stderr
    assert project.supervisord_pid() == supervisord_pid and health_answers(project.port)

    # A required variable that is unset (webai enabled, its key from the environment).
    webai = {"enabled": True, "key": "${E2E_WEBAI_KEY}", "providers": ["Gemini"]}
    write_config(project, {**config, "webai": {**config["webai"], **webai}})
    unset = project.script("restart.sh")
    assert unset.returncode == 2, explain(unset)
    assert "webai.key" in unset.stderr
    assert project.supervisord_pid() == supervisord_pid and health_answers(project.port)
    reload = project.script("reload.sh")
    assert reload.returncode == 2, explain(reload)
    assert project.supervisord_pid() == supervisord_pid

    # The secret goes into .env (created too open): restart tightens it and applies it.
    write_config(project, config)
    env_file = project.root / ".env"
    env_file.write_text(f"# secrets for cliproxy\nE2E_SECRET={SECRET}\n")
    env_file.chmod(0o644)
    restarted = project.script("restart.sh")
    assert restarted.returncode == 0, explain(restarted)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "changed it to 600" in restarted.stderr
    assert project.supervisord_pid() != supervisord_pid
    view = provider_view(project)
    assert view["configured"] is True and view["credentials"], view
    code, report = status_json(project)
    assert code == 0 and report["ok"] is True, report
    assert report["health"]["services"]["webai"] == {"status": "disabled"}
    seen = restarted.stdout + restarted.stderr + json.dumps(report)
    seen += (project.root / "logs" / "router.log").read_text()
    assert SECRET not in seen

    # webai enabled but its port is taken: supervisord gives up (FATAL), status says so.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        webai_port = squatter.getsockname()[1]
        enabled = {**webai, "key": "k", "port": webai_port}
        write_config(project, {**config, "webai": {**config["webai"], **enabled}})
        project.script("restart.sh")
        wait_until(
            lambda: status_rows(project.script("status.sh").stdout)["webai"][1] == "FATAL",
            60,
            "webai FATAL",
        )
        down = project.script("status.sh")
        assert down.returncode == 1, explain(down)
        assert "PROBLEM webai: should run but is FATAL" in down.stdout, down.stdout
        code, report = status_json(project)
        assert code == 1 and report["exit_code"] == 1 and not report["ok"]
        assert any(p.startswith("webai: should run but is FATAL") for p in report["problems"])
        assert any(p.startswith("webai: the router cannot reach it") for p in report["problems"])

    stopped = project.script("stop.sh")
    assert stopped.returncode == 0, explain(stopped)
    assert project.script("status.sh").returncode == 3
    code, report = status_json(project)
    assert code == 3 and report["supervisord"] is False


def test_service_unit_is_generated_and_verified(project: ProjectCopy, tmp_path: Path) -> None:
    for scope, flags in (("system", ["--service"]), ("user", ["--service", "--user"])):
        unit_dir = tmp_path / scope
        env = {**project.env, "CLIPROXY_UNIT_DIR": str(unit_dir)}
        result = ProjectCopy(project.root, project.port, env).script("install.sh", *flags)
        assert result.returncode == 0, explain(result)
        unit = unit_dir / "cliproxy.service"
        text = unit.read_text()
        root = str(project.root)
        assert (
            f"ExecStart={root}/.venv/bin/supervisord --nodaemon -c {root}/supervisord.conf" in text
        )
        assert f"ExecStartPost={root}/scripts/start.sh" in text
        assert ("WantedBy=default.target" in text) is (scope == "user")
        assert ("User=" in text) is (scope == "system")
        runtime = tmp_path / f"xdg-{scope}"
        runtime.mkdir(mode=0o700)
        verify = subprocess.run(
            [SYSTEMD_ANALYZE, *(["--user"] if scope == "user" else []), "verify", str(unit)],
            env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        # verify only warns about bad values: any output is a defect in the unit.
        assert verify.returncode == 0 and not verify.stderr.strip(), explain(verify)
    # Without a running systemd the scripts keep driving supervisord themselves.
    assert not (project.root / "run" / "service").exists()


def test_scripts_go_through_systemctl_once_the_unit_is_installed(
    project: ProjectCopy, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "systemctl.log"
    fake = bin_dir / "systemctl"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >>{calls}\n')
    fake.chmod(0o755)
    runtime = tmp_path / "systemd-running"
    runtime.mkdir()
    (project.root / "run").mkdir(exist_ok=True)
    (project.root / "run" / "service").write_text("user\n")
    managed = project.with_env(
        PATH=f"{bin_dir}:{project.env['PATH']}", CLIPROXY_SYSTEMD_RUNTIME_DIR=str(runtime)
    )
    write_config(project, base_config(project))

    def logged() -> list[str]:
        return calls.read_text().splitlines() if calls.exists() else []

    started = managed.script("start.sh")
    assert started.returncode == 0, explain(started)
    assert logged() == ["--user start cliproxy"]
    assert not (project.root / "run" / "supervisord.pid").exists()
    restarted = managed.script("restart.sh")
    assert restarted.returncode == 0, explain(restarted)
    assert logged()[-1] == "--user restart cliproxy"
    write_config(project, {**base_config(project), "prot": 1})
    refused = managed.script("restart.sh")
    assert refused.returncode == 2, explain(refused)
    assert logged()[-1] == "--user restart cliproxy" and len(logged()) == 2
    stopped = managed.script("stop.sh")
    assert stopped.returncode == 0, explain(stopped)
    assert logged()[-1] == "--user stop cliproxy"
    assert project.script("status.sh", "--bogus").returncode == 2


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_the_units_commands_run_supervisord_in_the_foreground(project: ProjectCopy) -> None:
    """What the unit does, without systemd: ExecStart, then at once ExecStartPost, then stop."""
    write_config(project, base_config(project))
    (project.root / "run").mkdir(exist_ok=True)
    (project.root / "logs").mkdir(exist_ok=True)
    managed = project.with_env(CLIPROXY_SERVICE_MANAGED="1")
    supervisord = subprocess.Popen(
        [
            str(project.root / ".venv" / "bin" / "supervisord"),
            "--nodaemon",
            "-c",
            str(project.root / "supervisord.conf"),
        ],
        cwd=project.root,
        env=managed.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        post = managed.script("start.sh")
        assert post.returncode == 0, explain(post)
        assert health_answers(project.port)
        running = [p for p in project.own_processes() if "supervisord" in " ".join(p.cmdline())]
        assert [p.pid for p in running] == [supervisord.pid], "start.sh must not start another"
        # systemd stops the unit with SIGTERM to supervisord, which stops its programs.
        supervisord.terminate()
        assert supervisord.wait(timeout=60) == 0
        wait_until(lambda: not project.own_processes(), 30, "the programs to stop")
    finally:
        if supervisord.poll() is None:
            supervisord.kill()
