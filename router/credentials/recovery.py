"""Finishing credential writes that a crash interrupted, when the router starts.

``write_private_json`` writes ``.<name>.<random>`` next to ``<name>``, fsyncs it and renames
it over ``<name>``. A kill between the fsync and the rename leaves the new content only in
the temp file; after a refresh-token rotation that is the only token the provider still
accepts. At start the newest temp file of each credential is moved into place when it is
valid (a JSON object of the same ``type`` and, where both say, the same account) and newer
than the file; every other leftover is removed. The router must be the only writer of its
auth-dir while this runs, which holds at start (only the first of several workers runs
it, before it starts the others). A refresh runs it for its one credential under that
credential's lock: a worker that outlived one killed mid-rotation takes up the rotated
token instead of spending the old one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from router.credentials.atomic import fsync_directory
from router.logs import log_fields

log = logging.getLogger("router.credentials")

ACCOUNT_FIELDS = ("type", "email", "account_id")
_TEMP_NAME = re.compile(r"\.([^./][^/]*\.json)\.[a-z0-9_]{8}")


def recover_interrupted_writes(directory: Path, only: str | None = None) -> list[str]:
    """Moves valid newer temp files into place, removes the rest; the names recovered.
    ``only``: the one file name (``claude-ada.json``) to look after."""
    leftovers: dict[str, list[os.DirEntry[str]]] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(directory):
            target = _target_of(entry.name)
            if only is not None and target != only:
                continue
            if target is not None and entry.is_file(follow_symlinks=False):
                leftovers.setdefault(target, []).append(entry)
    recovered = []
    for target, temps in leftovers.items():
        try:
            if _recover(directory / target, temps):
                recovered.append(target)
        except OSError as exc:
            log_fields(
                log, logging.ERROR, event="credential_recovery_failed", file=target, error=str(exc)
            )
    if leftovers:
        with contextlib.suppress(OSError):
            fsync_directory(directory)
    return sorted(recovered)


def _recover(path: Path, temps: list[os.DirEntry[str]]) -> bool:
    newest_first = sorted(temps, key=lambda e: e.stat().st_mtime_ns, reverse=True)
    valid = next((t for t in newest_first if _replaces(path, Path(t.path))), None)
    if valid is not None:
        os.replace(valid.path, path)
        log_fields(log, logging.WARNING, event="credential_recovered", file=path.name)
    for temp in temps:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp.path)
    return valid is not None


def _target_of(name: str) -> str | None:
    """``claude-a.json`` for ``.claude-a.json.k3j9x_2a`` (mkstemp's name), else None."""
    found = _TEMP_NAME.fullmatch(name)
    return found.group(1) if found else None


def _replaces(path: Path, temp: Path) -> bool:
    candidate = _read_object(temp)
    if candidate is None or not isinstance(candidate.get("type"), str):
        return False
    try:
        current_mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return True
    if temp.stat().st_mtime_ns <= current_mtime:
        return False
    current = _read_object(path)
    if current is None:
        return True
    return all(
        current[key] == candidate[key]
        for key in ACCOUNT_FIELDS
        if key in current and key in candidate
    )


def _read_object(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
