"""Binds a parsed YAML tree onto frozen dataclasses, collecting every problem.

Keys in YAML are dashed (``base-url``); dataclass fields are the same names with
underscores. Each problem is reported as ``key.path: what was expected`` and unknown keys
get a did-you-mean suggestion. A dataclass may define ``check(self, path, problems)`` for
rules that span fields; it runs after its fields bound cleanly.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}


class Problems(list[str]):
    """Accumulates ``path: message`` lines."""

    def add(self, path: str, message: str) -> None:
        self.append(f"{path or '<root>'}: {message}")


def yaml_key(field_name: str) -> str:
    return field_name.replace("_", "-")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def bind(cls: type[T], data: Any, path: str, problems: Problems) -> T | None:
    """Build ``cls`` from ``data``; on failure record problems and return None."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.add(path, f"expected a mapping, got {_describe(data)}")
        return None
    fields = {yaml_key(f.name): f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    start = len(problems)
    for key in data:
        if key not in fields:
            problems.add(join(path, str(key)), f"unknown key{did_you_mean(str(key), fields)}")
    values: dict[str, Any] = {}
    for key, field in fields.items():
        if key in data:
            value = convert(hints[field.name], data[key], join(path, key), problems)
            values[field.name] = value
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            problems.add(join(path, key), "required key is missing")
    if len(problems) > start:
        return None
    instance = cls(**values)
    check = getattr(instance, "check", None)
    if check is not None:
        check(path, problems)
    return instance if len(problems) == start else None


def convert(hint: Any, value: Any, path: str, problems: Problems) -> Any:
    """Convert one value to the annotated type, or record why it cannot be."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return convert(inner[0], value, path, problems)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hasattr(hint, "from_shorthand") and not isinstance(value, Mapping):
            value = hint.from_shorthand(value)
        return bind(hint, value, path, problems)
    if origin is tuple:
        if not isinstance(value, list):
            problems.add(path, f"expected a list, got {_describe(value)}")
            return None
        return tuple(
            convert(args[0], item, join(path, i), problems) for i, item in enumerate(value)
        )
    if origin in (dict, Mapping, typing.Mapping):
        if not isinstance(value, Mapping):
            problems.add(path, f"expected a mapping, got {_describe(value)}")
            return None
        return types.MappingProxyType(
            {str(k): convert(args[1], v, join(path, str(k)), problems) for k, v in value.items()}
        )
    if hint is typing.Any:
        return value
    return _scalar(hint, value, path, problems)


def _scalar(hint: type, value: Any, path: str, problems: Problems) -> Any:
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    problems.add(path, f"expected {_TYPE_NAMES.get(hint, hint.__name__)}, got {_describe(value)}")
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def did_you_mean(key: str, known: Mapping[str, Any] | list[str]) -> str:
    """A suggestion for a misspelt name, else the list of valid names."""
    close = difflib.get_close_matches(key.replace("_", "-"), list(known), n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (expected one of: {', '.join(sorted(known))})"


def check_url(url: str, path: str, problems: Problems, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.netloc:
        problems.add(path, f"expected an absolute {'/'.join(schemes)} URL, got {url!r}")


def check_positive(values: dict[str, float | int | None], path: str, problems: Problems) -> None:
    for key, value in values.items():
        if value is not None and value <= 0:
            problems.add(join(path, key.replace("_", "-")), f"expected a number > 0, got {value}")


def check_port(port: int, path: str, problems: Problems) -> None:
    if not 0 <= port <= 65535:
        problems.add(path, f"expected a port number 0-65535, got {port}")


def unique_names(names: list[str], path: str, problems: Problems) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add(path, f"duplicate name {name!r}")
        seen.add(name)
