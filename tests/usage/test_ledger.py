"""The usage ledger: exact totals after 10,000 requests, the query API, CSV, and a router
killed with -9 mid-batch (bounded loss, never a corrupt database)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from router.usage.ledger import COLUMNS, connect, insert_rows
from tests.conftest import StartRouter
from tests.fakes.behaviours import Reply, Stream, Usage
from tests.usage.conftest import KEYS, Client, start_usage_router, usage_config

ALICE, BOB = KEYS["alice"], KEYS["bob"]
REPO = Path(__file__).resolve().parents[2]


async def get_json(client: Client, path: str) -> dict:
    async with client.session.get(client.url + path) as response:
        assert response.status == 200, await response.text()
        return await response.json()


# 10,000 real HTTP round trips (client, router, fake in one process): about 15 s on an
# idle 2-core machine, several times that when the machine is busy.
@pytest.mark.timeout(400)
async def test_ten_thousand_requests_totals_match_what_the_fakes_served(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http, tmp_path
) -> None:
    router = await start_usage_router(router_factory, openai_fake, anthropic_fake, gemini_fake)
    client = Client(router.url, http)
    openai_fake.script.always(Reply(text="ok", usage=Usage(11, 5, cached_tokens=2)))
    anthropic_fake.script.always(Stream(chunks=2, usage=Usage(13, 7, cached_tokens=4)))
    gate = asyncio.Semaphore(64)

    async def one(i: int) -> int:
        async with gate:
            if i % 10 < 7:
                return await client.chat(ALICE if i % 2 else BOB, "gpt-4o")
            return await client.messages(BOB, "claude-sonnet-4-5", stream=True)

    started = time.monotonic()
    statuses = await asyncio.gather(*(one(i) for i in range(10_000)))
    elapsed = time.monotonic() - started
    assert statuses.count(200) == 10_000
    served_openai = sum(1 for r in openai_fake.requests if r.status == 200)
    served_anthropic = sum(1 for r in anthropic_fake.requests if r.status == 200)
    assert (served_openai, served_anthropic) == (7000, 3000)

    # Per million tokens: gpt-4o 2.5 in, 1.25 cached, 10 out; claude-sonnet-4-5 3, 0.3, 15.
    cost = (served_openai * (9 * 2.5 + 2 * 1.25 + 5 * 10)
            + served_anthropic * (13 * 3 + 4 * 0.3 + 7 * 15)) / 1e6  # fmt: skip
    everything = (await get_json(client, "/v1/management/usage"))["rows"]
    assert everything == [
        {
            "requests": 10_000,
            "errors": 0,
            "tokens_in": served_openai * 11 + served_anthropic * (13 + 4),
            "tokens_out": served_openai * 5 + served_anthropic * 7,
            "tokens_cached": served_openai * 2 + served_anthropic * 4,
            "tokens_reasoning": 0,
            "cost_usd": pytest.approx(cost),
            "api_equivalent_usd": pytest.approx(cost),
            "unpriced_requests": 0,
            "avg_latency_ms": pytest.approx(everything[0]["avg_latency_ms"]),
            "avg_ttft_ms": pytest.approx(everything[0]["avg_ttft_ms"]),
        }
    ]  # fmt: skip
    by_key = (await get_json(client, "/v1/management/usage?group=key,provider"))["rows"]
    counts = {(r["key"], r["provider"]): r["requests"] for r in by_key}
    assert counts == {("alice", "p-openai"): 3000, ("bob", "p-openai"): 4000,
                      ("bob", "p-anthropic"): 3000}  # fmt: skip
    db = sqlite3.connect(router.state.usage.ledger.path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # Never prompt or answer text: the row holds names, numbers and statuses only.
    columns = [c[1] for c in db.execute("PRAGMA table_info(requests)")]
    assert not {"prompt", "messages", "content", "text", "answer"} & set(columns)
    print(f"10,000 requests through the router and fakes in {elapsed:.1f}s")


async def test_grouping_time_range_csv_and_unknown_prices(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    router = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake,
        usage={"prices": {"gemini-2.5-flash": {"input": 1.0, "output": 2.0}}},
    )  # fmt: skip
    client = Client(router.url, http)
    openai_fake.script.always(Reply(usage=Usage(1000, 100)))
    gemini_fake.script.always(Reply(usage=Usage(1_000_000, 500_000)))
    await client.chat(ALICE, "gpt-4o")
    await client.chat(ALICE, "gpt-4o-mini")
    await client.gemini(BOB, "gemini-2.5-flash")
    rows = (await get_json(client, "/v1/management/usage?group=model,day"))["rows"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    costs = {r["model"]: (r["day"], r["cost_usd"]) for r in rows}
    assert costs == {
        "gpt-4o": (today, pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)),
        "gpt-4o-mini": (today, pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6)),
        # The config's price replaces the shipped one.
        "gemini-2.5-flash": (today, pytest.approx(1.0 + 1.0)),
    }
    future = await get_json(client, "/v1/management/usage?from=2999-01-01")
    assert future["rows"][0]["requests"] == 0
    past = await get_json(client, f"/v1/management/usage?from=2000-01-01&to={today}T23:59:59Z")
    assert past["rows"][0]["requests"] == 3
    async with http.get(router.url + "/v1/management/usage?group=key&format=csv") as response:
        assert response.status == 200 and response.content_type == "text/csv"
        table = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(r["key"], r["requests"]) for r in table] == [("alice", "2"), ("bob", "1")]
    async with http.get(router.url + "/v1/management/usage?group=colour") as response:
        assert response.status == 400
        assert "group: unknown grouping 'colour'" in (await response.json())["error"]["message"]
    recent = (await get_json(client, "/v1/management/usage/recent?limit=2"))["requests"]
    assert [r["model"] for r in recent] == ["gemini-2.5-flash", "gpt-4o-mini"]


async def test_unknown_model_has_no_price(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    config = usage_config(openai_fake, anthropic_fake, gemini_fake)
    config["providers"][0]["models"] = ["house-model"]
    router = await router_factory(config)
    client = Client(router.url, http)
    await client.chat(ALICE, "house-model")
    row = (await get_json(client, "/v1/management/usage"))["rows"][0]
    assert row["requests"] == 1 and row["unpriced_requests"] == 1
    assert row["cost_usd"] is None and row["api_equivalent_usd"] is None


def _start_router_process(config_path: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "router", "--config", str(config_path)],
            cwd=REPO,
            stderr=log,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        match = re.search(r"event=listening url=(\S+)", log_path.read_text())
        if match:
            return process, match.group(1)
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the router did not start: " + log_path.read_text()[-2000:])


async def test_kill_9_mid_batch_loses_at_most_the_unflushed_batch(
    openai_fake, anthropic_fake, gemini_fake, http, tmp_path
) -> None:
    flush_rows = 50
    config = usage_config(openai_fake, anthropic_fake, gemini_fake)
    config.update(
        {
            "auth-dir": str(tmp_path / "auth"),
            "port": 0,
            # Batches fill on count long before the timer: the kill lands mid-batch (17 rows in).
            "usage": {"flush-rows": flush_rows, "flush-interval": 30},
        }
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    process, url = await asyncio.to_thread(_start_router_process, path, tmp_path / "router.log")
    client = Client(url, http)
    answered = 0
    try:
        for _ in range(3 * flush_rows + 17):
            assert await client.chat(ALICE, "gpt-4o") == 200
            answered += 1
    finally:
        os.kill(process.pid, signal.SIGKILL)
        await asyncio.to_thread(process.wait)
    db = sqlite3.connect(tmp_path / "usage.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    lost = answered - rows
    print(f"kill -9 after {answered} answered requests: {rows} rows kept, {lost} lost")
    assert 0 <= lost <= flush_rows


async def test_retention_deletes_old_rows(tmp_path) -> None:
    from router.config.usage import UsageConfig
    from router.usage.ledger import Ledger, connect

    path = tmp_path / "usage.sqlite"
    db = connect(path)
    for age_days in (40, 10, 0):
        ts = time.time() - age_days * 86400
        db.execute("INSERT INTO requests (ts, status) VALUES (?, 200)", (ts,))
    db.commit()
    db.close()
    ledger = Ledger(path, UsageConfig(retention_days=30))
    assert await asyncio.to_thread(ledger.flush)
    ledger.close()
    left = sqlite3.connect(path).execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    assert left == 2


async def test_an_unwritable_ledger_does_not_stop_the_router(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http, tmp_path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    router = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake,
        usage={"path": str(blocker / "usage.sqlite")},
    )  # fmt: skip
    client = Client(router.url, http)
    assert await client.chat(ALICE, "gpt-4o") == 200
    async with http.get(router.url + "/v1/management/usage") as response:
        assert response.status == 404
        assert "usage ledger is off" in (await response.json())["error"]["message"]


def test_the_benchmarks_ledger_rows_fit_the_ledger() -> None:
    """bench's ledger write cost builds rows by hand: a column added to the ledger must
    reach them too, or the benchmark measures nothing."""
    from bench.usage import ledger_write_cost

    assert ledger_write_cost(50)["rows"] == 50


def test_rows_go_in_with_few_statements_whatever_the_variable_limit(tmp_path: Path) -> None:
    """Many rows per INSERT (fewer GIL handoffs than executemany), split to stay under
    the connection's variable limit and into power-of-two row counts (so sqlite3 keeps few
    distinct prepared statements); every row and value arrives."""
    connection = connect(tmp_path / "rows.sqlite")
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, len(COLUMNS) * 7 + 3)
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    rows = [
        (float(i), f"r{i}", "k", "openai-chat", "m", "p", "c", "m", 0, 200, None,
         i, 2, 0, 0, None, None, 1.5, None, "generate")
        for i in range(30)
    ]  # fmt: skip
    with connection:
        insert_rows(connection, rows)
    inserts = [s for s in statements if s.startswith("INSERT")]
    # The limit allows 7 rows: statements of 4 rows, then 2 + 1 + ... for the rest.
    assert [s.count("'generate')") for s in inserts] == [4, 4, 4, 4, 4, 4, 4, 2]
    stored = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM requests ORDER BY id").fetchall()
    assert stored == rows
