"""JSON Schema checks the OpenAI and Anthropic fakes share: both APIs want draft 2020-12
schemas, whose type names are lower case (Gemini's OpenAPI-style OBJECT/STRING fail)."""

from __future__ import annotations

from typing import Any

JSON_SCHEMA_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def bad_schema_type(schema: Any) -> str | None:
    """The first type name in `schema` that is not a JSON Schema type, or None."""
    if isinstance(schema, list):
        return next((bad for s in schema if (bad := bad_schema_type(s)) is not None), None)
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    names = kind if isinstance(kind, list) else [kind] if kind is not None else []
    for name in names:
        if name not in JSON_SCHEMA_TYPES:
            return str(name)
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions", "patternProperties"):
            if isinstance(value, dict):
                found = bad_schema_type(list(value.values()))
                if found is not None:
                    return found
        elif isinstance(value, (dict, list)) and key not in ("enum", "const", "required"):
            found = bad_schema_type(value)
            if found is not None:
                return found
    return None
