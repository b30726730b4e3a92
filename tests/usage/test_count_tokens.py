"""Token counts through the router: an issued key's models bound them like generation,
and they are ledger rows of their own kind that usage totals and budgets leave out."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp

from router.config.usage import UsageConfig
from router.usage.ledger import COLUMNS, Ledger, connect
from tests.usage.conftest import KEYS, MESSAGES, Client, start_usage_router

GEMINI_COUNT = {"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]}


async def _post(
    http: aiohttp.ClientSession, url: str, key: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {key}"}
    async with http.post(url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def _usage(http: aiohttp.ClientSession, url: str, query: str) -> list[dict[str, Any]]:
    async with http.get(url + "/v1/management/usage?" + query) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["rows"]


async def test_issued_key_counts_only_its_models_and_counts_are_their_own_rows(
    router_factory, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    router = await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)
    async with http.post(
        router.url + "/v1/management/keys", json={"name": "gpt-only", "models": ["gpt-4o*"]}
    ) as response:
        limited = (await response.json())["key"]
    count_url = router.url + "/v1/messages/count_tokens"
    claude = {"model": "claude-sonnet-4-5", "messages": MESSAGES}
    status, body = await _post(http, count_url, limited, claude)
    assert status == 403 and body["type"] == "error"
    assert body["error"]["type"] == "permission_error"
    assert "may not use model 'claude-sonnet-4-5'" in body["error"]["message"]
    gemini_url = router.url + "/v1beta/models/gemini-2.5-flash:countTokens"
    status, body = await _post(http, gemini_url, limited, GEMINI_COUNT)
    assert status == 403 and body["error"]["status"] == "PERMISSION_DENIED"
    assert "may not use model 'gemini-2.5-flash'" in body["error"]["message"]
    assert anthropic_fake.requests == [] and gemini_fake.requests == []

    status, counted = await _post(http, count_url, KEYS["alice"], claude)
    assert status == 200 and counted["input_tokens"] > 0
    status, gemini_counted = await _post(http, gemini_url, KEYS["alice"], GEMINI_COUNT)
    assert status == 200 and gemini_counted["totalTokens"] > 0
    assert await Client(router.url, http).chat(KEYS["alice"], "gpt-4o") == 200

    # Totals are generation only by default: the counts' tokens were not used.
    generated = await _usage(http, router.url, "group=key")
    assert [(r["key"], r["requests"]) for r in generated] == [("alice", 1)]
    counts = await _usage(http, router.url, "group=key,model&operation=count_tokens")
    assert [(r["key"], r["model"], r["requests"], r["errors"]) for r in counts] == [
        ("alice", "claude-sonnet-4-5", 1, 0),
        ("alice", "gemini-2.5-flash", 1, 0),
        ("gpt-only", "claude-sonnet-4-5", 1, 1),
        ("gpt-only", "gemini-2.5-flash", 1, 1),
    ]
    assert counts[0]["tokens_in"] == counted["input_tokens"]
    assert counts[1]["tokens_in"] == gemini_counted["totalTokens"]
    assert all(r["cost_usd"] == 0 and r["unpriced_requests"] == 0 for r in counts)
    every = await _usage(http, router.url, "group=operation&operation=all")
    assert {r["operation"]: r["requests"] for r in every} == {"count_tokens": 4, "generate": 1}
    async with http.get(router.url + "/v1/management/usage?operation=counts") as response:
        assert response.status == 400
        assert (
            "operation: expected one of generate, count_tokens, all"
            in ((await response.json())["error"]["message"])
        )
    async with http.get(router.url + "/v1/management/usage/recent?limit=1") as response:
        assert (await response.json())["requests"][0]["operation"] == "generate"
    async with http.get(router.url + "/v1/management/keys") as response:
        keys = {k["name"]: k for k in (await response.json())["keys"]}
    assert keys["gpt-only"]["used"]["tokens_today"] == 0


def test_a_ledger_from_before_operations_gains_the_column_in_place(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    now = time.time()  # inside the retention period
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE requests (id INTEGER PRIMARY KEY, ts REAL NOT NULL, request_id TEXT, "
        "key TEXT, format TEXT, model TEXT, provider TEXT, credential TEXT, upstream_model "
        "TEXT, stream INTEGER, status INTEGER, error TEXT, tokens_in INTEGER NOT NULL "
        "DEFAULT 0, tokens_out INTEGER NOT NULL DEFAULT 0, tokens_cached INTEGER NOT NULL "
        "DEFAULT 0, tokens_reasoning INTEGER NOT NULL DEFAULT 0, cost_usd REAL, "
        "api_equivalent_usd REAL, latency_ms REAL, ttft_ms REAL);"
        f"INSERT INTO requests (ts, key, status, tokens_in) VALUES ({now}, 'old', 200, 7);"
    )
    old.commit()
    old.close()
    ledger = Ledger(path, UsageConfig())
    row = (now, "r2", "new", "anthropic", "m", None, None, None, 0, 200, None, 3, 0, 0, 0)
    ledger.add((*row, 0.0, 0.0, 1.0, None, "count_tokens"))
    assert ledger.flush()
    ledger.close()
    assert len(COLUMNS) == 20
    connection = connect(path)
    rows = connection.execute("SELECT key, tokens_in, operation FROM requests ORDER BY id")
    assert rows.fetchall() == [("old", 7, "generate"), ("new", 3, "count_tokens")]
    connection.close()
