"""Provider adapters: how each fine-tuning service is reached (Azure OpenAI's client today)."""

from __future__ import annotations

from finetune_kit.providers import azure as _azure
from finetune_kit.providers.azure import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _azure.__all__
