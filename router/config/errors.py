"""Configuration problems, reported one line per problem with the key path."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds one ``path: message`` line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
