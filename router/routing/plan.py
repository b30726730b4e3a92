"""Where a request goes, before anything is sent: rule, targets, and the sticky credential.

Shared by the generation path (router/generation/pipeline.py) and ``route explain``, so the
explanation is the decision the router would make.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.config.rules import RuleOverrides
from router.routing.rules import RequestFacts, Rules
from router.routing.selector import Candidate, Pin, Selector
from router.routing.sticky import Session, StickySessions, session_of
from router.routing.table import ModelTable, Target


@dataclass(frozen=True)
class RoutePlan:
    """``model`` is what resolves: the rule's target, else the client's model."""

    model: str
    targets: list[Target]
    rule: str | None = None
    overrides: RuleOverrides | None = None
    session: Session | None = None
    pin: Pin | None = None


def plan_route(
    facts: RequestFacts,
    table: ModelTable,
    rules: Rules,
    sticky: StickySessions,
    *,
    always_session: bool = False,
) -> RoutePlan:
    """``always_session``: name the conversation even when no target has a choice of
    credentials (``route explain`` shows it); a request then skips the work."""
    decision = rules.decide(facts) if rules else None
    model = decision.model if decision else facts.model
    targets = table.resolve(model)
    session = (
        session_of(facts.client_format, facts.body, facts.headers)
        if sticky.config.enabled and (always_session or _credentials_to_choose(targets))
        else None
    )
    return RoutePlan(
        model=model,
        targets=targets,
        rule=decision.rule if decision else None,
        overrides=decision.overrides if decision and decision.overrides.any() else None,
        session=session,
        pin=sticky.get(model, session),
    )


def _credentials_to_choose(targets: list[Target]) -> bool:
    """Whether a sticky credential could change the order: a pin only moves a credential
    ahead of the others of its own target, so with one credential per target it is moot."""
    return any(len(target.upstream.credentials) > 1 for target in targets)


@dataclass(frozen=True)
class ExplainedCandidate:
    candidate: Candidate
    cooling_s: float


def explain_candidates(plan: RoutePlan, selector: Selector) -> list[ExplainedCandidate]:
    """Every candidate in the order failover would try them, cooling ones included."""
    explained: list[ExplainedCandidate] = []
    order: list[Candidate] = []
    for target in plan.targets:
        pinned = selector.pinned_candidate([target], plan.pin) if plan.pin else None
        if pinned is not None:
            order.append(pinned)
        for credential in selector.credentials_for(target, advance=False):
            candidate = Candidate(target.upstream, credential, target.model)
            if not any(_same(candidate, seen) for seen in order):
                order.append(candidate)
    for candidate in order:
        rest = selector.cooldowns.remaining(
            candidate.upstream.name, candidate.credential.name, candidate.model
        )
        explained.append(ExplainedCandidate(candidate, rest))
    return explained


def _same(a: Candidate, b: Candidate) -> bool:
    return (a.upstream.name, a.credential.name, a.model) == (
        b.upstream.name,
        b.credential.name,
        b.model,
    )
