"""Upstream providers: how a request leaves cliproxy for each kind of service."""
