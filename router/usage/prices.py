"""What a request would cost: the shipped price table, config overrides, and the rule
that subscription-backed providers cost nothing (their API-equivalent cost is kept apart).

A model the table does not name has no price (None); cliproxy never guesses one.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from router.config.schema import RESERVED_PROVIDERS, WEBAI_PROVIDER
from router.config.usage import ModelPrice

# Providers reached through a subscription or a browser session: no per-token bill.
SUBSCRIPTION_PROVIDERS = frozenset((*RESERVED_PROVIDERS, WEBAI_PROVIDER))
_RESOLVED_MAX = 4096


@dataclass(frozen=True)
class Cost:
    """``usd`` is what the request cost; ``api_equivalent_usd`` what the provider's API
    would have charged. Both None when the model has no price."""

    usd: float | None
    api_equivalent_usd: float | None


def shipped_prices() -> dict[str, ModelPrice]:
    data = json.loads(resources.files("router.usage").joinpath("prices.json").read_text())
    return {name: ModelPrice(**entry) for name, entry in data["models"].items()}


class PriceTable:
    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices = {**shipped_prices(), **(overrides or {})}
        self._patterns = sorted(
            (name for name in self._prices if any(c in name for c in "*?[")),
            key=len,
            reverse=True,
        )
        # Model name -> price found (or None); names come from the config, so few.
        self._resolved: dict[str, ModelPrice | None] = {}

    def price(self, model: str) -> ModelPrice | None:
        """The exact entry, else the longest (most specific) matching glob."""
        try:
            return self._resolved[model]
        except KeyError:
            pass
        found = self._prices.get(model)
        if found is None:
            pattern = next((p for p in self._patterns if fnmatch.fnmatchcase(model, p)), None)
            found = self._prices[pattern] if pattern is not None else None
        if len(self._resolved) < _RESOLVED_MAX:
            self._resolved[model] = found
        return found

    def cost(self, provider: str, model: str, tokens: Mapping[str, int]) -> Cost:
        price = self.price(model)
        if price is None:
            return Cost(None, None)
        cached = tokens.get("tokens_cached", 0)
        uncached = max(tokens.get("tokens_in", 0) - cached, 0)
        cached_price = price.input if price.cached is None else price.cached
        micro_usd = (
            uncached * price.input
            + cached * cached_price
            + tokens.get("tokens_out", 0) * price.output
        )
        equivalent = micro_usd / 1_000_000
        return Cost(0.0 if provider in SUBSCRIPTION_PROVIDERS else equivalent, equivalent)
