"""Keeps OAuth access tokens fresh: ahead of expiry in the background, and on demand.

At most one refresh runs per credential; concurrent requests wait for it. A refresh is
shielded from the request that started it, so a client that goes away never abandons a
half-done refresh (whose rotated refresh token would otherwise be lost). Failed
refreshes back off; a refusal of the grant itself means the user must log in again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.credentials.recovery import recover_interrupted_writes
from router.credentials.store import CredentialStore, StoredCredential
from router.errors import OAuthError
from router.logs import log_fields, utc_iso

log = logging.getLogger("router.credentials")

# A token this close to expiry is refreshed before use rather than sent.
EXPIRY_SLACK = 60.0
BACKOFF_INITIAL = 30.0
BACKOFF_MAX = 3600.0

Refresher = Callable[[StoredCredential], Awaitable[Mapping[str, Any]]]


class CredentialUnusable(Exception):
    """No usable access token for a credential; the message says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RefreshState:
    failures: int = 0
    retry_at: float = 0.0
    last_error: str = ""
    rejected: bool = False
    # The refresh token a failure belongs to: a new login (a new token) starts afresh.
    refresh_token: str = ""


class TokenKeeper:
    """Access tokens of one provider's credentials."""

    def __init__(
        self,
        store: CredentialStore,
        provider: str,
        refresher: Refresher,
        *,
        refresh_ahead: float,
        check_interval: float,
        login_hint: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``refresher`` returns the credential fields to replace after a refresh grant."""
        self.store = store
        self.provider = provider
        self.refresher = refresher
        self.refresh_ahead = refresh_ahead
        self.check_interval = check_interval
        self.login_hint = login_hint
        self._clock = clock
        self._in_flight: dict[str, asyncio.Task[StoredCredential]] = {}
        self._states: dict[str, RefreshState] = {}

    async def access(self, credential_id: str) -> StoredCredential:
        """The credential with a token fit to send, refreshed first when it has expired."""
        credential = self._current(credential_id)
        expires_at = credential.expires_at
        if not credential.data.get("access_token") or (
            expires_at is not None and expires_at - self._clock() <= EXPIRY_SLACK
        ):
            return await self.refresh(credential_id)
        return credential

    async def refresh(self, credential_id: str) -> StoredCredential:
        """Refresh now, or join the refresh already running for this credential."""
        task = self._in_flight.get(credential_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._refresh(credential_id))
            self._in_flight[credential_id] = task
            task.add_done_callback(lambda _: self._in_flight.pop(credential_id, None))
        return await asyncio.shield(task)

    def state(self, credential: StoredCredential) -> dict[str, Any]:
        """What status routes show: never a token."""
        refresh = self._state_for(credential)
        expires_at = credential.expires_at
        now = self._clock()
        if refresh.rejected:
            state = "login_required"
        elif expires_at is not None and expires_at <= now:
            state = "expired"
        elif refresh.failures:
            state = "refresh_failing"
        else:
            state = "ok"
        shown: dict[str, Any] = {"id": credential.id, "label": credential.label, "state": state}
        if expires_at is not None:
            shown["expires_at"] = utc_iso(expires_at)
            shown["expires_in_s"] = round(expires_at - now)
        last_refresh = credential.data.get("last_refresh")
        if isinstance(last_refresh, (int, float)):
            shown["last_refresh"] = utc_iso(float(last_refresh))
        if refresh.last_error:
            shown["last_error"] = refresh.last_error
        if state != "ok":
            shown["fix"] = self.login_hint
        return shown

    def usable(self, credential: StoredCredential) -> bool:
        return not self._state_for(credential).rejected

    def _state_for(self, credential: StoredCredential) -> RefreshState:
        state = self._states.get(credential.id)
        if state is None or state.refresh_token != credential.data.get("refresh_token", ""):
            state = self._states[credential.id] = RefreshState(
                refresh_token=str(credential.data.get("refresh_token", ""))
            )
        return state

    async def run(self) -> None:
        """Refresh tokens that come within ``refresh_ahead`` of expiry; runs until cancelled."""
        while True:
            await self.refresh_due()
            await asyncio.sleep(self.check_interval)

    async def refresh_due(self) -> None:
        now = self._clock()
        for credential in self.store.list(self.provider):
            expires_at = credential.expires_at
            state = self._state_for(credential)
            if expires_at is None or expires_at - now > self.refresh_ahead:
                continue
            if state.rejected or now < state.retry_at:
                continue
            with contextlib.suppress(CredentialUnusable):
                await self.refresh(credential.id)

    def _current(self, credential_id: str) -> StoredCredential:
        credential = self.store.get(self.provider, credential_id)
        if credential is None:
            raise CredentialUnusable(
                f"{self.provider} credential {credential_id} no longer exists; {self.login_hint}"
            )
        return credential

    async def _refresh(self, credential_id: str) -> StoredCredential:
        """One process refreshes a credential at a time; a process that waited takes the
        token the other one stored instead of spending the refresh token again."""
        known = self._current(credential_id)
        async with self.store.shared.lock(f"refresh-{self.provider}-{credential_id}"):
            recover_interrupted_writes(self.store.directory, only=f"{credential_id}.json")
            current = self.store.reread(self.provider, credential_id) or known
            if _refreshed_since(known, current, self._clock()):
                self._states.pop(credential_id, None)
                return current
            return await self._refresh_locked(current)

    async def _refresh_locked(self, credential: StoredCredential) -> StoredCredential:
        credential_id = credential.id
        state = self._state_for(credential)
        if not credential.data.get("refresh_token"):
            state.rejected = True
            state.last_error = "no refresh token stored"
            raise CredentialUnusable(
                f"{self.provider} credential {credential_id} cannot be refreshed; {self.login_hint}"
            )
        started = time.monotonic()
        try:
            changes = await self.refresher(credential)
        except OAuthError as exc:
            self._failed(credential, state, exc.message, rejected=exc.rejected)
            advice = self.login_hint if exc.rejected else "retrying later"
            raise CredentialUnusable(
                f"{self.provider} token refresh failed for {credential_id}: {exc.message}; {advice}"
            ) from None
        updated = self.store.update(credential, {**changes, "last_refresh": self._clock()})
        self._states.pop(credential_id, None)
        log_fields(
            log,
            logging.INFO,
            event="token_refreshed",
            provider=self.provider,
            credential=credential_id,
            expires_in_s=round((updated.expires_at or 0) - self._clock()),
            ms=round((time.monotonic() - started) * 1000, 1),
        )
        return updated

    def _failed(
        self, credential: StoredCredential, state: RefreshState, reason: str, *, rejected: bool
    ) -> None:
        state.failures += 1
        state.rejected = rejected
        state.last_error = reason
        backoff = min(BACKOFF_INITIAL * 2 ** (state.failures - 1), BACKOFF_MAX)
        state.retry_at = self._clock() + backoff
        log_fields(
            log,
            logging.WARNING,
            event="token_refresh_failed",
            provider=self.provider,
            credential=credential.id,
            reason=reason,
            rejected=rejected,
            retry_in_s=None if rejected else round(backoff),
        )


def _refreshed_since(known: StoredCredential, current: StoredCredential, now: float) -> bool:
    """Another process refreshed ``known`` (a newer token on disk, not about to expire)."""
    stamp, before = current.data.get("last_refresh"), known.data.get("last_refresh")
    if not isinstance(stamp, (int, float)) or not current.data.get("access_token"):
        return False
    newer = not isinstance(before, (int, float)) or stamp > before
    expires_at = current.expires_at
    return newer and (expires_at is None or expires_at - now > EXPIRY_SLACK)
