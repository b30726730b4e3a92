"""``${VAR}`` and ``${VAR:-default}`` references to environment variables in config values."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(tree: Any, env: Mapping[str, str] | None = None) -> tuple[Any, dict[str, str]]:
    """Replace references in every string of ``tree``.

    Returns the new tree and ``{key path: variable}`` for references to unset variables
    without a default; those become empty strings so that a missing secret disables a
    credential instead of stopping the router.
    """
    environ = os.environ if env is None else env
    unset: dict[str, str] = {}

    def substitute(value: str, path: str) -> str:
        def one(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            unset[path] = name
            return ""

        return _REFERENCE.sub(one, value)

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, str):
            return substitute(node, path)
        if isinstance(node, list):
            return [walk(item, f"{path}[{i}]") for i, item in enumerate(node)]
        if isinstance(node, dict):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()}
        return node

    return walk(tree, ""), unset
