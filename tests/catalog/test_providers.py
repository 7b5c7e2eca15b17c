"""Each provider's models, limits and prices as bundled data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from finetune_kit import ConfigError
from finetune_kit.catalog.providers import (
    price_table,
    price_table_path,
    training_overrides,
    tunable_models,
)


def test_together_prices_and_models_come_from_one_file_with_sources_and_unconfirmed_marks() -> None:
    table = price_table("together")
    models = tunable_models("together")
    assert set(table.models()) == set(models)
    gpt = models["openai/gpt-oss-20b"]
    assert gpt.sft_per_1m == Decimal("0.40") and gpt.dpo_per_1m == Decimal("1.00")
    assert table.get("openai/gpt-oss-20b").training_per_1m == Decimal("0.40")
    assert gpt.as_of == "2026-09-11" and "Together" in gpt.source
    assert "context_sft" in gpt.unconfirmed
    for model in models.values():
        assert model.lora and model.sft_per_1m and model.dpo_per_1m and model.source


def test_dpo_on_together_uses_its_dpo_price_and_context() -> None:
    assert training_overrides("together", "openai/gpt-oss-20b", "dpo") == {
        "training_per_1m": Decimal("1.00"),
        "token_limit": 8192,
    }
    assert training_overrides("together", "openai/gpt-oss-20b", "supervised") == {}
    assert training_overrides("openai", "gpt-4o-mini", "dpo") == {}


def test_openai_and_azure_share_the_bundled_table() -> None:
    assert price_table_path("azure") == price_table_path("openai")
    assert "gpt-4o-mini-2024-07-18" in price_table("azure").models()
    assert tunable_models("openai") == {}
    with pytest.raises(ConfigError, match="no bundled prices"):
        price_table("mistral")


def test_provider_terms_carry_epochs_hosting_and_azures_dates() -> None:
    from finetune_kit.catalog.providers import provider_terms

    azure = provider_terms("azure")
    assert azure.hosting.per_hour == Decimal("1.70") and str(azure.hosting.as_of) == "2026-09-21"
    assert "learn.microsoft.com" in azure.hosting.source.url
    dates = azure.models["gpt-4.1-mini-2025-04-14"]
    assert (str(dates.training_available_until), str(dates.deployment_retires)) == (
        "2027-04-14",
        "2027-10-14",
    )
    assert provider_terms("together").default_epochs(500, lambda n: 99) == 1
    assert provider_terms("openai").default_epochs(500, lambda n: 99) == 99
    assert provider_terms("together").hosting.per_hour is None
    assert "epochs" in provider_terms("fireworks").unconfirmed
    with pytest.raises(ConfigError, match="unknown provider"):
        provider_terms("mistral")


def test_bundled_data_cites_public_sources_not_project_notes() -> None:
    from importlib import resources

    folder = resources.files("finetune_kit").joinpath("data")
    for name in ("prices.json", "together.json", "fireworks.json", "models.json", "terms.json"):
        text = folder.joinpath(name).read_text("utf-8")
        for private in ("FACTS.md", "../shared", "DESIGN.md"):
            assert private not in text, (name, private)
