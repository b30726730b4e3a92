"""cliproxy router: one local endpoint in front of many AI providers."""

__version__ = "0.1.0"
