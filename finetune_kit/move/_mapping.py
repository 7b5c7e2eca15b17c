"""How an archived OpenAI job's settings become another provider's (pure; documented in move.md).

The rules, one per setting (the table in ``docs/move.md`` says the same):

- **epochs**: the same number (Together takes at most 20);
- **learning-rate multiplier** ``m``: OpenAI scales a base rate it does not publish; the
  target's learning rate is the target's own default times ``m`` (Together's default 1e-5 is
  the ``together`` SDK's; Fireworks documents none: 1e-4, unconfirmed, is assumed), so the
  default-to-default relation is kept and a lowered multiplier stays lowered;
- **batch size**: examples per step on OpenAI, Azure and Together (Together takes at least 8 with
  LoRA, unconfirmed: see its ``/fine-tunes/models/limits``); Fireworks counts tokens, so it
  is left to Fireworks;
- **DPO beta**: the same value (Together's ``dpo_beta``; Fireworks runs no DPO here);
- **seed**: the same seed (Fireworks takes none: it goes into the job's id only);
- **suffix**: the same text (Together keeps its first 40 characters; Fireworks shows it as
  the job's display name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from finetune_kit.providers.together import DEFAULTS as _TOGETHER_DEFAULTS

__all__ = ["BASE_LEARNING_RATES", "ParameterMapping", "map_settings"]

BASE_LEARNING_RATES: Mapping[str, float] = {
    # the together SDK's default for fine_tuning.create (3.1.1), which the adapter spells out
    "together": float(_TOGETHER_DEFAULTS["learning_rate"]),
    # unconfirmed: Fireworks' API reference gives no default learning rate
    "fireworks": 1e-4,
}
"""The learning rate a multiplier of 1 maps to, per provider that takes an absolute rate."""

_TOGETHER_MAX_EPOCHS = 20  # max_num_epochs of Together's model limits
_TOGETHER_MIN_BATCH = 8  # min_batch_size for LoRA in Together's model limits (unconfirmed)
_TOGETHER_MAX_SUFFIX = 40


@dataclass(frozen=True)
class ParameterMapping:
    """How one setting of the source job was carried over.

    Attributes:
        name: The setting on the source job (``n_epochs``, ``learning_rate_multiplier``, ...).
        source: Its archived value (``None``: not set).
        target_name: What the target calls it (``None``: not passed; the target's default).
        target: The value sent to the target.
        rule: The rule applied, in one sentence.
    """

    name: str
    source: Any
    target_name: str | None
    target: Any
    rule: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return asdict(self)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # "auto" or missing
    return float(value)


def _rate(base: float, multiplier: float) -> float:
    return float(f"{base * multiplier:.4g}")  # 4 significant digits: stable in requests


def map_settings(
    provider: str,
    method: str,
    hyperparameters: Mapping[str, Any],
    *,
    suffix: str | None,
    seed: int | None,
) -> tuple[dict[str, Any], list[ParameterMapping]]:
    """The create-job arguments for ``provider`` and how each was derived.

    Args:
        provider: ``openai``, ``azure``, ``together`` or ``fireworks``.
        method: ``supervised`` or ``dpo``.
        hyperparameters: The source job's resolved hyper-parameters.
        suffix: The source job's suffix.
        seed: The source job's seed.

    Returns:
        Keyword arguments for [`JobClient.create_job`][finetune_kit.JobClient.create_job]
        (``hyperparameters`` holding the provider-specific ones) and the mapping, one row per
        setting.
    """
    same = provider in ("openai", "azure")
    rows: list[ParameterMapping] = []
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}

    epochs = hyperparameters.get("n_epochs")
    if isinstance(epochs, int) and not isinstance(epochs, bool):
        value = epochs
        rule = "the same"
        if provider == "together" and epochs > _TOGETHER_MAX_EPOCHS:
            value = _TOGETHER_MAX_EPOCHS
            rule = f"Together takes at most {_TOGETHER_MAX_EPOCHS} epochs"
        kwargs["n_epochs"] = value
        rows.append(ParameterMapping("n_epochs", epochs, "n_epochs", value, rule))
    else:
        rows.append(ParameterMapping("n_epochs", epochs, None, None, "not set: the default"))

    multiplier = _number(hyperparameters.get("learning_rate_multiplier"))
    raw = hyperparameters.get("learning_rate_multiplier")
    if multiplier is None:
        rows.append(
            ParameterMapping("learning_rate_multiplier", raw, None, None, "not set: the default")
        )
    elif same:
        kwargs["learning_rate_multiplier"] = raw
        rows.append(
            ParameterMapping(
                "learning_rate_multiplier", raw, "learning_rate_multiplier", raw, "the same"
            )
        )
    else:
        base = BASE_LEARNING_RATES[provider]
        rate = _rate(base, multiplier)
        extra["learning_rate"] = rate
        rows.append(
            ParameterMapping(
                "learning_rate_multiplier",
                raw,
                "learning_rate",
                rate,
                f"{provider.capitalize()}'s default learning rate {base:g} x the multiplier",
            )
        )

    batch = hyperparameters.get("batch_size")
    if not (isinstance(batch, int) and not isinstance(batch, bool)):
        rows.append(ParameterMapping("batch_size", batch, None, None, "not set: the default"))
    elif provider == "fireworks":
        rows.append(
            ParameterMapping(
                "batch_size", batch, None, None, "left to Fireworks: its batch size counts tokens"
            )
        )
    elif provider == "together" and batch < _TOGETHER_MIN_BATCH:
        kwargs["batch_size"] = _TOGETHER_MIN_BATCH
        rows.append(
            ParameterMapping(
                "batch_size",
                batch,
                "batch_size",
                _TOGETHER_MIN_BATCH,
                f"raised to Together's smallest LoRA batch, {_TOGETHER_MIN_BATCH}",
            )
        )
    else:
        kwargs["batch_size"] = batch
        rows.append(ParameterMapping("batch_size", batch, "batch_size", batch, "the same"))

    if method == "dpo":
        beta = hyperparameters.get("beta")
        if _number(beta) is not None:
            kwargs["beta"] = beta
            name = "dpo_beta" if provider == "together" else "beta"
            rows.append(ParameterMapping("beta", beta, name, beta, "the same"))
        else:
            rows.append(ParameterMapping("beta", beta, None, None, "not set: the default"))

    if seed is not None:
        kwargs["seed"] = seed
        if provider == "fireworks":
            rule = "Fireworks takes no seed: it goes into the job's id"
            rows.append(ParameterMapping("seed", seed, "job id", seed, rule))
        else:
            name = "random_seed" if provider == "together" else "seed"
            rows.append(ParameterMapping("seed", seed, name, seed, "the same"))

    if suffix:
        value_s = suffix
        rule = "the same"
        name = "suffix"
        if provider == "together" and len(suffix) > _TOGETHER_MAX_SUFFIX:
            value_s = suffix[:_TOGETHER_MAX_SUFFIX]
            rule = f"Together keeps the first {_TOGETHER_MAX_SUFFIX} characters"
        if provider == "fireworks":
            name, rule = "display_name", "shown as the job's display name"
        kwargs["suffix"] = value_s
        rows.append(ParameterMapping("suffix", suffix, name, value_s, rule))

    if extra:
        kwargs["hyperparameters"] = extra
    return kwargs, rows
