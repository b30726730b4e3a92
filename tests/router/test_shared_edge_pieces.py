"""The pieces the router and the sidecars share at their HTTP edge: the key check and the
one log line per request."""

from __future__ import annotations

import logging
import time

import pytest
from aiohttp.test_utils import make_mocked_request

from router.clientauth import bearer_token, key_matches, presented_key
from router.logs import LineFormatter
from router.request_log import log_request


@pytest.mark.parametrize(
    ("authorization", "token"),
    [
        ("Bearer sk-1", "sk-1"),
        ("bearer   sk-1 ", "sk-1"),
        ("Basic sk-1", None),
        ("Bearersk-1", None),
        ("", None),
    ],
)
def test_bearer_token(authorization: str, token: str | None) -> None:
    request = make_mocked_request("GET", "/", headers={"Authorization": authorization})
    assert bearer_token(request) == token


def test_presented_key_prefers_the_bearer_token_then_other_places() -> None:
    both = make_mocked_request("GET", "/", headers={"Authorization": "Bearer a", "x-api-key": "b"})
    assert presented_key(both) == "a"
    other = make_mocked_request("GET", "/?key=c", headers={"Authorization": "Basic a"})
    assert presented_key(other) == "c"


def test_key_matches_only_the_exact_key() -> None:
    assert key_matches("secret-key", "secret-key")
    assert not key_matches("secret-ke", "secret-key")
    assert not key_matches("secret-keyy", "secret-key")
    assert not key_matches(None, "secret-key")
    assert not key_matches("", "secret-key")


def line(caplog: pytest.LogCaptureFixture) -> str:
    (record,) = caplog.records
    return LineFormatter().format(record).split(" ", 3)[3]


def test_the_request_line_leads_with_id_method_path_status_latency(
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = make_mocked_request("POST", "/v1/chat/completions")
    logger = logging.getLogger("test.request_log")
    with caplog.at_level(logging.INFO, logger=logger.name):
        log_request(logger, request, "abc", 200, time.monotonic() - 0.01234, {"model": "m"})
    text = line(caplog)
    assert text.startswith("request_id=abc method=POST path=/v1/chat/completions status=200 ")
    latency = text.split("latency_ms=")[1].split(" ")[0]
    assert "." in latency and float(latency) >= 12.3
    assert text.endswith(" model=m")


def test_a_sidecar_line_names_its_event_first_in_whole_milliseconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = make_mocked_request("GET", "/health")
    logger = logging.getLogger("test.request_log")
    with caplog.at_level(logging.INFO, logger=logger.name):
        log_request(
            logger, request, "id1", 499, time.monotonic(), {}, event="request", latency_digits=None
        )
    text = line(caplog)
    assert text.startswith("event=request request_id=id1 method=GET path=/health status=499 ")
    assert text.split("latency_ms=")[1].isdigit()
