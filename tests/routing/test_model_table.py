"""ModelTable: routes, model lists, aliases, pattern upstreams and fallbacks, in that order."""

from __future__ import annotations

from router.config.schema import RouteConfig
from router.routing.table import ModelTable, Target
from tests.routing.stubs import ConfiguredUpstream


def names(targets: list[Target]) -> list[tuple[str, str, str | None]]:
    return [(t.upstream.name, t.model, t.credential) for t in targets]


def test_listed_model_resolves_to_every_provider_in_config_order() -> None:
    first = ConfiguredUpstream("first", {"gpt-4o": ()})
    second = ConfiguredUpstream("second", {"gpt-4o": (), "other": ()})
    table = ModelTable([first, second], routes=[])
    assert names(table.resolve("gpt-4o")) == [("first", "gpt-4o", None), ("second", "gpt-4o", None)]
    assert names(table.resolve("other")) == [("second", "other", None)]


def test_alias_becomes_the_upstream_model_name() -> None:
    openai = ConfiguredUpstream("openai", {"gpt-4o-mini": ("fast", "cheap")})
    table = ModelTable([openai], routes=[])
    assert names(table.resolve("fast")) == [("openai", "gpt-4o-mini", None)]
    assert names(table.resolve("cheap")) == [("openai", "gpt-4o-mini", None)]


def test_unknown_model_resolves_to_nothing() -> None:
    table = ModelTable([ConfiguredUpstream("openai", {"gpt-4o": ()})], routes=[])
    assert table.resolve("gpt-5") == []


def test_first_matching_route_wins_over_model_lists() -> None:
    listed = ConfiguredUpstream("listed", {"gpt-4o": ()})
    routed = ConfiguredUpstream("routed", {})
    backup = ConfiguredUpstream("backup", {})
    routes = [
        RouteConfig(model="gpt-*", providers=("routed", "backup")),
        RouteConfig(model="gpt-4o", providers=("listed",)),
    ]
    table = ModelTable([listed, routed, backup], routes=routes)
    assert names(table.resolve("gpt-4o")) == [
        ("routed", "gpt-4o", None),
        ("backup", "gpt-4o", None),
    ]


def test_route_pins_a_credential_and_maps_aliases_of_its_providers() -> None:
    openai = ConfiguredUpstream("openai", {"gpt-4o-mini": ("fast",)}, credentials=("a", "b"))
    table = ModelTable([openai], routes=[RouteConfig(model="fast", providers=("openai/b",))])
    assert names(table.resolve("fast")) == [("openai", "gpt-4o-mini", "b")]


def test_route_naming_an_unknown_provider_skips_it() -> None:
    openai = ConfiguredUpstream("openai", {})
    table = ModelTable([openai], routes=[RouteConfig(model="m", providers=("gone", "openai"))])
    assert names(table.resolve("m")) == [("openai", "m", None)]


def test_regex_route() -> None:
    gemini = ConfiguredUpstream("gemini", {})
    table = ModelTable(
        [gemini], routes=[RouteConfig(model=r"re:gemini-\d\.\d-.*", providers=("gemini",))]
    )
    assert names(table.resolve("gemini-2.5-pro")) == [("gemini", "gemini-2.5-pro", None)]
    assert table.resolve("gemini-pro") == []


def test_pattern_upstream_serves_only_what_nothing_else_claims() -> None:
    listed = ConfiguredUpstream("listed", {"gemini-2.5-pro-aistudio": ()})
    studio = ConfiguredUpstream("aistudio", {})
    table = ModelTable([listed, studio], routes=[], patterns=[("gemini-*-aistudio", studio)])
    assert names(table.resolve("gemini-2.5-pro-aistudio")) == [
        ("listed", "gemini-2.5-pro-aistudio", None)
    ]
    assert names(table.resolve("gemini-3-pro-aistudio")) == [
        ("aistudio", "gemini-3-pro-aistudio", None)
    ]


def test_fallbacks_come_last_in_order_and_never_twice() -> None:
    anthropic = ConfiguredUpstream("anthropic", {"claude-sonnet-4-5": ()})
    ctonew = ConfiguredUpstream("ctonew", {})
    webai = ConfiguredUpstream("webai", {"claude-sonnet-4-5": ()})
    fallbacks = [
        ("claude-sonnet-*", ctonew, "claude-sonnet-4-5"),
        ("*", webai, "gpt-4o-mini"),
    ]
    table = ModelTable([anthropic, ctonew, webai], routes=[], fallbacks=fallbacks)
    assert names(table.resolve("claude-sonnet-4-5")) == [
        ("anthropic", "claude-sonnet-4-5", None),
        ("webai", "claude-sonnet-4-5", None),
        ("ctonew", "claude-sonnet-4-5", None),
    ]
    assert names(table.resolve("unknown")) == [("webai", "gpt-4o-mini", None)]


def test_model_ids_list_names_aliases_and_exact_routes_but_not_patterns() -> None:
    openai = ConfiguredUpstream("openai", {"gpt-4o-mini": ("fast",)})
    other = ConfiguredUpstream("other", {"gpt-4o-mini": ()})
    routes = [
        RouteConfig(model="house-model", providers=("other/key1",)),
        RouteConfig(model="gpt-*", providers=("openai",)),
        RouteConfig(model="re:.*", providers=("openai",)),
    ]
    table = ModelTable([openai, other], routes=routes)
    assert sorted(table.model_ids()) == [
        ("fast", "openai"),
        ("gpt-4o-mini", "openai"),
        ("house-model", "other"),
    ]


def test_model_ids_leave_out_subscriptions_nobody_logged_in_to() -> None:
    logged_out = ConfiguredUpstream("claude", {"claude-x": ()}, credentials=(), login_based=True)
    logged_in = ConfiguredUpstream("chatgpt", {"gpt-5": ()}, login_based=True)
    table = ModelTable([logged_out, logged_in], routes=[])
    assert table.model_ids() == [("gpt-5", "chatgpt")]


def test_provider_prefixed_name_pins_that_provider_with_its_aliases() -> None:
    first = ConfiguredUpstream("first", {"gpt-4o": ()})
    second = ConfiguredUpstream("second", {"gpt-4o-mini": ("fast",), "gpt-4o": ()})
    table = ModelTable([first, second], routes=[])
    assert names(table.resolve("second/gpt-4o")) == [("second", "gpt-4o", None)]
    assert names(table.resolve("second/fast")) == [("second", "gpt-4o-mini", None)]
    # an unlisted name goes to the pinned provider unchanged, as a route would send it
    assert names(table.resolve("first/o3")) == [("first", "o3", None)]


def test_pinned_name_beats_a_catch_all_route_but_not_a_literal_name() -> None:
    pinned = ConfiguredUpstream("openai", {"gpt-4o": ()})
    literal = ConfiguredUpstream("hf", {"openai/gpt-4o": ()})
    catch_all = ConfiguredUpstream("catch", {})
    routes = [RouteConfig(model="*", providers=("catch",))]
    table = ModelTable([pinned, catch_all], routes=routes)
    assert names(table.resolve("openai/gpt-4o")) == [("openai", "gpt-4o", None)]
    table = ModelTable([pinned, literal, catch_all], routes=routes)
    # a model really named with a slash is still that model
    assert names(table.resolve("openai/gpt-4o")) == [("catch", "openai/gpt-4o", None)]
    assert names(ModelTable([pinned, literal], routes=[]).resolve("openai/gpt-4o")) == [
        ("hf", "openai/gpt-4o", None)
    ]


def test_prefix_that_is_no_provider_resolves_as_before() -> None:
    table = ModelTable([ConfiguredUpstream("openai", {"gpt-4o": ()})], routes=[])
    assert table.resolve("nobody/gpt-4o") == []
    assert table.resolve("openai/") == []


def test_pattern_upstream_with_credentials_lists_the_catalog_names_it_serves() -> None:
    claude = ConfiguredUpstream("claude", {}, login_based=True)
    nobody = ConfiguredUpstream("chatgpt", {}, credentials=(), login_based=True)
    table = ModelTable(
        [claude, nobody], routes=[], patterns=[("claude-*", claude), ("gpt-5*", nobody)]
    )
    listed = dict(table.model_ids())
    assert listed["claude-sonnet-4-5"] == "claude" and listed["claude-haiku-4-5"] == "claude"
    assert all(name.startswith("claude-") for name in listed)


def test_rule_targets_are_listed_when_they_resolve() -> None:
    openai = ConfiguredUpstream("openai", {"gpt-4o-mini": ("fast",)})
    table = ModelTable([openai], routes=[RouteConfig(model="cheap-*", providers=("openai",))])
    listed = dict(table.model_ids(["cheap-background", "fast", "not-served"]))
    assert listed["cheap-background"] == "openai"
    assert "not-served" not in listed
    assert list(listed).count("fast") == 1
