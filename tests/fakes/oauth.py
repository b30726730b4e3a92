"""Fake OAuth 2.0 authorization servers for the Claude and ChatGPT/Codex subscriptions.

Authorization code flow with PKCE (S256), as strict as the real servers:

- `GET /oauth/authorize` checks client_id, redirect_uri, response_type, scope, PKCE, state
  (Claude also `code=true`). Nobody logs in, so the fake signs in its current account at
  once and answers 302 to `redirect_uri?code=...&state=...`. `await fake.authorize(url)`
  plays the browser: it fetches the URL and returns (code, state) without following the
  redirect to a localhost port.
- Token endpoint: Claude `POST /v1/oauth/token` (JSON body only), OpenAI
  `POST /oauth/token` (form-encoded only). Codes are single use (any attempt consumes
  them), expire after `code_ttl` seconds, and bind client_id, redirect_uri, the PKCE
  challenge and (Claude) state. Refresh tokens rotate: a used one is rejected.

Test controls: `expires_in`, accounts by email, `token_calls[grant_type]`, `fail_next()`
(or any scripted behaviour on the token endpoint via `fake.script`), `token_delay`,
`valid_access_tokens`, `on_issue` / `on_revoke` hooks, `revoke_access_token()`.
Run standalone with `python -m tests.fakes.oauth claude|openai --port 0 --print-port`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import re
import secrets
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.base import (
    ApiError,
    FakeServer,
    Handler,
    RecordedRequest,
    json_response,
)
from tests.fakes.behaviours import Delay, Drop, Garbage, Hang, Status

CLAUDE_CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
OPENAI_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
OPENAI_AUTH_CLAIM = "https://api.openai.com/auth"
OPENAI_PROFILE_CLAIM = "https://api.openai.com/profile"
DEFAULT_EMAIL = "ada@example.com"

PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_grant", "The provided authorization grant is invalid."),
    401: ("invalid_client", "Client authentication failed."),
    429: ("rate_limit_exceeded", "Too many requests."),
    503: ("temporarily_unavailable", "The server is temporarily unavailable."),
}

OnToken = Callable[[str], None]


# PKCE and JWT helpers (also used by tests) --------------------------------------------------


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    """The S256 PKCE challenge of a verifier: base64url(sha256(verifier)), no padding."""
    return b64url(hashlib.sha256(verifier.encode()).digest())


def make_pkce() -> tuple[str, str]:
    """A fresh (verifier, challenge) pair."""
    verifier = b64url(secrets.token_bytes(32))
    return verifier, s256(verifier)


def encode_jwt(claims: Mapping[str, Any]) -> str:
    """A well-formed but unsigned JWT: RS256 header, JSON claims, random signature bytes."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "fake-oauth"}
    parts = [
        b64url(json.dumps(header, separators=(",", ":")).encode()),
        b64url(json.dumps(dict(claims), separators=(",", ":")).encode()),
        b64url(secrets.token_bytes(32)),
    ]
    return ".".join(parts)


def decode_jwt_payload(token: str) -> dict[str, Any]:
    """The claims of a JWT, without checking its signature."""
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


# State kept by the fake -------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthAccount:
    """A signed-in user. Ids derive from the email, so they are stable across runs."""

    email: str
    account_id: str
    user_id: str
    organization_id: str
    organization_name: str
    plan_type: str = "plus"

    @classmethod
    def for_email(cls, email: str, plan_type: str = "plus") -> OAuthAccount:
        def derived(kind: str) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-oauth:{kind}:{email}"))

        return cls(
            email=email,
            account_id=derived("account"),
            user_id="user-" + derived("user").replace("-", "")[:24],
            organization_id=derived("organization"),
            organization_name=f"{email}'s Organization",
            plan_type=plan_type,
        )


@dataclass
class PendingCode:
    """An authorization code handed out by /oauth/authorize and not yet redeemed."""

    code: str
    redirect_uri: str
    code_challenge: str
    state: str
    scopes: tuple[str, ...]
    account: OAuthAccount
    issued_at: float
    used: bool = False


@dataclass
class TokenGrant:
    """One token response: access token, refresh token (None without offline access)."""

    access_token: str
    refresh_token: str | None
    account: OAuthAccount
    scopes: tuple[str, ...]
    expires_at: float
    id_token: str | None = None
    access_revoked: bool = False
    refresh_used: bool = False
    refresh_revoked: bool = False

    @property
    def access_valid(self) -> bool:
        return not self.access_revoked and time.time() < self.expires_at


class AuthorizeRejected(Exception):
    """The fake's authorize endpoint refused the URL (what a browser would show)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"authorize rejected: status={status} body={body}")
        self.status = status
        self.body = body


def oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(json_response({"error": error, "error_description": description}, status))


def invalid_request(description: str) -> ApiError:
    return oauth_error(400, "invalid_request", description)


def invalid_grant(description: str) -> ApiError:
    return oauth_error(400, "invalid_grant", description)


def status_response(behaviour: Status) -> web.Response:
    """Render a scripted Status as an OAuth error (400 is invalid_grant, 5xx server_error)."""
    headers = dict(behaviour.headers or {})
    if behaviour.retry_after is not None:
        headers["retry-after"] = f"{behaviour.retry_after:g}"
    if behaviour.body is not None:
        raw = behaviour.body if isinstance(behaviour.body, str) else json.dumps(behaviour.body)
        return web.Response(
            status=behaviour.status, text=raw, content_type="application/json", headers=headers
        )
    error, description = STATUS_ERRORS.get(
        behaviour.status, ("server_error", "The server encountered an unexpected condition.")
    )
    body = {
        "error": behaviour.error_type or error,
        "error_description": behaviour.message or description,
    }
    return json_response(body, behaviour.status, headers)


# The fakes ---------------------------------------------------------------------------------


class OAuthFake(FakeServer):
    """Authorization server shared by both providers; subclasses set the wire details."""

    default_client_id: ClassVar[str]
    default_expires_in: ClassVar[int]
    token_path: ClassVar[str]
    allowed_scopes: ClassVar[frozenset[str]]
    required_scopes: ClassVar[frozenset[str]]
    redirect_uri_pattern: ClassVar[re.Pattern[str]]
    exchange_fields: ClassVar[tuple[str, ...]]
    refresh_fields: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        emails: Sequence[str] = (DEFAULT_EMAIL,),
        *,
        client_id: str | None = None,
        expires_in: int | None = None,
        code_ttl: float = 600.0,
        token_delay: float = 0.0,
        on_issue: OnToken | None = None,
        on_revoke: OnToken | None = None,
        record: bool = True,
    ) -> None:
        super().__init__(keys=[], record=record)
        if not emails:
            raise ValueError("at least one account email is needed")
        self.accounts: dict[str, OAuthAccount] = {e: OAuthAccount.for_email(e) for e in emails}
        self.current_email = emails[0]
        self.client_id = client_id or self.default_client_id
        self.expires_in = self.default_expires_in if expires_in is None else expires_in
        self.code_ttl = code_ttl
        self.token_delay = token_delay
        self.on_issue = on_issue
        self.on_revoke = on_revoke
        self.token_calls: Counter[str] = Counter()
        self.codes: dict[str, PendingCode] = {}
        self.grants: list[TokenGrant] = []

    # public controls ----------------------------------------------------------------------

    @property
    def authorize_endpoint(self) -> str:
        return f"{self.base_url}/oauth/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}{self.token_path}"

    @property
    def account(self) -> OAuthAccount:
        """The account the next authorize signs in."""
        return self.accounts[self.current_email]

    @property
    def last_grant(self) -> TokenGrant:
        if not self.grants:
            raise AssertionError("the fake has issued no token")
        return self.grants[-1]

    @property
    def valid_access_tokens(self) -> set[str]:
        """Access tokens neither expired nor revoked (older ones stay valid after refresh)."""
        return {g.access_token for g in self.grants if g.access_valid}

    @property
    def valid_refresh_tokens(self) -> set[str]:
        return {
            g.refresh_token
            for g in self.grants
            if g.refresh_token is not None and not g.refresh_used and not g.refresh_revoked
        }

    def is_access_token_valid(self, token: str) -> bool:
        return token in self.valid_access_tokens

    def add_account(self, email: str, plan_type: str = "plus") -> OAuthAccount:
        account = OAuthAccount.for_email(email, plan_type)
        self.accounts[email] = account
        return account

    def sign_in_as(self, email: str) -> OAuthAccount:
        """Make `email` (added if new) the account the next authorize signs in."""
        if email not in self.accounts:
            self.add_account(email)
        self.current_email = email
        return self.accounts[email]

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next `count` token calls fail: 500 server_error, 400 invalid_grant, ..."""
        self.script.push(Status(status), times=count, path=self.token_path)

    def grant_of(self, token: str) -> TokenGrant:
        """The grant that issued this access or refresh token (KeyError if none)."""
        for grant in self.grants:
            if token in (grant.access_token, grant.refresh_token):
                return grant
        raise KeyError("the fake never issued this token")

    def revoke_access_token(self, token: str) -> None:
        """Make an access token invalid now (calls on_revoke)."""
        grant = self.grant_of(token)
        if grant.access_token != token:
            raise KeyError("not an access token")
        grant.access_revoked = True
        if self.on_revoke is not None:
            self.on_revoke(token)

    def revoke_refresh_token(self, token: str) -> None:
        """Make a refresh token invalid now (the next refresh with it is rejected)."""
        grant = self.grant_of(token)
        if grant.refresh_token != token:
            raise KeyError("not a refresh token")
        grant.refresh_revoked = True

    def token_bodies(self, grant_type: str | None = None) -> list[dict[str, Any]]:
        """Parsed bodies of the token requests received (optionally of one grant type)."""
        bodies = []
        for record in self.requests:
            if record.path != self.token_path:
                continue
            try:
                body = self.parse_token_body(record.headers.get("Content-Type", ""), record.body)
            except ApiError:
                continue
            if grant_type is None or body.get("grant_type") == grant_type:
                bodies.append(body)
        return bodies

    async def authorize(self, authorize_url: str, *, email: str | None = None) -> tuple[str, str]:
        """Play the browser: open the authorize URL, sign in, return (code, state).

        The URL must point at this fake. Raises AuthorizeRejected when the fake refuses it.
        """
        if not authorize_url.startswith(self.authorize_endpoint + "?"):
            raise ValueError(f"not this fake's authorize endpoint: {authorize_url}")
        if email is not None:
            self.sign_in_as(email)
        async with (
            aiohttp.ClientSession() as session,
            session.get(authorize_url, allow_redirects=False) as response,
        ):
            raw = await response.read()
            if response.status != 302:
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                raise AuthorizeRejected(response.status, body)
            location = response.headers["Location"]
        query = parse_qs(urlsplit(location).query)
        return query["code"][0], query["state"][0]

    # routes -------------------------------------------------------------------------------

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("GET", "/oauth/authorize", self.authorize_endpoint_handler),
            ("POST", self.token_path, self.token_endpoint_handler),
        ]

    async def authorize_endpoint_handler(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        query = single_values(request.query.items())
        if query.get("client_id") != self.client_id:
            raise oauth_error(400, "invalid_client", "Unknown client_id.")
        redirect_uri = query.get("redirect_uri", "")
        if not self.redirect_uri_pattern.match(redirect_uri):
            raise invalid_request("redirect_uri is missing or not registered for this client.")
        if query.get("response_type") != "code":
            raise oauth_error(400, "unsupported_response_type", "response_type must be code.")
        scopes = self.check_scopes(query.get("scope"))
        challenge = query.get("code_challenge", "")
        if not PKCE_CHALLENGE.match(challenge):
            raise invalid_request("code_challenge is required (43 base64url characters).")
        if query.get("code_challenge_method") != "S256":
            raise invalid_request("code_challenge_method must be S256.")
        state = query.get("state", "")
        if not state:
            raise invalid_request("state is required.")
        self.check_authorize_extras(query)
        code = self.new_code()
        self.codes[code] = PendingCode(
            code=code,
            redirect_uri=redirect_uri,
            code_challenge=challenge,
            state=state,
            scopes=scopes,
            account=self.account,
            issued_at=time.monotonic(),
        )
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}"
        return web.Response(status=302, headers={"Location": location})

    async def token_endpoint_handler(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        body = self.parse_token_body(request.headers.get("Content-Type", ""), record.body)
        grant_type = body.get("grant_type")
        self.token_calls[grant_type if isinstance(grant_type, str) else ""] += 1
        if self.token_delay > 0:
            await asyncio.sleep(self.token_delay)
        behaviour = self.next_behaviour(record)
        while isinstance(behaviour, Delay):
            await asyncio.sleep(behaviour.seconds)
            behaviour = behaviour.then
        if isinstance(behaviour, Status):
            return status_response(behaviour)
        if isinstance(behaviour, Hang):
            await self.hang(request, behaviour, "application/json")
        if isinstance(behaviour, Drop) and behaviour.after_chunks == 0:
            await self.drop(request, record)
        if isinstance(behaviour, Garbage):
            return web.Response(status=200, text=behaviour.body, content_type="application/json")
        if grant_type == "authorization_code":
            grant = self.exchange_code(body)
        elif grant_type == "refresh_token":
            grant = self.refresh(body)
        elif grant_type is None:
            raise invalid_request("grant_type is required.")
        else:
            raise oauth_error(400, "unsupported_grant_type", "Unsupported grant_type.")
        payload = json.dumps(self.token_response(grant)).encode()
        if isinstance(behaviour, Drop):
            return await self.send_partial_and_drop(request, record, payload, "application/json")
        return web.Response(
            body=payload,
            content_type="application/json",
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    # grants -------------------------------------------------------------------------------

    def exchange_code(self, body: Mapping[str, Any]) -> TokenGrant:
        self.require(body, self.exchange_fields)
        if body["client_id"] != self.client_id:
            raise oauth_error(400, "invalid_client", "Unknown client_id.")
        verifier = body["code_verifier"]
        if not PKCE_VERIFIER.match(verifier):
            raise invalid_request("code_verifier must be 43-128 unreserved characters.")
        pending = self.codes.get(body["code"])
        if pending is None:
            raise invalid_grant("Invalid authorization code.")
        if pending.used:
            raise invalid_grant("Authorization code has already been used.")
        pending.used = True
        if time.monotonic() - pending.issued_at >= self.code_ttl:
            raise invalid_grant("Authorization code has expired.")
        if pending.redirect_uri != body["redirect_uri"]:
            raise invalid_grant("redirect_uri does not match the authorization request.")
        self.check_exchange_extras(body, pending)
        if s256(verifier) != pending.code_challenge:
            raise invalid_grant("code_verifier does not match the code_challenge.")
        return self.issue(pending.account, pending.scopes)

    def refresh(self, body: Mapping[str, Any]) -> TokenGrant:
        self.require(body, self.refresh_fields)
        if body["client_id"] != self.client_id:
            raise oauth_error(400, "invalid_client", "Unknown client_id.")
        token = body["refresh_token"]
        grant = next((g for g in self.grants if g.refresh_token == token), None)
        if grant is None:
            raise invalid_grant("Invalid refresh token.")
        if grant.refresh_revoked:
            raise self.refresh_rejected("revoked")
        if grant.refresh_used:
            raise self.refresh_rejected("reused")
        self.check_refresh_scope(body.get("scope"), grant)
        grant.refresh_used = True
        return self.issue(grant.account, grant.scopes)

    def issue(self, account: OAuthAccount, scopes: tuple[str, ...]) -> TokenGrant:
        issued_at = time.time()
        grant = self.new_grant(account, scopes, issued_at, issued_at + self.expires_in)
        self.grants.append(grant)
        if self.on_issue is not None:
            self.on_issue(grant.access_token)
        return grant

    # checks -------------------------------------------------------------------------------

    def parse_token_body(self, content_type: str, raw: bytes) -> dict[str, Any]:
        raise NotImplementedError

    def check_scopes(self, scope: str | None) -> tuple[str, ...]:
        scopes = tuple((scope or "").split())
        unknown = [s for s in scopes if s not in self.allowed_scopes]
        if not scopes or unknown:
            raise oauth_error(400, "invalid_scope", "scope is missing or holds unknown scopes.")
        missing = self.required_scopes - set(scopes)
        if missing:
            raise oauth_error(400, "invalid_scope", f"scope must include {' '.join(missing)}.")
        return scopes

    def check_authorize_extras(self, query: Mapping[str, str]) -> None:
        """Provider-specific authorize parameters."""

    def check_exchange_extras(self, body: Mapping[str, Any], pending: PendingCode) -> None:
        """Provider-specific checks of a code exchange."""

    def check_refresh_scope(self, scope: Any, grant: TokenGrant) -> None:
        raise NotImplementedError

    def refresh_rejected(self, reason: str) -> ApiError:
        raise NotImplementedError

    def require(self, body: Mapping[str, Any], names: Sequence[str]) -> None:
        for name in names:
            value = body.get(name)
            if not isinstance(value, str) or not value:
                raise invalid_request(f"{name} is required.")

    # rendering ----------------------------------------------------------------------------

    def new_code(self) -> str:
        return secrets.token_urlsafe(32)

    def new_grant(
        self, account: OAuthAccount, scopes: tuple[str, ...], issued_at: float, expires_at: float
    ) -> TokenGrant:
        raise NotImplementedError

    def token_response(self, grant: TokenGrant) -> dict[str, Any]:
        raise NotImplementedError


def single_values(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Parameters as a dict; a repeated parameter is an invalid request (RFC 6749 3.1)."""
    values: dict[str, str] = {}
    for name, value in items:
        if name in values:
            raise invalid_request(f"{name} is repeated.")
        values[name] = value
    return values


class ClaudeOAuthFake(OAuthFake):
    """claude.ai authorize + console.anthropic.com `/v1/oauth/token` (JSON bodies)."""

    default_client_id = CLAUDE_CLIENT_ID
    default_expires_in = 28800
    token_path = "/v1/oauth/token"
    allowed_scopes = frozenset(
        {"org:create_api_key", "user:profile", "user:inference", "user:sessions:claude_code",
         "user:mcp_servers", "user:file_upload"}
    )  # fmt: skip
    required_scopes = frozenset({"user:inference"})
    redirect_uri_pattern = re.compile(
        r"^(http://localhost:\d{1,5}/callback"
        r"|https://(console\.anthropic\.com|platform\.claude\.com)/oauth/code/callback)$"
    )
    exchange_fields = ("code", "state", "client_id", "redirect_uri", "code_verifier")
    refresh_fields = ("refresh_token", "client_id")

    async def authorize_paste(self, authorize_url: str, *, email: str | None = None) -> str:
        """What the user pastes back on a headless machine: `code#state`."""
        code, state = await self.authorize(authorize_url, email=email)
        return f"{code}#{state}"

    def parse_token_body(self, content_type: str, raw: bytes) -> dict[str, Any]:
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise invalid_request("Content-Type must be application/json.")
        try:
            body = json.loads(raw)
        except ValueError:
            raise invalid_request("Request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise invalid_request("Request body must be a JSON object.")
        return body

    def check_authorize_extras(self, query: Mapping[str, str]) -> None:
        if query.get("code") != "true":
            raise invalid_request("code=true is required.")

    def check_exchange_extras(self, body: Mapping[str, Any], pending: PendingCode) -> None:
        if body["state"] != pending.state:
            raise invalid_grant("state does not match the authorization request.")

    def check_refresh_scope(self, scope: Any, grant: TokenGrant) -> None:
        if scope is None:
            return
        if not isinstance(scope, str) or not set(scope.split()) <= set(grant.scopes):
            raise oauth_error(400, "invalid_scope", "scope exceeds the granted scope.")

    def refresh_rejected(self, reason: str) -> ApiError:
        return invalid_grant(f"Refresh token {reason}.")

    def new_grant(
        self, account: OAuthAccount, scopes: tuple[str, ...], issued_at: float, expires_at: float
    ) -> TokenGrant:
        return TokenGrant(
            access_token="sk-ant-oat01-" + secrets.token_urlsafe(70),
            refresh_token="sk-ant-ort01-" + secrets.token_urlsafe(70),
            account=account,
            scopes=scopes,
            expires_at=expires_at,
        )

    def token_response(self, grant: TokenGrant) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": grant.access_token,
            "expires_in": self.expires_in,
            "refresh_token": grant.refresh_token,
            "scope": " ".join(grant.scopes),
            "organization": {
                "uuid": grant.account.organization_id,
                "name": grant.account.organization_name,
            },
            "account": {"uuid": grant.account.account_id, "email_address": grant.account.email},
        }


class OpenAIOAuthFake(OAuthFake):
    """auth.openai.com authorize + `/oauth/token` (form-encoded bodies), JWT tokens.

    Refresh failures look like the real server's: a rotated-out refresh token gets 401
    `{"error": {"code": "refresh_token_reused", ...}}`, a revoked one
    `refresh_token_invalidated`; an unknown one 400 invalid_grant.
    """

    default_client_id = OPENAI_CLIENT_ID
    default_expires_in = 864000
    token_path = "/oauth/token"
    allowed_scopes = frozenset({"openid", "email", "profile", "offline_access"})
    required_scopes = frozenset({"openid"})
    redirect_uri_pattern = re.compile(r"^http://localhost:\d{1,5}/auth/callback$")
    exchange_fields = ("code", "client_id", "redirect_uri", "code_verifier")
    refresh_fields = ("refresh_token", "client_id", "scope")
    prompt_values = frozenset({"login", "none", "consent", "select_account"})

    def parse_token_body(self, content_type: str, raw: bytes) -> dict[str, Any]:
        if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise invalid_request("Content-Type must be application/x-www-form-urlencoded.")
        try:
            pairs = [
                (name, value)
                for name, values in parse_qs(
                    raw.decode(), keep_blank_values=True, strict_parsing=bool(raw)
                ).items()
                for value in values
            ]
        except (UnicodeDecodeError, ValueError):
            raise invalid_request("Request body is not form-encoded.") from None
        return dict(single_values(pairs))

    def check_authorize_extras(self, query: Mapping[str, str]) -> None:
        if "prompt" in query and query["prompt"] not in self.prompt_values:
            raise invalid_request("prompt is not a supported value.")
        for flag in ("id_token_add_organizations", "codex_cli_simplified_flow"):
            if flag in query and query[flag] != "true":
                raise invalid_request(f"{flag} must be true when present.")

    def check_refresh_scope(self, scope: Any, grant: TokenGrant) -> None:
        requested = set(scope.split())
        if "openid" not in requested or not requested <= set(grant.scopes):
            raise oauth_error(400, "invalid_scope", "scope must be openid within the grant.")

    def refresh_rejected(self, reason: str) -> ApiError:
        code, message = {
            "reused": ("refresh_token_reused", "Refresh token has already been used."),
            "revoked": ("refresh_token_invalidated", "Refresh token has been invalidated."),
        }[reason]
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": code,
            }
        }
        return ApiError(json_response(body, 401))

    def new_grant(
        self, account: OAuthAccount, scopes: tuple[str, ...], issued_at: float, expires_at: float
    ) -> TokenGrant:
        auth_claim = {
            "chatgpt_account_id": account.account_id,
            "chatgpt_plan_type": account.plan_type,
            "chatgpt_user_id": account.user_id,
            "user_id": account.user_id,
        }
        common = {
            "iss": "https://auth.openai.com",
            "sub": f"auth0|{account.user_id}",
            "iat": int(issued_at),
            "exp": int(expires_at),
        }
        access_token = encode_jwt(
            {
                **common,
                "aud": ["https://api.openai.com/v1"],
                "client_id": self.client_id,
                "jti": str(uuid.uuid4()),
                "scp": list(scopes),
                OPENAI_AUTH_CLAIM: auth_claim,
                OPENAI_PROFILE_CLAIM: {"email": account.email, "email_verified": True},
            }
        )
        organizations = [
            {"id": account.organization_id, "is_default": True, "role": "owner",
             "title": account.organization_name}
        ]  # fmt: skip
        id_token = encode_jwt(
            {
                **common,
                "aud": [self.client_id],
                "email": account.email,
                "email_verified": True,
                "auth_time": int(issued_at),
                OPENAI_AUTH_CLAIM: {**auth_claim, "organizations": organizations},
            }
        )
        refresh_token = "rt_" + secrets.token_urlsafe(48) if "offline_access" in scopes else None
        return TokenGrant(
            access_token=access_token,
            refresh_token=refresh_token,
            account=account,
            scopes=scopes,
            expires_at=expires_at,
            id_token=id_token,
        )

    def token_response(self, grant: TokenGrant) -> dict[str, Any]:
        response: dict[str, Any] = {
            "access_token": grant.access_token,
            "id_token": grant.id_token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if grant.refresh_token is not None:
            response["refresh_token"] = grant.refresh_token
        return response


FAKES: dict[str, type[OAuthFake]] = {"claude": ClaudeOAuthFake, "openai": OpenAIOAuthFake}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake OAuth server on 127.0.0.1.")
    parser.add_argument("provider", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--print-port", action="store_true", help="print the bound port on stdout once listening"
    )
    parser.add_argument(
        "--email", action="append", dest="emails", help="account to sign in (repeatable)"
    )
    parser.add_argument("--expires-in", type=int, default=None, help="access token lifetime (s)")
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FAKES[args.provider](args.emails or [DEFAULT_EMAIL], expires_in=args.expires_in)
        await fake.start(args.port)
        if args.print_port:
            print(fake.port, flush=True)
        print(
            f"event=fake_listening class={type(fake).__name__} port={fake.port}",
            file=sys.stderr,
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await fake.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
