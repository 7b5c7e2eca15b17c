"""The Provider protocol, the registry and the adapters' parity."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from finetune_kit import ConfigError, JobClient
from finetune_kit.errors import ProviderUnsupported
from finetune_kit.providers import base
from finetune_kit.providers.base import JobSpec, Provider, UploadSpec
from finetune_kit.providers.openai import IDEMPOTENCY_KEY, AzureProvider, OpenAIProvider
from finetune_kit.providers.registry import (
    PROVIDER_NAMES,
    default_provider_name,
    get_provider,
    provider_for,
)
from finetune_kit.testing import Emulator

_PROTOCOL_METHODS = sorted(
    name for name, value in vars(Provider).items() if callable(value) and not name.startswith("_")
)


def _adapters() -> list[Provider]:
    return [get_provider(name) for name in PROVIDER_NAMES]


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_every_adapter_implements_the_whole_protocol_with_the_same_signatures(name: str) -> None:
    adapter = get_provider(name)
    assert isinstance(adapter, Provider)
    for method in _PROTOCOL_METHODS:
        expected = inspect.signature(getattr(Provider, method))
        actual = inspect.signature(getattr(type(adapter), method))
        assert list(actual.parameters) == list(expected.parameters), (name, method)


def test_facts_name_every_capability_each_adapter_lacks_consistently() -> None:
    known = set(base.Capability.__args__)  # type: ignore[attr-defined]
    for adapter in _adapters():
        facts = adapter.facts
        assert facts.capabilities <= known, facts.name
        assert set(facts.statuses.values()) <= set(base.PRODUCT_STATUSES), facts.name
        assert facts.methods <= {"supervised", "dpo"}
        assert facts.key_env and facts.base_url_env and facts.default_model


def test_unknown_provider_names_are_config_errors_that_list_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="openai, azure, together"):
        get_provider("mistral")


def test_finetune_kit_provider_chooses_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_provider_name({}) == "openai"
    assert default_provider_name({"FINETUNE_KIT_PROVIDER": "Azure"}) == "azure"
    with pytest.raises(ConfigError, match="FINETUNE_KIT_PROVIDER"):
        default_provider_name({"FINETUNE_KIT_PROVIDER": "nope"})
    monkeypatch.setenv("FINETUNE_KIT_PROVIDER", "azure")
    assert get_provider().facts.name == "azure"


def test_an_adapter_is_returned_as_it_is() -> None:
    adapter = OpenAIProvider()
    assert get_provider(adapter) is adapter


def test_clients_are_recognised_by_their_sdk() -> None:
    import openai

    plain = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    azure = openai.AzureOpenAI(
        api_key="k", azure_endpoint="https://r.openai.azure.com", api_version="2025-04-01-preview"
    )
    assert provider_for(plain).facts.name == "openai"
    assert provider_for(azure).facts.name == "azure"
    with pytest.raises(ConfigError, match="cannot tell the provider"):
        provider_for(object())


def test_a_client_of_another_provider_is_refused() -> None:
    import openai

    plain = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="not a Azure OpenAI client"):
        JobClient(plain, provider="azure")


def test_a_missing_openai_key_names_the_variable_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError) as caught:
        JobClient(provider="openai")
    assert caught.value.message == "no API key: set OPENAI_API_KEY"


def test_openai_job_requests_carry_the_idempotency_key_and_refuse_foreign_parameters() -> None:
    adapter = OpenAIProvider()
    spec = JobSpec(training_file="file-1", model="gpt-4o-mini", hyperparameters={"n_epochs": 2})
    request = adapter.job_request(spec)
    assert request["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 2}},
    }
    assert request["metadata"][IDEMPOTENCY_KEY].startswith("ftk1-")
    assert adapter.job_request(spec) == request
    with pytest.raises(ConfigError, match="lora"):
        adapter.job_request(JobSpec("file-1", "gpt-4o-mini", hyperparameters={"lora": True}))


def test_upload_specs_match_files_by_hash_size_and_purpose(tmp_path: Any) -> None:
    path = tmp_path / "train data.jsonl"
    path.write_text("{}\n")
    spec = UploadSpec(path=path, sha256="ab" * 32, size=3, purpose="fine-tune")
    assert spec.filename == "train_data-abababababababab.jsonl"
    same = base.RemoteFile(
        id="f",
        filename="x-abababababababab.jsonl",
        bytes=3,
        status="processed",
        purpose="fine-tune",
        details=None,
        raw=None,
    )
    assert spec.matches(same)
    assert not spec.matches({**same, "bytes": 4})
    assert not spec.matches({**same, "status": "error"})


def test_what_a_provider_lacks_raises_provider_unsupported_not_attribute_error() -> None:
    class NoPause(OpenAIProvider):
        facts = base.ProviderFacts(
            **{
                **{
                    f: getattr(OpenAIProvider.facts, f)
                    for f in OpenAIProvider.facts.__dataclass_fields__
                },
                "capabilities": frozenset({"events", "chat"}),
            }
        )

    with Emulator(manual_clock=True) as emu:
        client = JobClient(emu.client(), provider=NoPause())
        for call in (
            lambda: client.pause("ftjob-1"),
            lambda: client.resume("ftjob-1"),
            lambda: client.checkpoints("ftjob-1"),
            lambda: client.metrics("ftjob-1"),
        ):
            with pytest.raises(ProviderUnsupported, match="does not support"):
                call()
        with pytest.raises(ProviderUnsupported):
            _ = JobClient(emu.client(), provider=NoPause()).create_job(
                "file-1", "gpt-4o-mini", method="reinforcement"
            )
        assert not emu.requests  # refused before any request


def test_azure_is_the_openai_adapter_with_azure_facts() -> None:
    azure = AzureProvider()
    assert azure.facts.validation_profile == "azure"
    assert azure.facts.key_env == ("AZURE_OPENAI_API_KEY",)
    assert isinstance(azure, OpenAIProvider)
