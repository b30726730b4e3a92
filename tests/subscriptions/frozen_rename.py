"""``python -m tests.subscriptions.frozen_rename MARKER serve --config ...``: a router that
freezes just before renaming a credential file into place.

The freeze is where ``write_private_json`` has written and fsynced the temp file but not
yet renamed it; the test then kills the process with SIGKILL, which is what a crash or an
OOM kill at that moment does. Only the timing is forced; the router code is untouched.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

_real_replace = os.replace


def _frozen_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    if str(target).endswith(".json") and Path(source).name.startswith("."):
        Path(MARKER).write_text(str(source))
        while True:
            time.sleep(60)
    _real_replace(source, target)


if __name__ == "__main__":
    MARKER = sys.argv.pop(1)
    os.replace = _frozen_replace
    sys.argv[0] = "router"
    runpy.run_module("router", run_name="__main__", alter_sys=True)
