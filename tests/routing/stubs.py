"""Upstreams that exist only as configuration, for routing unit tests (nothing is sent)."""

from __future__ import annotations

from router.config.schema import ModelEntry, Timeouts
from router.formats import Format
from router.upstreams.base import Upstream, UpstreamCall, UpstreamCredential, UpstreamReply


class ConfiguredUpstream(Upstream):
    """An upstream with a name, credentials and models; opening it is a test error."""

    kind = "openai"
    wire_format = Format.OPENAI_CHAT
    credentials: tuple[UpstreamCredential, ...] = ()
    unconfigured_reason: str | None = None

    def __init__(
        self,
        name: str,
        models: dict[str, tuple[str, ...]] | None = None,
        credentials: tuple[str, ...] = ("key1",),
        *,
        login_based: bool = False,
        weights: dict[str, int] | None = None,
    ) -> None:
        self.name = name
        self.models = tuple(ModelEntry(model, aliases) for model, aliases in (models or {}).items())
        self.credentials = tuple(
            UpstreamCredential(c, f"secret-{c}", (weights or {}).get(c, 1)) for c in credentials
        )
        self.login_based = login_based
        self.timeouts = Timeouts()
        self.unconfigured_reason = None

    async def open(self, call: UpstreamCall) -> UpstreamReply:
        raise AssertionError("routing unit tests never send")

    def active_requests(self) -> int:
        return 0

    async def close(self) -> None:
        return None


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
