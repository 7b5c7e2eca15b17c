"""Find a provider adapter by name, or by the SDK client it is given.

```py
from finetune_kit.providers.registry import get_provider

together = get_provider("together")
print(together.facts.key_env)  # ('TOGETHER_API_KEY',)
```
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping

from finetune_kit.errors import ConfigError
from finetune_kit.providers.base import Provider

__all__ = [
    "PROVIDER_ENV",
    "PROVIDER_NAMES",
    "default_provider_name",
    "get_provider",
    "provider_for",
]

PROVIDER_ENV = "FINETUNE_KIT_PROVIDER"
"""The variable that chooses the default provider (``openai`` when unset)."""

_ADAPTERS: dict[str, tuple[str, str]] = {
    "openai": ("finetune_kit.providers.openai", "OpenAIProvider"),
    "azure": ("finetune_kit.providers.openai", "AzureProvider"),
    "together": ("finetune_kit.providers.together", "TogetherProvider"),
    "fireworks": ("finetune_kit.providers.fireworks", "FireworksProvider"),
}
PROVIDER_NAMES: tuple[str, ...] = tuple(_ADAPTERS)
"""Every provider with a job backend."""


def default_provider_name(env: Mapping[str, str] | None = None) -> str:
    """``FINETUNE_KIT_PROVIDER`` if set (checked), else ``openai``.

    Raises:
        ConfigError: The variable names no known provider.
    """
    value = (os.environ if env is None else env).get(PROVIDER_ENV, "").strip().lower()
    if not value:
        return "openai"
    if value not in _ADAPTERS:
        raise ConfigError(
            f"{PROVIDER_ENV}={value!r} is not a provider",
            hint=f"use one of {', '.join(PROVIDER_NAMES)}",
        )
    return value


def get_provider(name: str | Provider | None = None) -> Provider:
    """The adapter of a provider.

    Args:
        name: ``openai``, ``azure`` or ``together`` (default: ``FINETUNE_KIT_PROVIDER``, else
            ``openai``), or an adapter, returned as it is.

    Raises:
        ConfigError: An unknown name.
    """
    if name is not None and not isinstance(name, str):
        return name
    key = default_provider_name() if name is None else name.strip().lower()
    where = _ADAPTERS.get(key)
    if where is None:
        raise ConfigError(
            f"unknown provider {name!r}", hint=f"use one of {', '.join(PROVIDER_NAMES)}"
        )
    module, cls = where
    adapter: Provider = getattr(importlib.import_module(module), cls)()
    return adapter


def provider_for(client: object) -> Provider:
    """The adapter whose SDK built ``client`` (an ``openai``, Azure or ``together`` client).

    Raises:
        ConfigError: A client of no known SDK.
    """
    for name in PROVIDER_NAMES:
        try:
            adapter = get_provider(name)
        except ImportError:  # its optional SDK is not installed: not its client either
            continue
        if adapter.owns(client):
            return adapter
    raise ConfigError(
        f"cannot tell the provider of a {type(client).__name__} client",
        hint="pass an openai.OpenAI, openai.AzureOpenAI or together.Together client, or "
        "provider=...",
    )
