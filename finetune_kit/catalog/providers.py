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

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path

from finetune_kit.catalog.prices import PriceTable, _parse_date
from finetune_kit.errors import ConfigError

__all__ = [
    "AzureDates",
    "Hosting",
    "ProviderTerms",
    "TermsSource",
    "TunableModel",
    "price_table",
    "price_table_path",
    "provider_terms",
    "training_limit",
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


def training_limit(provider: str, model: str, method: str | None) -> int | None:
    """The longest training example a provider keeps for ``model``, from its bundled file.

    Together AI and Fireworks AI train at their own length, shorter than the model's context
    window: the DPO context length for ``dpo``, else the supervised one. ``None`` for OpenAI
    and Azure (their limit is the price table's ``example_token_limit``) and unknown models.
    """
    found = tunable_models(provider).get(model)
    if found is None:
        return None
    limit = found.context_dpo if method == "dpo" and found.context_dpo else found.context_sft
    return int(limit) if limit is not None else None


# -- provider terms: default epochs, hosting, Azure's dates (data/terms.json) ------------------


@dataclass(frozen=True)
class TermsSource:
    """Where a term comes from: a public page.

    Attributes:
        key: The key in ``data/terms.json``.
        title: What the page says, in short.
        url: Where to read it.
    """

    key: str
    title: str
    url: str

    def __str__(self) -> str:
        return f"{self.title} ({self.url})"


@dataclass(frozen=True)
class Hosting:
    """The hourly fee of a deployed fine-tuned model.

    Attributes:
        per_hour: USD per hour (0: no hosting fee; ``None``: charged, amount not known).
        as_of: The day the figure is from (``None`` when no figure is known).
        source: Where it comes from.
    """

    per_hour: Decimal | None
    as_of: dt.date | None
    source: TermsSource


@dataclass(frozen=True)
class AzureDates:
    """Azure's retirement dates of one base model's fine-tuning.

    Attributes:
        training_available_until: The first day no new training job can be created (the
            earliest date Microsoft announces: "no earlier than").
        deployment_retires: The first day fine-tuned deployments of the model stop.
        source: Where the dates come from.
    """

    training_available_until: dt.date
    deployment_retires: dt.date
    source: TermsSource


@dataclass(frozen=True)
class ProviderTerms:
    """What a provider does by default and charges besides training tokens.

    Attributes:
        name: ``openai``, ``azure``, ``together`` or ``fireworks``.
        title: The provider's name for people.
        epochs_rule: ``openai`` (the notebook's heuristic, what ``auto`` does) or ``fixed``.
        epochs_value: The fixed default when ``epochs_rule`` is ``fixed``.
        epochs_source: Where the default comes from.
        hosting: The hourly fee of a deployed fine-tune.
        lifecycle: Whose dates apply: ``openai`` (``data/models.json``), ``azure``
            (``models`` here) or ``None`` (none announced).
        prices_note: A caveat about the provider's per-token prices, if any.
        unconfirmed: Which terms are best guesses (``epochs``, ``hosting``,
            ``training_price``, ``inference_price``).
        models: Azure's dates per base model.
    """

    name: str
    title: str
    epochs_rule: str
    epochs_value: int | None
    epochs_source: TermsSource
    hosting: Hosting
    lifecycle: str | None
    prices_note: str = ""
    unconfirmed: tuple[str, ...] = ()
    models: dict[str, AzureDates] = field(default_factory=dict)

    def default_epochs(self, n_examples: int, openai_rule: Callable[[int], int]) -> int:
        """The epochs a job on this provider runs when none are given.

        Args:
            n_examples: Examples in the training file.
            openai_rule: OpenAI's heuristic (``finetune_kit.default_epochs``).
        """
        if self.epochs_rule == "openai" or self.epochs_value is None:
            return openai_rule(n_examples)
        return self.epochs_value

    @property
    def epochs_note(self) -> str:
        """How the default is chosen, in words (shown beside the epochs)."""
        if self.epochs_rule == "openai" or self.epochs_value is None:
            return "default for this size"
        return f"{self.title}'s default"


@functools.lru_cache(maxsize=1)
def _terms() -> dict[str, ProviderTerms]:
    path = resources.files("finetune_kit").joinpath("data/terms.json")
    raw = json.loads(path.read_text("utf-8"), parse_float=Decimal)
    sources = {
        key: TermsSource(key, str(spec["title"]), str(spec["url"]))
        for key, spec in raw["sources"].items()
    }
    out: dict[str, ProviderTerms] = {}
    for name, spec in raw["providers"].items():
        epochs, hosting = spec["epochs"], spec["hosting"]
        per_hour = hosting.get("per_hour")
        out[name] = ProviderTerms(
            name=name,
            title=str(spec["title"]),
            epochs_rule="fixed" if epochs.get("value") is not None else str(epochs["rule"]),
            epochs_value=epochs.get("value"),
            epochs_source=sources[epochs["source"]],
            hosting=Hosting(
                per_hour=Decimal(str(per_hour)) if per_hour is not None else None,
                as_of=_parse_date(hosting["as_of"]) if hosting.get("as_of") else None,
                source=sources[hosting["source"]],
            ),
            lifecycle=spec.get("lifecycle"),
            prices_note=str(spec.get("prices_note", "")),
            unconfirmed=tuple(spec.get("unconfirmed", ())),
            models={
                model: AzureDates(
                    _parse_date(dates["training_available_until"]),
                    _parse_date(dates["deployment_retires"]),
                    sources[dates["source"]],
                )
                for model, dates in spec.get("models", {}).items()
            },
        )
    return out


def provider_terms(provider: str) -> ProviderTerms:
    """A provider's [`ProviderTerms`][finetune_kit.catalog.providers.ProviderTerms].

    Raises:
        ConfigError: An unknown provider.
    """
    found = _terms().get(provider)
    if found is None:
        raise ConfigError(
            f"unknown provider {provider!r}", hint=f"use one of {', '.join(sorted(_terms()))}"
        )
    return found
