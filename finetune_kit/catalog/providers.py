"""Each provider's tunable models, limits and prices, as bundled data.

OpenAI's and Azure's prices are ``data/prices.json`` (Azure's per-token prices are
unconfirmed, so OpenAI's table stands in for them); Together AI's are ``data/together.json``,
in the same format plus its own fields (DPO price, LoRA / full, SFT and DPO context lengths,
and the list of values that are not confirmed).

```py
from finetune_kit.catalog.providers import price_table, tunable_models

print(price_table("together").get("openai/gpt-oss-20b").training_per_1m)  # 0.40
print(tunable_models("together")["openai/gpt-oss-20b"].context_sft)
```
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from finetune_kit.catalog.prices import PriceTable
from finetune_kit.errors import ConfigError

__all__ = [
    "TunableModel",
    "price_table",
    "price_table_path",
    "training_overrides",
    "tunable_models",
]

_FILES = {
    "openai": "prices.json",
    "azure": "prices.json",
    "together": "together.json",
    "fireworks": "fireworks.json",
}


@dataclass(frozen=True)
class TunableModel:
    """One model a provider fine-tunes.

    Attributes:
        name: The provider's model id.
        methods: ``supervised`` and/or ``dpo``.
        lora: LoRA fine-tuning is offered.
        full: Full fine-tuning is offered.
        context_sft: Longest example for supervised training, in tokens.
        context_dpo: Longest example for preference training, in tokens.
        sft_per_1m: Price per 1M training tokens (LoRA, supervised), USD.
        dpo_per_1m: Price per 1M training tokens (LoRA, DPO), USD.
        as_of: The day the price is from.
        source: Where the figures come from.
        unconfirmed: The fields that are best guesses.
    """

    name: str
    methods: tuple[str, ...]
    lora: bool
    full: bool
    context_sft: int | None
    context_dpo: int | None
    sft_per_1m: Decimal | None
    dpo_per_1m: Decimal | None
    as_of: str
    source: str
    unconfirmed: tuple[str, ...]


def price_table_path(provider: str) -> Path:
    """The bundled price file of a provider.

    Raises:
        ConfigError: A provider without bundled prices.
    """
    name = _FILES.get(provider)
    if name is None:
        raise ConfigError(
            f"no bundled prices for provider {provider!r}",
            hint=f"known: {', '.join(sorted(_FILES))}; pass your own table with --prices",
        )
    return Path(str(resources.files("finetune_kit").joinpath(f"data/{name}")))


def price_table(provider: str = "openai") -> PriceTable:
    """The provider's bundled [`PriceTable`][finetune_kit.PriceTable] (as of today)."""
    if provider in ("openai", "azure"):
        return PriceTable.load()
    return PriceTable.load(price_table_path(provider))


@functools.lru_cache(maxsize=4)
def tunable_models(provider: str) -> dict[str, TunableModel]:
    """The models a provider fine-tunes, from its bundled file (empty for OpenAI's table)."""
    if provider in ("openai", "azure"):
        return {}
    raw = json.loads(price_table_path(provider).read_text("utf-8"), parse_float=Decimal)
    out: dict[str, TunableModel] = {}
    for name, spec in raw["models"].items():
        price = spec["prices"][-1]
        out[name] = TunableModel(
            name=name,
            methods=tuple(spec.get("methods", ("supervised",))),
            lora=bool(spec.get("lora", True)),
            full=bool(spec.get("full", False)),
            context_sft=spec.get("context_sft"),
            context_dpo=spec.get("context_dpo"),
            sft_per_1m=price.get("training_per_1m"),
            dpo_per_1m=price.get("dpo_training_per_1m"),
            as_of=str(price["as_of"]),
            source=str(price["source"]),
            unconfirmed=tuple(spec.get("unconfirmed", ())),
        )
    return out


def training_overrides(provider: str, model: str, method: str | None) -> dict[str, Decimal | int]:
    """What a provider's method changes in a training estimate of the price table's entry.

    Together AI prices DPO apart and allows shorter DPO examples: for ``dpo`` its DPO price and
    DPO context length replace the table's supervised ones. Nothing changes otherwise.
    """
    if method != "dpo":
        return {}
    found = tunable_models(provider).get(model)
    if found is None:
        return {}
    out: dict[str, Decimal | int] = {}
    if found.dpo_per_1m is not None:
        out["training_per_1m"] = found.dpo_per_1m
    if found.context_dpo is not None:
        out["token_limit"] = found.context_dpo
    return out
