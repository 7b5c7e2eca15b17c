"""Azure OpenAI: build an ``openai.AzureOpenAI`` client for [`JobClient`][finetune_kit.JobClient].

Azure OpenAI runs the same files and fine-tuning API under its own URLs
(``{endpoint}/openai/...?api-version=...``) and credentials (an ``api-key`` header, or a
Microsoft Entra ID token). [`azure_client`][finetune_kit.azure_client] builds the SDK's
``AzureOpenAI`` / ``AsyncAzureOpenAI`` from arguments or the usual variables:

| argument | variable |
|---|---|
| ``endpoint`` | ``AZURE_OPENAI_ENDPOINT`` (``https://<resource>.openai.azure.com``) |
| ``api_version`` | ``AZURE_OPENAI_API_VERSION``, then ``OPENAI_API_VERSION`` |
| ``api_key`` | ``AZURE_OPENAI_API_KEY`` |
| ``token_provider`` | ``AZURE_OPENAI_AD_TOKEN`` (fixed), else Entra ID (``azure-identity``) |

Examples:
    ```py
    from finetune_kit import JobClient
    from finetune_kit.providers.azure import azure_client

    jobs = JobClient(azure_client())  # AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, ...
    job = jobs.train("train.jsonl", model="gpt-4.1-mini-2025-04-14")
    ```
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Literal, overload
from urllib.parse import urlsplit

import openai

from finetune_kit.errors import ConfigError

__all__ = [
    "ENTRA_SCOPE",
    "TokenProvider",
    "azure_client",
    "entra_token_provider",
    "is_azure",
]

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
"""The Microsoft Entra ID scope of Azure OpenAI (Cognitive Services)."""

TokenProvider = Callable[[], str]
"""A function returning a bearer token (called before every request)."""

_ENDPOINT_VARS = ("AZURE_OPENAI_ENDPOINT",)
_VERSION_VARS = ("AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION")
_KEY_VARS = ("AZURE_OPENAI_API_KEY",)
_TOKEN_VARS = ("AZURE_OPENAI_AD_TOKEN",)


def is_azure(client: object) -> bool:
    """Whether an ``openai`` client talks to Azure OpenAI.

    Args:
        client: Any client (``openai.OpenAI``, ``AzureOpenAI``, async variants, ...).

    Returns:
        True for ``AzureOpenAI`` and ``AsyncAzureOpenAI``.
    """
    return isinstance(client, openai.AzureOpenAI | openai.AsyncAzureOpenAI)


def _first_env(names: tuple[str, ...], env: Mapping[str, str]) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _endpoint(value: str) -> str:
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"the Azure OpenAI endpoint must be a URL, got {value!r}",
            field="endpoint",
            hint="use https://<resource>.openai.azure.com (AZURE_OPENAI_ENDPOINT)",
        )
    if url.endswith("/openai"):  # the SDK adds /openai itself
        url = url[: -len("/openai")]
    return url


def entra_token_provider(scope: str = ENTRA_SCOPE) -> TokenProvider:
    """A Microsoft Entra ID token provider from ``azure-identity``'s default credential.

    ``DefaultAzureCredential`` tries environment credentials, workload and managed identity,
    the Azure CLI login, ... in turn.

    Args:
        scope: The token scope.

    Returns:
        A function returning a fresh bearer token.

    Raises:
        ConfigError: ``azure-identity`` is not installed.
    """
    try:
        from azure.identity import (  # type: ignore[import-not-found,unused-ignore]
            DefaultAzureCredential,
            get_bearer_token_provider,
        )
    except ImportError as exc:
        raise ConfigError(
            "no Azure OpenAI credentials: set AZURE_OPENAI_API_KEY (or AZURE_OPENAI_AD_TOKEN), "
            "pass api_key= or token_provider=, or install azure-identity for Microsoft Entra ID",
            hint="pip install azure-identity (then `az login`, a managed identity or the "
            "AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET variables)",
        ) from exc
    provider: TokenProvider = get_bearer_token_provider(DefaultAzureCredential(), scope)
    return provider


@overload
def azure_client(
    *,
    endpoint: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    deployment: str | None = None,
    token_provider: TokenProvider | None = None,
    async_: Literal[False] = False,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> openai.AzureOpenAI: ...


@overload
def azure_client(
    *,
    endpoint: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    deployment: str | None = None,
    token_provider: TokenProvider | None = None,
    async_: Literal[True],
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> openai.AsyncAzureOpenAI: ...


def azure_client(
    *,
    endpoint: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    deployment: str | None = None,
    token_provider: TokenProvider | None = None,
    async_: bool = False,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> openai.AzureOpenAI | openai.AsyncAzureOpenAI:
    """Build an Azure OpenAI client from arguments or the environment.

    Credentials, first found wins: ``api_key``; ``token_provider``; ``AZURE_OPENAI_API_KEY``;
    ``AZURE_OPENAI_AD_TOKEN``; Microsoft Entra ID through ``azure-identity`` when installed.

    Args:
        endpoint: ``https://<resource>.openai.azure.com`` (default: ``AZURE_OPENAI_ENDPOINT``).
        api_version: The REST API version, e.g. ``2025-04-01-preview`` (default:
            ``AZURE_OPENAI_API_VERSION``, then ``OPENAI_API_VERSION``).
        api_key: The resource's key (default: ``AZURE_OPENAI_API_KEY``).
        deployment: A deployment name for chat calls (``JobClient.ask``); fine-tuning calls
            are not deployment-scoped and ignore it.
        token_provider: A function returning an Entra ID bearer token.
        async_: Build an ``AsyncAzureOpenAI`` (for
            [`AsyncJobClient`][finetune_kit.AsyncJobClient]).
        env: The variables to read (default: ``os.environ``).
        **options: Passed to the SDK client (``timeout``, ``max_retries``, ``http_client``, ...).

    Returns:
        An ``openai.AzureOpenAI`` (or ``AsyncAzureOpenAI``).

    Raises:
        ConfigError: The endpoint, the API version or every credential is missing; both
            ``api_key`` and ``token_provider`` were given.
    """
    variables = os.environ if env is None else env
    if api_key is not None and token_provider is not None:
        raise ConfigError("give api_key or token_provider, not both")
    raw_endpoint = endpoint or _first_env(_ENDPOINT_VARS, variables)
    if not raw_endpoint:
        raise ConfigError(
            "no Azure OpenAI endpoint",
            field="endpoint",
            hint="set AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com or pass endpoint=",
        )
    version = api_version or _first_env(_VERSION_VARS, variables)
    if not version:
        raise ConfigError(
            "no Azure OpenAI API version",
            field="api_version",
            hint="set AZURE_OPENAI_API_VERSION (or OPENAI_API_VERSION), e.g. "
            "2025-04-01-preview, or pass api_version=; see Azure's API version lifecycle page",
        )
    auth: dict[str, Any] = {}
    key = api_key or (None if token_provider else _first_env(_KEY_VARS, variables))
    if key:
        auth["api_key"] = key
    elif token_provider is not None:
        auth["azure_ad_token_provider"] = token_provider
    elif (token := _first_env(_TOKEN_VARS, variables)) is not None:
        auth["azure_ad_token"] = token
    else:
        auth["azure_ad_token_provider"] = entra_token_provider()
    kwargs: dict[str, Any] = {
        "azure_endpoint": _endpoint(raw_endpoint),
        "api_version": version,
        **auth,
        **options,
    }
    if deployment:
        kwargs["azure_deployment"] = deployment
    try:
        if async_:
            return openai.AsyncAzureOpenAI(**kwargs)
        return openai.AzureOpenAI(**kwargs)
    except (openai.OpenAIError, ValueError) as exc:
        raise ConfigError(f"cannot build the Azure OpenAI client: {exc}") from exc
