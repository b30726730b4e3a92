"""Every HTTP client session the router opens gets its connector from router/outbound/, so
a configured proxy-url and no-proxy cannot be bypassed by a new ``ClientSession()``."""

from __future__ import annotations

import ast
from pathlib import Path

ROUTER = Path(__file__).resolve().parents[1] / "router"
OUTBOUND = ROUTER / "outbound"


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(), str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def test_sessions_and_connectors_outside_outbound_use_its_connector() -> None:
    offenders = []
    for path in sorted(ROUTER.rglob("*.py")):
        if OUTBOUND in path.parents:
            continue
        for call in _calls(path):
            name = _name(call)
            keywords = {k.arg for k in call.keywords}
            if name == "ClientSession" and "connector" not in keywords:
                offenders.append(f"{path.relative_to(ROUTER)}:{call.lineno} ClientSession()")
            if name in ("TCPConnector", "ProxyConnector"):
                offenders.append(f"{path.relative_to(ROUTER)}:{call.lineno} {name}()")
    assert offenders == [], "use router.outbound.client_session / make_connector"


def test_the_guard_sees_a_session_made_without_a_connector(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import aiohttp\nsession = aiohttp.ClientSession(timeout=None)\n")
    assert [_name(c) for c in _calls(sample)] == ["ClientSession"]
