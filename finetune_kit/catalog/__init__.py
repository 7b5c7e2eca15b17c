"""What the package knows about models: prices as dated data, aliases, base-model names."""

from __future__ import annotations

from finetune_kit.catalog import prices as _prices
from finetune_kit.catalog import providers as _providers
from finetune_kit.catalog.prices import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.catalog.providers import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _prices.__all__
__all__ += _providers.__all__
