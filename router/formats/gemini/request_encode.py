"""IR Request -> a Gemini generateContent request body for an upstream. The body has no
model: the router builds the URL from req.model."""

from __future__ import annotations

from router.formats import web_search
from router.formats.codec import effort_to_budget
from router.formats.context import TranslationContext
from router.formats.features import check_target
from router.formats.gemini.parts import encode_parts
from router.formats.gemini.policy import JSON_MIME
from router.formats.ir import Format, Request, ToolCallPart, all_system
from router.formats.reasoning_cache import with_cached_reasoning
from router.formats.schema_clean import clean_for_gemini

FMT = Format.GEMINI
_MODE = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}
# IR field -> generationConfig field, for the values copied as they are.
_GENERATION_FIELDS = (
    ("temperature", "temperature"),
    ("top_p", "topP"),
    ("top_k", "topK"),
    ("max_tokens", "maxOutputTokens"),
)
_PENALTY_FIELDS = (
    ("seed", "seed"),
    ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
)


def encode_gemini_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT, ctx)
    req = with_cached_reasoning(req, FMT, ctx.reasoning)
    body: dict = {"contents": _encode_contents(req, ctx)}
    system = all_system(req)
    if system:
        body["systemInstruction"] = {"parts": [{"text": t} for t in system]}
    if req.tools:
        body["tools"] = [{"functionDeclarations": _declarations(req, ctx)}]
        tool_config = _tool_config(req, ctx)
        if tool_config is not None:
            body["toolConfig"] = tool_config
    if req.web_search is not None:
        body.setdefault("tools", []).append(web_search.target_tool(FMT))
    gen = _generation_config(req)
    if gen:
        body["generationConfig"] = gen
    return body


def _encode_contents(req: Request, ctx: TranslationContext) -> list[dict]:
    """Turns in order; consecutive turns of one role merge. Tool results are named after
    their call (Gemini matches them by name)."""
    names = {p.id: p.name for m in req.messages for p in m.parts if isinstance(p, ToolCallPart)}
    contents: list[dict] = []
    for i, msg in enumerate(req.messages):
        parts = encode_parts(msg.parts, ctx, names, f"messages[{i}]")
        if not parts:
            continue
        role = "model" if msg.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents


def _declarations(req: Request, ctx: TranslationContext) -> list[dict]:
    declarations = []
    for t in req.tools:
        decl: dict = {"name": ctx.tool_name_out(t.name)}
        if t.description is not None:
            decl["description"] = t.description
        schema = clean_for_gemini(t.parameters) if t.parameters else {}
        if schema.get("properties"):
            decl["parameters"] = schema
        declarations.append(decl)
    return declarations


def _tool_config(req: Request, ctx: TranslationContext) -> dict | None:
    tc = req.tool_choice
    if tc is None:
        return None
    config: dict = {"mode": _MODE[tc.mode]}
    if tc.mode == "tool":
        config["allowedFunctionNames"] = [ctx.tool_name_out(tc.name or "")]
    return {"functionCallingConfig": config}


def _generation_config(req: Request) -> dict:
    gen: dict = {}
    for name, key in _GENERATION_FIELDS:
        value = getattr(req, name)
        if value is not None:
            gen[key] = value
    if req.stop:
        gen["stopSequences"] = list(req.stop)
    for name, key in _PENALTY_FIELDS:
        value = getattr(req, name)
        if value is not None:
            gen[key] = value
    rf = req.response_format
    if rf is not None:
        gen["responseMimeType"] = JSON_MIME
        if rf.type == "json_schema" and rf.schema:
            gen["responseSchema"] = clean_for_gemini(rf.schema)
    thinking = _thinking_config(req)
    if thinking:
        gen["thinkingConfig"] = thinking
    return gen


def _thinking_config(req: Request) -> dict:
    r = req.reasoning
    if r is None:
        return {}
    thinking: dict = {}
    if r.budget is not None:
        thinking["thinkingBudget"] = r.budget
    elif r.effort is not None:
        thinking["thinkingBudget"] = effort_to_budget(r.effort)
    if r.include_thoughts is not None:
        thinking["includeThoughts"] = r.include_thoughts
    return thinking
