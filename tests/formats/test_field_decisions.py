"""Per-field translation decisions: every client field is carried to the targets that can
express it, dropped when the answer stays right without it (and then named in
TranslationContext.dropped), or answered with an error that names the client's field and
the target format -- never dropped in silence. A strict context rejects every drop but
the hints."""

from __future__ import annotations

import pytest
from fmt_helpers import ctx

from router.formats import Format, FormatError, TranslationContext, UnsupportedFeature, get_codec
from router.formats.features import FORMAT_LABEL

CHAT = get_codec(Format.OPENAI_CHAT)
RESP = get_codec(Format.OPENAI_RESPONSES)
ANTH = get_codec(Format.ANTHROPIC)
GEM = get_codec(Format.GEMINI)
CODECS = {
    Format.OPENAI_CHAT: CHAT,
    Format.OPENAI_RESPONSES: RESP,
    Format.ANTHROPIC: ANTH,
    Format.GEMINI: GEM,
}


def chat(**fields: object) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}


def responses(**fields: object) -> dict:
    return {"model": "m", "input": "hi", **fields}


def anthropic(**fields: object) -> dict:
    return {
        "model": "m",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
        **fields,
    }


def gemini(generation: dict | None = None, **fields: object) -> dict:
    body: dict = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], **fields}
    if generation is not None:
        body["generationConfig"] = generation
    return body


CLIENT_BODY = {
    Format.OPENAI_CHAT: chat,
    Format.OPENAI_RESPONSES: responses,
    Format.ANTHROPIC: anthropic,
}


def translate(
    client: Format, body: dict, target: Format, strict: bool = False
) -> tuple[dict, TranslationContext]:
    """The upstream body and the context (whose `dropped` names what was left out)."""
    req = CODECS[client].decode_request(body)
    req.model = "upstream-model"
    context = ctx()
    context.strict = strict
    return CODECS[target].encode_request(req, context), context


def encode(client: Format, body: dict, target: Format) -> dict:
    return translate(client, body, target)[0]


def rejected(client: Format, body: dict, target: Format, strict: bool = False) -> str:
    with pytest.raises(UnsupportedFeature) as info:
        translate(client, body, target, strict)
    message = info.value.message
    assert FORMAT_LABEL[target] in message
    return message


# ---- carried through the IR --------------------------------------------------------------


def test_seed_and_penalties_go_between_chat_and_gemini() -> None:
    body = encode(
        Format.OPENAI_CHAT,
        chat(seed=7, presence_penalty=0.5, frequency_penalty=-0.25),
        Format.GEMINI,
    )
    assert body["generationConfig"] == {
        "seed": 7,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.25,
    }
    back = encode(
        Format.GEMINI,
        gemini({"seed": 3, "presencePenalty": 0.1, "frequencyPenalty": 0.2}),
        Format.OPENAI_CHAT,
    )
    assert (back["seed"], back["presence_penalty"], back["frequency_penalty"]) == (3, 0.1, 0.2)


def test_top_k_goes_between_anthropic_and_gemini() -> None:
    assert encode(Format.ANTHROPIC, anthropic(top_k=5), Format.GEMINI)["generationConfig"] == {
        "maxOutputTokens": 100,
        "topK": 5,
    }
    # google-genai sends topK as a float (40.0); Anthropic wants an integer.
    assert encode(Format.GEMINI, gemini({"topK": 40.0}), Format.ANTHROPIC)["top_k"] == 40


@pytest.mark.parametrize(
    ("client", "body"),
    [
        (Format.OPENAI_CHAT, chat(user="u-1")),
        (Format.OPENAI_CHAT, chat(safety_identifier="u-1")),
        (Format.OPENAI_RESPONSES, responses(safety_identifier="u-1")),
        (Format.OPENAI_RESPONSES, responses(user="u-1")),
        (Format.ANTHROPIC, anthropic(metadata={"user_id": "u-1"})),
    ],
)
def test_end_user_id_reaches_every_target_that_has_one(client: Format, body: dict) -> None:
    targets = {
        Format.OPENAI_CHAT: lambda b: b["user"],
        Format.OPENAI_RESPONSES: lambda b: b["safety_identifier"],
        Format.ANTHROPIC: lambda b: b["metadata"]["user_id"],
    }
    for target, read in targets.items():
        if target is not client:
            assert read(encode(client, body, target)) == "u-1"
    gemini_body = encode(client, body, Format.GEMINI)
    assert "u-1" not in str(gemini_body)


def test_verbosity_goes_between_chat_and_responses_and_is_a_hint_elsewhere() -> None:
    body = encode(Format.OPENAI_CHAT, chat(verbosity="low"), Format.OPENAI_RESPONSES)
    assert body["text"] == {"verbosity": "low"}
    text = {"verbosity": "high", "format": {"type": "json_object"}}
    back = encode(Format.OPENAI_RESPONSES, responses(text=text), Format.OPENAI_CHAT)
    assert back["verbosity"] == "high"
    assert back["response_format"] == {"type": "json_object"}
    assert "verbosity" not in encode(Format.OPENAI_CHAT, chat(verbosity="low"), Format.ANTHROPIC)


def test_logit_bias_goes_to_chat_only() -> None:
    body = responses()
    req = RESP.decode_request(body)
    req.logit_bias = {"50256": -100}
    assert CHAT.encode_request(req, ctx())["logit_bias"] == {"50256": -100}
    sent, context = translate(Format.OPENAI_CHAT, chat(logit_bias={"50256": -100}), Format.GEMINI)
    assert "logit_bias" not in str(sent)
    assert context.dropped == ["logit_bias"]
    strict = rejected(Format.OPENAI_CHAT, chat(logit_bias={"50256": -100}), Format.GEMINI, True)
    assert strict.startswith("logit_bias:")


def test_image_detail_goes_between_openai_formats_and_is_a_hint_elsewhere() -> None:
    image = {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}
    body = chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": image}]}])
    sent = encode(Format.OPENAI_CHAT, body, Format.OPENAI_RESPONSES)
    assert sent["input"][0]["content"] == [
        {"type": "input_image", "image_url": image["url"], "detail": "low"}
    ]
    item = {"role": "user", "content": [{"type": "input_image", "image_url": image["url"]}]}
    back = encode(Format.OPENAI_RESPONSES, responses(input=[item]), Format.OPENAI_CHAT)
    assert back["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": image["url"]}}
    ]
    anthropic_block = encode(Format.OPENAI_CHAT, body, Format.ANTHROPIC)["messages"][0]["content"]
    assert anthropic_block == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        }
    ]


def test_legacy_functions_become_tools_and_pair_with_their_results() -> None:
    body = chat(
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            },
            {"role": "function", "name": "get_weather", "content": "sunny"},
        ],
        functions=[{"name": "get_weather", "parameters": {"type": "object", "properties": {}}}],
        function_call={"name": "get_weather"},
    )
    sent = encode(Format.OPENAI_CHAT, body, Format.ANTHROPIC)
    assert [t["name"] for t in sent["tools"]] == ["get_weather"]
    assert sent["tool_choice"] == {"type": "tool", "name": "get_weather"}
    use = sent["messages"][1]["content"][0]
    result = sent["messages"][2]["content"][0]
    assert use["type"] == "tool_use" and result["type"] == "tool_result"
    assert result["tool_use_id"] == use["id"]


def test_google_genai_snake_case_parts_decode() -> None:
    body = {
        "contents": [
            {
                "role": "user",
                # google-genai's bytes: URL-safe base64, which Gemini accepts.
                "parts": [{"inline_data": {"mime_type": "image/png", "data": "iVBO_w-KGgo"}}],
            }
        ],
        "system_instruction": {"parts": [{"text": "be brief"}]},
        "generation_config": {"max_output_tokens": 50, "thinking_config": {"thinking_budget": 0}},
    }
    sent = encode(Format.GEMINI, body, Format.OPENAI_CHAT)
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent["messages"][1]["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO/w+KGgo="}}
    ]
    assert sent["max_completion_tokens"] == 50
    assert sent["reasoning_effort"] == "none"


SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("client", "body"),
    [
        (
            Format.OPENAI_CHAT,
            chat(
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "w", "schema": SCHEMA, "strict": True},
                }
            ),
        ),
        (
            Format.OPENAI_RESPONSES,
            responses(text={"format": {"type": "json_schema", "name": "w", "schema": SCHEMA}}),
        ),
        (
            Format.GEMINI,
            gemini({"responseMimeType": "application/json", "responseJsonSchema": SCHEMA}),
        ),
    ],
)
def test_json_schema_output_to_anthropic_uses_output_config(client: Format, body: dict) -> None:
    sent = encode(client, body, Format.ANTHROPIC)
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert "system" not in sent


def test_anthropic_output_config_reaches_the_other_formats() -> None:
    body = anthropic(output_config={"format": {"type": "json_schema", "schema": SCHEMA}})
    chat_body = encode(Format.ANTHROPIC, body, Format.OPENAI_CHAT)
    assert chat_body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": SCHEMA},
    }
    responses_body = encode(Format.ANTHROPIC, body, Format.OPENAI_RESPONSES)
    assert responses_body["text"]["format"]["schema"] == SCHEMA
    gemini_config = encode(Format.ANTHROPIC, body, Format.GEMINI)["generationConfig"]
    assert gemini_config["responseMimeType"] == "application/json"
    assert gemini_config["responseSchema"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    effort = anthropic(output_config={"effort": "max"})
    assert encode(Format.ANTHROPIC, effort, Format.OPENAI_CHAT)["reasoning_effort"] == "xhigh"


# ---- not expressible by the target: dropped and named, or a 400 naming the field ---------

SAMPLING_HINTS = [
    (Format.OPENAI_CHAT, chat(seed=1), Format.ANTHROPIC, "seed"),
    (Format.OPENAI_CHAT, chat(seed=0), Format.OPENAI_RESPONSES, "seed"),
    (Format.OPENAI_CHAT, chat(presence_penalty=0.5), Format.ANTHROPIC, "presence_penalty"),
    (
        Format.OPENAI_CHAT,
        chat(frequency_penalty=1),
        Format.OPENAI_RESPONSES,
        "frequency_penalty",
    ),
    (Format.ANTHROPIC, anthropic(top_k=3), Format.OPENAI_CHAT, "top_k"),
    (Format.ANTHROPIC, anthropic(top_k=3), Format.OPENAI_RESPONSES, "top_k"),
    (Format.GEMINI, gemini({"topK": 3}), Format.OPENAI_CHAT, "generationConfig.topK"),
    (Format.GEMINI, gemini({"seed": 9}), Format.ANTHROPIC, "generationConfig.seed"),
    (
        Format.GEMINI,
        gemini({"presencePenalty": 0.3}),
        Format.OPENAI_RESPONSES,
        "generationConfig.presencePenalty",
    ),
]


@pytest.mark.parametrize(("client", "body", "target", "field"), SAMPLING_HINTS)
def test_sampling_hint_the_target_lacks_is_dropped_and_named(
    client: Format, body: dict, target: Format, field: str
) -> None:
    sent, context = translate(client, body, target)
    leaf = field.rsplit(".", 1)[-1]
    assert leaf not in str(sent) and leaf.lower() not in str(sent)
    assert context.dropped == [field]


@pytest.mark.parametrize(("client", "body", "target", "field"), SAMPLING_HINTS)
def test_sampling_hint_the_target_lacks_is_a_400_when_strict(
    client: Format, body: dict, target: Format, field: str
) -> None:
    assert rejected(client, body, target, strict=True).startswith(f"{field}: ")


def test_gemini_cli_top_k_reaches_openai_targets_as_a_drop() -> None:
    """Gemini CLI sends topK on every request; OpenAI formats have no top-k."""
    body = gemini({"temperature": 0.5, "topK": 64, "topP": 0.95})
    for target in (Format.OPENAI_CHAT, Format.OPENAI_RESPONSES):
        sent, context = translate(Format.GEMINI, body, target)
        assert (sent["temperature"], sent["top_p"]) == (0.5, 0.95)
        assert context.dropped == ["generationConfig.topK"]
    assert translate(Format.GEMINI, body, Format.ANTHROPIC)[0]["top_k"] == 64


@pytest.mark.parametrize("strict", [False, True])
def test_stop_sequences_to_responses_stay_a_400(strict: bool) -> None:
    """The answer would run past the stop sequence: meaning is at stake."""
    message = rejected(
        Format.ANTHROPIC, anthropic(stop_sequences=["X"]), Format.OPENAI_RESPONSES, strict
    )
    assert message.startswith("stop_sequences: ")


@pytest.mark.parametrize("target", [Format.OPENAI_CHAT, Format.ANTHROPIC, Format.GEMINI])
def test_previous_response_id_without_a_responses_upstream_is_a_400(target: Format) -> None:
    message = rejected(Format.OPENAI_RESPONSES, responses(previous_response_id="resp_abc"), target)
    assert message.startswith("previous_response_id: ")
    assert "no conversation store" in message
    assert (
        encode(
            Format.OPENAI_RESPONSES,
            responses(previous_response_id="resp_abc"),
            Format.OPENAI_RESPONSES,
        )["previous_response_id"]
        == "resp_abc"
    )


UNTRANSLATABLE = [
    (Format.OPENAI_CHAT, chat(n=2), "n"),
    (Format.OPENAI_CHAT, chat(logprobs=True), "logprobs"),
    (Format.OPENAI_CHAT, chat(top_logprobs=3), "logprobs"),
    (Format.OPENAI_CHAT, chat(modalities=["text", "audio"]), "modalities"),
    (Format.OPENAI_CHAT, chat(audio={"voice": "alloy", "format": "mp3"}), "audio"),
    (Format.OPENAI_CHAT, chat(web_search_options={}), "web_search_options"),
    (Format.OPENAI_RESPONSES, responses(truncation="auto"), "truncation"),
    (Format.OPENAI_RESPONSES, responses(top_logprobs=2), "top_logprobs"),
    (Format.OPENAI_RESPONSES, responses(include=["message.output_text.logprobs"]), "include"),
    (Format.OPENAI_RESPONSES, responses(background=True), "background"),
    (Format.OPENAI_RESPONSES, responses(conversation="conv_1"), "conversation"),
    (Format.OPENAI_RESPONSES, responses(prompt={"id": "pmpt_1"}), "prompt"),
    (Format.ANTHROPIC, anthropic(mcp_servers=[{"type": "url", "url": "x"}]), "mcp_servers"),
    (Format.ANTHROPIC, anthropic(container="c1"), "container"),
    (Format.ANTHROPIC, anthropic(inference_geo="eu"), "inference_geo"),
    (Format.OPENAI_CHAT, chat(moderation={"model": "omni"}), "moderation"),
    (Format.OPENAI_RESPONSES, responses(moderation={"model": "omni"}), "moderation"),
    (Format.GEMINI, gemini({"candidateCount": 2}), "generationConfig.candidateCount"),
    (Format.GEMINI, gemini({"responseLogprobs": True}), "generationConfig.responseLogprobs"),
    (
        Format.GEMINI,
        gemini({"responseModalities": ["TEXT", "IMAGE"]}),
        "generationConfig.responseModalities",
    ),
    (
        Format.GEMINI,
        gemini({"responseMimeType": "text/x.enum"}),
        "generationConfig.responseMimeType",
    ),
    (Format.GEMINI, gemini({"speechConfig": {}}), "generationConfig.speechConfig"),
    (Format.GEMINI, gemini(cachedContent="cachedContents/1"), "cachedContent"),
    (
        Format.GEMINI,
        gemini(
            safetySettings=[
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_LOW_AND_ABOVE"}
            ]
        ),
        "safetySettings[0]",
    ),
]


@pytest.mark.parametrize(("client", "body", "field"), UNTRANSLATABLE)
@pytest.mark.parametrize("strict", [False, True])
def test_field_no_other_format_can_express_is_a_400_for_every_target(
    client: Format, body: dict, field: str, strict: bool
) -> None:
    for target in Format:
        if target is not client:
            assert rejected(client, body, target, strict).startswith(f"{field}: ")


UNKNOWN = [
    (Format.OPENAI_CHAT, chat(frobnicate=True), "frobnicate"),
    # What Codex CLI sends on every request.
    (Format.OPENAI_RESPONSES, responses(client_metadata={"x": "1"}), "client_metadata"),
    (Format.OPENAI_RESPONSES, responses(text={"shape": "odd"}), "text.shape"),
    (Format.ANTHROPIC, anthropic(metadata={"user_id": "u", "team": "t"}), "metadata.team"),
    (Format.ANTHROPIC, anthropic(output_config={"verbosity": 1}), "output_config.verbosity"),
    (Format.GEMINI, gemini(bogus=1), "bogus"),
    (Format.GEMINI, gemini({"newKnob": 1}), "generationConfig.newKnob"),
]


@pytest.mark.parametrize(("client", "body", "field"), UNKNOWN)
def test_unknown_field_is_dropped_and_named_for_every_target(
    client: Format, body: dict, field: str
) -> None:
    leaf = field.rsplit(".", 1)[-1]
    for target in Format:
        if target is not client:
            sent, context = translate(client, body, target)
            assert leaf not in str(sent)
            assert field in context.dropped


@pytest.mark.parametrize(("client", "body", "field"), UNKNOWN)
def test_unknown_field_is_a_400_when_strict(client: Format, body: dict, field: str) -> None:
    for target in Format:
        if target is not client:
            assert rejected(client, body, target, strict=True).startswith(f"{field}: ")


# ---- defaults and hints: accepted, hints dropped on purpose ------------------------------

ACCEPTED = [
    (
        Format.OPENAI_CHAT,
        chat(
            n=1,
            logprobs=False,
            presence_penalty=0,
            frequency_penalty=0.0,
            logit_bias={},
            modalities=["text"],
            store=True,
            metadata={"tag": "x"},
            service_tier="auto",
            prompt_cache_key="k",
            prediction={"type": "content", "content": "x"},
            stream_options={"include_usage": True},
        ),
    ),
    (
        # What Codex CLI sends.
        Format.OPENAI_RESPONSES,
        responses(
            store=False,
            include=["reasoning.encrypted_content"],
            prompt_cache_key="thread-1",
            text={"verbosity": "medium"},
            reasoning={"effort": "medium", "summary": "auto"},
            parallel_tool_calls=False,
            truncation="disabled",
            metadata={"a": "b"},
            service_tier="auto",
            max_tool_calls=3,
            background=False,
            top_logprobs=0,
        ),
    ),
    (
        # What Claude Code sends: cache_control everywhere, metadata.user_id.
        Format.ANTHROPIC,
        anthropic(
            system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}
                    ],
                }
            ],
            metadata={"user_id": "user_abc"},
            service_tier="auto",
            cache_control={"type": "ephemeral"},
            speed="fast",
            diagnostics={"previous_message_id": "msg_1"},
            context_management={"edits": []},
            mcp_servers=[],
        ),
    ),
    (
        Format.GEMINI,
        gemini(
            {
                "candidateCount": 1,
                "responseModalities": ["TEXT"],
                "responseMimeType": "text/plain",
                "mediaResolution": "MEDIA_RESOLUTION_LOW",
                "responseLogprobs": False,
            },
            labels={"team": "x"},
            serviceTier="flex",
            store=True,
            safetySettings=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
            toolConfig={"retrievalConfig": {"latLng": {"latitude": 1, "longitude": 2}}},
        ),
    ),
]


@pytest.mark.parametrize(("client", "body"), ACCEPTED)
def test_defaults_and_hints_translate_everywhere(client: Format, body: dict) -> None:
    for target in Format:
        if target is client:
            continue
        sent = encode(client, body, target)
        for hint in ("store", "metadata", "service_tier", "prompt_cache_key", "labels"):
            if hint == "metadata" and target is Format.ANTHROPIC:
                continue
            if hint == "store" and target is Format.OPENAI_RESPONSES:
                assert sent["store"] is False  # cliproxy's own: it keeps no conversation
                continue
            assert hint not in sent
        assert context_dropped(client, body, target) == expected_hints(client, body, target)


def context_dropped(client: Format, body: dict, target: Format) -> list[str]:
    return translate(client, body, target)[1].dropped


def expected_hints(client: Format, body: dict, target: Format) -> list[str]:
    """The hints of the ACCEPTED bodies, in each codec's DROPPED_HINTS order."""
    names = {
        Format.OPENAI_CHAT: ["store", "metadata", "service_tier", "prompt_cache_key", "prediction"],
        Format.OPENAI_RESPONSES: [
            "store",
            "metadata",
            "service_tier",
            "prompt_cache_key",
            "max_tool_calls",
        ],
        Format.ANTHROPIC: [
            "service_tier",
            "speed",
            "cache_control",
            "diagnostics",
            "context_management",
        ],
        Format.GEMINI: [
            "labels",
            "serviceTier",
            "store",
            "generationConfig.mediaResolution",
            "toolConfig.retrievalConfig",
        ],
    }[client]
    if client is Format.OPENAI_RESPONSES and target not in (Format.OPENAI_CHAT,):
        names = [*names, "text.verbosity"]
    if client is Format.ANTHROPIC and target is Format.GEMINI:
        names = [*names, "metadata.user_id"]
    return names


@pytest.mark.parametrize("strict", [False, True])
def test_hints_and_target_less_hints_are_named_even_when_strict(strict: bool) -> None:
    body = chat(user="u-1", verbosity="low", store=True, prompt_cache_key="k")
    sent, context = translate(Format.OPENAI_CHAT, body, Format.GEMINI, strict)
    assert "u-1" not in str(sent) and "verbosity" not in str(sent)
    assert context.dropped == ["store", "prompt_cache_key", "user", "verbosity"]
    sent, context = translate(Format.OPENAI_CHAT, body, Format.OPENAI_RESPONSES, strict)
    assert sent["safety_identifier"] == "u-1" and sent["text"] == {"verbosity": "low"}
    assert context.dropped == ["store", "prompt_cache_key"]


# ---- Claude Code: system messages inside the conversation -------------------------------


def test_anthropic_mid_conversation_system_messages_keep_their_place() -> None:
    """Claude Code 2.1 sends `role: "system"` messages inside `messages`: kept in place
    for OpenAI Chat and Responses, joined to the system instruction for Gemini."""
    body = anthropic(
        system="You are Claude Code.",
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "The user switched to plan mode."},
            {"role": "assistant", "content": "ok"},
            {
                "role": "system",
                "content": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "x"}}],
            },
            {"role": "user", "content": "go"},
        ],
    )
    req = ANTH.decode_request(body)
    assert req.system == ["You are Claude Code."]
    assert req.mid_system == [(1, "The user switched to plan mode."), (2, "Be brief.")]
    assert [m.role for m in req.messages] == ["user", "assistant", "user"]
    chat_body = encode(Format.ANTHROPIC, body, Format.OPENAI_CHAT)
    assert [(m["role"], m["content"]) for m in chat_body["messages"]] == [
        ("system", "You are Claude Code."),
        ("user", "hi"),
        ("system", "The user switched to plan mode."),
        ("assistant", "ok"),
        ("system", "Be brief."),
        ("user", "go"),
    ]
    gemini_body = encode(Format.ANTHROPIC, body, Format.GEMINI)
    assert [p["text"] for p in gemini_body["systemInstruction"]["parts"]] == [
        "You are Claude Code.",
        "The user switched to plan mode.",
        "Be brief.",
    ]
    responses_body = encode(Format.ANTHROPIC, body, Format.OPENAI_RESPONSES)
    assert responses_body["instructions"] == "You are Claude Code."
    developer = [i for i in responses_body["input"] if i.get("role") == "developer"]
    assert [i["content"][0]["text"] for i in developer] == [
        "The user switched to plan mode.",
        "Be brief.",
    ]
    assert responses_body["input"].index(developer[0]) == 1


def test_chat_system_messages_in_place_or_merged_for_one_leading_system_message() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Sys."},
            {"role": "user", "content": "hi"},
            {"role": "developer", "content": "Now terse."},
        ],
    }
    req = get_codec(Format.OPENAI_CHAT).decode_request(body)
    kept = get_codec(Format.OPENAI_CHAT).encode_request(req, ctx())
    assert [m["role"] for m in kept["messages"]] == ["system", "user", "system"]
    merging = ctx()
    merging.merge_system = True
    merged = get_codec(Format.OPENAI_CHAT).encode_request(req, merging)
    assert [m["role"] for m in merged["messages"]] == ["system", "user"]
    assert "Now terse." in str(merged["messages"][0]["content"])
    anthropic_body = get_codec(Format.ANTHROPIC).encode_request(req, ctx())
    assert [b["text"] for b in anthropic_body["system"]] == ["Sys.", "Now terse."]
    assert all(m["role"] != "system" for m in anthropic_body["messages"])


def test_anthropic_system_message_with_non_text_content_is_a_400() -> None:
    body = anthropic(messages=[{"role": "system", "content": [{"type": "image"}]}])
    with pytest.raises(FormatError) as info:
        ANTH.decode_request(body)
    assert info.value.message.startswith("messages[0].content[0]: expected text block")


def test_claude_code_adaptive_thinking_keeps_its_effort_for_every_target() -> None:
    """Claude Code 2.1: thinking {type: adaptive} with output_config.effort."""
    body = anthropic(thinking={"type": "adaptive"}, output_config={"effort": "high"})
    assert encode(Format.ANTHROPIC, body, Format.OPENAI_CHAT)["reasoning_effort"] == "high"
    responses_body = encode(Format.ANTHROPIC, body, Format.OPENAI_RESPONSES)
    assert responses_body["reasoning"] == {"effort": "high", "summary": "auto"}
    thinking = encode(Format.ANTHROPIC, body, Format.GEMINI)["generationConfig"]["thinkingConfig"]
    assert thinking == {"thinkingBudget": 16384, "includeThoughts": True}
    disabled = anthropic(thinking={"type": "disabled"}, output_config={"effort": "high"})
    assert encode(Format.ANTHROPIC, disabled, Format.OPENAI_RESPONSES)["reasoning"] == {
        "effort": "none"
    }
    assert encode(Format.ANTHROPIC, disabled, Format.OPENAI_CHAT)["reasoning_effort"] == "none"


def test_claude_code_long_user_id_fits_openai_as_a_stable_digest() -> None:
    """Claude Code's metadata.user_id is a long JSON string; OpenAI allows 128 characters."""
    user_id = '{"device_id":"' + "d" * 64 + '","account_uuid":"' + "a" * 36 + '","session_id":"s"}'
    body = anthropic(metadata={"user_id": user_id})
    sent = encode(Format.ANTHROPIC, body, Format.OPENAI_RESPONSES)["safety_identifier"]
    assert len(user_id) > 128 and len(sent) == 64
    assert sent == encode(Format.ANTHROPIC, body, Format.OPENAI_CHAT)["user"]
    assert sent == encode(Format.ANTHROPIC, body, Format.OPENAI_RESPONSES)["safety_identifier"]
    short = anthropic(metadata={"user_id": "user_abc"})
    assert (
        encode(Format.ANTHROPIC, short, Format.OPENAI_RESPONSES)["safety_identifier"] == "user_abc"
    )


def test_anthropic_block_type_that_is_not_a_string_is_a_400() -> None:
    """Found by the fuzz suite: a list as a block type tripped the unsupported-type check."""
    body = anthropic(messages=[{"role": "user", "content": [{"type": ["text"]}]}])
    with pytest.raises(FormatError) as info:
        ANTH.decode_request(body)
    assert "unknown content block type" in info.value.message


def test_chat_policy_checks_only_fields_outside_the_translated_set() -> None:
    """untranslatable() and hints_present() return at once for a request made only of
    translated fields; that is exact only while every field they look at is outside it."""
    from router.formats.openai_chat import policy

    inspected = {"n", "logprobs", "top_logprobs", "modalities", *policy._SET_ONLY_HERE}
    assert inspected <= policy.DEFAULT_ONLY
    assert not policy.TRANSLATED & (policy.DEFAULT_ONLY | set(policy.DROPPED_HINTS))
    body = chat(n=2, store=True, surprise=1)
    assert set(policy.untranslatable(body)) == {"n", "surprise"}
    assert policy.hints_present(body) == ["store"]
    assert policy.untranslatable(chat(temperature=0.5)) == {}
