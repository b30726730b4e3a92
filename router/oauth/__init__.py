"""OAuth 2.0 authorization-code login with PKCE, shared by the subscription providers."""
