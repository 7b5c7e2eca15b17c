"""Validation: the engine, its registry, and the built-in rules that register into it."""

from __future__ import annotations

from finetune_kit.validation import engine as _engine
from finetune_kit.validation import fixes as _fixes
from finetune_kit.validation import profiles as _profiles
from finetune_kit.validation import rules  # noqa: F401  (the built-in rules register themselves)
from finetune_kit.validation.engine import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.validation.fixes import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.validation.profiles import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _engine.__all__
__all__ += _fixes.__all__
__all__ += _profiles.__all__
