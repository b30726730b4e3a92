"""The ``.env`` file beside config.yaml: where secrets live instead of a shell's exports.

``KEY=value`` lines; ``#`` comments, blank lines, an optional ``export`` prefix and single
or double quotes around the value are accepted. Nothing is expanded or executed. Variables
already in the environment win over the file, so ``VAR=x scripts/start.sh`` still works.
The file must be private (mode 0600 or stricter): a secret readable by other users is
refused with the command that fixes it (the scripts fix it themselves before reading).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from pathlib import Path

from router.config.errors import ConfigError

ENV_FILE_NAME = ".env"
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def env_file_for(config_path: Path) -> Path:
    """The .env that belongs to a config file: in the same directory."""
    return config_path.parent / ENV_FILE_NAME


def parse_env_text(text: str, where: str) -> dict[str, str]:
    """Variables of a .env text; raises ConfigError naming each bad line."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            problems.append(f"{where}:{number}: expected NAME=value")
            continue
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    if problems:
        raise ConfigError(problems)
    return values


def read_env_file(path: Path) -> dict[str, str]:
    """The file's variables, {} when it does not exist; refuses one other users can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            [
                f"{path}: holds secrets but is readable by other users "
                f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
            ]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    return parse_env_text(text, str(path))


def with_env_file(env: Mapping[str, str], config_path: Path) -> Mapping[str, str]:
    """``env`` completed by the .env beside ``config_path``; the environment wins."""
    from_file = read_env_file(env_file_for(config_path))
    if not from_file:
        return env
    return {**from_file, **env}
