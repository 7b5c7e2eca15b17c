"""Export to other fine-tuning formats, one module per target with its rules."""

from __future__ import annotations

from finetune_kit.export import convert as _convert
from finetune_kit.export.convert import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _convert.__all__
