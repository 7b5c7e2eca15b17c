"""Moving a fine-tune to another provider: compare the providers on your data, then migrate.

[`compare`][finetune_kit.compare] reads a training file once and prices it for several
``provider:model`` targets: each provider's validation findings, billed and trainable tokens,
its default epochs, the training cost, what using the model costs per 1,000 requests and per
month, the hosting fee where a provider charges one, and the lifecycle dates, sorted by the total
over a horizon. [`migrate`][finetune_kit.migrate] re-trains archived jobs on the chosen target,
once. See ``docs/move.md``.
"""

from __future__ import annotations

from finetune_kit.move import migrate as _migrate
from finetune_kit.move.compare import DEFAULT_TARGETS, Comparison, PricePoint, Target, TargetCost
from finetune_kit.move.migrate import *  # noqa: F403  (re-exports its __all__)

__all__ = ["DEFAULT_TARGETS", "Comparison", "PricePoint", "Target", "TargetCost"]
__all__ += _migrate.__all__
