"""The price table: most specific match, subscriptions at 0 beside their API equivalent,
config overrides, and no price for a model nobody priced."""

from __future__ import annotations

import pytest

from router.config.usage import ModelPrice
from router.usage.prices import PriceTable

TOKENS = {"tokens_in": 1_000_000, "tokens_out": 1_000_000, "tokens_cached": 400_000}


def test_the_most_specific_entry_wins() -> None:
    table = PriceTable()
    assert table.price("gpt-4o") == ModelPrice(2.5, 10.0, 1.25)
    assert table.price("gpt-4o-mini-2024-07-18") == ModelPrice(0.15, 0.6, 0.075)
    assert table.price("claude-sonnet-4-5-20250929") == ModelPrice(3.0, 15.0, 0.3)
    assert table.price("gemini-2.5-flash-lite") == ModelPrice(0.1, 0.4, 0.01)


def test_cost_counts_cached_input_at_the_cached_price() -> None:
    cost = PriceTable().cost("openai", "gpt-4o", TOKENS)
    assert cost.usd == cost.api_equivalent_usd == pytest.approx(0.6 * 2.5 + 0.4 * 1.25 + 10.0)


@pytest.mark.parametrize("provider", ["llmux-claude", "llmux-chatgpt", "aistudio", "webai"])
def test_subscriptions_cost_nothing_but_show_the_api_equivalent(provider: str) -> None:
    cost = PriceTable().cost(provider, "claude-sonnet-4-5", TOKENS)
    assert cost.usd == 0.0
    assert cost.api_equivalent_usd == pytest.approx(0.6 * 3.0 + 0.4 * 0.3 + 15.0)


def test_unknown_models_have_no_price_and_config_overrides_win() -> None:
    assert PriceTable().cost("openai", "my-finetune", TOKENS).usd is None
    table = PriceTable({"my-*": ModelPrice(1.0, 2.0), "gpt-4o": ModelPrice(0.0, 0.0, 0.0)})
    assert table.cost("openai", "my-finetune", TOKENS).usd == pytest.approx(1.0 + 2.0)
    assert table.cost("openai", "gpt-4o", TOKENS).usd == 0.0
