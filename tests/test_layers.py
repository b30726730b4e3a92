"""Imports run one way: the import-linter contracts in pyproject.toml hold (as in `make lint`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_every_layer_contract_is_kept() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 broken" in output
    for contract in (
        "router layers, top to bottom KEPT",
        "config and formats import nothing above them KEPT",
        "upstreams do not import routing KEPT",
        "benchmarks and shared fakes do not import the tests KEPT",
    ):
        assert contract in output
