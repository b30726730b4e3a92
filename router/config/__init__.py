"""Configuration: config.yaml bound onto frozen dataclasses, validated before anything binds."""

from router.config.errors import ConfigError
from router.config.loader import LoadedConfig, load_config, read_config
from router.config.schema import (
    AIStudioConfig,
    Config,
    ProviderConfig,
    RouteConfig,
    Timeouts,
    WebAIConfig,
)

__all__ = [
    "AIStudioConfig",
    "Config",
    "ConfigError",
    "LoadedConfig",
    "ProviderConfig",
    "RouteConfig",
    "Timeouts",
    "WebAIConfig",
    "load_config",
    "read_config",
]
