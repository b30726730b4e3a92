"""Credential files in auth-dir: atomic private writes, hot pickup, token refresh."""

from router.credentials.store import CredentialStore, StoredCredential
from router.credentials.tokens import CredentialUnusable, TokenKeeper

__all__ = ["CredentialStore", "CredentialUnusable", "StoredCredential", "TokenKeeper"]
