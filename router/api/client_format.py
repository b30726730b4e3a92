"""Which API format a client speaks, judged by the path it called."""

from __future__ import annotations

from router.formats import Format

AMP_PREFIX = "/api/provider/"


def strip_amp_prefix(path: str) -> str:
    """Amp CLI calls ``/api/provider/<name>/v1/...``; the rest of the path is ours."""
    if path.startswith(AMP_PREFIX):
        _, _, rest = path[len(AMP_PREFIX) :].partition("/")
        return "/" + rest
    return path


def client_format(path: str) -> Format:
    path = strip_amp_prefix(path)
    if path.startswith("/v1/messages"):
        return Format.ANTHROPIC
    if path.startswith("/v1/responses"):
        return Format.OPENAI_RESPONSES
    if path.startswith("/v1beta") or (path.startswith("/v1/models/") and ":" in path):
        return Format.GEMINI
    return Format.OPENAI_CHAT
