"""The management secret, kept only as a scrypt hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "scrypt$"
_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64); what ``python -m router hash-secret`` prints."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.b64encode
    return f"{PREFIX}{_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


class ManagementSecret:
    """Checks presented secrets against the configured one (plain or already hashed)."""

    def __init__(self, configured: str) -> None:
        self.hashed = configured if configured.startswith(PREFIX) else hash_secret(configured)
        n, r, p, salt, digest = self.hashed.removeprefix(PREFIX).split("$")
        self._params = (int(n), int(r), int(p))
        self._salt = base64.b64decode(salt)
        self._digest = base64.b64decode(digest)

    @staticmethod
    def well_formed(configured: str) -> bool:
        if not configured.startswith(PREFIX):
            return True
        parts = configured.removeprefix(PREFIX).split("$")
        try:
            return (
                len(parts) == 5
                and all(int(x) > 0 for x in parts[:3])
                and all(base64.b64decode(x, validate=True) for x in parts[3:])
            )
        except ValueError:
            return False

    def matches(self, presented: str) -> bool:
        n, r, p = self._params
        digest = hashlib.scrypt(
            presented.encode(), salt=self._salt, n=n, r=r, p=p, dklen=len(self._digest)
        )
        return hmac.compare_digest(digest, self._digest)
