"""Training and usage cost: the estimator over token counts and a price table."""

from __future__ import annotations

from finetune_kit.cost.estimator import (
    MAX_DEFAULT_EPOCHS,
    MAX_TARGET_EXAMPLES,
    MIN_DEFAULT_EPOCHS,
    MIN_TARGET_EXAMPLES,
    TARGET_EPOCHS,
    CostEstimator,
    ProgressCallback,
    TrainingEstimate,
    UsageEstimate,
    default_epochs,
)

__all__ = [
    "MAX_DEFAULT_EPOCHS",
    "MAX_TARGET_EXAMPLES",
    "MIN_DEFAULT_EPOCHS",
    "MIN_TARGET_EXAMPLES",
    "TARGET_EPOCHS",
    "CostEstimator",
    "ProgressCallback",
    "TrainingEstimate",
    "UsageEstimate",
    "default_epochs",
]
