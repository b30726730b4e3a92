"""The hot path's JSON module: orjson when installed, the standard library otherwise,
and the standard library's answers wherever orjson would refuse the input."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

import router.jsonio


@pytest.fixture(params=["orjson", "stdlib"])
def jsonio(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The module as imported with orjson, and as imported where the wheel is missing."""
    if request.param == "stdlib":
        monkeypatch.setitem(sys.modules, "orjson", None)  # import orjson raises ImportError
        module = importlib.reload(router.jsonio)
        assert not module.FAST
    else:
        module = router.jsonio
        assert module.FAST
    yield module
    monkeypatch.undo()
    importlib.reload(router.jsonio)


def test_round_trip_is_compact_utf8(jsonio: ModuleType) -> None:
    value = {"model": "gpt", "messages": [{"role": "user", "content": "héllo \u2028"}], "n": 1.5}
    data = jsonio.dumps(value)
    assert isinstance(data, bytes)
    assert data == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert jsonio.loads(data) == value
    assert jsonio.loads(data.decode()) == value
    assert jsonio.dumps_text(value) == data.decode()


def test_what_orjson_refuses_reads_as_the_standard_library_does(jsonio: ModuleType) -> None:
    assert jsonio.loads(b'["\\ud800"]') == ["\ud800"]  # unpaired surrogate escape
    assert jsonio.loads(b"\xef\xbb\xbf{}") == {}  # byte order mark
    nan = jsonio.loads(b"[NaN]")[0]
    assert nan != nan
    with pytest.raises(ValueError, match="Expecting property name"):
        jsonio.loads(b"{not json")


def test_what_orjson_cannot_write_is_written_compact(jsonio: ModuleType) -> None:
    assert jsonio.dumps({1: 2**70}) == b'{"1":1180591620717411303424}'
    assert jsonio.dumps(["\ud800"]) == b'["\\ud800"]'
    assert jsonio.dumps_text({1: "é"}) == '{"1":"é"}'


def test_sorted_dumps_is_stable_and_stringifies_the_unknown(jsonio: ModuleType) -> None:
    a = jsonio.dumps_sorted({"b": 1, "a": [object.__name__]})
    b = jsonio.dumps_sorted({"a": ["object"], "b": 1})
    assert a == b == b'{"a":["object"],"b":1}'
    assert jsonio.dumps_sorted({"x": frozenset()}) == b'{"x":"frozenset()"}'  # default=str
