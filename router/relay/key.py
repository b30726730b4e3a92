"""The relay key every ``/v1/ws`` peer must present, generated when none is configured.

``aistudio.relay-key`` wins when set. Otherwise the key lives in ``auth-dir/relay.key``
(0600): the first of the router, the AI Studio service or ``python -m router relay-key``
to need it creates it (atomically, and only if absent, so two processes starting
together end up with one key) and the others read the same file.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from pathlib import Path

from router.config import Config, LoadedConfig
from router.credentials.atomic import create_private_file
from router.logs import log_fields

log = logging.getLogger("router.relay")

KEY_FILE = "relay.key"


def relay_key_path(config: Config) -> Path:
    return Path(config.auth_dir).expanduser() / KEY_FILE


def ensure_relay_key(config: Config) -> str:
    """The configured key, else the stored one, else a new one stored first."""
    if config.aistudio.relay_key:
        return config.aistudio.relay_key
    path = relay_key_path(config)
    stored = _read(path)
    if stored:
        return stored
    create_private_file(path, secrets.token_urlsafe(32).encode() + b"\n")
    stored = _read(path)
    if not stored:
        raise OSError(f"{path} is empty after writing the relay key")
    return stored


def with_relay_key(loaded: LoadedConfig) -> LoadedConfig:
    """``loaded`` with ``aistudio.relay-key`` set to the key in force (see ensure_relay_key)."""
    config = config_with_relay_key(loaded.config)
    return loaded if config is loaded.config else dataclasses.replace(loaded, config=config)


def config_with_relay_key(config: Config) -> Config:
    """``config`` with ``aistudio.relay-key`` set to the key in force.

    When the key file can neither be read nor written the relay gets a random key nobody
    knows: peers are refused (logged) but everything else keeps working.
    """
    try:
        key = ensure_relay_key(config)
    except OSError as exc:
        log_fields(
            log,
            logging.ERROR,
            event="relay_key_unavailable",
            path=str(relay_key_path(config)),
            error=exc.strerror or type(exc).__name__,
            effect="relay peers are refused until the key file can be written",
        )
        key = secrets.token_urlsafe(32)
    if key == config.aistudio.relay_key:
        return config
    aistudio = dataclasses.replace(config.aistudio, relay_key=key)
    return dataclasses.replace(config, aistudio=aistudio)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
