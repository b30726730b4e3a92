"""Reads config.yaml: path resolution, .env, environment references and CLIPROXY_* overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from router.config.binder import Problems, bind
from router.config.envfile import with_env_file
from router.config.errors import ConfigError
from router.config.interpolate import interpolate
from router.config.schema import Config

DEFAULT_PATH = "config.yaml"

# Environment variables that override top-level settings: variable -> (key, type).
ENV_OVERRIDES: dict[str, tuple[str, type]] = {
    "CLIPROXY_HOST": ("host", str),
    "CLIPROXY_PORT": ("port", int),
    "CLIPROXY_LOG_LEVEL": ("log-level", str),
    "CLIPROXY_AUTH_DIR": ("auth-dir", str),
    "CLIPROXY_WORKERS": ("workers", str),
}


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and what loading it noticed."""

    config: Config
    path: Path | None
    unset_env: Mapping[str, str] = field(default_factory=dict)


def resolve_path(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file to read, and whether the user named it explicitly."""
    if path:
        return Path(path), True
    if env.get("CLIPROXY_CONFIG"):
        return Path(env["CLIPROXY_CONFIG"]), True
    return Path(DEFAULT_PATH), False


def read_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Load and validate; raises ConfigError listing every problem found."""
    environ = os.environ if env is None else env
    file, explicit = resolve_path(path, environ)
    environ = with_env_file(environ, file)
    if file.exists():
        raw = _parse_yaml(file)
        source: Path | None = file
    elif explicit:
        raise ConfigError([f"{file}: config file not found"])
    else:
        raw, source = {}, None
    if not isinstance(raw, dict):
        raise ConfigError([f"{file}: expected a mapping of settings at the top level"])
    tree, unset = interpolate(raw, environ)
    problems = Problems()
    _apply_overrides(tree, environ, problems)
    _add_no_proxy(tree, environ)
    config = bind(Config, tree, "", problems) if not problems else None
    if problems or config is None:
        raise ConfigError(list(problems))
    return LoadedConfig(config=config, path=source, unset_env=unset)


def load_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The validated config at ``path`` (else $CLIPROXY_CONFIG, else ./config.yaml)."""
    return read_config(path, env).config


def _parse_yaml(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read: {exc.strerror}"]) from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError([f"{file}: {reason}{where}"]) from None


def _add_no_proxy(tree: dict[str, Any], env: Mapping[str, str]) -> None:
    """``no-proxy`` gains the environment's NO_PROXY (else no_proxy), .env included."""
    from_env = env.get("NO_PROXY") or env.get("no_proxy") or ""
    own = tree.get("no-proxy")
    if from_env and (own is None or isinstance(own, str)):
        tree["no-proxy"] = ",".join(part for part in (own, from_env) if part)


def _apply_overrides(tree: dict[str, Any], env: Mapping[str, str], problems: Problems) -> None:
    for variable, (key, kind) in ENV_OVERRIDES.items():
        if variable not in env:
            continue
        value = env[variable]
        if kind is int:
            try:
                tree[key] = int(value)
            except ValueError:
                problems.add(variable, f"expected an integer, got {value!r}")
        else:
            tree[key] = value
