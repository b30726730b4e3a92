"""The systemd unit that starts cliproxy at boot: supervisord in the foreground.

``python -m router.ops.systemd --root DIR [--user] [--run-as USER]`` prints the unit;
scripts/install.sh --service writes it. ExecStartPost runs scripts/start.sh, which starts
the optional programs the config enables and waits for the router's health, exactly as
an interactive start does; CLIPROXY_SERVICE_MANAGED tells the scripts not to call
systemctl back from inside the unit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def render_unit(root: Path, user_unit: bool, run_as: str | None) -> str:
    venv = root / ".venv" / "bin"
    lines = [
        "[Unit]",
        "Description=cliproxy: one local endpoint for many AI providers (supervisord)",
        f"Documentation=file://{root}/docs/DEPLOY.md",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
    ]
    if not user_unit and run_as:
        lines.append(f"User={run_as}")
    lines += [
        f"WorkingDirectory={root}",
        "Environment=CLIPROXY_SERVICE_MANAGED=1",
        f"ExecStartPre={venv}/python -m router check-config",
        f"ExecStart={venv}/supervisord --nodaemon -c {root}/supervisord.conf",
        f"ExecStartPost={root}/scripts/start.sh",
        f"ExecReload={root}/scripts/reload.sh",
        "KillMode=mixed",
        "TimeoutStopSec=60",
        "Restart=on-failure",
        "RestartSec=5",
        "",
        "[Install]",
        f"WantedBy={'default.target' if user_unit else 'multi-user.target'}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m router.ops.systemd", description=__doc__)
    parser.add_argument("--root", required=True, help="the cliproxy checkout")
    parser.add_argument("--user", action="store_true", help="a user unit (systemctl --user)")
    parser.add_argument("--run-as", help="User= of a system unit")
    args = parser.parse_args(argv)
    sys.stdout.write(render_unit(Path(args.root).resolve(), args.user, args.run_as))
    return 0


if __name__ == "__main__":
    sys.exit(main())
