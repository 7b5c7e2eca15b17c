"""Provider adapters behind one [`Provider`][finetune_kit.providers.base.Provider] protocol.

``openai`` and ``azure`` over the ``openai`` SDK (``providers.openai``; Azure's client in
``providers.azure``), ``together`` over the ``together`` SDK (``providers.together``, extra
``finetune-kit[together]``). [`get_provider`][finetune_kit.providers.registry.get_provider]
returns an adapter by name.
"""

from __future__ import annotations

from finetune_kit.providers import azure as _azure
from finetune_kit.providers import registry as _registry
from finetune_kit.providers.azure import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.providers.registry import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _azure.__all__
__all__ += _registry.__all__
