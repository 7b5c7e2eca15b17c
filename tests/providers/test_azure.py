"""Azure OpenAI: client construction, environment, errors, and JobClient over Azure-shaped URLs."""

from __future__ import annotations

import asyncio
import json
import sys
import types
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from conftest import good_example
from emulator_helpers import FAULT_PLANS, FILES, JOBS, clean_run_log, request_log, retries
from finetune_kit import AsyncJobClient, ConfigError, JobClient, set_testing
from finetune_kit.providers.azure import ENTRA_SCOPE, azure_client, entra_token_provider, is_azure
from finetune_kit.testing import Emulator

MODEL = "gpt-4o-mini-2024-07-18"
FAST: dict[str, Any] = {"http_client": openai.DefaultHttpxClient(verify=False)}  # no CA load
VERSION = "2025-04-01-preview"
ENDPOINT = "https://my-resource.openai.azure.com"
START = datetime(2026, 11, 2, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _instant_waits() -> Iterator[None]:
    set_testing(True)
    yield
    set_testing(False)


@pytest.fixture
def no_azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
        "AZURE_OPENAI_API_VERSION",
        "OPENAI_API_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)


def _to_emulator(request: httpx2.Request, port: int, seen: list[Any]) -> None:
    """Record an Azure-shaped request as it leaves the SDK, then point it at the emulator."""
    url = request.url
    seen.append((request.method, url.path, dict(url.params), request.headers.get("api-key")))
    path = url.path
    assert path.startswith("/openai/"), path
    request.url = url.copy_with(
        scheme="http", host="127.0.0.1", port=port, path="/v1/" + path[len("/openai/") :]
    )
    key = request.headers.pop("api-key", None)
    if key is not None:
        request.headers["Authorization"] = f"Bearer {key}"
    request.headers["host"] = f"127.0.0.1:{port}"


class AzureToEmulator(httpx2.BaseTransport):
    """Serve an ``AzureOpenAI`` client from the emulator.

    Azure's URL shape (``{endpoint}/openai/...?api-version=``) and ``api-key`` header are
    recorded as they leave the SDK, then mapped to the emulator's ``/v1/...`` and Bearer auth.
    """

    def __init__(self, emu: Emulator) -> None:
        self.port = emu.port
        self.inner = httpx2.HTTPTransport()
        self.seen: list[tuple[str, str, dict[str, str], str | None]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        _to_emulator(request, self.port, self.seen)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class AsyncAzureToEmulator(httpx2.AsyncBaseTransport):
    """The same for an ``AsyncAzureOpenAI`` client."""

    def __init__(self, emu: Emulator) -> None:
        self.port = emu.port
        self.inner = httpx2.AsyncHTTPTransport()
        self.seen: list[tuple[str, str, dict[str, str], str | None]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        _to_emulator(request, self.port, self.seen)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(good_example(i)) + "\n" for i in range(12)), "utf-8")
    return path


# -- construction and environment ------------------------------------------------------------


def test_builds_a_client_from_the_usual_variables(no_azure_env: None) -> None:
    env = {
        "AZURE_OPENAI_ENDPOINT": ENDPOINT + "/",
        "AZURE_OPENAI_API_KEY": "k-123",
        "OPENAI_API_VERSION": VERSION,
    }
    client = azure_client(env=env, **FAST)
    assert isinstance(client, openai.AzureOpenAI) and is_azure(client)
    assert str(client.base_url) == ENDPOINT + "/openai/"
    assert client.api_key == "k-123"
    assert client._custom_query == {"api-version": VERSION}


def test_azure_api_version_variable_wins_over_the_sdk_one(no_azure_env: None) -> None:
    env = {
        "AZURE_OPENAI_ENDPOINT": ENDPOINT,
        "AZURE_OPENAI_API_KEY": "k",
        "AZURE_OPENAI_API_VERSION": "2024-10-21",
        "OPENAI_API_VERSION": VERSION,
    }
    assert azure_client(env=env, **FAST)._custom_query == {"api-version": "2024-10-21"}


def test_arguments_win_over_the_environment_and_endpoint_suffix_is_tolerated(
    no_azure_env: None,
) -> None:
    env = {"AZURE_OPENAI_ENDPOINT": "https://other.example", "AZURE_OPENAI_API_KEY": "env"}
    client = azure_client(
        endpoint=ENDPOINT + "/openai/", api_version=VERSION, api_key="arg", env=env, **FAST
    )
    assert str(client.base_url) == ENDPOINT + "/openai/"
    assert client.api_key == "arg"


def test_async_client_and_deployment(no_azure_env: None) -> None:
    client = azure_client(
        endpoint=ENDPOINT, api_version=VERSION, api_key="k", deployment="my-ft", async_=True
    )
    assert isinstance(client, openai.AsyncAzureOpenAI) and is_azure(client)
    assert str(client.base_url) == ENDPOINT + "/openai/deployments/my-ft/"
    asyncio.run(client.close())


def test_plain_openai_client_is_not_azure() -> None:
    assert not is_azure(openai.OpenAI(api_key="sk-test", **FAST))


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"AZURE_OPENAI_API_KEY": "k", "OPENAI_API_VERSION": VERSION}, "AZURE_OPENAI_ENDPOINT"),
        ({"AZURE_OPENAI_ENDPOINT": ENDPOINT, "AZURE_OPENAI_API_KEY": "k"}, "OPENAI_API_VERSION"),
        (
            {
                "AZURE_OPENAI_ENDPOINT": "my-resource.openai.azure.com",
                "AZURE_OPENAI_API_KEY": "k",
                "OPENAI_API_VERSION": VERSION,
            },
            "https://",
        ),
    ],
)
def test_missing_or_bad_settings_name_the_variable(
    no_azure_env: None, env: dict[str, str], needle: str
) -> None:
    with pytest.raises(ConfigError) as info:
        azure_client(env=env, **FAST)
    assert needle in str(info.value)


def test_no_credentials_without_azure_identity_says_what_to_do(
    no_azure_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # import fails
    with pytest.raises(ConfigError) as info:
        azure_client(env={"AZURE_OPENAI_ENDPOINT": ENDPOINT, "OPENAI_API_VERSION": VERSION})
    text = str(info.value)
    assert "AZURE_OPENAI_API_KEY" in text and "pip install azure-identity" in text


def test_entra_id_through_azure_identity_when_installed(
    no_azure_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    fake = types.ModuleType("azure.identity")

    class DefaultAzureCredential:
        pass

    def get_bearer_token_provider(credential: Any, scope: str) -> Any:
        assert isinstance(credential, DefaultAzureCredential)
        asked.append(scope)
        return lambda: "entra-token"

    fake.DefaultAzureCredential = DefaultAzureCredential  # type: ignore[attr-defined]
    fake.get_bearer_token_provider = get_bearer_token_provider  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure", types.ModuleType("azure"))
    monkeypatch.setitem(sys.modules, "azure.identity", fake)
    client = azure_client(
        env={"AZURE_OPENAI_ENDPOINT": ENDPOINT, "OPENAI_API_VERSION": VERSION}, **FAST
    )
    assert asked == [ENTRA_SCOPE]
    assert client._get_azure_ad_token() == "entra-token"
    assert entra_token_provider()() == "entra-token"


def test_fixed_token_variable_and_explicit_provider(no_azure_env: None) -> None:
    env = {
        "AZURE_OPENAI_ENDPOINT": ENDPOINT,
        "OPENAI_API_VERSION": VERSION,
        "AZURE_OPENAI_AD_TOKEN": "fixed",
    }
    assert azure_client(env=env, **FAST)._get_azure_ad_token() == "fixed"
    client = azure_client(env=env, token_provider=lambda: "fresh", **FAST)
    assert client._get_azure_ad_token() == "fresh"
    with pytest.raises(ConfigError, match="not both"):
        azure_client(env=env, api_key="k", token_provider=lambda: "t")


# -- JobClient over Azure URLs --------------------------------------------------------------


def _azure_run(kind: str, emu: Emulator, train_file: Path) -> tuple[Any, Any, list[Any]]:
    """Upload, create, train again (reused), let the job end, wait: sync or async over Azure."""
    azure = {"endpoint": ENDPOINT, "api_version": VERSION, "api_key": "azure-key"}
    if kind == "sync":
        transport = AzureToEmulator(emu)
        client = azure_client(**azure, http_client=httpx2.Client(transport=transport))
        jobs = JobClient(client, poll_interval=0.01)
        ref = jobs.upload(train_file, wait=False)
        emu.advance(5)
        job = jobs.create_job(ref, MODEL, suffix="azure")
        again = jobs.train(train_file, MODEL, suffix="azure", wait=False)
        emu.advance(3600)
        final = jobs.wait(job, timeout=30)
        client.close()
        return job, (again, final), transport.seen

    async def scenario() -> tuple[Any, Any, list[Any]]:
        transport = AsyncAzureToEmulator(emu)
        client = azure_client(
            **azure, async_=True, http_client=httpx2.AsyncClient(transport=transport)
        )
        jobs = AsyncJobClient(client, poll_interval=0.01)
        ref = await jobs.upload(train_file, wait=False)
        emu.advance(5)
        job = await jobs.create_job(ref, MODEL, suffix="azure")
        again = await jobs.train(train_file, MODEL, suffix="azure", wait=False)
        emu.advance(3600)
        final = await jobs.wait(job, timeout=30)
        await client.close()
        return job, (again, final), transport.seen

    return asyncio.run(scenario())


@pytest.mark.parametrize("plan", list(FAULT_PLANS), ids=list(FAULT_PLANS))
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_fault_plans_over_azure_urls_make_exactly_the_requests_they_imply(
    kind: str, plan: str, train_file: Path
) -> None:
    scenario = FAULT_PLANS[plan]
    with Emulator(manual_clock=True, start_time=START, faults=scenario.faults) as emu:
        job, (again, final), seen = _azure_run(kind, emu, train_file)
        assert again.id == job.id and again.reused
        assert final.succeeded and final.fine_tuned_model
        assert len(emu.state.list_files(purpose="fine-tune")) == 1
        assert len(emu.state.list_jobs()) == 1
        # the second train only looked: one list of files, one list of jobs
        expected = clean_run_log(emu, job.id, scenario.extra)
        expected.update({("GET", FILES): 1, ("GET", JOBS): 1})
        assert request_log(emu) == expected
    assert retries() == scenario.retries
    assert len(seen) == sum(expected.values())  # each request went through the Azure transport
    for _method, path, params, key in seen:
        assert path.startswith("/openai/") and "/deployments/" not in path
        assert params.get("api-version") == VERSION
        assert key == "azure-key"
    assert ("POST", "/openai/fine_tuning/jobs") in {(m, p) for m, p, _, _ in seen}
