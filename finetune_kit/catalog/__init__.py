"""What the package knows about models: prices as dated data, aliases, base-model names."""

from __future__ import annotations

from finetune_kit.catalog.prices import (
    ModelPrice,
    PriceTable,
    base_model_name,
    to_decimal,
)

__all__ = [
    "ModelPrice",
    "PriceTable",
    "base_model_name",
    "to_decimal",
]
