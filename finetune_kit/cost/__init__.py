"""Training and usage cost: the estimator over token counts and a price table."""

from __future__ import annotations

from finetune_kit.cost import estimator as _estimator
from finetune_kit.cost.estimator import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _estimator.__all__
