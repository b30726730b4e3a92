"""``cliproxy login aistudio``: give the AI Studio service a Google session.

Headless (a VPS): paste a Playwright storage state or a browser extension's cookie export
(or pass ``--file``); it is checked, then handed to the running service's control port,
which loads it and verifies it by opening AI Studio. When the service is not running the
session is saved (0600) where the service will load it. With a display (``DISPLAY`` set)
and nothing pasted, the service opens a visible browser to sign in and this command waits
for the sign-in to finish.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from router.config import ConfigError, LoadedConfig, read_config
from router.credentials.atomic import write_private_json

SIGN_IN_WAIT_S = 600.0
SIGN_IN_POLL_S = 1.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cliproxy login aistudio", description=__doc__)
    parser.add_argument("--file", help="storage-state or cookie-export JSON ('-': stdin)")
    parser.add_argument("--account", help="label shown in health (e.g. your Google address)")
    parser.add_argument(
        "--browser",
        action="store_true",
        help="sign in in a browser window the service opens (default with a display)",
    )
    args = parser.parse_args(argv)
    try:
        loaded = read_config()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    if args.browser or (args.file is None and sys.stdin.isatty() and os.environ.get("DISPLAY")):
        return interactive(loaded)
    if args.file is None and sys.stdin.isatty():
        print(
            "Paste the storage state of a browser signed in to aistudio.google.com "
            "(Playwright storage state or a cookie-export JSON), then press Ctrl-D:",
            file=sys.stderr,
        )
    text = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text()
    return import_session(loaded, text, args.account)


def import_session(loaded: LoadedConfig, text: str, account: str | None) -> int:
    from providers.aistudio.session_manager import InvalidSessionImport, normalize_import

    try:
        session = normalize_import(json.loads(text))
    except (ValueError, InvalidSessionImport) as exc:
        print(f"login failed: not a usable session: {exc}", file=sys.stderr)
        return 1
    if account:
        session["account"] = account
    answer = control_call(loaded, "/login", json.dumps(session).encode())
    if answer is None:
        path = storage_path(loaded)
        record = {**session, "cliproxy": {"account": account, "logged_in_at": time.time()}}
        record.pop("account", None)
        write_private_json(path, record)
        print(f"The AI Studio service is not running; session saved to {path}.")
        print("It is used when the service starts (aistudio.enabled: true, then: cliproxy start).")
        return 0
    status, body = answer
    if status == 200 and body.get("ok"):
        print("Logged in to AI Studio; the service verified the session.")
        return 0
    message = (body.get("error") or {}).get("message") or body.get("detail") or body
    print(f"login failed ({status}): {message}", file=sys.stderr)
    return 1


def interactive(loaded: LoadedConfig) -> int:
    answer = control_call(loaded, "/login", b"")
    if answer is None:
        print(
            "The AI Studio service is not running: start it (aistudio.enabled: true, then "
            "cliproxy start), or paste a session with: cliproxy login aistudio --file FILE",
            file=sys.stderr,
        )
        return 1
    status, body = answer
    if status != 202:
        print(
            f"login failed ({status}): {(body.get('error') or {}).get('message')}", file=sys.stderr
        )
        return 1
    print("A browser window opened: sign in to Google there. Waiting...")
    deadline = time.monotonic() + SIGN_IN_WAIT_S
    while time.monotonic() < deadline:
        time.sleep(SIGN_IN_POLL_S)
        answer = control_call(loaded, "/status", None)
        if answer is not None and answer[1].get("session") == "logged_in":
            print("Logged in to AI Studio.")
            return 0
    print("sign-in not finished in time; run the command again", file=sys.stderr)
    return 1


def storage_path(loaded: LoadedConfig) -> Path:
    config = loaded.config
    path = Path(config.aistudio.storage_state)
    if not path.is_absolute():
        path = Path(config.auth_dir).expanduser() / path
    return path


def control_call(
    loaded: LoadedConfig, path: str, body: bytes | None
) -> tuple[int, dict[str, Any]] | None:
    """The control port's status and JSON answer; None when the service does not answer."""
    aistudio = loaded.config.aistudio
    request = urllib.request.Request(
        f"http://127.0.0.1:{aistudio.control_port}{path}",
        data=body,
        method="POST" if body is not None else "GET",
    )
    if aistudio.relay_key:
        request.add_header("Authorization", f"Bearer {aistudio.relay_key}")
    if body:
        request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=120) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except (urllib.error.URLError, OSError):
        return None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
