"""Fake ChatGPT Codex backend: ``POST /backend-api/codex/responses``.

Strict like the real one: a Bearer access token it issued, the ``chatgpt-account-id`` of
that token's account, ``originator``, ``OpenAI-Beta: responses=experimental`` and a
``session_id`` header; a body with ``instructions``, ``stream: true``, ``store: false``,
``input`` as a list, none of the parameters the backend refuses and tool names of at most
64 characters. It always answers with a Responses event stream (the OpenAI fake's event
generation), or an error in the OpenAI shape.

Behaviours beyond the shared ones: ``CutStream`` ends the stream cleanly but before
``response.completed``; ``usage_limit(seconds)`` is the 429 a subscription that used up
its quota gets. Run standalone with
`python -m tests.fakes.codex --port 0 --print-port [--key TOKEN ...]`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import (
    ApiError,
    FakeServer,
    Handler,
    RecordedRequest,
    Renderer,
    StreamPlan,
    run_standalone,
)
from tests.fakes.behaviours import Reply, Status, Stream
from tests.fakes.openai import (
    RESPONSES_FIELDS,
    check_fields,
    check_responses_input,
    check_tools,
    invalid,
    openai_error,
    responses_render,
    status_response,
)

PATH = "/backend-api/codex/responses"
DEFAULT_ACCOUNT = "acct-test-0001"
OPENAI_BETA = "responses=experimental"
REFUSED_PARAMETERS = (
    "max_output_tokens",
    "temperature",
    "top_p",
    "service_tier",
    "previous_response_id",
)


@dataclass(frozen=True)
class CutStream:
    """Stream `after_chunks` content deltas of `reply`, then end the body cleanly without
    the terminal ``response.completed`` event (what a dropped backend stream looks like)."""

    after_chunks: int = 1
    reply: Reply = field(default_factory=Stream)


def usage_limit(resets_in_seconds: int, plan_type: str = "plus") -> Status:
    """The 429 a ChatGPT account gets once its plan's usage limit is reached."""
    return Status(
        429,
        body={
            "error": {
                "type": "usage_limit_reached",
                "message": "The usage limit has been reached",
                "plan_type": plan_type,
                "resets_at": int(time.time()) + resets_in_seconds,
                "resets_in_seconds": resets_in_seconds,
            }
        },
    )


class CodexFake(FakeServer):
    """The Codex backend of ChatGPT subscriptions.

    ``tokens`` maps each valid access token to its ChatGPT account id. ``expire(token)``
    makes a token answer 401 from then on; ``grant(token, account)`` accepts a new one.
    """

    default_keys = ("codex-access-token-1",)

    def __init__(
        self,
        keys: Iterable[str] | None = None,
        *,
        tokens: Mapping[str, str] | None = None,
        record: bool = True,
    ) -> None:
        accounts = dict(tokens) if tokens is not None else {}
        if keys is not None:
            accounts.update({key: DEFAULT_ACCOUNT for key in keys})
        if not accounts:
            accounts = {key: DEFAULT_ACCOUNT for key in self.default_keys}
        super().__init__(list(accounts), record=record)
        self.accounts = accounts
        self.expired: set[str] = set()

    @property
    def account_id(self) -> str:
        """The account of the first token, the one tests normally send."""
        return self.accounts[self.key]

    @property
    def backend_url(self) -> str:
        """What a client configures as the Codex backend (``.../backend-api/codex``)."""
        return self.base_url + PATH.rsplit("/", 1)[0]

    def expire(self, token: str) -> None:
        self.expired.add(token)

    def grant(self, token: str, account_id: str = DEFAULT_ACCOUNT) -> None:
        self.accounts[token] = account_id
        if token not in self.keys:
            self.keys.append(token)

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [("POST", PATH, self.responses)]

    def authenticate(self, request: web.Request) -> str:
        """The account id the request's token belongs to."""
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        if not token:
            raise ApiError(
                openai_error(
                    401, "Missing bearer authentication in header", code="missing_authorization"
                )
            )
        if token in self.expired:
            raise ApiError(
                openai_error(
                    401,
                    "Provided authentication token is expired. Please try signing in again.",
                    code="token_expired",
                )
            )
        if token not in self.accounts or token not in self.keys:
            raise ApiError(
                openai_error(
                    401,
                    "Could not validate your token. Please try signing in again.",
                    code="invalid_token",
                )
            )
        return self.accounts[token]

    def check_headers(self, request: web.Request, account_id: str) -> None:
        sent_account = request.headers.get("chatgpt-account-id")
        if not sent_account:
            raise invalid("Missing chatgpt-account-id header", code="missing_account_id")
        if sent_account != account_id:
            raise ApiError(
                openai_error(
                    403,
                    "The chatgpt-account-id header does not match this token's account.",
                    "permission_error",
                    code="account_mismatch",
                )
            )
        if not request.headers.get("originator"):
            raise invalid("Missing originator header", code="missing_originator")
        if request.headers.get("OpenAI-Beta") != OPENAI_BETA:
            raise invalid(f"OpenAI-Beta must be {OPENAI_BETA!r}", code="invalid_beta_header")
        if not request.headers.get("session_id"):
            raise invalid("Missing session_id header", code="missing_session_id")

    def check_body(self, raw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        body = check_fields(raw, RESPONSES_FIELDS, chat=False)
        for name in REFUSED_PARAMETERS:
            if name in body:
                raise invalid(f"Unsupported parameter: {name}", name, "unsupported_parameter")
        instructions = body.get("instructions")
        if not isinstance(instructions, str) or not instructions.strip():
            raise invalid("Instructions are required", "instructions", "missing_instructions")
        if body.get("stream") is not True:
            raise invalid("Stream must be set to true", "stream")
        if body.get("store") is not False:
            raise invalid("Store must be set to false", "store")
        if not isinstance(body.get("input"), list):
            raise invalid("Input must be a list", "input")
        check_tools(body.get("tools"), chat=False)
        items = check_responses_input(body, {})
        for i, item in enumerate(items):
            # Messages only: the additional_tools item Codex sends this backend for its
            # Responses-Lite models (tests/clients/corpus/codex-lite) is role developer.
            is_message = item.get("type", "message") == "message"
            if is_message and item.get("role") in ("system", "developer"):
                raise invalid("System messages are not allowed", f"input[{i}].role")
            if item.get("type") == "item_reference":
                raise invalid(
                    f"Item with id '{item.get('id')}' not found. Items are not persisted "
                    "when `store` is set to false.",
                    f"input[{i}]",
                )
        return body, items

    async def responses(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        account_id = self.authenticate(request)
        self.check_headers(request, account_id)
        body, items = self.check_body(record.json)
        state = responses_render(body, items, lambda _response: None)
        render = Renderer(stream=True, body=state.final, plan=state.plan, error=status_response)
        behaviour = self.next_behaviour(record)
        if isinstance(behaviour, CutStream):
            record.behaviour = behaviour.reply
            plan = cut_before_completion(state.plan(behaviour.reply), behaviour.after_chunks)
            return await self.send_stream(
                request, record, plan, behaviour.reply, behaviour.reply.interval
            )
        return await self.perform(request, record, behaviour, render)


def cut_before_completion(plan: StreamPlan, after_chunks: int) -> StreamPlan:
    """The first events of `plan`, up to and including `after_chunks` content deltas
    (everything but the terminal event when the reply has fewer deltas)."""
    kept = []
    content = 0
    for event in plan.events[:-1]:
        if event.content:
            if content == after_chunks:
                break
            content += 1
        kept.append(event)
    return StreamPlan(kept, content_type=plan.content_type)


def main() -> None:
    run_standalone(lambda keys: CodexFake(keys))


if __name__ == "__main__":
    main()
