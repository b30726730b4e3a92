"""The browser's login: storage state on disk (0600, atomic writes) and its known health."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from router.credentials.atomic import write_private_json
from router.logs import log_fields

log = logging.getLogger("aistudio.session")

SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None", "no_restriction": "None"}


class InvalidSessionImport(ValueError):
    """The body given to /login is neither a storage state nor a cookie export."""


def _cookie_from_export(raw: dict[str, Any]) -> dict[str, Any]:
    """One cookie in Playwright's shape, from Playwright's or a browser extension's export."""
    if not isinstance(raw.get("name"), str) or "value" not in raw or not raw.get("domain"):
        raise InvalidSessionImport("every cookie needs name, value and domain")
    expires = raw.get("expires", raw.get("expirationDate", -1))
    if raw.get("session") is True or expires is None:
        expires = -1
    cookie: dict[str, Any] = {
        "name": raw["name"],
        "value": str(raw["value"]),
        "domain": str(raw["domain"]),
        "path": str(raw.get("path") or "/"),
        "expires": float(expires),
        "httpOnly": bool(raw.get("httpOnly", False)),
        "secure": bool(raw.get("secure", False)),
    }
    same_site = SAME_SITE.get(str(raw.get("sameSite", "")).lower())
    if same_site:
        cookie["sameSite"] = same_site
    return cookie


def normalize_import(body: Any) -> dict[str, Any]:
    """Accept a Playwright storage state ``{cookies, origins}`` or a bare cookie list."""
    if isinstance(body, dict) and isinstance(body.get("cookies"), list):
        cookies, origins = body["cookies"], body.get("origins") or []
    elif isinstance(body, list):
        cookies, origins = body, []
    else:
        raise InvalidSessionImport(
            "expected a storage state {cookies, origins} or a JSON list of cookies"
        )
    if not cookies:
        raise InvalidSessionImport("the import holds no cookies")
    if not all(isinstance(c, dict) for c in cookies) or not isinstance(origins, list):
        raise InvalidSessionImport("cookies must be objects and origins a list")
    return {"cookies": [_cookie_from_export(c) for c in cookies], "origins": origins}


class SessionManager:
    """Owns the storage-state file and what we know about the login."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = "absent"
        self.detail = ""
        self.account: str | None = None
        self.logged_in_at: float | None = None
        self.saved_at: float | None = None

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.state = "absent"
            return None
        except (OSError, ValueError) as exc:
            self.state, self.detail = "absent", f"unreadable storage state: {type(exc).__name__}"
            log_fields(log, logging.WARNING, event="storage_state_unreadable", path=self.path)
            return None
        if self.state == "absent":
            self.state = "unverified"
        self.saved_at = self.path.stat().st_mtime
        meta = data.pop("cliproxy", None) if isinstance(data, dict) else None
        if isinstance(meta, dict):
            self.account = meta.get("account") or self.account
            self.logged_in_at = meta.get("logged_in_at") or self.logged_in_at
        return data

    def save(self, storage_state: dict[str, Any]) -> None:
        record = dict(storage_state)
        record["cliproxy"] = {"account": self.account, "logged_in_at": self.logged_in_at}
        write_private_json(self.path, record)
        self.saved_at = time.time()
        log_fields(
            log,
            logging.INFO,
            event="storage_state_saved",
            cookies=len(storage_state.get("cookies", [])),
        )

    def imported(self, account: str | None) -> None:
        self.account = account or self.account
        self.logged_in_at = time.time()
        self.state, self.detail = "unverified", ""

    def mark_logged_in(self) -> None:
        if self.state != "logged_in":
            log_fields(log, logging.INFO, event="session_logged_in")
        if self.logged_in_at is None:
            self.logged_in_at = time.time()
        self.state, self.detail = "logged_in", ""

    def mark_expired(self, detail: str) -> None:
        if self.state != "expired":
            log_fields(log, logging.WARNING, event="session_expired", detail=detail)
        self.state, self.detail = "expired", detail

    @property
    def expired(self) -> bool:
        return self.state in ("expired", "absent")

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.state, self.detail = "absent", "session forgotten"
        self.account = self.logged_in_at = self.saved_at = None

    def describe(self) -> dict[str, Any]:
        age = time.time() - self.logged_in_at if self.logged_in_at else None
        return {
            "state": self.state,
            "detail": self.detail,
            "account": self.account,
            "session_age_seconds": round(age) if age is not None else None,
            "saved_at": self.saved_at,
        }
