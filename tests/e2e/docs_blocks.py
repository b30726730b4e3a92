"""Fenced code blocks of the README, docs/ and examples/, as the docs test reads them.

A block's info string is its language and optional flags: ```sh runs, ```sh no-run is
checked but not run (it needs root, a network or a person), ```yaml must bind as
cliproxy config unless marked no-check.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = (
    "README.md",
    *sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "docs").glob("*.md")),
    "examples/README.md",
)
LANGUAGES = frozenset({"", "sh", "python", "yaml", "caddy", "nginx", "json", "toml"})
FLAGS = frozenset({"no-run", "no-check"})
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    file: str
    line: int
    language: str
    flags: frozenset[str]
    body: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def blocks(file: str) -> list[Block]:
    text = (REPO_ROOT / file).read_text()
    found = []
    for match in _FENCE.finditer(text):
        language, *flags = match.group("info").split() or [""]
        found.append(
            Block(
                file=file,
                line=text.count("\n", 0, match.start()) + 1,
                language=language,
                flags=frozenset(flags),
                body=textwrap.dedent(match.group("body")),
            )
        )
    return found


def all_blocks() -> list[Block]:
    return [block for file in DOC_FILES for block in blocks(file)]
