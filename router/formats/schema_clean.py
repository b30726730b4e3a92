"""JSON Schema clean-up for targets that accept only a subset (Gemini's OpenAPI Schema)."""

from __future__ import annotations

from typing import Any

# Keywords Gemini's Schema object accepts; everything else is dropped.
_GEMINI_KEYS = frozenset(
    {
        "type",
        "format",
        "description",
        "nullable",
        "enum",
        "items",
        "properties",
        "required",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "anyOf",
        "propertyOrdering",
    }
)
_GEMINI_STRING_FORMATS = frozenset({"enum", "date-time"})
_MAX_REF_DEPTH = 8


def clean_for_gemini(schema: Any) -> dict:
    """Rewrite a JSON Schema into the form Gemini accepts.

    $ref is inlined from $defs/definitions (recursive references deeper than a few levels
    become a plain object), const becomes a one-value enum, null unions
    (anyOf/oneOf with {"type":"null"} or type lists with "null") become nullable,
    oneOf becomes anyOf, allOf is merged, and unsupported keywords ($schema,
    additionalProperties, default, examples, title, ...) are removed.
    """
    if not isinstance(schema, dict):
        return {"type": "object", "properties": {}}
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    return _clean(schema, defs, 0)


def _resolve_ref(ref: str, defs: dict) -> dict | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            return defs.get(ref[len(prefix) :])
    return None


def _clean(node: Any, defs: dict, depth: int) -> Any:
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = _resolve_ref(node["$ref"], defs) if depth < _MAX_REF_DEPTH else None
        if target is None:
            out: dict = {"type": "object"}
            if "description" in node:
                out["description"] = node["description"]
            return out
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _clean(merged, defs, depth + 1)
    if "allOf" in node and isinstance(node["allOf"], list):
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for sub in node["allOf"]:
            sub = _clean(sub, defs, depth)
            if isinstance(sub, dict):
                props = {**merged.get("properties", {}), **sub.get("properties", {})}
                required = [*merged.get("required", []), *sub.get("required", [])]
                merged = {**sub, **merged}
                if props:
                    merged["properties"] = props
                if required:
                    merged["required"] = list(dict.fromkeys(required))
        node = merged

    out = {}
    nullable = False
    union = node.get("anyOf", node.get("oneOf"))
    if isinstance(union, list):
        options = [o for o in union if not (isinstance(o, dict) and o.get("type") == "null")]
        nullable = len(options) != len(union)
        if len(options) == 1:
            inner = _clean(options[0], defs, depth)
            extra = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            inner = {**inner, **_clean(extra, defs, depth)} if extra else inner
            if nullable:
                inner["nullable"] = True
            return inner
        if options:
            out["anyOf"] = [_clean(o, defs, depth) for o in options]

    for key, value in node.items():
        if key in ("anyOf", "oneOf"):
            continue
        if key == "const":
            out["enum"] = [value]
            continue
        if key not in _GEMINI_KEYS:
            continue
        if key == "type":
            if isinstance(value, list):
                types = [t for t in value if t != "null"]
                nullable = nullable or len(types) != len(value)
                value = types[0] if len(types) == 1 else (types or ["string"])
                if isinstance(value, list):
                    out["anyOf"] = [{"type": t} for t in value]
                    continue
            out["type"] = value
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: _clean(sub, defs, depth) for name, sub in value.items()}
        elif key == "items":
            out["items"] = _clean(value, defs, depth)
        elif key == "format":
            if value in _GEMINI_STRING_FORMATS or node.get("type") in ("number", "integer"):
                out["format"] = value
        elif key == "enum" and isinstance(value, list):
            out["enum"] = [v if isinstance(v, str) else str(v) for v in value if v is not None]
            out.setdefault("type", "string")
        else:
            out[key] = value
    if "enum" in out and out.get("type") != "string":
        out["type"] = "string"
    if "required" in out and "properties" in out:
        out["required"] = [r for r in out["required"] if r in out["properties"]]
    if nullable:
        out["nullable"] = True
    return out


def ensure_object_schema(schema: Any) -> dict:
    """Anthropic and OpenAI want an object schema for tool parameters."""
    if not isinstance(schema, dict) or not schema:
        return {"type": "object", "properties": {}}
    if "type" not in schema:
        return {"type": "object", **schema}
    return schema


def gemini_schema_to_json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-style schema (upper-case types) to plain JSON Schema."""
    if isinstance(schema, list):
        return [gemini_schema_to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {k: gemini_schema_to_json_schema(v) for k, v in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = gemini_schema_to_json_schema(value)
        else:
            out[key] = value
    return out
