"""What status.sh and doctor count as a failure, state by state."""

from __future__ import annotations

import pytest

from router.ops.assess import program_findings, service_findings


@pytest.mark.parametrize(
    ("router_state", "answers", "up"),
    [
        ("RUNNING", True, True),
        ("STARTING", True, True),
        ("STARTING", False, False),
        ("BACKOFF", False, False),
        ("FATAL", False, False),
        ("STOPPED", False, False),
    ],
)
def test_router_state(router_state: str, answers: bool, up: bool) -> None:
    findings = program_findings({"router": router_state}, ["router"], answers)
    assert (not findings) is up


@pytest.mark.parametrize("state", ["FATAL", "BACKOFF", "EXITED", "STOPPED"])
def test_an_enabled_program_that_is_not_up_fails(state: str) -> None:
    findings = program_findings({"router": "RUNNING", "webai": state}, ["router", "webai"], True)
    assert [(f.subject, f.problem) for f in findings] == [("webai", f"should run but is {state}")]


def test_a_disabled_program_fails_only_when_supervisord_gave_up_on_it() -> None:
    states = {"router": "RUNNING", "webai": "STOPPED", "aistudio": "FATAL"}
    findings = program_findings(states, ["router"], True)
    assert [f.subject for f in findings] == ["aistudio"]


def health(webai: dict, aistudio: dict) -> dict:
    return {"status": "ok", "services": {"webai": webai, "aistudio": aistudio}}


def test_services_down_disconnected_or_logged_out_fail() -> None:
    up_connected = {
        "service": {"status": "up", "service": {"session": "logged_in"}},
        "sessions_connected": 1,
    }
    assert service_findings(health({"status": "up"}, up_connected), ["webai", "aistudio"]) == []
    down = service_findings(health({"status": "down", "reason": "x"}, up_connected), ["webai"])
    assert [f.subject for f in down] == ["webai"]
    disconnected = {**up_connected, "sessions_connected": 0}
    [finding] = service_findings(health({}, disconnected), ["aistudio"])
    assert "not connected" in finding.problem and "relay-key" in finding.fix
    logged_out = {
        "service": {"status": "up", "service": {"session": "absent"}},
        "sessions_connected": 1,
    }
    [finding] = service_findings(health({}, logged_out), ["aistudio"])
    assert "log in" in finding.problem and "cliproxy login aistudio" in finding.fix
    unreachable = {"service": {"status": "down", "reason": "not reachable"}}
    [finding] = service_findings(health({}, unreachable), ["aistudio"])
    assert "not reachable" in finding.problem
    assert service_findings(health({"status": "down"}, unreachable), []) == []
