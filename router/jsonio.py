"""The JSON of the request path: orjson when its wheel is installed, else the standard
library, with the standard library's answers wherever the two would differ.

``loads`` tries orjson first; what orjson refuses and the standard library accepts (NaN
and Infinity, a byte order mark, an unpaired surrogate escape, nesting past orjson's
limit) is read by ``json.loads``, whose ValueError (and RecursionError) stays what
callers see for input neither accepts. ``dumps`` writes compact UTF-8 bytes; values
orjson cannot write (keys that are not strings, integers beyond 64 bits, strings with an
unpaired surrogate) are written by the standard library in the same compact form.
One difference is kept: orjson reads an integer beyond 64 bits as a float.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - exercised by tests/router/test_jsonio.py
    orjson = None  # type: ignore[assignment]

__all__ = ["FAST", "dumps", "dumps_sorted", "dumps_text", "loads"]

FAST = orjson is not None

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# Bytes from the standard library are ASCII (escapes), so they always encode.
_compact_ascii = json.JSONEncoder(separators=(",", ":")).encode
_compact_sorted = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=str).encode


def _std_loads(data: bytes | bytearray | memoryview | str) -> Any:
    return json.loads(bytes(data) if isinstance(data, memoryview) else data)


def _std_dumps(obj: Any) -> bytes:
    text = _compact(obj)
    try:
        return text.encode()
    except UnicodeEncodeError:  # an unpaired surrogate: written as an escape instead
        return _compact_ascii(obj).encode()


def _std_dumps_text(obj: Any) -> str:
    return _compact(obj)


def _std_dumps_sorted(obj: Any) -> bytes:
    return _compact_sorted(obj).encode()


if orjson is not None:
    _orjson_loads = orjson.loads
    _orjson_dumps = orjson.dumps
    _SORTED = orjson.OPT_SORT_KEYS
    _DecodeError = orjson.JSONDecodeError

    def _fast_loads(data: bytes | bytearray | memoryview | str) -> Any:
        try:
            return _orjson_loads(data)
        except _DecodeError:
            return _std_loads(data)

    def _fast_dumps(obj: Any) -> bytes:
        try:
            return _orjson_dumps(obj)
        except TypeError:  # orjson.JSONEncodeError included
            return _std_dumps(obj)

    def _fast_dumps_text(obj: Any) -> str:
        try:
            return _orjson_dumps(obj).decode()
        except TypeError:  # orjson.JSONEncodeError included
            return _compact(obj)

    def _fast_dumps_sorted(obj: Any) -> bytes:
        try:
            return _orjson_dumps(obj, default=str, option=_SORTED)
        except TypeError:  # orjson.JSONEncodeError included
            return _std_dumps_sorted(obj)

    loads: Callable[[bytes | bytearray | memoryview | str], Any] = _fast_loads
    dumps: Callable[[Any], bytes] = _fast_dumps
    dumps_text: Callable[[Any], str] = _fast_dumps_text
    dumps_sorted: Callable[[Any], bytes] = _fast_dumps_sorted
else:  # pragma: no cover - exercised by tests/router/test_jsonio.py
    loads = _std_loads
    dumps = _std_dumps
    dumps_text = _std_dumps_text
    dumps_sorted = _std_dumps_sorted
