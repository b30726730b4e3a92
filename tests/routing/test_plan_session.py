"""A request names its conversation only when a sticky credential could change the order."""

from __future__ import annotations

from router.config.rules import StickyConfig
from router.formats import Format
from router.routing.plan import plan_route
from router.routing.rules import RequestFacts, Rules
from router.routing.sticky import StickySessions
from router.routing.table import ModelTable
from tests.routing.stubs import ConfiguredUpstream

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def _facts() -> RequestFacts:
    def decode() -> object:
        raise AssertionError("no rule looks into the request")

    return RequestFacts(Format.OPENAI_CHAT, "m", BODY, decode)  # type: ignore[arg-type]


def test_one_credential_per_target_skips_the_session_unless_explaining() -> None:
    table = ModelTable([ConfiguredUpstream("a", {"m": ()}), ConfiguredUpstream("b", {"m": ()})], [])
    sticky = StickySessions(StickyConfig())
    assert plan_route(_facts(), table, Rules([]), sticky).session is None
    explained = plan_route(_facts(), table, Rules([]), sticky, always_session=True)
    assert explained.session is not None and explained.session.key.startswith("p:")


def test_a_choice_of_credentials_names_the_session() -> None:
    table = ModelTable([ConfiguredUpstream("a", {"m": ()}, credentials=("k1", "k2"))], [])
    plan = plan_route(_facts(), table, Rules([]), StickySessions(StickyConfig()))
    assert plan.session is not None


def test_resolution_is_remembered_and_handed_out_as_a_fresh_list() -> None:
    table = ModelTable([ConfiguredUpstream("a", {"m": ("alias",)})], [])
    first = table.resolve("alias")
    first.clear()
    assert [(t.upstream.name, t.model) for t in table.resolve("alias")] == [("a", "m")]
