"""The shared path of every generation request: resolve, fail over, answer.

A handler decodes what is specific to its API (model, stream flag, Gemini's SSE mode)
into a ``Generation`` and calls ``proxy_generation``. When the chosen upstream speaks the
client's format the request takes the passthrough path (only the model name changes and
the upstream's bytes are forwarded as they come); otherwise it is translated through the
formats layer's IR, in both directions and in streams.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from router.config.rules import RuleOverrides
from router.context import context
from router.errors import ErrorKind, ProxyError
from router.formats import Format, FormatError, Request, TranslationContext, get_codec
from router.formats.errors import kind_for_status
from router.generation import cached
from router.generation.codec_guard import TranslatingClientRequest
from router.generation.first_event import first_chunk_problem
from router.generation.model_splice import splice_model
from router.generation.passthrough import Passthrough, usage_fields
from router.generation.rate_limit_headers import rate_limit_headers, with_headers
from router.generation.streaming import StreamTransform, forward_stream
from router.generation.translate import TranslatingStream, usage_log_fields
from router.jsonio import dumps, loads
from router.routing.failover import Opened, upstream_message
from router.routing.plan import RoutePlan, plan_route
from router.routing.rules import RequestFacts, apply_overrides
from router.routing.selector import Candidate
from router.runtime import Runtime
from router.upstreams.base import UpstreamCall
from router.usage.observer import check_key_model

DROPPED_HEADER = "X-Cliproxy-Dropped"
_DROPPED_HEADER_MAX = 1024
_UNSAFE_HEADER_CHARS = re.compile(r"[^\x21-\x7e]")

# Client headers that carry meaning to an upstream of the same family.
_FORWARDED_HEADERS: dict[str, tuple[str, ...]] = {
    Format.ANTHROPIC: ("anthropic-beta", "anthropic-version")
}
# ... and those that describe the body's shape, so they hold only for the client's own
# bytes: Codex's Responses-Lite header says its tools are in an additional_tools item.
_PASSTHROUGH_HEADERS: dict[str, tuple[str, ...]] = {
    Format.OPENAI_RESPONSES: ("x-openai-internal-codex-responses-lite",)
}


@dataclass
class Generation:
    """One client generation request, as its handler understood it."""

    client_format: Format
    body: dict[str, Any]
    model: str
    stream: bool
    client_headers: Mapping[str, str] = field(default_factory=dict)
    sse: bool = True
    raw: bytes = b""


def unknown_model(model: str) -> ProxyError:
    return ProxyError(
        404,
        f"model {model!r} is not configured: add it to a provider's 'models' list or to a "
        "'routes' entry in config.yaml (GET /v1/models lists the models available)",
        ErrorKind.NOT_FOUND,
        param="model",
    )


class CallBuilder:
    """Builds each candidate's upstream body: passthrough, or translated through the IR."""

    def __init__(self, gen: Generation, request_id: str, *, strict: bool = False) -> None:
        self.gen = gen
        self.request_id = request_id
        self.ctx = TranslationContext(
            client_model=gen.model, request_id=request_id, sse=gen.sse, strict=strict
        )
        self._ir: Request | None = None
        # A rule's parameter changes: they live in the IR, so the request is re-encoded
        # even for an upstream of the client's own format.
        self.overrides: RuleOverrides | None = None

    def passthrough(self, upstream_format: str) -> bool:
        gen = self.gen
        if upstream_format != gen.client_format or self.overrides is not None:
            return False
        return gen.sse or not gen.stream

    def ir(self) -> Request:
        """The decoded client request (decoded once, shared by rules and encoders)."""
        if self._ir is None:
            with TranslatingClientRequest("decode", self.request_id):
                self._ir = get_codec(self.gen.client_format).decode_request(self.gen.body)
        return self._ir

    def encodable_ir(self) -> Request:
        request = self.ir()
        return apply_overrides(request, self.overrides) if self.overrides else request

    def _passthrough_body(self, fmt: str, model: str) -> bytes:
        """The client's own bytes when nothing changes (Gemini keeps the model in the URL);
        for another model name, the same bytes with only the top-level model replaced."""
        gen = self.gen
        if gen.raw and (fmt == Format.GEMINI or model == gen.model):
            return gen.raw
        if fmt == Format.GEMINI:
            return dumps(gen.body)
        if gen.raw and gen.body.get("model") == gen.model:
            spliced = splice_model(gen.raw, gen.model, model)
            if spliced is not None:
                return spliced
        return dumps({**gen.body, "model": model})

    def first_chunk_problem(self, candidate: Candidate, chunk: bytes) -> str | None:
        fmt = Format(candidate.upstream.wire_format)
        return first_chunk_problem(chunk, fmt, self.passthrough(fmt), self.ctx)

    def __call__(self, candidate: Candidate) -> UpstreamCall:
        fmt = candidate.upstream.wire_format
        self.ctx.dropped.clear()  # what this candidate's format drops, not an earlier one's
        self.ctx.merge_system = candidate.upstream.merge_system
        passthrough = self.passthrough(fmt)
        if passthrough:
            payload = self._passthrough_body(fmt, candidate.model)
        else:
            request = self.encodable_ir()
            if (request.model, request.stream) != (candidate.model, self.gen.stream):
                # A copy: the decoded request is shared by every candidate (4 us, skipped
                # when the client's model and stream flag are what this candidate gets).
                request = dataclasses.replace(
                    request, model=candidate.model, stream=self.gen.stream
                )
            with TranslatingClientRequest(f"encode for {fmt}", self.request_id):
                payload = dumps(get_codec(fmt).encode_request(request, self.ctx))
        return UpstreamCall(
            credential=candidate.credential,
            model=candidate.model,
            body=payload,
            stream=self.gen.stream,
            request_id=self.request_id,
            headers=self._forwarded_headers(fmt, passthrough),
        )

    def _forwarded_headers(self, fmt: str, passthrough: bool) -> dict[str, str]:
        """The client's headers an upstream of its own format is sent."""
        if fmt != self.gen.client_format:
            return {}
        names = _FORWARDED_HEADERS.get(fmt, ())
        if passthrough:
            names += _PASSTHROUGH_HEADERS.get(fmt, ())
        sent = self.gen.client_headers
        return {name: sent[name] for name in names if name in sent}


async def proxy_generation(
    request: web.Request, runtime: Runtime, gen: Generation
) -> web.StreamResponse:
    ctx = context(request)
    ctx.log.update(model=gen.model, stream=gen.stream, format=gen.client_format.value)
    check_key_model(ctx, gen.model)
    build = CallBuilder(gen, ctx.request_id, strict=runtime.config.translation.strict)
    plan = _plan(request, runtime, gen, build)
    cache = cached.open_session(runtime.response_cache, plan, build.ir, ctx.log)
    opened = await runtime.failover.open(
        plan.targets,
        build,
        stream=gen.stream,
        request_id=ctx.request_id,
        check_first=build.first_chunk_problem,
        pin=plan.pin,
        cache=cache,
    )
    _note_upstream(request, opened)
    if 200 <= opened.reply.status < 300 and not (cache and cache.hit):
        chosen = opened.candidate
        runtime.sticky.remember(
            plan.model, plan.session, chosen.upstream.name, chosen.credential.name
        )
    upstream_format = Format(opened.candidate.upstream.wire_format)
    passthrough = build.passthrough(upstream_format)
    extra_headers = rate_limit_headers(opened.reply.headers, upstream_format, gen.client_format)
    extra_headers.update(_dropped_fields(ctx.log, build.ctx.dropped))
    if cache is not None:
        extra_headers.update(cached.looked_up(cache, ctx.log))
    if opened.reply.status >= 300:
        if cache is not None:
            cached.finished(cache, opened, ctx.log, False, "error")
        return with_headers(_upstream_error(gen.client_format, opened, passthrough), extra_headers)
    if not gen.stream:
        answer = _whole_answer(request, gen, opened, build, upstream_format, passthrough)
        if cache is not None:
            cached.finished(cache, opened, ctx.log, True)
        return with_headers(answer, extra_headers)
    transform: StreamTransform = (
        Passthrough(gen.client_format, opened.candidate.upstream.name)
        if passthrough
        else TranslatingStream(
            upstream_format, gen.client_format, build.ctx, runtime.failover.answer_limit
        )
    )
    content_type = (
        "text/event-stream; charset=utf-8" if gen.sse else "application/json; charset=utf-8"
    )
    response, outcome = await forward_stream(
        request,
        opened,
        transform,
        keepalive=runtime.config.streaming.keepalive_interval,
        headers={"X-Request-Id": ctx.request_id, "Content-Type": content_type, **extra_headers},
        keepalive_comments=gen.sse,
    )
    ctx.log.update(transform.usage)
    ctx.log.update(chunks=outcome.chunks, stream_error=outcome.error)
    if outcome.client_gone:
        ctx.log["client_gone"] = True
    if outcome.upstream_died:
        runtime.failover.stream_died(opened.candidate, str(outcome.error), ctx.request_id)
    if cache is not None:
        whole = outcome.error is None and not outcome.client_gone
        cached.finished(cache, opened, ctx.log, whole, outcome.error or "client_gone")
    return response


def _plan(request: web.Request, runtime: Runtime, gen: Generation, build: CallBuilder) -> RoutePlan:
    """Rules, model table and sticky session: where this request may go, in order."""
    ctx = context(request)
    key = ctx.log.get("key")
    facts = RequestFacts(
        gen.client_format,
        gen.model,
        gen.body,
        build.ir,
        headers=request.headers,
        client_key=key if isinstance(key, str) else None,
        raw=gen.raw,
    )
    plan = plan_route(facts, runtime.table, runtime.rules, runtime.sticky)
    if plan.rule is not None:
        ctx.log.update(rule=plan.rule, routed_model=plan.model)
    if plan.pin is not None:
        ctx.log["sticky"] = True
    build.overrides = plan.overrides
    if not plan.targets:
        raise unknown_model(plan.model)
    return plan


def _whole_answer(
    request: web.Request,
    gen: Generation,
    opened: Opened,
    build: CallBuilder,
    upstream_format: Format,
    passthrough: bool,
) -> web.Response:
    log = context(request).log
    if passthrough:
        log.update(usage_fields(upstream_format, opened.payload))
        return web.Response(body=opened.body, content_type="application/json")
    try:
        answer = get_codec(upstream_format).decode_response(opened.payload, build.ctx)
        body = get_codec(gen.client_format).encode_response(answer, build.ctx)
    except Exception as exc:
        detail = f": {exc.message}" if isinstance(exc, FormatError) else ""
        raise ProxyError(
            502,
            f"upstream {opened.candidate.upstream.name} answered in an unexpected shape{detail}",
            ErrorKind.API_ERROR,
        ) from None
    log.update(usage_log_fields(answer.usage))
    return web.Response(body=dumps(body), content_type="application/json")


def _dropped_fields(log: dict[str, Any], dropped: list[str]) -> dict[str, str]:
    """Name what the upstream's format could not carry: a log field and a response header.

    Names are the client's own field paths; anything outside printable ASCII (an unknown
    field can be named anything) is replaced, so the header can never be split.
    """
    if not dropped:
        return {}
    names = ", ".join(_UNSAFE_HEADER_CHARS.sub("?", name) for name in dropped)
    if len(names) > _DROPPED_HEADER_MAX:
        names = names[: _DROPPED_HEADER_MAX - 3] + "..."
    log["dropped"] = names.replace(" ", "")
    return {DROPPED_HEADER: names}


def _note_upstream(request: web.Request, opened: Opened) -> None:
    ctx = context(request)
    ctx.log.update(
        provider=opened.candidate.upstream.name,
        credential=opened.candidate.credential.name,
        upstream_model=opened.candidate.model,
        attempts=opened.attempts,
        upstream_status=opened.reply.status,
        ttfb_ms=round((opened.first_byte_at - ctx.started) * 1000, 1),
    )


def _upstream_error(client_format: Format, opened: Opened, passthrough: bool) -> web.Response:
    """A non-retryable upstream error (a 4xx about the request itself), passed on."""
    status = opened.reply.status
    if passthrough:
        try:
            loads(opened.body)
            return web.Response(status=status, body=opened.body, content_type="application/json")
        except ValueError:
            pass
    detail = upstream_message(opened.body) or (
        ": " + opened.body[:300].decode("utf-8", "replace") if opened.body else ""
    )
    message = f"upstream {opened.candidate.upstream.name} rejected the request{detail}"
    body = get_codec(client_format).encode_error(status, message, kind_for_status(status))
    return web.Response(status=status, body=dumps(body), content_type="application/json")
