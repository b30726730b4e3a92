"""/metrics after a known mix of requests: counts and token sums exact, labels bounded."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from router.usage.metrics import RequestMetrics
from tests.conftest import StartRouter
from tests.fakes.behaviours import Reply, Status, Stream, Usage
from tests.usage.conftest import KEYS, Client, start_usage_router

ALICE, BOB = KEYS["alice"], KEYS["bob"]


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def total(found: dict, name: str, **labels: str) -> float:
    return sum(
        value
        for sample_labels, value in found.get(name, [])
        if all(sample_labels.get(k) == v for k, v in labels.items())
    )


async def scrape(client: Client, **headers: str) -> tuple[int, str]:
    async with client.session.get(client.url + "/metrics", headers=headers) as response:
        return response.status, await response.text()


async def test_metrics_after_a_known_mix(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    router = await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)
    client = Client(router.url, http)
    openai_fake.script.push(Reply(usage=Usage(100, 20, cached_tokens=30, reasoning_tokens=5)))
    assert await client.chat(ALICE, "gpt-4o") == 200
    openai_fake.script.push(Stream(chunks=3, usage=Usage(50, 10)))
    assert await client.chat(ALICE, "gpt-4o", stream=True) == 200
    # One 500 on the first credential, answered by the second: one failover, one cooldown.
    openai_fake.script.push(Status(500))
    openai_fake.script.push(Reply(usage=Usage(7, 3)))
    assert await client.chat(BOB, "gpt-4o-mini") == 200
    anthropic_fake.script.push(Reply(usage=Usage(200, 40, cached_tokens=60)))
    assert await client.messages(BOB, "claude-sonnet-4-5") == 200
    gemini_fake.script.push(Reply(usage=Usage(70, 7, reasoning_tokens=3)))
    assert await client.gemini(BOB, "gemini-2.5-flash") == 200
    assert await client.chat(ALICE, "no-such-model-1234") == 404
    openai_fake.script.push(Status(400, message="bad"))
    assert await client.chat(ALICE, "gpt-4o") == 400

    status, text = await scrape(client)
    assert status == 200
    found = samples(text)
    requests = "cliproxy_requests_total"
    assert total(found, requests) == 7
    assert total(found, requests, format="openai-chat", provider="p-openai", key="alice",
                 model="gpt-4o", status="200") == 2  # fmt: skip
    assert total(found, requests, provider="p-openai", key="bob", model="gpt-4o-mini") == 1
    assert total(found, requests, format="anthropic", provider="p-anthropic", key="bob") == 1
    assert total(found, requests, format="gemini", model="gemini-2.5-flash", status="200") == 1
    # A model nobody configured is "other": labels never take arbitrary client values.
    assert total(found, requests, model="other", provider="none", status="404") == 1
    assert not any("no-such-model" in str(labels) for s in found.values() for labels, _ in s)
    assert total(found, requests, status="400", key="alice") == 1

    tokens = "gen_ai_client_token_usage_sum"
    # Input counts the whole prompt: Anthropic's input_tokens plus its cache reads.
    assert total(found, tokens, token_type="input") == 100 + 50 + 7 + 260 + 70
    # Output includes thinking: Gemini's candidates plus thoughts.
    assert total(found, tokens, token_type="output") == 20 + 10 + 3 + 40 + 10
    assert total(found, tokens, token_type="cached") == 30 + 60
    assert total(found, tokens, token_type="reasoning") == 5 + 3
    assert total(found, tokens, token_type="input", key="bob", provider="p-anthropic") == 260

    assert total(found, "cliproxy_upstream_failovers_total", provider="p-openai") == 1
    # 2 + 1 (gpt-4o) + 2 (failover) + 1 (claude) + 1 (gemini); the 404 opened nothing.
    assert total(found, "cliproxy_upstream_attempts_total") == 7
    assert total(found, "gen_ai_server_time_to_first_token_seconds_count") == 6
    assert total(found, "cliproxy_request_duration_seconds_count") == 7
    assert total(found, "cliproxy_credential_cooldowns", provider="p-openai") == 1
    assert total(found, "cliproxy_in_flight_requests") == 1  # the scrape itself
    assert total(found, "cliproxy_active_streams") == 0
    assert total(found, "cliproxy_relay_sessions") == 0


async def test_metrics_guard(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    secret = "metrics-test-secret"
    guarded = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, management={"secret": secret}
    )
    client = Client(guarded.url, http)
    # Client keys do not open /metrics; the management secret does.
    assert (await scrape(client, Authorization=f"Bearer {ALICE}"))[0] == 401
    assert (await scrape(client, **{"X-Management-Key": secret}))[0] == 200
    public: dict[str, Any] = {"management": {"secret": secret}, "metrics": {"public": True}}
    open_router = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, **public
    )
    assert (await scrape(Client(open_router.url, http)))[0] == 200
    off = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, metrics={"enabled": False}
    )
    assert (await scrape(Client(off.url, http)))[0] == 404


async def test_scrape_time_gauges_streams_and_sidecars(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on: the sidecar is down
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    webai = {"enabled": True, "port": port, "key": "sidecar-key", "providers": ["Gemini"]}
    router = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, webai=webai
    )
    client = Client(router.url, http)
    for label, expires_in in (("ada", 86400), ("bob", -60)):
        router.state.credentials.save(
            "claude",
            f"claude-{label}",
            {"access_token": "at", "refresh_token": "rt", "expires_at": time.time() + expires_in},
        )
    openai_fake.script.push(Stream(chunks=40, interval=0.05))
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": f"Bearer {ALICE}"}
    async with http.post(router.url + "/v1/chat/completions", json=body, headers=headers) as r:
        await r.content.readline()
        found = samples((await scrape(client))[1])
        assert total(found, "cliproxy_active_streams") == 1
        assert total(found, "cliproxy_in_flight_requests") == 2
        await r.read()
    found = samples((await scrape(client))[1])
    assert total(found, "cliproxy_active_streams") == 0
    assert found["cliproxy_sidecar_up"] == [({"sidecar": "webai"}, 0.0)]
    accounts = {labels["state"]: value for labels, value in found["cliproxy_accounts"]
                if labels["provider"] == "llmux-claude"}  # fmt: skip
    assert accounts == {"ok": 1.0, "expired": 1.0}
    assert (
        total(found, "cliproxy_usage_rows_written_total")
        + total(found, "cliproxy_usage_rows_queued")
        == 1
    )


async def test_rule_decisions_are_counted_by_rule_name(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    rules = [
        {"name": "cheap", "when": {"model": "gpt-4o"}, "model": "gpt-4o-mini"},
        {"name": "bob-to-claude", "when": {"client-key": "bob"}, "model": "claude-sonnet-4-5"},
    ]
    router = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, routing={"rules": rules}
    )
    client = Client(router.url, http)
    for _ in range(2):
        openai_fake.script.push(Reply())
        assert await client.chat(ALICE, "gpt-4o") == 200
    anthropic_fake.script.push(Reply())
    assert await client.chat(BOB, "gpt-4o-mini") == 200
    gemini_fake.script.push(Reply())
    assert await client.gemini(ALICE, "gemini-2.5-flash") == 200
    assert [r.json["model"] for r in openai_fake.requests] == ["gpt-4o-mini"] * 2

    found = samples((await scrape(client))[1])
    decisions = "cliproxy_routing_rule_decisions_total"
    assert total(found, decisions, rule="cheap") == 2
    assert total(found, decisions, rule="bob-to-claude") == 1
    assert total(found, decisions, rule="none") == 1
    assert total(found, decisions) == 4


def test_rule_labels_are_bounded_by_the_configured_names() -> None:
    metrics = RequestMetrics(CollectorRegistry(), lambda: frozenset(), lambda: frozenset({"cheap"}))
    assert metrics.rule_label("cheap") == "cheap"
    assert metrics.rule_label("renamed-since") == "other"
    assert metrics.rule_label(None) == "none"
