"""Judging a running instance: which programs and services are not doing their job.

Shared by ``scripts/status.sh`` and ``cliproxy doctor`` so both tell the same truth:
a program in FATAL or BACKOFF is a failure; STARTING counts as up once the router answers;
an enabled webai or AI Studio service that the router cannot reach, an AI Studio service
not connected to the relay, or one without a Google session ("log in") are failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BROKEN_STATES = frozenset({"FATAL", "BACKOFF", "EXITED", "UNKNOWN"})
LOGIN_FIX = "cliproxy login aistudio (or scripts/login.sh aistudio)"


@dataclass(frozen=True)
class Finding:
    """Something wrong, and the command or setting that fixes it."""

    subject: str
    problem: str
    fix: str


def program_findings(
    states: dict[str, str], expected: list[str], router_answers: bool
) -> list[Finding]:
    """Programs that should run but do not, and any program supervisord gave up on."""
    findings = []
    for name in sorted(set(states) | set(expected)):
        state = states.get(name, "UNKNOWN")
        if name in expected:
            up = state == "RUNNING" or (
                state == "STARTING" and (name != "router" or router_answers)
            )
            if not up:
                findings.append(
                    Finding(name, f"should run but is {state}", f"see scripts/logs.sh {name}")
                )
        elif state in BROKEN_STATES - {"UNKNOWN"}:
            findings.append(Finding(name, f"is {state}", f"see scripts/logs.sh {name}"))
    return findings


def service_findings(document: dict[str, Any], expected: list[str]) -> list[Finding]:
    """Enabled services the router reports as down, disconnected or logged out."""
    services = document.get("services") or {}
    findings = []
    webai = services.get("webai") or {}
    if "webai" in expected and webai.get("status") != "up":
        reason = webai.get("reason") or webai.get("status") or "no report"
        findings.append(
            Finding("webai", f"the router cannot reach it ({reason})", "scripts/logs.sh webai")
        )
    if "aistudio" in expected:
        findings.extend(aistudio_findings(services.get("aistudio") or {}))
    return findings


def aistudio_findings(aistudio: dict[str, Any]) -> list[Finding]:
    service = aistudio.get("service") or {}
    if service.get("status") != "up":
        reason = service.get("reason") or service.get("status") or "no report"
        return [
            Finding("aistudio", f"service not reachable ({reason})", "scripts/logs.sh aistudio")
        ]
    own = service.get("service") or {}
    if own.get("session") in ("absent", "expired"):
        return [Finding("aistudio", f"Google session {own['session']}: log in", LOGIN_FIX)]
    if not aistudio.get("sessions_connected"):
        return [
            Finding(
                "aistudio",
                "service runs but is not connected to the router's relay",
                "check aistudio.relay-key (a key from api-keys) and scripts/logs.sh aistudio",
            )
        ]
    return []
