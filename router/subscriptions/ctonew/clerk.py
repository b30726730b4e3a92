"""Clerk, the login service of cto.new: from the long-lived ``__client`` cookie to the
short-lived JWT that EngineLabs accepts.

The cookie finds the session (``GET /v1/client``) and is exchanged for a JWT of about a
minute (``POST /v1/client/sessions/{sid}/tokens``). Clerk may answer either call with a
new ``__client`` in ``Set-Cookie``; the old one soon stops working, so callers get it back
in ``rotated_cookie`` and must persist it at once. A dead cookie is answered 401
"Signed out" (``SignedOut``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import quote

import aiohttp

from router.config.wire import ctonew as constants
from router.oauth.jwt import NotAJwt, jwt_claims


class ClerkError(Exception):
    """Clerk answered something unusable; ``message`` is safe to show (no secret in it)."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class SignedOut(ClerkError):
    """The ``__client`` cookie is dead: only a fresh login gives a new one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 401)


@dataclass(frozen=True)
class SessionToken:
    """A Clerk session JWT: EngineLabs' Bearer token; ``user_id`` is its ``sub``."""

    jwt: str
    user_id: str
    expires_at: float

    def __repr__(self) -> str:
        return f"SessionToken(user_id={self.user_id!r}, expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class Exchange:
    """A token exchange's outcome; ``rotated_cookie`` is the new ``__client`` if Clerk sent one."""

    token: SessionToken
    rotated_cookie: str | None


def client_cookie(value: str) -> str:
    """The ``__client`` value from either the bare value or a whole ``Cookie`` header
    (with or without its ``Cookie:`` name).

    Raises ValueError when it is neither, or not a Clerk client token (a JWT carrying a
    ``rotating_token`` claim).
    """
    value = value.strip()
    if value[:7].lower() == "cookie:":
        value = value[7:].strip()
    if "=" in value.split(".", 1)[0] or ";" in value:
        value = _cookie_from_header(value)
    try:
        claims = jwt_claims(value)
    except NotAJwt as exc:
        raise ValueError(f"the {constants.CLIENT_COOKIE} cookie is not a JWT ({exc})") from None
    if not claims.get(constants.ROTATING_CLAIM):
        raise ValueError(
            f"the {constants.CLIENT_COOKIE} cookie carries no {constants.ROTATING_CLAIM} claim: "
            "copy the __client cookie of clerk.cto.new, not __session"
        )
    return value


def client_id(cookie: str) -> str | None:
    """The Clerk client id (``client_...``) a ``__client`` cookie belongs to, if it says."""
    try:
        value = jwt_claims(cookie).get("id")
    except NotAJwt:
        return None
    return value if isinstance(value, str) and value else None


def _cookie_from_header(header: str) -> str:
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip() == constants.CLIENT_COOKIE:
            return value.strip().strip('"')
    raise ValueError(f"no {constants.CLIENT_COOKIE} cookie in the Cookie header given")


class ClerkClient:
    """Clerk's frontend API for one cto.new deployment (URLs and versions from config)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        clerk_url: str,
        api_version: str,
        origin: str,
    ) -> None:
        """``session`` must not keep cookies (DummyCookieJar): every call names its own."""
        self._session = session
        self._clerk_url = clerk_url.rstrip("/")
        self._api_version = api_version
        self._origin = origin.rstrip("/")

    def _headers(self, cookie: str) -> dict[str, str]:
        return {
            "Cookie": f"{constants.CLIENT_COOKIE}={cookie}",
            "Origin": self._origin,
            "Referer": self._origin + "/",
            "Accept": "application/json",
        }

    async def session_id(self, cookie: str) -> tuple[str, str | None]:
        """The client's active session id, and a rotated cookie if Clerk sent one."""
        url = f"{self._clerk_url}{constants.CLIENT_PATH}"
        params = {"__clerk_api_version": self._api_version}
        async with self._session.get(url, params=params, headers=self._headers(cookie)) as reply:
            body = await _json_body(reply, "session lookup")
            rotated = rotated_cookie(reply.headers.getall("Set-Cookie", []), cookie)
        client = body.get("response")
        if not isinstance(client, dict):
            raise SignedOut(f"cto.new answered the session lookup with no client: {_SIGN_IN}")
        session_id = client.get("last_active_session_id")
        if not isinstance(session_id, str) or not session_id:
            sessions = client.get("sessions")
            first = sessions[0] if isinstance(sessions, list) and sessions else None
            session_id = first.get("id") if isinstance(first, dict) else None
        if not isinstance(session_id, str) or not session_id:
            raise SignedOut(f"the cto.new login has no active session: {_SIGN_IN}")
        return session_id, rotated

    async def exchange(
        self, cookie: str, session_id: str, organization_id: str | None = None
    ) -> Exchange:
        """A fresh session JWT for ``session_id``."""
        path = constants.TOKENS_PATH.format(session_id=quote(session_id, safe=""))
        url = f"{self._clerk_url}{path}"
        params = {"__clerk_api_version": self._api_version}
        form = {"organization_id": organization_id} if organization_id else {}
        headers = self._headers(cookie)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with self._session.post(url, params=params, data=form, headers=headers) as reply:
            body = await _json_body(reply, "token exchange")
            rotated = rotated_cookie(reply.headers.getall("Set-Cookie", []), cookie)
        jwt = body.get("jwt")
        if not isinstance(jwt, str) or not jwt:
            raise ClerkError("cto.new's token exchange answered without a jwt")
        try:
            claims = jwt_claims(jwt)
        except NotAJwt:
            raise ClerkError(
                "cto.new's token exchange answered a jwt that does not decode"
            ) from None
        user_id = claims.get("sub")
        expires_at = claims.get("exp")
        if not isinstance(user_id, str) or not isinstance(expires_at, (int, float)):
            raise ClerkError("cto.new's session token lacks its sub or exp claim")
        token = SessionToken(jwt=jwt, user_id=user_id, expires_at=float(expires_at))
        return Exchange(token=token, rotated_cookie=rotated)


_SIGN_IN = "log in at cto.new again and store the new cookie with POST /v1/auth/ctonew"


async def _json_body(reply: aiohttp.ClientResponse, what: str) -> Mapping[str, Any]:
    text = await reply.text(errors="replace")
    if reply.status == 401:
        raise SignedOut(f"cto.new's login answered 401 ({_clerk_message(text)}): {_SIGN_IN}")
    if reply.status >= 300:
        status = 429 if reply.status == 429 else 502
        raise ClerkError(
            f"cto.new's {what} failed with status {reply.status} ({_clerk_message(text)})",
            status,
        )
    try:
        body = json.loads(text)
    except ValueError:
        raise ClerkError(f"cto.new's {what} answered with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise ClerkError(f"cto.new's {what} answered with a body that is not a JSON object")
    return body


def _clerk_message(text: str) -> str:
    """Clerk's own words from an error body (``errors[0].message``), short and secret-free."""
    try:
        errors = json.loads(text).get("errors")
        message = errors[0].get("message")
    except (ValueError, AttributeError, IndexError, TypeError, KeyError):
        return "no error message"
    return str(message)[:200] if message else "no error message"


def rotated_cookie(set_cookie_headers: list[str], current: str) -> str | None:
    """The new ``__client`` value in these ``Set-Cookie`` headers, if it differs from ``current``.

    A ``__client`` being cleared (empty value or Max-Age 0) is not a rotation.
    """
    for header in set_cookie_headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        morsel = jar.get(constants.CLIENT_COOKIE)
        if morsel is None or not morsel.value:
            continue
        if morsel["max-age"] and morsel["max-age"].strip() in ("0", "-1"):
            continue
        if morsel.value != current:
            return morsel.value
    return None


@dataclass
class _Cached:
    cookie: str
    session_id: str | None
    token: SessionToken | None = None
    replaced: frozenset[str] = frozenset()
    unsaved: bool = False


Persist = Callable[[str], bool]


class TokenCache:
    """Each credential's session JWT, reused until ``margin`` seconds before its ``exp``.

    One exchange at a time per credential, so concurrent requests share one and a rotated
    cookie is never raced by a second exchange with the old one. ``persist`` receives every
    rotated cookie at once and says whether it was saved. The cookies a credential rotated
    away from are remembered: a caller still holding one gets the newest cookie's token,
    and a cookie whose save failed is saved again on the next call.
    """

    def __init__(
        self, clerk: ClerkClient, margin: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._clerk = clerk
        self._margin = margin
        self._clock = clock
        self._entries: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _fresh(self, entry: _Cached) -> SessionToken | None:
        token = entry.token
        if token is None or self._clock() >= token.expires_at - self._margin:
            return None
        return token

    async def token(
        self,
        key: str,
        cookie: str,
        persist: Persist,
        *,
        session_id: str | None = None,
        organization_id: str | None = None,
    ) -> SessionToken:
        """A JWT for the credential ``key`` whose stored ``__client`` value is ``cookie``.

        ``session_id``: the stored one, else it is looked up once and remembered.
        """
        entry = self._entries.get(key)
        if entry is not None and entry.cookie == cookie and (token := self._fresh(entry)):
            return token
        async with self._locks.setdefault(key, asyncio.Lock()):
            entry = self._entries.get(key)
            if entry is not None and cookie in entry.replaced:
                cookie = entry.cookie
                if entry.unsaved:
                    entry.unsaved = not persist(entry.cookie)
            if entry is None or entry.cookie != cookie:
                entry = _Cached(cookie, session_id)
            elif session_id is not None and session_id != entry.session_id:
                entry = _Cached(cookie, session_id, None, entry.replaced, entry.unsaved)
            if token := self._fresh(entry):
                return token
            if entry.session_id is None:
                entry.session_id, rotated = await self._clerk.session_id(entry.cookie)
                if rotated is not None:
                    self._rotate(key, entry, rotated, persist)
            exchange = await self._clerk.exchange(entry.cookie, entry.session_id, organization_id)
            if exchange.rotated_cookie is not None:
                self._rotate(key, entry, exchange.rotated_cookie, persist)
            entry.token = exchange.token
            self._entries[key] = entry
            return exchange.token

    def _rotate(self, key: str, entry: _Cached, new: str, persist: Persist) -> None:
        entry.replaced = entry.replaced | {entry.cookie}
        entry.cookie = new
        entry.token = None
        self._entries[key] = entry
        entry.unsaved = not persist(new)

    def forget(self, key: str) -> None:
        """Drop the cached JWT of ``key`` (EngineLabs refused it); the cookie lineage stays."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.token = None
