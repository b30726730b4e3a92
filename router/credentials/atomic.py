"""Private files written so that a crash at any moment leaves the old or the new one."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_private_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` (mode 0600): temp file, fsync, rename, fsync directory."""
    payload = json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"
    temp = _synced_temp(path, payload)
    try:
        os.replace(temp, path)
    except BaseException:
        _discard(temp)
        raise
    fsync_directory(path.parent)


def _synced_temp(path: Path, payload: bytes) -> str:
    """A new temp file (mode 0600) beside ``path`` holding ``payload``, synced to disk;
    removed again if writing it fails."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        _discard(temp)
        raise
    return temp


def _discard(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_private_file(path: Path, payload: bytes) -> bool:
    """Create ``path`` (mode 0600) holding ``payload`` unless it exists; True if created.

    The payload is written and synced to a temp file that is then hard-linked into place,
    so readers never see half a file and of two racing writers exactly one wins.
    """
    temp = _synced_temp(path, payload)
    try:
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
    finally:
        _discard(temp)
    fsync_directory(path.parent)
    return True
