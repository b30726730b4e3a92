"""Gemini generateContent codec.

The model name and the streaming choice live in the URL, not the body: decode_request
leaves `model` empty (unless the body has one) and `stream` False; the router sets both.
encode_request returns a body without model; the router builds the URL from req.model.
"""

from __future__ import annotations

import json
from typing import Any

from router.formats.codec import (
    Codec,
    dumps,
    effort_to_budget,
    optional,
    parse_arguments,
    require,
    unwrap_signature,
    wrap_signature,
)
from router.formats.context import TranslationContext
from router.formats.errors import GEMINI_STATUS, ErrorKind, FormatError, UnsupportedFeature
from router.formats.features import check_target, note_unknown
from router.formats.ir import (
    BlockStart,
    BlockStop,
    Finish,
    Format,
    ImagePart,
    Message,
    MessageStart,
    Reasoning,
    ReasoningDelta,
    ReasoningPart,
    Request,
    Response,
    ResponseFormat,
    SignatureDelta,
    StopReason,
    StreamError,
    StreamEvent,
    TextDelta,
    TextPart,
    Tool,
    ToolArgsDelta,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    Usage,
)
from router.formats.schema_clean import clean_for_gemini, gemini_schema_to_json_schema
from router.formats.sse import SSEEvent

FMT = Format.GEMINI

_FINISH_IN = {
    "STOP": StopReason.END_TURN,
    "MAX_TOKENS": StopReason.MAX_TOKENS,
    "SAFETY": StopReason.CONTENT_FILTER,
    "RECITATION": StopReason.CONTENT_FILTER,
    "BLOCKLIST": StopReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": StopReason.CONTENT_FILTER,
    "SPII": StopReason.CONTENT_FILTER,
    "IMAGE_SAFETY": StopReason.CONTENT_FILTER,
    "MALFORMED_FUNCTION_CALL": StopReason.ERROR,
    "OTHER": StopReason.ERROR,
}
_FINISH_OUT = {
    StopReason.END_TURN: "STOP",
    StopReason.STOP_SEQUENCE: "STOP",
    StopReason.TOOL_USE: "STOP",
    StopReason.MAX_TOKENS: "MAX_TOKENS",
    StopReason.CONTENT_FILTER: "SAFETY",
    StopReason.ERROR: "OTHER",
}
_HTTP_FOR_KIND = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.AUTHENTICATION: 401,
    ErrorKind.PERMISSION: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.REQUEST_TOO_LARGE: 413,
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.OVERLOADED: 503,
    ErrorKind.API_ERROR: 500,
    ErrorKind.TIMEOUT: 504,
}
_KIND_FOR_STATUS = {v: k for k, v in GEMINI_STATUS.items() if k is not ErrorKind.REQUEST_TOO_LARGE}
_THINKING_LEVEL_EFFORT = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high"}


def gemini_error_body(status: int, message: str, kind: ErrorKind) -> dict:
    return {"error": {"code": status, "message": message, "status": GEMINI_STATUS[kind]}}


# ---- parts (shared by requests and responses) ----------------------------------------


_URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")


def standard_base64(data: str) -> str:
    """Gemini accepts (and google-genai sends) URL-safe base64; other formats want the
    standard alphabet with padding."""
    data = data.translate(_URL_SAFE_TO_STANDARD)
    return data + "=" * (-len(data) % 4)


def _function_response_content(response: Any) -> tuple[list, bool]:
    """Gemini functionResponse.response object -> (IR content, is_error)."""
    if isinstance(response, dict) and len(response) == 1:
        if isinstance(response.get("result"), str):
            return [TextPart(response["result"])], False
        if isinstance(response.get("error"), str):
            return [TextPart(response["error"])], True
    return [TextPart(dumps(response if response is not None else {}))], False


def _function_response_object(part: ToolResultPart) -> dict:
    text = "\n".join(c.text for c in part.content if type(c) is TextPart)
    if part.is_error:
        return {"error": text}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return {"result": text}


class _PartDecoder:
    """Gemini parts -> IR parts. Consecutive thought parts merge into one ReasoningPart;
    a thoughtSignature on a non-thought part becomes a signature-only ReasoningPart in
    front of it. Calls without ids get ids from `make_id`; responses without ids are
    matched to the earliest unanswered call of the same name."""

    def __init__(self, client: Format, make_id: Any, ctx: TranslationContext | None) -> None:
        self.client = client
        self.make_id = make_id
        self.ctx = ctx
        self.pending: list[tuple[str, str]] = []

    def decode(self, raw_parts: Any, where: str) -> list:
        if not isinstance(raw_parts, list):
            raise FormatError(f"{where}: expected array of parts")
        parts: list = []
        for j, raw in enumerate(raw_parts):
            pwhere = f"{where}[{j}]"
            raw = camel_fields(raw, pwhere)
            raw_sig = raw.get("thoughtSignature")
            if raw.get("thought"):
                text = raw.get("text") or ""
                sig, source = unwrap_signature(raw_sig, self.client)
                last = parts[-1] if parts else None
                if (
                    type(last) is ReasoningPart
                    and not last.redacted
                    and last.signature is None
                    and last.text
                ):
                    last.text += text
                    if sig is not None:
                        last.signature = sig
                        last.source = source
                else:
                    parts.append(ReasoningPart(text=text, signature=sig, source=source))
                continue
            if raw_sig:
                sig, source = unwrap_signature(raw_sig, self.client)
                parts.append(ReasoningPart(text="", signature=sig, source=source))
            if "text" in raw:
                text = raw["text"]
                if not isinstance(text, str):
                    raise FormatError(f"{pwhere}.text: expected string")
                if text:
                    parts.append(TextPart(text))
            elif "inlineData" in raw:
                data = camel_fields(require(raw, "inlineData", dict, pwhere + "."), pwhere)
                parts.append(
                    ImagePart(
                        media_type=require(data, "mimeType", str, pwhere + ".inlineData."),
                        data=standard_base64(require(data, "data", str, pwhere + ".inlineData.")),
                    )
                )
            elif "fileData" in raw:
                data = camel_fields(require(raw, "fileData", dict, pwhere + "."), pwhere)
                parts.append(
                    ImagePart(
                        media_type=data.get("mimeType"),
                        url=require(data, "fileUri", str, pwhere + ".fileData."),
                        file_ref=True,
                    )
                )
            elif "functionCall" in raw:
                call = camel_fields(require(raw, "functionCall", dict, pwhere + "."), pwhere)
                name = require(call, "name", str, pwhere + ".functionCall.")
                call_id = call.get("id") or self.make_id()
                if self.ctx is not None:
                    name = self.ctx.tool_name_in(name)
                    call_id = self.ctx.call_id_in(call_id)
                self.pending.append((name, call_id))
                args = call.get("args")
                parts.append(ToolCallPart(call_id, name, dumps(args) if args else "{}"))
            elif "functionResponse" in raw:
                resp = camel_fields(require(raw, "functionResponse", dict, pwhere + "."), pwhere)
                name = require(resp, "name", str, pwhere + ".functionResponse.")
                call_id = resp.get("id") or self._match(name)
                content, is_error = _function_response_content(resp.get("response"))
                parts.append(ToolResultPart(call_id, content, is_error, name))
            elif "executableCode" in raw or "codeExecutionResult" in raw:
                raise UnsupportedFeature(f"{pwhere}: code execution parts are not supported")
            elif not raw_sig:
                raise FormatError(f"{pwhere}: unknown part kind {sorted(raw)!r}")
        return parts

    def _match(self, name: str) -> str:
        for k, (pending_name, call_id) in enumerate(self.pending):
            if pending_name == name:
                del self.pending[k]
                return call_id
        return self.make_id()


def _encode_parts(parts: list, ctx: TranslationContext, names: dict[str, str], where: str) -> list:
    out: list[dict] = []
    pending_sig: str | None = None
    for part in parts:
        cls = type(part)
        if cls is ReasoningPart:
            if part.source is not FMT or part.redacted:
                continue
            if part.text:
                thought: dict = {"text": part.text, "thought": True}
                if part.signature:
                    thought["thoughtSignature"] = part.signature
                out.append(thought)
            elif part.signature:
                pending_sig = part.signature
            continue
        if cls is TextPart:
            if not part.text and pending_sig is None:
                continue
            item: dict = {"text": part.text}
        elif cls is ToolCallPart:
            name = ctx.tool_name_out(part.name)
            item = {"functionCall": {"name": name, "args": parse_arguments(part.arguments, where)}}
        elif cls is ToolResultPart:
            name = part.name or names.get(part.call_id)
            if name is None:
                raise FormatError(
                    f"{where}: tool result for call id {part.call_id!r} has no matching tool call"
                )
            item = {
                "functionResponse": {
                    "name": ctx.tool_name_out(name),
                    "response": _function_response_object(part),
                }
            }
            out.append(item)
            for extra in part.content:
                if type(extra) is ImagePart:
                    out.append(_encode_image(extra, where))
            continue
        elif cls is ImagePart:
            item = _encode_image(part, where)
        else:
            continue
        if pending_sig is not None:
            item["thoughtSignature"] = pending_sig
            pending_sig = None
        out.append(item)
    if pending_sig is not None:
        out.append({"text": "", "thoughtSignature": pending_sig})
    return out


def _encode_image(part: ImagePart, where: str) -> dict:
    if part.data is not None:
        return {"inlineData": {"mimeType": part.media_type or "image/png", "data": part.data}}
    if part.file_ref:
        file_data = {"fileUri": part.url}
        if part.media_type:
            file_data["mimeType"] = part.media_type
        return {"fileData": file_data}
    raise UnsupportedFeature(
        f"{where}: image URLs cannot be sent to Gemini; send the image inline as base64"
    )


# ---- requests ------------------------------------------------------------------------


def camel_fields(obj: Any, where: str) -> dict:
    """An object's fields with proto snake_case names (which the Gemini API and the
    google-genai SDK use too, e.g. inlineData.mime_type) turned into lowerCamelCase."""
    if not isinstance(obj, dict):
        raise FormatError(f"{where}: expected object")
    if not any("_" in key for key in obj):
        return obj
    return {_camel(key): value for key, value in obj.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


# Top-level and generationConfig fields of a generateContent request, by what translation
# does with them (see router/formats/features.py).
_TRANSLATED = frozenset(
    {
        "model", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
        "safetySettings",
    }
)  # fmt: skip
DROPPED_HINTS = {
    "labels": "billing labels",
    "serviceTier": "the Google account's processing tier",
    "store": "whether Google keeps the exchange",
    "generationConfig.mediaResolution": "an input image resolution hint",
    "toolConfig.retrievalConfig": "a location for grounding tools, which translation rejects",
    "functionDeclarations[].response": "a description of the function's result",
    "functionDeclarations[].responseJsonSchema": "a description of the function's result",
}
_KNOWN = _TRANSLATED | frozenset({"labels", "serviceTier", "store", "cachedContent"})
_GEN_KNOWN = frozenset(
    {
        "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
        "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed",
        "presencePenalty", "frequencyPenalty", "thinkingConfig", "responseLogprobs",
        "logprobs", "responseModalities", "enableEnhancedCivicAnswers", "speechConfig",
        "imageConfig", "audioTimestamp", "mediaResolution",
    }
)  # fmt: skip
_DECLARATION_FIELDS = frozenset(
    {"name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema"}
)
_TOOL_CONFIG_FIELDS = frozenset({"functionCallingConfig", "retrievalConfig"})
_CALLING_CONFIG_FIELDS = frozenset({"mode", "allowedFunctionNames"})
# Safety thresholds that ask for no more filtering than any upstream applies anyway.
_PERMISSIVE_THRESHOLDS = frozenset({"BLOCK_NONE", "OFF", "HARM_BLOCK_THRESHOLD_UNSPECIFIED"})
_JSON_MIME = "application/json"


def _untranslatable(body: dict, gen: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    if body.get("cachedContent") is not None:
        found["cachedContent"] = "content cached upstream"
    for i, setting in enumerate(optional(body, "safetySettings", list) or []):
        threshold = setting.get("threshold") if isinstance(setting, dict) else None
        if threshold not in _PERMISSIVE_THRESHOLDS:
            found[f"safetySettings[{i}]"] = (
                f"content blocking at threshold {threshold!r} (other upstreams apply their "
                "own fixed policy; only BLOCK_NONE or OFF can be translated)"
            )
    g = "generationConfig."
    candidates = optional(gen, "candidateCount", int, g)
    if candidates is not None and candidates != 1:
        found[g + "candidateCount"] = "more than one candidate"
    if optional(gen, "responseLogprobs", bool, g) or gen.get("logprobs") is not None:
        found[g + "responseLogprobs"] = "log probabilities"
    modalities = optional(gen, "responseModalities", list, g)
    if modalities and any(str(m).upper() != "TEXT" for m in modalities):
        found[g + "responseModalities"] = "non-text output"
    for name, what in (("speechConfig", "speech output"), ("imageConfig", "image output")):
        if gen.get(name) is not None:
            found[g + name] = what
    if gen.get("enableEnhancedCivicAnswers"):
        found[g + "enableEnhancedCivicAnswers"] = "Gemini's enhanced civic answers"
    if gen.get("audioTimestamp"):
        found[g + "audioTimestamp"] = "audio timestamps"
    mime = optional(gen, "responseMimeType", str, g)
    if mime not in (None, "text/plain", _JSON_MIME):
        found[g + "responseMimeType"] = f"output of MIME type {mime!r}"
    note_unknown(gen, _GEN_KNOWN, found, g)
    note_unknown(body, _KNOWN, found)
    return found


def _integer(body: dict, key: str, where: str) -> int | None:
    """An optional integer that google-genai may send as a float (topK: 40.0)."""
    value = optional(body, key, (int, float), where)
    if value is None or isinstance(value, int):
        return value
    if not value.is_integer():
        raise FormatError(f"{where}{key}: expected integer")
    return int(value)


def _decode_tools(raw_tools: list, found: dict[str, str]) -> list[Tool]:
    tools: list[Tool] = []
    for i, raw_tool in enumerate(raw_tools):
        tool = camel_fields(raw_tool, f"tools[{i}]")
        declarations = tool.get("functionDeclarations")
        if declarations is None or len(tool) > 1:
            raise UnsupportedFeature(f"tools[{i}]: only functionDeclarations tools are supported")
        for j, raw_decl in enumerate(declarations):
            where = f"tools[{i}].functionDeclarations[{j}]."
            decl = camel_fields(raw_decl, where[:-1])
            note_unknown(decl, _DECLARATION_FIELDS, found, where)
            schema = decl.get("parametersJsonSchema")
            if schema is None:
                schema = gemini_schema_to_json_schema(decl.get("parameters") or {})
            tools.append(
                Tool(
                    name=require(decl, "name", str, where),
                    description=optional(decl, "description", str, where),
                    parameters=schema,
                )
            )
    return tools


def _decode_tool_choice(body: dict, found: dict[str, str]) -> ToolChoice | None:
    tool_config = camel_fields(optional(body, "toolConfig", dict) or {}, "toolConfig")
    note_unknown(tool_config, _TOOL_CONFIG_FIELDS, found, "toolConfig.")
    raw = tool_config.get("functionCallingConfig")
    if raw is None:
        return None
    config = camel_fields(raw, "toolConfig.functionCallingConfig")
    note_unknown(config, _CALLING_CONFIG_FIELDS, found, "toolConfig.functionCallingConfig.")
    mode = config.get("mode")
    if not mode or mode == "MODE_UNSPECIFIED":
        return None
    allowed = config.get("allowedFunctionNames") or []
    if mode == "AUTO":
        return ToolChoice("auto")
    if mode == "NONE":
        return ToolChoice("none")
    if mode in ("ANY", "VALIDATED"):
        if len(allowed) > 1:
            raise UnsupportedFeature(
                "toolConfig.functionCallingConfig.allowedFunctionNames: a choice among "
                "several functions cannot be translated; name one function or none"
            )
        return ToolChoice("tool", allowed[0]) if allowed else ToolChoice("required")
    raise FormatError(f"toolConfig.functionCallingConfig.mode: unknown value {mode!r}")


def _decode_response_format(gen: dict) -> ResponseFormat | None:
    if gen.get("responseMimeType") != _JSON_MIME:
        return None
    schema = gen.get("responseJsonSchema")
    if schema is None and gen.get("responseSchema") is not None:
        schema = gemini_schema_to_json_schema(gen["responseSchema"])
    if schema is None:
        return ResponseFormat("json_object")
    return ResponseFormat("json_schema", schema=schema)


def _decode_thinking(gen: dict) -> Reasoning | None:
    where = "generationConfig.thinkingConfig."
    raw = optional(gen, "thinkingConfig", dict, "generationConfig.")
    if not raw:
        return None
    thinking = camel_fields(raw, where[:-1])
    level = thinking.get("thinkingLevel")
    return Reasoning(
        effort=_THINKING_LEVEL_EFFORT.get(str(level).lower()) if level else None,
        budget=optional(thinking, "thinkingBudget", int, where),
        include_thoughts=optional(thinking, "includeThoughts", bool, where),
    )


def decode_gemini_request(body: dict) -> Request:
    body = camel_fields(body, "request body")
    counter = iter(range(1 << 30))
    decoder = _PartDecoder(FMT, lambda: f"call_{next(counter)}", None)
    messages = []
    for i, raw_content in enumerate(require(body, "contents", list)):
        where = f"contents[{i}]"
        content = camel_fields(raw_content, where)
        role = content.get("role", "user")
        if role not in ("user", "model", "function"):
            raise FormatError(f"{where}.role: expected 'user' or 'model'")
        parts = decoder.decode(content.get("parts", []), where + ".parts")
        messages.append(Message("assistant" if role == "model" else "user", parts))
    system: list[str] = []
    instruction = body.get("systemInstruction")
    if instruction is not None:
        for j, part in enumerate(camel_fields(instruction, "systemInstruction").get("parts") or []):
            if not isinstance(part, dict) or not isinstance(part.get("text"), str):
                raise FormatError(f"systemInstruction.parts[{j}]: expected text part")
            system.append(part["text"])
    gen = camel_fields(optional(body, "generationConfig", dict) or {}, "generationConfig")
    untranslatable = _untranslatable(body, gen)
    tools = _decode_tools(optional(body, "tools", list) or [], untranslatable)
    g = "generationConfig."
    return Request(
        model=optional(body, "model", str) or "",
        messages=messages,
        system=system,
        tools=tools,
        tool_choice=_decode_tool_choice(body, untranslatable),
        max_tokens=optional(gen, "maxOutputTokens", int, g),
        temperature=optional(gen, "temperature", (int, float), g),
        top_p=optional(gen, "topP", (int, float), g),
        top_k=_integer(gen, "topK", g),
        stop=optional(gen, "stopSequences", list, g) or [],
        reasoning=_decode_thinking(gen),
        response_format=_decode_response_format(gen),
        seed=optional(gen, "seed", int, g),
        presence_penalty=optional(gen, "presencePenalty", (int, float), g),
        frequency_penalty=optional(gen, "frequencyPenalty", (int, float), g),
        origin=FMT,
        untranslatable=untranslatable,
    )


def encode_gemini_request(req: Request, ctx: TranslationContext) -> dict:
    check_target(req, FMT)
    names = {p.id: p.name for m in req.messages for p in m.parts if type(p) is ToolCallPart}
    contents: list[dict] = []
    for i, msg in enumerate(req.messages):
        parts = _encode_parts(msg.parts, ctx, names, f"messages[{i}]")
        if not parts:
            continue
        role = "model" if msg.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    body: dict = {"contents": contents}
    if req.system:
        body["systemInstruction"] = {"parts": [{"text": t} for t in req.system]}
    if req.tools:
        declarations = []
        for t in req.tools:
            decl: dict = {"name": ctx.tool_name_out(t.name)}
            if t.description is not None:
                decl["description"] = t.description
            schema = clean_for_gemini(t.parameters) if t.parameters else {}
            if schema.get("properties"):
                decl["parameters"] = schema
            declarations.append(decl)
        body["tools"] = [{"functionDeclarations": declarations}]
    tc = req.tool_choice
    if tc is not None and req.tools:
        mode = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}[tc.mode]
        config: dict = {"mode": mode}
        if tc.mode == "tool":
            config["allowedFunctionNames"] = [ctx.tool_name_out(tc.name or "")]
        body["toolConfig"] = {"functionCallingConfig": config}
    gen: dict = {}
    if req.temperature is not None:
        gen["temperature"] = req.temperature
    if req.top_p is not None:
        gen["topP"] = req.top_p
    if req.top_k is not None:
        gen["topK"] = req.top_k
    if req.max_tokens is not None:
        gen["maxOutputTokens"] = req.max_tokens
    if req.stop:
        gen["stopSequences"] = list(req.stop)
    if req.seed is not None:
        gen["seed"] = req.seed
    if req.presence_penalty is not None:
        gen["presencePenalty"] = req.presence_penalty
    if req.frequency_penalty is not None:
        gen["frequencyPenalty"] = req.frequency_penalty
    rf = req.response_format
    if rf is not None:
        gen["responseMimeType"] = "application/json"
        if rf.type == "json_schema" and rf.schema:
            gen["responseSchema"] = clean_for_gemini(rf.schema)
    r = req.reasoning
    if r is not None:
        thinking: dict = {}
        if r.budget is not None:
            thinking["thinkingBudget"] = r.budget
        elif r.effort is not None:
            thinking["thinkingBudget"] = effort_to_budget(r.effort)
        if r.include_thoughts is not None:
            thinking["includeThoughts"] = r.include_thoughts
        if thinking:
            gen["thinkingConfig"] = thinking
    if gen:
        body["generationConfig"] = gen
    return body


# ---- responses -----------------------------------------------------------------------


def decode_gemini_usage(meta: Any) -> Usage:
    if not isinstance(meta, dict):
        return Usage()
    thoughts = meta.get("thoughtsTokenCount") or 0
    return Usage(
        input_tokens=meta.get("promptTokenCount") or 0,
        output_tokens=(meta.get("candidatesTokenCount") or 0) + thoughts,
        cache_read_tokens=meta.get("cachedContentTokenCount") or 0,
        reasoning_tokens=thoughts,
    )


def encode_gemini_usage(usage: Usage) -> dict:
    meta = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.reasoning_tokens:
        meta["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cache_read_tokens:
        meta["cachedContentTokenCount"] = usage.cache_read_tokens
    return meta


def _call_id_factory(ctx: TranslationContext) -> Any:
    counter = iter(range(1 << 30))
    return lambda: f"call_{ctx.request_id}_{next(counter)}"


def decode_gemini_response(body: dict, ctx: TranslationContext) -> Response:
    if not isinstance(body, dict):
        raise FormatError("response body must be a JSON object")
    candidates = body.get("candidates") or []
    parts: list = []
    stop = StopReason.CONTENT_FILTER
    if candidates:
        cand = candidates[0]
        decoder = _PartDecoder(FMT, _call_id_factory(ctx), ctx)
        parts = decoder.decode((cand.get("content") or {}).get("parts") or [], "parts")
        stop = _FINISH_IN.get(cand.get("finishReason") or "STOP", StopReason.END_TURN)
        if stop is StopReason.END_TURN and any(type(p) is ToolCallPart for p in parts):
            stop = StopReason.TOOL_USE
    return Response(
        id=body.get("responseId") or "",
        model=body.get("modelVersion") or "",
        parts=parts,
        stop_reason=stop,
        usage=decode_gemini_usage(body.get("usageMetadata")),
    )


def _response_parts(parts: list) -> list[dict]:
    out: list[dict] = []
    pending_sig: str | None = None
    for part in parts:
        cls = type(part)
        if cls is ReasoningPart:
            signature = wrap_signature(part.signature, part.source, FMT)
            if part.text:
                out.append({"text": part.text, "thought": True, "thoughtSignature": signature})
            else:
                pending_sig = signature
            continue
        if cls is TextPart:
            item: dict = {"text": part.text}
        elif cls is ToolCallPart:
            args = json.loads(part.arguments) if part.arguments else {}
            item = {"functionCall": {"id": part.id, "name": part.name, "args": args}}
        else:
            continue
        if pending_sig is not None:
            item["thoughtSignature"] = pending_sig
            pending_sig = None
        out.append(item)
    if pending_sig is not None:
        out.append({"text": "", "thoughtSignature": pending_sig})
    return out


def encode_gemini_response(resp: Response, ctx: TranslationContext) -> dict:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": _response_parts(resp.parts)},
                "finishReason": _FINISH_OUT[resp.stop_reason],
                "index": 0,
            }
        ],
        "usageMetadata": encode_gemini_usage(resp.usage),
        "modelVersion": ctx.client_model or resp.model,
        "responseId": ctx.request_id,
    }


# ---- streaming -----------------------------------------------------------------------


class GeminiStreamDecoder:
    """GenerateContentResponse chunks -> IR stream events."""

    __slots__ = ("_ctx", "_done", "_has_calls", "_index", "_kind", "_make_id", "_started", "_usage")

    def __init__(self, ctx: TranslationContext) -> None:
        self._ctx = ctx
        self._make_id = _call_id_factory(ctx)
        self._started = False
        self._done = False
        self._index = -1
        self._kind: str | None = None
        self._has_calls = False
        self._usage = Usage()

    def _open(self, out: list, kind: str, **kw: Any) -> int:
        if self._kind is not None:
            out.append(BlockStop(self._index))
        self._index += 1
        self._kind = kind
        out.append(BlockStart(self._index, kind, **kw))
        return self._index

    def _close(self, out: list) -> None:
        if self._kind is not None:
            out.append(BlockStop(self._index))
            self._kind = None

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._done:
            return []
        try:
            chunk = json.loads(event.data)
        except ValueError:
            return []
        if not isinstance(chunk, dict):
            return []
        out: list[StreamEvent] = []
        if "error" in chunk:
            self._done = True
            err = chunk["error"] if isinstance(chunk["error"], dict) else {}
            kind = _KIND_FOR_STATUS.get(err.get("status"), ErrorKind.API_ERROR)
            code = err.get("code") if isinstance(err.get("code"), int) else 502
            return [StreamError(code, str(err.get("message") or "upstream error"), kind)]
        if not self._started:
            self._started = True
            out.append(MessageStart(chunk.get("responseId") or "", chunk.get("modelVersion") or ""))
        if chunk.get("usageMetadata"):
            self._usage = decode_gemini_usage(chunk["usageMetadata"])
        candidates = chunk.get("candidates")
        if not candidates:
            if (chunk.get("promptFeedback") or {}).get("blockReason"):
                self._done = True
                self._close(out)
                out.append(Finish(StopReason.CONTENT_FILTER, self._usage))
            return out
        cand = candidates[0]
        for raw in (cand.get("content") or {}).get("parts") or ():
            self._part(raw, out)
        finish = cand.get("finishReason")
        if finish:
            self._done = True
            self._close(out)
            stop = _FINISH_IN.get(finish, StopReason.END_TURN)
            if stop is StopReason.END_TURN and self._has_calls:
                stop = StopReason.TOOL_USE
            out.append(Finish(stop, self._usage))
        return out

    def _part(self, raw: dict, out: list) -> None:
        sig = raw.get("thoughtSignature")
        if raw.get("thought"):
            if self._kind != "reasoning":
                self._open(out, "reasoning", source=FMT)
            if raw.get("text"):
                out.append(ReasoningDelta(self._index, raw["text"]))
            if sig:
                out.append(SignatureDelta(self._index, sig, FMT))
            return
        if sig:
            index = self._open(out, "reasoning", source=FMT)
            out.append(SignatureDelta(index, sig, FMT))
            self._close(out)
        text = raw.get("text")
        if text:
            if self._kind != "text":
                self._open(out, "text")
            out.append(TextDelta(self._index, text))
            return
        call = raw.get("functionCall")
        if isinstance(call, dict):
            ctx = self._ctx
            self._has_calls = True
            index = self._open(
                out,
                "tool_call",
                id=ctx.call_id_in(call.get("id") or self._make_id()),
                name=ctx.tool_name_in(call.get("name") or ""),
            )
            out.append(ToolArgsDelta(index, dumps(call.get("args") or {})))
            self._close(out)

    def close(self) -> list[StreamEvent]:
        if self._done:
            return []
        self._done = True
        return [
            StreamError(502, "upstream stream ended without a finishReason", ErrorKind.API_ERROR)
        ]


class GeminiStreamEncoder:
    """IR stream events -> Gemini chunks, as SSE (`data: {...}`) or, with sse=False, as
    one JSON array streamed element by element (`[` obj `,` obj ... `]`)."""

    __slots__ = ("_args", "_call", "_kind", "_pending_sig", "_prefix", "_sent", "_sse", "_tail")

    def __init__(self, ctx: TranslationContext, sse: bool = True) -> None:
        self._sse = sse
        self._sent = False
        self._prefix = '{"candidates":[{"content":{"role":"model","parts":['
        self._tail = (
            f']}},"index":0}}],"modelVersion":{dumps(ctx.client_model)},'
            f'"responseId":{dumps(ctx.request_id)}}}'
        )
        self._kind: str | None = None
        self._call: tuple[str, str] = ("", "")
        self._args: list[str] = []
        self._pending_sig: str | None = None

    def _frame(self, payload: str) -> bytes:
        if self._sse:
            return f"data: {payload}\r\n\r\n".encode()
        if self._sent:
            return f",\r\n{payload}".encode()
        self._sent = True
        return f"[{payload}".encode()

    def _part(self, part: dict) -> bytes:
        if self._pending_sig is not None:
            part["thoughtSignature"] = self._pending_sig
            self._pending_sig = None
        return self._frame(self._prefix + dumps(part) + self._tail)

    def encode(self, ev: StreamEvent) -> bytes:
        cls = type(ev)
        if cls is TextDelta:
            if self._pending_sig is None:
                return self._frame(self._prefix + '{"text":' + dumps(ev.text) + "}" + self._tail)
            return self._part({"text": ev.text})
        if cls is ReasoningDelta:
            self._kind = "reasoning_text"
            return self._frame(
                self._prefix + '{"text":' + dumps(ev.text) + ',"thought":true}' + self._tail
            )
        if cls is ToolArgsDelta:
            self._args.append(ev.partial_json)
            return b""
        if cls is BlockStart:
            self._kind = ev.kind
            if ev.kind == "tool_call":
                self._call = (ev.id or "", ev.name or "")
                self._args = []
            return b""
        if cls is SignatureDelta:
            signature = wrap_signature(ev.signature, ev.source, FMT)
            if self._kind == "reasoning_text":
                return self._part({"text": "", "thought": True, "thoughtSignature": signature})
            self._pending_sig = signature
            return b""
        if cls is BlockStop:
            kind = self._kind
            self._kind = None
            if kind != "tool_call":
                return b""
            call_id, name = self._call
            text = "".join(self._args)
            args = json.loads(text) if text else {}
            return self._part({"functionCall": {"id": call_id, "name": name, "args": args}})
        if cls is Finish:
            parts = '{"text":""}'
            if self._pending_sig is not None:
                parts = dumps({"text": "", "thoughtSignature": self._pending_sig})
                self._pending_sig = None
            body = (
                self._prefix
                + parts
                + f']}},"finishReason":"{_FINISH_OUT[ev.stop_reason]}","index":0}}],'
                + f'"usageMetadata":{dumps(encode_gemini_usage(ev.usage))},'
                + self._tail[len(']},"index":0}],') :]
            )
            return self._frame(body)
        if cls is StreamError:
            status = _HTTP_FOR_KIND.get(ev.kind, ev.status)
            return self._frame(dumps(gemini_error_body(status, ev.message, ev.kind)))
        return b""

    def finish(self) -> bytes:
        if self._sse:
            return b""
        return b"]" if self._sent else b"[]"


class GeminiCodec(Codec):
    format = FMT

    def decode_request(self, body: dict) -> Request:
        return decode_gemini_request(body)

    def encode_request(self, req: Request, ctx: TranslationContext) -> dict:
        return encode_gemini_request(req, ctx)

    def decode_response(self, body: dict, ctx: TranslationContext) -> Response:
        return decode_gemini_response(body, ctx)

    def encode_response(self, resp: Response, ctx: TranslationContext) -> dict:
        return encode_gemini_response(resp, ctx)

    def stream_decoder(self, ctx: TranslationContext) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(ctx)

    def stream_encoder(self, ctx: TranslationContext) -> GeminiStreamEncoder:
        """ctx.sse=False selects the JSON-array mode (streamGenerateContent without alt=sse)."""
        return GeminiStreamEncoder(ctx, sse=ctx.sse)

    def encode_error(self, status: int, message: str, kind: ErrorKind) -> dict:
        return gemini_error_body(status, message, kind)

    def encode_stream_error(self, status: int, message: str, kind: ErrorKind) -> bytes:
        return f"data: {dumps(gemini_error_body(status, message, kind))}\r\n\r\n".encode()
