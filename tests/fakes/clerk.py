"""Fake Clerk frontend API of cto.new: session lookup, token exchange, cookie rotation.

Strict like the real one: every call needs ``Origin`` (the cto.new origin) and a live
``__client`` cookie; a dead or unknown one is answered 401 "Signed out". The token
exchange checks ``__clerk_api_version``, the session id and a form body, and issues a
JWT (HS256 with the fake's own key, so the EngineLabs fake can verify it) with ``sub``
(the user id) and ``exp`` ``token_ttl`` seconds ahead. With ``rotate`` on, each exchange
answers a new ``__client`` in Set-Cookie and the old cookie dies at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from router.config.wire import ctonew as constants
from tests.fakes.base import FakeServer, Handler, RecordedRequest


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped token whose signature nobody checks (how Clerk's __client looks to us)."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{b64url(secrets.token_bytes(32))}"


def client_cookie_value(client_id: str) -> str:
    """A fresh ``__client`` value for ``client_id``: a JWT with a new ``rotating_token``."""
    return unsigned_jwt({"id": client_id, constants.ROTATING_CLAIM: secrets.token_hex(16)})


def _clerk_error(status: int, message: str, code: str) -> web.Response:
    body = {"errors": [{"message": message, "long_message": message, "code": code}]}
    return web.json_response(body, status=status)


def signed_out() -> web.Response:
    return _clerk_error(401, constants.SIGNED_OUT, "signed_out")


@dataclass
class ClerkAccount:
    """One cto.new login: its current ``__client`` cookie and the cookies it replaced."""

    user_id: str
    session_id: str
    client_id: str
    organization_id: str | None
    cookie: str
    alive: bool = True
    dead_cookies: list[str] = field(default_factory=list)


class ClerkFake(FakeServer):
    default_keys = ()

    def __init__(
        self,
        *,
        origin: str = constants.ORIGIN,
        api_version: str = constants.CLERK_API_VERSION,
        token_ttl: float = 60.0,
    ) -> None:
        super().__init__()
        self.origin = origin
        self.api_version = api_version
        self.token_ttl = token_ttl
        self.rotate = False
        self.rotate_on_lookup = False
        self.signing_key = secrets.token_bytes(32)
        self.accounts: list[ClerkAccount] = []
        self.issued: list[dict[str, Any]] = []

    def add_account(
        self,
        user_id: str = "user_2abc",
        session_id: str = "sess_2abc",
        organization_id: str | None = None,
    ) -> ClerkAccount:
        client_id = f"client_{secrets.token_hex(6)}"
        account = ClerkAccount(
            user_id, session_id, client_id, organization_id, client_cookie_value(client_id)
        )
        self.accounts.append(account)
        return account

    def sign_out(self, account: ClerkAccount) -> None:
        account.alive = False

    @property
    def exchanges(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/tokens") and r.status == 200]

    @property
    def lookups(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == constants.CLIENT_PATH]

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("GET", constants.CLIENT_PATH, self._client),
            ("POST", constants.TOKENS_PATH.replace("{session_id}", "{sid}"), self._tokens),
        ]

    def issue_jwt(self, account: ClerkAccount) -> str:
        now = time.time()
        claims: dict[str, Any] = {
            "sub": account.user_id,
            "sid": account.session_id,
            "iat": int(now),
            "exp": now + self.token_ttl,
            "iss": self.base_url,
        }
        if account.organization_id:
            claims["org_id"] = account.organization_id
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        signature = hmac.new(self.signing_key, f"{header}.{payload}".encode(), hashlib.sha256)
        self.issued.append(claims)
        return f"{header}.{payload}.{b64url(signature.digest())}"

    def verify_jwt(self, token: str) -> dict[str, Any] | None:
        """The claims of a JWT this fake issued and that has not expired, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self.signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
        if not hmac.compare_digest(b64url(expected.digest()), parts[2]):
            return None
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        if claims["exp"] <= time.time():
            return None
        return claims

    def _account(self, request: web.Request) -> ClerkAccount | web.Response:
        if request.headers.get("Origin") != self.origin:
            return _clerk_error(403, "Origin not allowed", "origin_invalid")
        cookie = request.cookies.get(constants.CLIENT_COOKIE)
        for account in self.accounts:
            if account.alive and cookie == account.cookie:
                return account
        return signed_out()

    def _rotate(self, account: ClerkAccount, response: web.Response) -> None:
        account.dead_cookies.append(account.cookie)
        account.cookie = client_cookie_value(account.client_id)
        response.headers.add(
            "Set-Cookie",
            f"{constants.CLIENT_COOKIE}={account.cookie}; Path=/; Max-Age=31536000; "
            "HttpOnly; Secure; SameSite=Lax",
        )

    async def _client(self, request: web.Request, record: RecordedRequest) -> web.Response:
        account = self._account(request)
        if isinstance(account, web.Response):
            return account
        session = {"object": "session", "id": account.session_id, "status": "active"}
        session["user"] = {"id": account.user_id}
        body = {
            "response": {
                "object": "client",
                "id": account.client_id,
                "sessions": [session],
                "last_active_session_id": account.session_id,
            },
            "client": None,
        }
        response = web.json_response(body)
        if self.rotate_on_lookup:
            self._rotate(account, response)
        return response

    async def _tokens(self, request: web.Request, record: RecordedRequest) -> web.Response:
        if request.query.get("__clerk_api_version") != self.api_version:
            return _clerk_error(400, "unsupported __clerk_api_version", "api_version_invalid")
        account = self._account(request)
        if isinstance(account, web.Response):
            return account
        if request.content_type != "application/x-www-form-urlencoded":
            return _clerk_error(400, "expected a form body", "form_param_missing")
        if request.match_info["sid"] != account.session_id:
            return _clerk_error(404, "Session not found", "resource_not_found")
        form = dict(parse_qsl(record.body.decode()))
        organization = form.get("organization_id")
        if organization is not None and organization != account.organization_id:
            return _clerk_error(403, "Not a member of this organization", "not_a_member")
        response = web.json_response({"object": "token", "jwt": self.issue_jwt(account)})
        if self.rotate:
            self._rotate(account, response)
        return response
