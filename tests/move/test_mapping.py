"""The settings mapping: each rule of docs/move.md, per provider."""

from __future__ import annotations

import pytest

from finetune_kit.move._mapping import BASE_LEARNING_RATES, map_settings
from finetune_kit.providers.together import DEFAULTS

OPENAI_JOB = {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 0.5, "beta": 0.1}


def _rule(rows: list, name: str) -> tuple[object, object, str]:
    (row,) = [r for r in rows if r.name == name]
    return row.target_name, row.target, row.rule


def test_the_learning_rate_is_the_targets_default_times_the_multiplier() -> None:
    assert BASE_LEARNING_RATES["together"] == DEFAULTS["learning_rate"] == 1e-5
    for provider, base in BASE_LEARNING_RATES.items():
        kwargs, rows = map_settings(provider, "supervised", OPENAI_JOB, suffix=None, seed=None)
        assert kwargs["hyperparameters"] == {"learning_rate": pytest.approx(base * 0.5)}
        assert "learning_rate_multiplier" not in kwargs
        name, value, rule = _rule(rows, "learning_rate_multiplier")
        assert (name, value) == ("learning_rate", kwargs["hyperparameters"]["learning_rate"])
        assert "x the multiplier" in rule


def test_openai_and_azure_keep_every_setting_as_it_was() -> None:
    for provider in ("openai", "azure"):
        kwargs, rows = map_settings(provider, "dpo", OPENAI_JOB, suffix="bard", seed=7)
        assert kwargs == {**OPENAI_JOB, "suffix": "bard", "seed": 7}
        assert {r.rule for r in rows} == {"the same"}


def test_together_batch_epochs_suffix_and_beta() -> None:
    job = {"n_epochs": 30, "batch_size": 2, "learning_rate_multiplier": 2, "beta": 0.3}
    kwargs, rows = map_settings("together", "dpo", job, suffix="x" * 50, seed=3)
    assert kwargs["n_epochs"] == 20 and "at most 20" in _rule(rows, "n_epochs")[2]
    assert kwargs["batch_size"] == 8 and "smallest" in _rule(rows, "batch_size")[2]
    assert kwargs["suffix"] == "x" * 40
    assert kwargs["beta"] == 0.3 and _rule(rows, "beta")[0] == "dpo_beta"
    assert kwargs["seed"] == 3 and _rule(rows, "seed")[0] == "random_seed"
    big, _ = map_settings("together", "supervised", {"batch_size": 16}, suffix=None, seed=None)
    assert big == {"batch_size": 16}


def test_fireworks_leaves_the_batch_size_and_names_the_seed_and_suffix() -> None:
    kwargs, rows = map_settings("fireworks", "supervised", OPENAI_JOB, suffix="bard", seed=9)
    assert "batch_size" not in kwargs
    assert _rule(rows, "batch_size")[1] is None
    assert _rule(rows, "seed")[0] == "job id"
    assert _rule(rows, "suffix")[0] == "display_name"
    assert "beta" not in kwargs  # supervised: no beta


def test_auto_or_missing_settings_are_left_to_the_target() -> None:
    kwargs, rows = map_settings(
        "together",
        "supervised",
        {"n_epochs": "auto", "learning_rate_multiplier": "auto"},
        suffix=None,
        seed=None,
    )
    assert kwargs == {}
    assert {r.rule for r in rows} == {"not set: the default"}
