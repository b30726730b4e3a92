"""Measurements of the format translation issue.

translate-conversation  200-message ~100 KB OpenAI Chat conversation with tools to
                        Anthropic and back, in process
stream-translation      per-chunk cost of translating a stream (Anthropic -> OpenAI Chat)
                        and of passthrough, which must do no JSON work per chunk
translating-throughput  OpenAI clients: req/s to an Anthropic upstream (translated) vs
                        to an OpenAI upstream (passthrough), same router, same run
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from bench import load
from bench.load import CHAT_BODY
from bench.processes import TRANSLATED_MODEL, Processes
from bench.registry import BenchResult, RunOptions, Target, benchmark
from router.formats import Format, TranslationContext, get_codec
from router.generation.passthrough import Passthrough
from router.generation.translate import TranslatingStream

CHAT_PATH = "/v1/chat/completions"
CONNECTIONS = 32


def conversation(messages: int = 200, target_bytes: int = 100_000) -> dict[str, Any]:
    """An agent-style OpenAI Chat request: tools, calls and results, about 100 KB."""
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"tool_{n}",
                "description": f"Tool number {n} reads files and reports on them.",
                "parameters": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "depth": {"type": "integer"}},
                    "required": ["path"],
                },
            },
        }
        for n in range(8)
    ]
    body: list[dict[str, Any]] = [{"role": "system", "content": "You are a coding agent."}]
    per_message = max(1, target_bytes // messages // len(filler))
    turn = 0
    while len(body) < messages:
        body.append({"role": "user", "content": filler * per_message})
        call_id = f"call_{turn}"
        body.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": f"tool_{turn % 8}",
                            "arguments": json.dumps({"path": f"src/file_{turn}.py", "depth": 2}),
                        },
                    }
                ],
            }
        )
        body.append({"role": "tool", "tool_call_id": call_id, "content": filler * per_message})
        body.append({"role": "assistant", "content": filler * per_message})
        turn += 1
    return {"model": "gpt-4o", "messages": body[:messages], "tools": tools, "max_tokens": 1024}


def _median_ms(work: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


@benchmark(
    "translate-conversation", "formats", "200-message ~100 KB chat with tools, there and back"
)
async def translate_conversation(options: RunOptions) -> BenchResult:
    body = conversation()
    size = len(json.dumps(body))
    chat, anthropic = get_codec(Format.OPENAI_CHAT), get_codec(Format.ANTHROPIC)

    def round_trip() -> None:
        ctx = TranslationContext(client_model="gpt-4o")
        upstream_body = anthropic.encode_request(chat.decode_request(body), ctx)
        chat.encode_request(anthropic.decode_request(upstream_body), ctx)

    round_trip()
    ms = round(_median_ms(round_trip, 20 if options.quick else 100), 3)
    result = BenchResult(numbers={"request_bytes": size, "messages": 200, "median_ms": ms})
    result.targets.append(
        Target(
            "translate.chat_to_anthropic_and_back",
            "OpenAI Chat -> IR -> Anthropic -> IR -> OpenAI Chat, median of runs",
            ms,
            3.0,
            "ms",
        )
    )
    return result


def _anthropic_events(chunks: int) -> list[bytes]:
    def event(name: str, data: dict[str, Any]) -> bytes:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        },
    }
    events = [
        event("message_start", start),
        event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "tok "},
    }
    events += [event("content_block_delta", delta) for _ in range(chunks)]
    events += [
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": chunks},
            },
        ),
        event("message_stop", {"type": "message_stop"}),
    ]
    return events


@benchmark("stream-translation", "formats", "per-chunk cost: translated vs passthrough streams")
async def stream_translation(options: RunOptions) -> BenchResult:
    chunks = 2_000 if options.quick else 20_000
    events = _anthropic_events(chunks)

    def translate() -> None:
        stream = TranslatingStream(Format.ANTHROPIC, Format.OPENAI_CHAT, TranslationContext())
        for piece in events:
            stream.feed(piece)
        stream.finish()

    def passthrough() -> None:
        stream = Passthrough(Format.ANTHROPIC)
        for piece in events[:-2]:
            stream.feed(piece)

    translate()
    translated_us = _median_ms(translate, 5) * 1000 / len(events)
    passthrough_us = _median_ms(passthrough, 5) * 1000 / len(events)
    with (
        mock.patch("json.loads", side_effect=json.loads) as loads,
        mock.patch("json.dumps", side_effect=json.dumps) as dumps,
    ):
        passthrough()
    json_calls = loads.call_count + dumps.call_count
    result = BenchResult(
        numbers={
            "chunks": len(events),
            "translated_us_per_chunk": round(translated_us, 2),
            "passthrough_us_per_chunk": round(passthrough_us, 3),
            "passthrough_json_calls": json_calls,
        },
        notes=["the passthrough run excludes the final usage event, parsed once at stream end"],
    )
    result.targets += [
        Target(
            "stream.translation_per_chunk",
            "Anthropic SSE -> IR -> OpenAI Chat chunk, added per chunk",
            round(translated_us, 2),
            50.0,
            "us",
        ),
        Target(
            "stream.passthrough_json_calls",
            "json.loads/dumps calls while relaying content chunks untouched",
            json_calls,
            0,
            "calls",
        ),
    ]
    return result


@benchmark(
    "translating-throughput", "formats", "req/s: OpenAI client to Anthropic upstream vs passthrough"
)
async def translating_throughput(options: RunOptions) -> BenchResult:
    rounds, seconds = (1, 2.0) if options.quick else (4, 3.0)
    tool = options.load_tool
    translated_body = json.dumps({**json.loads(CHAT_BODY), "model": TRANSLATED_MODEL}).encode()
    async with Processes(options.workdir / "translating-throughput") as processes:
        upstream = await processes.start_upstream()
        router = await processes.start_router(upstream, log_level="warning")
        url = router.url + CHAT_PATH
        for body in (CHAT_BODY, translated_body):
            await load.run_for(tool, url, CONNECTIONS, 1.0, body=body)
        pairs = []
        for number in range(1, rounds + 1):
            translated = await load.run_for(tool, url, CONNECTIONS, seconds, body=translated_body)
            passthrough = await load.run_for(tool, url, CONNECTIONS, seconds, body=CHAT_BODY)
            pairs.append((translated, passthrough))
            options.say(f"  round {number} translated: {translated.line()}")
            options.say(f"  round {number} passthrough: {passthrough.line()}")
    ratios = [t.rps / p.rps * 100 if p.rps else 0.0 for t, p in pairs]
    ratio = round(statistics.median(ratios), 1)
    result = BenchResult(
        numbers={
            "translated_rps_median": statistics.median(t.rps for t, _ in pairs),
            "passthrough_rps_median": statistics.median(p.rps for _, p in pairs),
            "translated_vs_passthrough_pct_per_round": [round(r, 1) for r in ratios],
            "translated_vs_passthrough_pct": ratio,
            "translated_errors": sum(t.errors for t, _ in pairs),
        }
    )
    result.targets.append(
        Target(
            "throughput.translated_vs_passthrough",
            "OpenAI client -> Anthropic upstream req/s as a share of passthrough's",
            ratio,
            50.0,
            "%",
            higher_is_better=True,
        )
    )
    return result
