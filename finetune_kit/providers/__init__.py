"""Provider adapters: how each fine-tuning service is reached (Azure OpenAI's client today)."""

from __future__ import annotations

from finetune_kit.providers.azure import (
    ENTRA_SCOPE,
    TokenProvider,
    azure_client,
    entra_token_provider,
    is_azure,
)

__all__ = [
    "ENTRA_SCOPE",
    "TokenProvider",
    "azure_client",
    "entra_token_provider",
    "is_azure",
]
