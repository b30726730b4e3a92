"""Gemini parts <-> IR parts, shared by requests and responses, and the field-name
normalisation every Gemini object goes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.formats.codec import dumps, parse_arguments, require, unwrap_signature
from router.formats.context import TranslationContext
from router.formats.errors import FormatError, UnsupportedFeature
from router.formats.ir import (
    Format,
    ImagePart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from router.jsonio import loads

FMT = Format.GEMINI
# Gemini's documented stand-in for a thought signature a client could not keep.
PLACEHOLDER_SIGNATURE = "skip_thought_signature_validator"
_URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")


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


def standard_base64(data: str) -> str:
    """Gemini accepts (and google-genai sends) URL-safe base64; other formats want the
    standard alphabet with padding."""
    data = data.translate(_URL_SAFE_TO_STANDARD)
    return data + "=" * (-len(data) % 4)


def call_id_factory(ctx: TranslationContext) -> Callable[[], str]:
    """Ids for calls an upstream sent without one: call_<request id>_<n>."""
    counter = iter(range(1 << 30))
    return lambda: f"call_{ctx.request_id}_{next(counter)}"


class PartDecoder:
    """Gemini parts -> IR parts. Consecutive thought parts merge into one ReasoningPart;
    a thoughtSignature on a non-thought part becomes a signature-only ReasoningPart in
    front of it. Calls without ids get ids from `make_id`; responses without ids are
    matched to the earliest unanswered call of the same name."""

    def __init__(
        self, client: Format, make_id: Callable[[], str], ctx: TranslationContext | None
    ) -> None:
        self.client = client
        self.make_id = make_id
        self.ctx = ctx
        self.pending: list[tuple[str, str]] = []

    def decode(self, raw_parts: Any, where: str) -> list[Part]:
        if not isinstance(raw_parts, list):
            raise FormatError(f"{where}: expected array of parts")
        parts: list[Part] = []
        for j, raw in enumerate(raw_parts):
            pwhere = f"{where}[{j}]"
            raw = camel_fields(raw, pwhere)
            raw_sig = raw.get("thoughtSignature")
            if raw.get("thought"):
                self._thought(raw, parts)
                continue
            if raw_sig:
                self._signature(raw_sig, parts)
            text = raw.get("text")
            if isinstance(text, str):
                if text:
                    parts.append(TextPart(text))
                continue
            part = self._content(raw, pwhere, signed=bool(raw_sig))
            if part is not None:
                parts.append(part)
        return parts

    def _signature(self, raw_sig: str, parts: list[Part]) -> None:
        """A signature on a content part. One another format issued (wrapped) signs the
        thought text before it, which cliproxy sent unsigned (the signature travels on
        the next part, where clients that drop thought parts keep it)."""
        sig, source = unwrap_signature(raw_sig, self.client)
        last = parts[-1] if parts else None
        if (
            source is not FMT
            and isinstance(last, ReasoningPart)
            and last.signature is None
            and last.text
            and not last.redacted
        ):
            last.signature = sig
            last.source = source
        else:
            parts.append(ReasoningPart(text="", signature=sig, source=source))

    def _thought(self, raw: dict, parts: list[Part]) -> None:
        """A thought part: continues the reasoning before it while that is unsigned."""
        text = raw.get("text") or ""
        sig, source = unwrap_signature(raw.get("thoughtSignature"), self.client)
        last = parts[-1] if parts else None
        if (
            isinstance(last, ReasoningPart)
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

    def _content(self, raw: dict, where: str, signed: bool) -> Part | None:
        """The part's content; None for empty text or a part that only carries a signature."""
        if "text" in raw:
            text = raw["text"]
            if not isinstance(text, str):
                raise FormatError(f"{where}.text: expected string")
            return TextPart(text) if text else None
        if "inlineData" in raw:
            data = camel_fields(require(raw, "inlineData", dict, where + "."), where)
            return ImagePart(
                media_type=require(data, "mimeType", str, where + ".inlineData."),
                data=standard_base64(require(data, "data", str, where + ".inlineData.")),
            )
        if "fileData" in raw:
            data = camel_fields(require(raw, "fileData", dict, where + "."), where)
            return ImagePart(
                media_type=data.get("mimeType"),
                url=require(data, "fileUri", str, where + ".fileData."),
                file_ref=True,
            )
        if "functionCall" in raw:
            return self._call(raw, where)
        if "functionResponse" in raw:
            return self._response(raw, where)
        if "executableCode" in raw or "codeExecutionResult" in raw:
            raise UnsupportedFeature(f"{where}: code execution parts are not supported")
        if not signed:
            raise FormatError(f"{where}: unknown part kind {sorted(raw)!r}")
        return None

    def _call(self, raw: dict, where: str) -> ToolCallPart:
        call = camel_fields(require(raw, "functionCall", dict, where + "."), where)
        name = require(call, "name", str, where + ".functionCall.")
        call_id = call.get("id") or self.make_id()
        if self.ctx is not None:
            name = self.ctx.tool_name_in(name)
            call_id = self.ctx.call_id_in(call_id)
        self.pending.append((name, call_id))
        args = call.get("args")
        return ToolCallPart(call_id, name, dumps(args) if args else "{}")

    def _response(self, raw: dict, where: str) -> ToolResultPart:
        resp = camel_fields(require(raw, "functionResponse", dict, where + "."), where)
        name = require(resp, "name", str, where + ".functionResponse.")
        call_id = resp.get("id") or self._match(name)
        content, is_error = _function_response_content(resp.get("response"))
        return ToolResultPart(call_id, content, is_error, name)

    def _match(self, name: str) -> str:
        for k, (pending_name, call_id) in enumerate(self.pending):
            if pending_name == name:
                del self.pending[k]
                return call_id
        return self.make_id()


def _function_response_content(response: Any) -> tuple[list[TextPart | ImagePart], bool]:
    """Gemini functionResponse.response object -> (IR content, is_error)."""
    if isinstance(response, dict) and len(response) == 1:
        if isinstance(response.get("result"), str):
            return [TextPart(response["result"])], False
        if isinstance(response.get("error"), str):
            return [TextPart(response["error"])], True
    return [TextPart(dumps(response if response is not None else {}))], False


def encode_parts(
    parts: list[Part], ctx: TranslationContext, names: dict[str, str], where: str
) -> list[dict]:
    """IR parts -> Gemini parts of a request. A signature-only ReasoningPart puts its
    signature on the next part (a function call, as Gemini requires). The first call of a
    turn without any signature (its reasoning lost: a client that cannot carry it and a
    cache that no longer holds it) gets Gemini's documented placeholder, which Gemini 3
    accepts instead of rejecting the turn."""
    out: list[dict] = []
    pending_sig: str | None = None
    signed = False
    for part in parts:
        item: dict
        if isinstance(part, TextPart):
            if not part.text and pending_sig is None:
                continue
            item = {"text": part.text}
        elif isinstance(part, ToolCallPart):
            args = parse_arguments(part.arguments, where)
            item = {"functionCall": {"name": ctx.tool_name_out(part.name), "args": args}}
            if pending_sig is None and not signed:
                pending_sig = PLACEHOLDER_SIGNATURE
        elif isinstance(part, ReasoningPart):
            pending_sig = _encode_thought(part, out, pending_sig)
            continue
        elif isinstance(part, ToolResultPart):
            out.extend(_function_response(part, ctx, names, where))
            continue
        else:
            item = encode_image(part, where)
        if pending_sig is not None:
            item["thoughtSignature"] = pending_sig
            pending_sig = None
            signed = True
        out.append(item)
    if pending_sig is not None:
        out.append({"text": "", "thoughtSignature": pending_sig})
    return out


def _encode_thought(part: ReasoningPart, out: list[dict], pending_sig: str | None) -> str | None:
    """Own-format reasoning with text becomes a thought part; a bare signature becomes
    the pending one. Returns the signature still waiting for a part."""
    if part.source is not FMT or part.redacted:
        return pending_sig
    if part.text:
        thought: dict = {"text": part.text, "thought": True}
        if part.signature:
            thought["thoughtSignature"] = part.signature
        out.append(thought)
        return pending_sig
    return part.signature or pending_sig


def _function_response(
    part: ToolResultPart, ctx: TranslationContext, names: dict[str, str], where: str
) -> list[dict]:
    """A functionResponse (named after its call: Gemini matches by name), then any
    images of the result as parts of their own."""
    name = part.name or names.get(part.call_id)
    if name is None:
        raise FormatError(
            f"{where}: tool result for call id {part.call_id!r} has no matching tool call"
        )
    response = {"name": ctx.tool_name_out(name), "response": _function_response_object(part)}
    out: list[dict] = [{"functionResponse": response}]
    for extra in part.content:
        if isinstance(extra, ImagePart):
            out.append(encode_image(extra, where))
    return out


def _function_response_object(part: ToolResultPart) -> dict:
    text = "\n".join(c.text for c in part.content if isinstance(c, TextPart))
    if part.is_error:
        return {"error": text}
    if text.startswith("{"):
        try:
            value = loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return {"result": text}


def encode_image(part: ImagePart, where: str) -> dict:
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
