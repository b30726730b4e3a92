"""Fake Gemini API (/v1beta and /v1): generateContent, streamGenerateContent, countTokens, models.

Strict like the real API: key in `x-goog-api-key` or `?key=`; unknown fields (including
JSON Schema keywords Gemini's Schema proto lacks, see SCHEMA_FIELDS) rejected with
"Invalid JSON payload received. Unknown name ..."; roles only user/model; parts non-empty;
function responses must answer the preceding model turn's function calls; thought
signatures sent back must be ones this fake issued.

Streaming: `?alt=sse` gives `data: {...}` events separated by CRLF CRLF as Google sends
them; without alt=sse the stream is one JSON array written piece by piece.
Run standalone with `python -m tests.fakes.gemini --port 0 --print-port`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from aiohttp import web

from tests.fakes.base import (
    ApiError,
    FakeServer,
    Handler,
    RecordedRequest,
    Renderer,
    StreamEvent,
    StreamPlan,
    estimate_tokens,
    json_response,
    reply_deltas,
    reply_text,
    run_standalone,
)
from tests.fakes.behaviours import MidStreamError, Reply, Status

REQUEST_FIELDS = {
    "model", "contents", "tools", "toolConfig", "safetySettings", "systemInstruction",
    "generationConfig", "cachedContent",
}  # fmt: skip
GENERATION_CONFIG_FIELDS = {
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
    "responseModalities", "candidateCount", "maxOutputTokens", "temperature", "topP", "topK",
    "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs",
    "enableEnhancedCivicAnswers", "speechConfig", "thinkingConfig", "mediaResolution",
    "imageConfig",
}  # fmt: skip
TOOL_CONFIG_FIELDS = {"functionCallingConfig", "retrievalConfig"}
CALLING_CONFIG_FIELDS = {"mode", "allowedFunctionNames"}
BLOB_FIELDS = {"mimeType", "data", "displayName"}
THINKING_CONFIG_FIELDS = {"includeThoughts", "thinkingBudget", "thinkingLevel"}
CONTENT_FIELDS = {"role", "parts"}
PART_FIELDS = {
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "thought",
    "thoughtSignature", "executableCode", "codeExecutionResult", "videoMetadata",
}  # fmt: skip
TOOL_FIELDS = {
    "functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution",
    "urlContext", "computerUse", "fileSearch", "googleMaps",
}  # fmt: skip
FUNCTION_DECLARATION_FIELDS = {
    "name", "description", "parameters", "parametersJsonSchema", "response",
    "responseJsonSchema", "behavior",
}  # fmt: skip
# The Schema proto of `parameters` (v1beta). Anything else, e.g. additionalProperties,
# $schema, $ref, $defs, definitions, const, oneOf, allOf, not, exclusiveMinimum,
# exclusiveMaximum, patternProperties, examples, is an unknown field and rejected.
# (`parametersJsonSchema` takes full JSON Schema and is not checked.)
SCHEMA_FIELDS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum",
    "maximum",
}  # fmt: skip
SCHEMA_TYPES = {"TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT",
                "NULL"}  # fmt: skip
MODELS = (
    ("gemini-2.5-pro", "Gemini 2.5 Pro"),
    ("gemini-2.5-flash", "Gemini 2.5 Flash"),
    ("gemini-3-pro-preview", "Gemini 3 Pro Preview"),
)
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    403: "The caller does not have permission",
}
SSE_SEPARATOR = "\r\n\r\n"


def gemini_error(
    status: int, message: str, details: list[dict[str, Any]] | None = None
) -> web.Response:
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return json_response({"error": error}, status)


def invalid(message: str) -> ApiError:
    return ApiError(gemini_error(400, message))


def unknown_field(name: str, where: str) -> ApiError:
    at = f" at '{where}'" if where else ""
    return invalid(f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.')


def status_response(behaviour: Status) -> web.Response:
    """Render a scripted Status in the Google RPC error shape (429 gets RetryInfo)."""
    if behaviour.body is not None:
        raw = behaviour.body if isinstance(behaviour.body, str) else json.dumps(behaviour.body)
        return web.Response(
            status=behaviour.status, text=raw, content_type="application/json",
            headers=behaviour.headers,
        )  # fmt: skip
    details = None
    if behaviour.retry_after is not None:
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{behaviour.retry_after:g}s",
            }
        ]
    response = gemini_error(
        behaviour.status,
        behaviour.message or DEFAULT_MESSAGES.get(behaviour.status, "Upstream error."),
        details,
    )
    if behaviour.error_type:
        payload = json.loads(response.body)  # type: ignore[arg-type]
        payload["error"]["status"] = behaviour.error_type
        response = json_response(payload, behaviour.status)
    for name, value in (behaviour.headers or {}).items():
        response.headers[name] = value
    return response


def camel(name: str) -> str:
    """Proto JSON accepts snake_case too: normalise field names to lowerCamelCase."""
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def check_fields(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise invalid(f"Invalid value at '{where}': expected an object.")
    for name in obj:
        if camel(name) not in allowed:
            raise unknown_field(name, where)
    return {camel(k): v for k, v in obj.items()}


def check_schema(schema: Any, where: str) -> None:
    fields = check_fields(schema, SCHEMA_FIELDS, where)
    kind = fields.get("type")
    if isinstance(kind, list):
        raise invalid(
            f"Invalid JSON payload received. Proto field is not repeating, cannot start list. "
            f"at '{where}.type'"
        )
    if kind is not None and str(kind).upper() not in SCHEMA_TYPES:
        raise invalid(f"Invalid value at '{where}.type' ({kind}), ")
    for i, (_, value) in enumerate((fields.get("properties") or {}).items()):
        check_schema(value, f"{where}.properties[{i}].value")
    if "items" in fields:
        check_schema(fields["items"], f"{where}.items")
    for i, option in enumerate(fields.get("anyOf") or []):
        check_schema(option, f"{where}.any_of[{i}]")


# What Gemini accepts in place of a signature a client could not keep (documented).
PLACEHOLDER_SIGNATURES = frozenset(
    {"skip_thought_signature_validator", "context_engineering_is_the_way_to_go"}
)


def check_call_signatures(contents: list[dict[str, Any]]) -> None:
    """Gemini 3: in the current turn (since the last user text), the first function call
    of each model step must carry a thought signature (checked as ours elsewhere)."""
    start = 0
    for i, content in enumerate(contents):
        parts = [camel_fields_of(p) for p in content.get("parts") or []]
        if content.get("role", "user") == "user" and any("text" in p for p in parts):
            start = i
    for i in range(start, len(contents)):
        content = contents[i]
        if content.get("role") != "model":
            continue
        parts = [camel_fields_of(p) for p in content.get("parts") or []]
        for j, part in enumerate(parts):
            if "functionCall" in part:
                if not part.get("thoughtSignature"):
                    name = part["functionCall"].get("name")
                    raise invalid(
                        f"Function call `{name}` in the {i + 1}. content block is missing a "
                        f"`thought_signature`. contents[{i}].parts[{j}]"
                    )
                break


def camel_fields_of(part: Any) -> dict[str, Any]:
    return {camel(k): v for k, v in part.items()} if isinstance(part, dict) else {}


def check_inline_data(blob: Any, where: str) -> None:
    fields = check_fields(blob, BLOB_FIELDS, where)
    if not fields.get("mimeType"):
        raise invalid(f"* GenerateContentRequest.{where}.mime_type: mime_type is required.\n")
    try:  # proto JSON bytes: standard or URL-safe base64, as the real API accepts
        base64.b64decode(
            str(fields.get("data", "")).replace("-", "+").replace("_", "/"), validate=True
        )
    except ValueError:
        raise invalid(
            f"Invalid value at '{where}.data' (TYPE_BYTES), Base64 decoding failed"
        ) from None


class GeminiFake(FakeServer):
    """Gemini API upstream under /v1beta and /v1 (google-genai 3.x defaults to /v1)."""

    def malformed(self, exc: Exception) -> web.Response:
        return invalid(f"Invalid request: {exc}").response

    default_keys = ("AIza-test-gemini",)

    def __init__(
        self,
        keys: Sequence[str] | None = None,
        *,
        record: bool = True,
        signing_key: bytes | None = None,
    ) -> None:
        super().__init__(keys, record=record)
        # A fixed key lets recorded conversations (tests/clients/corpus) replay.
        self._signing_key = signing_key or secrets.token_bytes(32)

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        routes: list[tuple[str, str, Handler]] = []
        for version in ("v1beta", "v1"):
            routes += [
                ("POST", f"/{version}/models/{{model}}", self.model_action),
                ("GET", f"/{version}/models", self.list_models),
                ("GET", f"/{version}/models/{{model}}", self.get_model),
            ]
        return routes

    def issue_signature(self) -> str:
        """An opaque thought signature this fake will accept when sent back."""
        nonce = secrets.token_bytes(16)
        mac = hmac.new(self._signing_key, nonce, hashlib.sha256).digest()
        return base64.b64encode(nonce + mac).decode()

    def signature_accepted(self, signature: Any) -> bool:
        return signature in PLACEHOLDER_SIGNATURES or self.signature_is_ours(signature)

    def signature_is_ours(self, signature: Any) -> bool:
        try:
            # bytes in proto JSON: standard or URL-safe base64 (the SDKs send URL-safe)
            text = str(signature).replace("-", "+").replace("_", "/")
            raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except ValueError:
            return False
        nonce, mac = raw[:16], raw[16:]
        expected = hmac.new(self._signing_key, nonce, hashlib.sha256).digest()
        return len(raw) == 48 and hmac.compare_digest(mac, expected)

    def authenticate(self, request: web.Request) -> None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            raise ApiError(
                gemini_error(
                    403,
                    "Method doesn't allow unregistered callers (callers without established "
                    "identity). Please use API Key or other form of API consumer identity to "
                    "call this API.",
                )
            )
        if key not in self.keys:
            raise ApiError(
                gemini_error(
                    400,
                    "API key not valid. Please pass a valid API key.",
                    [
                        {
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "API_KEY_INVALID",
                            "domain": "googleapis.com",
                        }
                    ],
                )
            )

    # validation ---------------------------------------------------------------------------

    def check_request(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received. Unexpected token.")
        request = check_fields(body, REQUEST_FIELDS, "")
        if "generationConfig" in request:
            config = check_fields(
                request["generationConfig"], GENERATION_CONFIG_FIELDS, "generation_config"
            )
            if "thinkingConfig" in config:
                check_fields(
                    config["thinkingConfig"],
                    THINKING_CONFIG_FIELDS,
                    "generation_config.thinking_config",
                )
            self.check_response_schema(config)
        if "systemInstruction" in request:
            system = check_fields(
                request["systemInstruction"], CONTENT_FIELDS, "system_instruction"
            )
            for j, part in enumerate(system.get("parts") or []):
                check_fields(part, PART_FIELDS, f"system_instruction.parts[{j}]")
        self.check_tools(request.get("tools"))
        self.check_tool_config(request)
        self.check_contents(request.get("contents"))
        return request

    def check_response_schema(self, config: dict[str, Any]) -> None:
        if "responseSchema" in config and "responseJsonSchema" in config:
            raise invalid("responseSchema and responseJsonSchema cannot both be set.")
        if ("responseSchema" in config or "responseJsonSchema" in config) and config.get(
            "responseMimeType"
        ) != "application/json":
            raise invalid(
                "* GenerateContentRequest.generation_config.response_mime_type: "
                "response_mime_type must be application/json when a response schema is set.\n"
            )
        if "responseSchema" in config:
            check_schema(config["responseSchema"], "generation_config.response_schema")

    def check_tool_config(self, request: dict[str, Any]) -> None:
        if "toolConfig" not in request:
            return
        tool_config = check_fields(request["toolConfig"], TOOL_CONFIG_FIELDS, "tool_config")
        if "functionCallingConfig" not in tool_config:
            return
        where = "tool_config.function_calling_config"
        config = check_fields(tool_config["functionCallingConfig"], CALLING_CONFIG_FIELDS, where)
        mode = config.get("mode", "MODE_UNSPECIFIED")
        if mode not in ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"):
            raise invalid(f"Invalid value at '{where}.mode' ({mode})")
        allowed = config.get("allowedFunctionNames") or []
        if allowed and mode not in ("ANY", "VALIDATED"):
            raise invalid(
                f"* GenerateContentRequest.{where}.allowed_function_names: "
                "allowed_function_names may only be set when mode is ANY.\n"
            )
        declared = {
            str(decl.get("name"))
            for tool in request.get("tools") or []
            for decl in (
                tool.get("functionDeclarations") or tool.get("function_declarations") or []
            )
        }
        for name in allowed:
            if name not in declared:
                raise invalid(
                    f"* GenerateContentRequest.{where}.allowed_function_names: function "
                    f"'{name}' is not declared in tools.\n"
                )

    def check_tools(self, tools: Any) -> None:
        for i, tool in enumerate(tools or []):
            fields = check_fields(tool, TOOL_FIELDS, f"tools[{i}]")
            for j, declaration in enumerate(fields.get("functionDeclarations") or []):
                where = f"tools[{i}].function_declarations[{j}]"
                decl = check_fields(declaration, FUNCTION_DECLARATION_FIELDS, where)
                if not decl.get("name"):
                    raise invalid(
                        f"* GenerateContentRequest.{where}.name: [FIELD_INVALID] Invalid function "
                        "name. Must start with a letter or an underscore."
                    )
                if "parameters" in decl:
                    check_schema(decl["parameters"], f"{where}.parameters")

    def check_contents(self, contents: Any) -> None:
        if not contents:
            raise invalid("* GenerateContentRequest.contents: contents is not specified\n")
        previous_calls: list[str] = []
        for i, raw in enumerate(contents):
            content = check_fields(raw, CONTENT_FIELDS, f"contents[{i}]")
            role = content.get("role", "user")
            if role not in ("user", "model"):
                raise invalid("Please use a valid role: user, model.")
            parts = content.get("parts")
            if not parts:
                raise invalid(
                    f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be "
                    "empty.\n"
                )
            parsed = [
                check_fields(part, PART_FIELDS, f"contents[{i}].parts[{j}]")
                for j, part in enumerate(parts)
            ]
            for j, part in enumerate(parsed):
                if "inlineData" in part:
                    check_inline_data(part["inlineData"], f"contents[{i}].parts[{j}].inline_data")
                if "thoughtSignature" in part and not self.signature_accepted(
                    part["thoughtSignature"]
                ):
                    raise invalid("Corrupted thought signature.")
            responses = [p["functionResponse"] for p in parsed if "functionResponse" in p]
            if responses:
                names = [str(r.get("name")) for r in responses]
                if not previous_calls or sorted(names) != sorted(previous_calls):
                    if previous_calls and len(names) != len(previous_calls):
                        raise invalid(
                            "Please ensure that the number of function response parts is equal "
                            "to the number of function call parts of the function call turn."
                        )
                    raise invalid(
                        "Please ensure that function response turn comes immediately after a "
                        "function call turn."
                    )
            previous_calls = [
                str(p["functionCall"].get("name"))
                for p in parsed
                if role == "model" and "functionCall" in p
            ]

    # handlers -----------------------------------------------------------------------------

    async def model_action(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        model, _, action = request.match_info["model"].partition(":")
        if action not in ("generateContent", "streamGenerateContent", "countTokens"):
            raise ApiError(gemini_error(404, f"Method not found: {action or model}."))
        self.authenticate(request)
        if action == "countTokens":
            return await self.count_tokens(request, record)
        body = self.check_request(record.json)
        if model.startswith("gemini-3"):
            check_call_signatures(body["contents"])
        state = ContentRender(
            model=model,
            default_text=f"echo: {last_user_text(body['contents'])}",
            prompt_tokens=estimate_tokens(json.dumps(body.get("contents"))),
            issue_signature=self.issue_signature,
        )
        streaming = action == "streamGenerateContent"
        use_sse = request.query.get("alt") == "sse"
        render = Renderer(
            stream=streaming,
            body=state.response,
            plan=state.sse_plan if use_sse else state.array_plan,
            error=status_response,
            garbage_stream=(
                (lambda text: f"data: {text}{SSE_SEPARATOR}".encode())
                if use_sse
                else (lambda text: f"[{text}".encode())
            ),
            content_type="text/event-stream" if use_sse else "application/json",
        )
        return await self.perform(request, record, self.next_behaviour(record), render)

    async def count_tokens(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        body = record.json
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received. Unexpected token.")
        check_fields(body, {"contents", "generateContentRequest"}, "")
        inner = body.get("generateContentRequest")
        contents = (
            self.check_request(inner)["contents"] if inner is not None else body.get("contents")
        )
        if inner is None:
            self.check_contents(contents)
        total = estimate_tokens(json.dumps(contents))
        payload = {
            "totalTokens": total,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}],
        }
        return await self.respond_fixed(request, record, payload, status_response)

    async def list_models(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        self.authenticate(request)
        payload = {"models": [model_info(m, n) for m, n in MODELS]}
        return await self.respond_fixed(request, record, payload, status_response)

    async def get_model(self, request: web.Request, record: RecordedRequest) -> web.Response:
        self.authenticate(request)
        name = request.match_info["model"]
        for model, display in MODELS:
            if model == name:
                return json_response(model_info(model, display))
        raise ApiError(
            gemini_error(
                404,
                f"models/{name} is not found for API version {request.path.split('/')[1]}, "
                "or is not supported for "
                "generateContent. Call ListModels to see the list of available models and "
                "their supported methods.",
            )
        )


def model_info(model: str, display: str) -> dict[str, Any]:
    return {
        "name": f"models/{model}",
        "version": "001",
        "displayName": display,
        "description": display,
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "streamGenerateContent"],
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": True,
    }


def last_user_text(contents: list[dict[str, Any]]) -> str:
    for content in reversed(contents):
        if content.get("role", "user") == "user":
            texts = [p["text"] for p in content["parts"] if isinstance(p.get("text"), str)]
            if texts:
                return "".join(texts)
    return ""


class ContentRender:
    """GenerateContentResponse shapes for one request."""

    def __init__(
        self, model: str, default_text: str, prompt_tokens: int, issue_signature: Any
    ) -> None:
        self.model = model
        self.default_text = default_text
        self.prompt_tokens = prompt_tokens
        self.issue_signature = issue_signature
        self.response_id = secrets.token_urlsafe(16)

    def usage(self, reply: Reply) -> dict[str, Any]:
        if reply.usage is not None:
            prompt, output = reply.usage.input_tokens, reply.usage.output_tokens
            thoughts, cached = reply.usage.reasoning_tokens, reply.usage.cached_tokens
        else:
            prompt, cached = self.prompt_tokens, 0
            thoughts = estimate_tokens(reply.reasoning or "")
            output = estimate_tokens(reply_text(reply, self.default_text))
            output += sum(estimate_tokens(json.dumps(c.arguments)) for c in reply.tool_calls)
        usage = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": output,
            "totalTokenCount": prompt + output + thoughts,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        }
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        if cached:
            usage["cachedContentTokenCount"] = cached
        return usage

    def finish_reason(self, reply: Reply) -> str:
        return reply.stop_reason or "STOP"

    def thought_part(self, reply: Reply) -> dict[str, Any]:
        return {
            "text": reply.reasoning,
            "thought": True,
            "thoughtSignature": self.issue_signature(),
        }

    def call_parts(self, reply: Reply) -> list[dict[str, Any]]:
        parts = []
        for i, call in enumerate(reply.tool_calls):
            function_call: dict[str, Any] = {"name": call.name, "args": call.arguments}
            if call.id:
                function_call["id"] = call.id
            part: dict[str, Any] = {"functionCall": function_call}
            if i == 0 and reply.reasoning is not None:
                part["thoughtSignature"] = self.issue_signature()
            parts.append(part)
        return parts

    def chunk(
        self, parts: list[dict[str, Any]], reply: Reply, final: bool = False
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if final:
            candidate["finishReason"] = self.finish_reason(reply)
        usage = self.usage(reply)
        if not final:
            usage = {
                "promptTokenCount": usage["promptTokenCount"],
                "totalTokenCount": usage["promptTokenCount"],
                "promptTokensDetails": usage["promptTokensDetails"],
            }
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": self.model,
            "responseId": self.response_id,
        }

    def response(self, reply: Reply) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if reply.reasoning is not None:
            parts.append(self.thought_part(reply))
        text = reply_text(reply, self.default_text)
        if text or not reply.tool_calls:
            parts.append({"text": text})
        parts.extend(self.call_parts(reply))
        return self.chunk(parts, reply, final=True)

    def chunks(self, reply: Reply) -> list[tuple[dict[str, Any], bool]]:
        """(chunk, counts-as-content) pairs of a streamed answer, final chunk last."""
        result: list[tuple[dict[str, Any], bool]] = []
        if reply.reasoning is not None:
            result.append((self.chunk([self.thought_part(reply)], reply), True))
        for piece in reply_deltas(reply, self.default_text):
            result.append((self.chunk([{"text": piece}], reply), True))
        for part in self.call_parts(reply):
            result.append((self.chunk([part], reply), True))
        result.append((self.chunk([{"text": ""}], reply, final=True), False))
        return result

    def sse_plan(self, reply: Reply) -> StreamPlan:
        events = [
            StreamEvent(f"data: {json.dumps(chunk)}{SSE_SEPARATOR}".encode(), content)
            for chunk, content in self.chunks(reply)
        ]
        return StreamPlan(
            events,
            error_event=lambda e, _sent: (
                f"data: {json.dumps(error_body(e))}{SSE_SEPARATOR}".encode()
            ),
        )

    def array_plan(self, reply: Reply) -> StreamPlan:
        chunks = self.chunks(reply)
        events = [
            StreamEvent(((("[" if i == 0 else "\r\n,") + json.dumps(chunk)).encode()), content)
            for i, (chunk, content) in enumerate(chunks)
        ]
        events.append(StreamEvent(b"]"))
        return StreamPlan(
            events,
            content_type="application/json",
            error_event=lambda e, _sent: f"\r\n,{json.dumps(error_body(e))}]".encode(),
        )


def error_body(error: MidStreamError) -> dict[str, Any]:
    return {
        "error": {
            "code": error.status,
            "message": error.message,
            "status": error.error_type or STATUS_NAMES.get(error.status, "UNAVAILABLE"),
        }
    }


def main() -> None:
    run_standalone(lambda keys: GeminiFake(keys))


if __name__ == "__main__":
    main()
