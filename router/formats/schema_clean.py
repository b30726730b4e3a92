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
    """One schema node, in five named steps: inline $ref, merge allOf, collapse a
    single-option null union, copy the keywords Gemini accepts, final consistency fixes."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline_ref(node, defs, depth)
    if isinstance(node.get("allOf"), list):
        node = _merge_all_of(node, defs, depth)
    out: dict = {}
    nullable = False
    union = node.get("anyOf", node.get("oneOf"))
    if isinstance(union, list):
        options = [o for o in union if not (isinstance(o, dict) and o.get("type") == "null")]
        nullable = len(options) != len(union)
        if len(options) == 1:
            return _collapse_union(node, options[0], nullable, defs, depth)
        if options:
            out["anyOf"] = [_clean(o, defs, depth) for o in options]
    for key, value in node.items():
        if _copy_keyword(key, value, node, out, defs, depth):
            nullable = True
    return _finish(out, nullable)


def _inline_ref(node: dict, defs: dict, depth: int) -> Any:
    """The referenced definition merged under the node's own keywords; an unresolvable or
    too deeply recursive reference becomes a plain object."""
    target = _resolve_ref(node["$ref"], defs) if depth < _MAX_REF_DEPTH else None
    if target is None:
        out: dict = {"type": "object"}
        if "description" in node:
            out["description"] = node["description"]
        return out
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return _clean(merged, defs, depth + 1)


def _merge_all_of(node: dict, defs: dict, depth: int) -> dict:
    """allOf folded into one node: properties and required lists are unioned, the node's
    own keywords win over the sub-schemas'."""
    merged = {k: v for k, v in node.items() if k != "allOf"}
    for sub in node["allOf"]:
        sub = _clean(sub, defs, depth)
        if not isinstance(sub, dict):
            continue
        props = {**merged.get("properties", {}), **sub.get("properties", {})}
        required = [*merged.get("required", []), *sub.get("required", [])]
        merged = {**sub, **merged}
        if props:
            merged["properties"] = props
        if required:
            merged["required"] = list(dict.fromkeys(required))
    return merged


def _collapse_union(node: dict, option: Any, nullable: bool, defs: dict, depth: int) -> Any:
    """anyOf/oneOf with one non-null option: that option, plus the node's other keywords."""
    inner = _clean(option, defs, depth)
    extra = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
    inner = {**inner, **_clean(extra, defs, depth)} if extra else inner
    if nullable:
        inner["nullable"] = True
    return inner


def _copy_keyword(key: str, value: Any, node: dict, out: dict, defs: dict, depth: int) -> bool:
    """Copy one keyword into `out` in Gemini's form; True when it made the node nullable."""
    match key:
        case "anyOf" | "oneOf":
            pass
        case "const":
            out["enum"] = [value]
        case _ if key not in _GEMINI_KEYS:
            pass
        case "type":
            return _copy_type(value, out)
        case "properties" if isinstance(value, dict):
            out["properties"] = {name: _clean(sub, defs, depth) for name, sub in value.items()}
        case "items":
            out["items"] = _clean(value, defs, depth)
        case "format":
            if value in _GEMINI_STRING_FORMATS or node.get("type") in ("number", "integer"):
                out["format"] = value
        case "enum" if isinstance(value, list):
            out["enum"] = [v if isinstance(v, str) else str(v) for v in value if v is not None]
            out.setdefault("type", "string")
        case _:
            out[key] = value
    return False


def _copy_type(value: Any, out: dict) -> bool:
    """A type list loses "null" (reported as nullable); several types become anyOf."""
    if not isinstance(value, list):
        out["type"] = value
        return False
    types = [t for t in value if t != "null"]
    if len(types) == 1:
        out["type"] = types[0]
    else:
        out["anyOf"] = [{"type": t} for t in types or ["string"]]
    return len(types) != len(value)


def _finish(out: dict, nullable: bool) -> dict:
    if "enum" in out and out.get("type") != "string":
        out["type"] = "string"
    if "required" in out and "properties" in out:
        out["required"] = [r for r in out["required"] if r in out["properties"]]
    if nullable:
        out["nullable"] = True
    return out


def gemini_schema_to_json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-style schema (upper-case types) to plain JSON Schema."""
    if isinstance(schema, list):
        return [gemini_schema_to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            if value.upper() != "TYPE_UNSPECIFIED":
                out["type"] = value.lower()
        elif key in _OPENAPI_ONLY:
            continue
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {k: gemini_schema_to_json_schema(v) for k, v in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = gemini_schema_to_json_schema(value)
        else:
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


# OpenAPI keywords with no JSON Schema meaning: `nullable` becomes a "null" type,
# `propertyOrdering` (Gemini's output order hint) has no equivalent.
_OPENAPI_ONLY = frozenset({"nullable", "propertyOrdering"})
