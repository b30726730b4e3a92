"""The credential store: private atomic files, hot pickup, broken files tolerated."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from router.credentials.store import RESCAN_INTERVAL, CredentialStore, credential_id


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_save_writes_a_private_file_and_reads_back(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "auth")
    saved = store.save("claude", "claude-ada", {"access_token": "sk-secret", "email": "ada@x"})
    path = tmp_path / "auth" / "claude-ada.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "access_token": "sk-secret",
        "email": "ada@x",
        "type": "claude",
    }
    assert saved.label == "ada@x"
    assert "sk-secret" not in repr(saved)
    assert [p.name for p in path.parent.iterdir()] == ["claude-ada.json"]
    assert CredentialStore(tmp_path / "auth").get("claude", "claude-ada").data == saved.data


def test_files_added_changed_and_removed_by_hand_are_picked_up(tmp_path: Path) -> None:
    clock = Clock()
    store = CredentialStore(tmp_path, clock=clock)
    assert store.list("chatgpt") == []
    (tmp_path / "chatgpt-a.json").write_text(json.dumps({"type": "chatgpt", "email": "a@x"}))
    (tmp_path / "claude-b.json").write_text(json.dumps({"type": "claude"}))
    assert store.list("chatgpt") == []  # not rescanned within the interval
    clock.now += RESCAN_INTERVAL
    assert [c.label for c in store.list("chatgpt")] == ["a@x"]
    assert [c.id for c in store.list("claude")] == ["claude-b"]
    (tmp_path / "chatgpt-a.json").write_text(json.dumps({"type": "chatgpt", "email": "new@x"}))
    (tmp_path / "claude-b.json").unlink()
    clock.now += RESCAN_INTERVAL
    assert [c.label for c in store.list("chatgpt")] == ["new@x"]
    assert store.list("claude") == []


def test_a_broken_file_is_reported_and_the_rest_still_work(tmp_path: Path) -> None:
    (tmp_path / "claude-torn.json").write_text('{"type": "cla')
    (tmp_path / "claude-list.json").write_text("[1, 2]")
    (tmp_path / "claude-good.json").write_text(json.dumps({"type": "claude"}))
    store = CredentialStore(tmp_path)
    assert [c.id for c in store.list("claude")] == ["claude-good"]
    problems = store.problems()
    assert set(problems) == {"claude-torn.json", "claude-list.json"}
    assert "JSONDecodeError" in problems["claude-torn.json"]


def test_update_merges_into_the_newest_version_and_delete_removes(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path)
    first = store.save("ctonew", "ctonew-a", {"client_cookie": "old", "label": "a"})
    store.save("ctonew", "ctonew-b", {"client_cookie": "b"})
    updated = store.update(first, {"client_cookie": "rotated"})
    assert updated.data == {"client_cookie": "rotated", "label": "a", "type": "ctonew"}
    assert store.delete("ctonew", "ctonew-a") == ["ctonew-a"]
    assert not (tmp_path / "ctonew-a.json").exists()
    assert store.delete("ctonew") == ["ctonew-b"]
    assert store.list("ctonew") == []


def test_credential_ids_are_safe_file_names() -> None:
    assert credential_id("claude", "ada@example.com") == "claude-ada@example.com"
    assert credential_id("chatgpt", "../../etc/passwd") == "chatgpt-etc-passwd"
    assert credential_id("claude", "") == "claude-account"


_WRITER = """
import sys, itertools
from router.credentials.store import CredentialStore
store = CredentialStore(sys.argv[1])
print("ready", flush=True)
for i in itertools.count():
    store.save("claude", "claude-x", {"access_token": f"token-{i}", "pad": "x" * 200_000})
"""


def test_kill_9_while_writing_leaves_a_whole_file(tmp_path: Path) -> None:
    """A writer killed at arbitrary moments never leaves a torn or missing credential."""
    store_dir = tmp_path / "auth"
    CredentialStore(store_dir).save("claude", "claude-x", {"access_token": "first", "pad": ""})
    root = Path(__file__).resolve().parents[2]
    for attempt in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(store_dir)],
            cwd=root,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        time.sleep(0.02 + 0.013 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        data = json.loads((store_dir / "claude-x.json").read_text())
        assert data["access_token"].startswith(("token-", "first"))
        assert data["type"] == "claude"
    leftovers = [p.name for p in store_dir.iterdir() if p.name != "claude-x.json"]
    assert all(name.startswith(".") for name in leftovers)
    assert [c.id for c in CredentialStore(store_dir).list("claude")] == ["claude-x"]
