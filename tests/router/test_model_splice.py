"""Passthrough with an alias changes only the top-level model value of the client's bytes."""

from __future__ import annotations

import json

import pytest

from router.generation.model_splice import splice_model


def test_only_the_model_value_changes() -> None:
    raw = (
        b'{ "messages" : [ {"role": "user", "content": "say \\"model\\": \\"fast\\""} ],\n'
        b'  "model"\t:  "fast" , "max_tokens":8, "x": 1.0e+2, "u": "\\u00e9"}'
    )
    out = splice_model(raw, "fast", "gpt-4o-mini")
    assert out == raw.replace(b'"fast" ,', b'"gpt-4o-mini" ,')
    assert json.loads(out)["model"] == "gpt-4o-mini"


def test_escaped_model_value_is_replaced() -> None:
    raw = b'{"model":"f\\u0061st","messages":[]}'
    assert splice_model(raw, "fast", "m") == b'{"model":"m","messages":[]}'


@pytest.mark.parametrize(
    "raw",
    [
        # a nested "model" key as well: which one is top-level is not known without parsing
        b'{"metadata":{"model":"fast"},"model":"fast"}',
        # the top-level key written with escapes: the one found is the nested one
        b'{"mod\\u0065l":"fast","metadata":{"model":"fast"}}',
        # duplicate keys (the last one counts)
        b'{"model":"fast","model":"fast"}',
        # not a string
        b'{"model":1}',
    ],
)
def test_falls_back_when_it_cannot_be_done_safely(raw: bytes) -> None:
    assert splice_model(raw, "fast", "other") is None


def test_value_that_is_not_the_parsed_model_falls_back() -> None:
    assert splice_model(b'{"model":"slow"}', "fast", "other") is None
