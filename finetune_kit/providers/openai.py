"""OpenAI and Azure OpenAI as [`Provider`][finetune_kit.providers.base.Provider] adapters.

Both speak the same files, uploads and fine-tuning API through the ``openai`` SDK; Azure runs
it under its own URLs and credentials (see [`azure_client`][finetune_kit.azure_client]),
takes UTF-8 files *with* a byte-order mark and keeps training after OpenAI's wind-down.

No duplicates: the request's idempotency key (derived from files, model, method,
hyper-parameters, suffix and seed) is stored in the job's ``metadata``; before every create the
engine asks [`find_jobs`][finetune_kit.providers.openai.OpenAIProvider.find_jobs], which lists
jobs filtered by that key. Files carry their content hash in their name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import openai

from finetune_kit.errors import ConfigError
from finetune_kit.providers._sdk import chat_answer, describe_sdk_error, plain
from finetune_kit.providers.base import (
    Call,
    ErrorInfo,
    EventPage,
    JobSpec,
    MetricsData,
    Plan,
    ProviderFacts,
    RemoteCheckpoint,
    RemoteEvent,
    RemoteFile,
    RemoteJob,
    UploadFile,
    UploadSpec,
)

__all__ = [
    "AZURE",
    "IDEMPOTENCY_KEY",
    "OPENAI",
    "AzureProvider",
    "OpenAIProvider",
    "build_method",
    "idempotency_key",
    "remote_checkpoint",
    "remote_event",
    "remote_file",
    "remote_job",
]

IDEMPOTENCY_KEY = "finetune_kit_key"
"""The job ``metadata`` key that holds the request's idempotency key."""
_MAX_METADATA_PAIRS = 16
_OPENAI_STATUSES = {
    "validating_files": "validating_files",
    "queued": "queued",
    "running": "running",
    "pausing": "running",
    "paused": "paused",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
}
_FILE_STATUS = {"uploaded": "uploaded", "pending": "uploaded", "running": "uploaded"}

OPENAI = ProviderFacts(
    name="openai",
    title="OpenAI",
    key_env=("OPENAI_API_KEY",),
    base_url_env="OPENAI_BASE_URL",
    methods=frozenset({"supervised", "dpo"}),
    capabilities=frozenset(
        {
            "pause",
            "resume",
            "checkpoints",
            "metrics",
            "events",
            "chat",
            "dpo",
            "chunked_upload",
            "file_content",
        }
    ),
    max_file_bytes=512 * 1024**2,
    min_examples=10,
    validation_profile="openai",
    idempotency="an idempotency key in the job's metadata, looked up before every create",
    statuses=_OPENAI_STATUSES,
    default_model="gpt-4o-mini-2024-07-18",
)
"""OpenAI's static facts."""

AZURE = ProviderFacts(
    name="azure",
    title="Azure OpenAI",
    key_env=("AZURE_OPENAI_API_KEY",),
    base_url_env="AZURE_OPENAI_ENDPOINT",
    methods=frozenset({"supervised", "dpo"}),
    capabilities=OPENAI.capabilities,
    max_file_bytes=512 * 1024**2,
    min_examples=10,
    validation_profile="azure",
    idempotency=OPENAI.idempotency,
    statuses=_OPENAI_STATUSES,
    default_model="gpt-4.1-mini-2025-04-14",
)
"""Azure OpenAI's static facts (same API; UTF-8 with BOM; at least 10 examples)."""


# -- mapping the SDK's objects ------------------------------------------------------------------


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def remote_file(obj: Any) -> RemoteFile:
    """A provider-neutral file from the SDK's ``FileObject`` (or its JSON)."""
    status = str(_get(obj, "status", "processed") or "processed")
    details = _get(obj, "status_details")
    return RemoteFile(
        id=str(_get(obj, "id")),
        filename=str(_get(obj, "filename", "") or ""),
        bytes=int(_get(obj, "bytes", 0) or 0),
        status=_FILE_STATUS.get(status, status),
        purpose=str(_get(obj, "purpose", "fine-tune") or "fine-tune"),
        details=str(details) if details else None,
        raw=obj,
    )


def remote_job(obj: Any, facts: ProviderFacts = OPENAI) -> RemoteJob:
    """A provider-neutral job from the SDK's ``FineTuningJob`` (or its JSON)."""
    err = _get(obj, "error")
    error = None
    if err is not None and (_get(err, "message") or _get(err, "code")):
        error = {
            "code": _get(err, "code"),
            "message": _get(err, "message") or "",
            "param": _get(err, "param"),
        }
    method = plain(_get(obj, "method")) or {}
    hp: Any = {}
    if isinstance(method, dict):  # the method's hyper-parameters (DPO beta included) first
        kind = method.get("type")
        inner = method.get(kind, {}) if isinstance(kind, str) else {}
        hp = inner.get("hyperparameters", {}) if isinstance(inner, dict) else {}
    if not hp:  # the deprecated top-level field
        hp = plain(_get(obj, "hyperparameters")) or {}
    raw_status = str(_get(obj, "status", "unknown"))
    return RemoteJob(
        id=str(_get(obj, "id")),
        status=facts.product_status(raw_status),
        provider_status=raw_status,
        model=str(_get(obj, "model", "") or ""),
        fine_tuned_model=_get(obj, "fine_tuned_model"),
        training_file=_get(obj, "training_file"),
        validation_file=_get(obj, "validation_file"),
        created_at=_get(obj, "created_at"),
        finished_at=_get(obj, "finished_at"),
        trained_tokens=_get(obj, "trained_tokens"),
        estimated_cost=None,
        error=error,
        method=method if isinstance(method, dict) else {},
        hyperparameters=hp if isinstance(hp, dict) else {},
        suffix=_get(obj, "user_provided_suffix") or _get(obj, "suffix"),
        seed=_get(obj, "seed"),
        metadata={str(k): str(v) for k, v in (_get(obj, "metadata") or {}).items()},
        result_files=list(_get(obj, "result_files") or []),
        estimated_finish=_get(obj, "estimated_finish"),
        raw=obj,
    )


def remote_event(obj: Any) -> RemoteEvent:
    """A provider-neutral event from the SDK's ``FineTuningJobEvent``."""
    data = plain(_get(obj, "data")) or {}
    return RemoteEvent(
        id=str(_get(obj, "id")),
        created_at=int(_get(obj, "created_at", 0) or 0),
        level=str(_get(obj, "level", "info") or "info"),
        message=str(_get(obj, "message", "") or ""),
        type=str(_get(obj, "type", "message") or "message"),
        data=data if isinstance(data, dict) else {},
    )


def remote_checkpoint(obj: Any) -> RemoteCheckpoint:
    """A provider-neutral checkpoint from the SDK's ``FineTuningJobCheckpoint``."""
    metrics = plain(_get(obj, "metrics")) or {}
    return RemoteCheckpoint(
        id=str(_get(obj, "id")),
        step_number=int(_get(obj, "step_number", 0) or 0),
        fine_tuned_model_checkpoint=str(_get(obj, "fine_tuned_model_checkpoint", "") or ""),
        created_at=int(_get(obj, "created_at", 0) or 0),
        metrics=metrics if isinstance(metrics, dict) else {},
    )


# -- requests ------------------------------------------------------------------------------------


def build_method(
    method: str,
    *,
    n_epochs: int | str | None,
    batch_size: int | str | None,
    learning_rate_multiplier: float | str | None,
    beta: float | str | None,
) -> dict[str, Any]:
    """The ``method`` object of a job request (hyper-parameters left out stay ``auto``)."""
    if method not in ("supervised", "dpo"):
        raise ConfigError(f"unknown method {method!r}", hint="use supervised or dpo")
    if beta is not None and method != "dpo":
        raise ConfigError("beta applies to the dpo method only", field="beta")
    hp: dict[str, Any] = {}
    for name, value in (
        ("n_epochs", n_epochs),
        ("batch_size", batch_size),
        ("learning_rate_multiplier", learning_rate_multiplier),
        ("beta", beta),
    ):
        if value is not None:
            hp[name] = value
    _check_hyperparameters(hp)
    return {"type": method, method: {"hyperparameters": hp}}


def _check_hyperparameters(hp: Mapping[str, Any]) -> None:
    limits = {"n_epochs": (1, 50), "batch_size": (1, 256)}
    for name, (low, high) in limits.items():
        v = hp.get(name)
        if v is not None and v != "auto" and not (isinstance(v, int) and low <= v <= high):
            raise ConfigError(f"{name} must be 'auto' or an integer {low}..{high}, got {v!r}")
    lr = hp.get("learning_rate_multiplier")
    if lr is not None and lr != "auto" and not (isinstance(lr, int | float) and lr > 0):
        raise ConfigError(f"learning_rate_multiplier must be 'auto' or > 0, got {lr!r}")
    beta = hp.get("beta")
    if (
        beta is not None
        and beta != "auto"
        and not (isinstance(beta, int | float) and 0 < beta <= 2)
    ):
        raise ConfigError(f"beta must be 'auto' or in (0, 2], got {beta!r}")


def idempotency_key(request: Mapping[str, Any]) -> str:
    """A key derived from what makes a job request the same request.

    Training and validation file, model, method with its hyper-parameters, suffix and seed —
    the user's own metadata and integrations do not change what is trained.
    """
    relevant = {
        k: request.get(k)
        for k in ("training_file", "validation_file", "model", "method", "suffix", "seed")
    }
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return "ftk1-" + hashlib.sha256(text.encode()).hexdigest()[:40]


_OPENAI_HYPERPARAMETERS = frozenset({"n_epochs", "batch_size", "learning_rate_multiplier", "beta"})


def _job_request(spec: JobSpec) -> dict[str, Any]:
    extra = {k for k, v in spec.hyperparameters.items() if v is not None} - _OPENAI_HYPERPARAMETERS
    if extra:
        raise ConfigError(
            f"unknown hyper-parameter(s) for OpenAI: {', '.join(sorted(extra))}",
            hint="OpenAI takes n_epochs, batch_size, learning_rate_multiplier and beta",
        )
    hp = spec.hyperparameters
    method = build_method(
        spec.method,
        n_epochs=hp.get("n_epochs"),
        batch_size=hp.get("batch_size"),
        learning_rate_multiplier=hp.get("learning_rate_multiplier"),
        beta=hp.get("beta"),
    )
    if spec.suffix is not None and len(spec.suffix) > 64:
        raise ConfigError("suffix is longer than 64 characters", field="suffix")
    request: dict[str, Any] = {
        "training_file": spec.training_file,
        "model": spec.model,
        "method": method,
    }
    for name, value in (
        ("validation_file", spec.validation_file),
        ("suffix", spec.suffix),
        ("seed", spec.seed),
    ):
        if value is not None:
            request[name] = value
    user_meta = dict(spec.metadata or {})
    if len(user_meta) >= _MAX_METADATA_PAIRS:
        raise ConfigError(
            f"metadata takes at most {_MAX_METADATA_PAIRS - 1} pairs here "
            f"(one is used for the idempotency key)",
            field="metadata",
        )
    for k, v in user_meta.items():
        if len(k) > 64 or len(str(v)) > 512:
            raise ConfigError("metadata keys are ≤ 64 and values ≤ 512 characters", field=k)
    request["metadata"] = {
        **{k: str(v) for k, v in user_meta.items()},
        IDEMPOTENCY_KEY: idempotency_key(request),
    }
    if spec.integrations:
        request["integrations"] = [dict(i) for i in spec.integrations]
    return request


def _list_all(method: str, kwargs: Mapping[str, Any], *, page_size: int = 100) -> Plan[list[Any]]:
    """Every item of a cursor-paginated list."""
    items: list[Any] = []
    after: str | None = None
    while True:
        args = dict(kwargs, limit=page_size)
        if after is not None:
            args["after"] = after
        page = yield Call(method, args)
        data = list(page.data)
        items.extend(data)
        if not data or not getattr(page, "has_more", False):
            return items
        after = data[-1].id


def content_bytes(response: Any) -> bytes:
    """The bytes of a ``files.content`` response."""
    content = getattr(response, "content", response)
    return content if isinstance(content, bytes) else bytes(content)


class OpenAIProvider:
    """OpenAI's fine-tuning API through the ``openai`` SDK.

    Attributes:
        facts: What OpenAI is and can do.
    """

    facts: ProviderFacts = OPENAI

    def new_client(self, *, async_: bool) -> Any:
        """An ``openai.OpenAI`` (or ``AsyncOpenAI``) from ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``.

        Raises:
            ConfigError: ``OPENAI_API_KEY`` is not set.
        """
        try:
            return openai.AsyncOpenAI() if async_ else openai.OpenAI()
        except openai.OpenAIError as exc:
            raise ConfigError(
                "no API key: set OPENAI_API_KEY",
                hint="or pass an openai client; for the offline emulator run "
                "`finetune-kit emulator` and set OPENAI_BASE_URL",
            ) from exc

    def owns(self, client: object) -> bool:
        """True for ``openai.OpenAI`` / ``AsyncOpenAI`` that are not Azure clients."""
        return isinstance(client, openai.OpenAI | openai.AsyncOpenAI) and not isinstance(
            client, openai.AzureOpenAI | openai.AsyncAzureOpenAI
        )

    def describe_error(self, exc: BaseException) -> ErrorInfo | None:
        """What an ``openai`` exception means."""
        return describe_sdk_error(openai, exc, base="OpenAIError", code_keys=("code",))

    # -- files ------------------------------------------------------------------------------

    def list_files(self, purpose: str) -> Plan[list[RemoteFile]]:
        """Every file of the purpose (all pages)."""
        items = yield from _list_all("files.list", {"purpose": purpose})
        return [remote_file(f) for f in items]

    def upload_file(self, spec: UploadSpec, *, chunked: bool) -> Plan[RemoteFile]:
        """``files.create``, or the Uploads API in parts when ``chunked``."""
        if chunked:
            upload = yield Call(
                "uploads.upload_file_chunked",
                {
                    "file": spec.path,
                    "filename": spec.filename,
                    "bytes": spec.size,
                    "mime_type": "application/jsonl",
                    "purpose": spec.purpose,
                },
                write=True,
            )
            return remote_file(upload.file)
        created = yield Call(
            "files.create",
            {"file": UploadFile(spec.path, spec.filename), "purpose": spec.purpose},
            write=True,
        )
        return remote_file(created)

    def retrieve_file(self, file_id: str) -> Plan[RemoteFile]:
        """``files.retrieve``."""
        return remote_file((yield Call("files.retrieve", {"file_id": file_id})))

    def file_content(self, file_id: str) -> Plan[bytes]:
        """``files.content``."""
        return content_bytes((yield Call("files.content", {"file_id": file_id})))

    # -- jobs -------------------------------------------------------------------------------

    def job_request(self, spec: JobSpec) -> dict[str, Any]:
        """``fine_tuning.jobs.create`` arguments, with the idempotency key in ``metadata``."""
        return _job_request(spec)

    def find_jobs(self, request: Mapping[str, Any]) -> Plan[list[RemoteJob]]:
        """Jobs whose metadata holds this request's key."""
        key = request["metadata"][IDEMPOTENCY_KEY]
        items = yield from _list_all("fine_tuning.jobs.list", {"metadata": {IDEMPOTENCY_KEY: key}})
        jobs = [remote_job(j, self.facts) for j in items]
        # filter again: some deployments ignore the metadata filter
        return [j for j in jobs if j["metadata"].get(IDEMPOTENCY_KEY) == key]

    def create_job(self, request: Mapping[str, Any]) -> Plan[RemoteJob]:
        """``fine_tuning.jobs.create``."""
        created = yield Call("fine_tuning.jobs.create", request, write=True)
        return remote_job(created, self.facts)

    def _job_call(self, method: str, job_id: str) -> Plan[RemoteJob]:
        obj = yield Call(f"fine_tuning.jobs.{method}", {"fine_tuning_job_id": job_id})
        return remote_job(obj, self.facts)

    def retrieve_job(self, job_id: str) -> Plan[RemoteJob]:
        """``fine_tuning.jobs.retrieve``."""
        return (yield from self._job_call("retrieve", job_id))

    def list_jobs(self, limit: int) -> Plan[list[RemoteJob]]:
        """One page of ``fine_tuning.jobs.list``."""
        page = yield Call("fine_tuning.jobs.list", {"limit": limit})
        return [remote_job(j, self.facts) for j in page.data]

    def cancel_job(self, job_id: str) -> Plan[RemoteJob]:
        """``fine_tuning.jobs.cancel``."""
        return (yield from self._job_call("cancel", job_id))

    def pause_job(self, job_id: str) -> Plan[RemoteJob]:
        """``fine_tuning.jobs.pause``."""
        return (yield from self._job_call("pause", job_id))

    def resume_job(self, job_id: str) -> Plan[RemoteJob]:
        """``fine_tuning.jobs.resume``."""
        return (yield from self._job_call("resume", job_id))

    def events(self, job_id: str, cursor: str | None) -> Plan[EventPage]:
        """One page of ``fine_tuning.jobs.list_events`` (newest first)."""
        args: dict[str, Any] = {"fine_tuning_job_id": job_id, "limit": 100}
        if cursor is not None:
            args["after"] = cursor
        page = yield Call("fine_tuning.jobs.list_events", args)
        events = [remote_event(e) for e in page.data]
        return EventPage(
            events,
            has_more=bool(getattr(page, "has_more", False)),
            cursor=events[-1]["id"] if events else None,
        )

    def checkpoints(self, job_id: str) -> Plan[list[RemoteCheckpoint]]:
        """Every checkpoint (OpenAI keeps the last three)."""
        items = yield from _list_all(
            "fine_tuning.jobs.checkpoints.list", {"fine_tuning_job_id": job_id}
        )
        return [remote_checkpoint(c) for c in items]

    def metrics(self, job: RemoteJob) -> Plan[MetricsData]:
        """The result file's CSV once there is one (else: the engine reads metrics events)."""
        if not job["result_files"]:
            return MetricsData()
        return MetricsData(csv=(yield from self.file_content(job["result_files"][0])))

    def chat(self, model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> Plan[str]:
        """``chat.completions.create``; the answer's text."""
        return (yield from chat_answer(model, messages, max_tokens))


class AzureProvider(OpenAIProvider):
    """Azure OpenAI: OpenAI's API under Azure's URLs and credentials.

    Attributes:
        facts: What Azure OpenAI is and can do.
    """

    facts: ProviderFacts = AZURE

    def new_client(self, *, async_: bool) -> Any:
        """An ``AzureOpenAI`` from ``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY``, ...

        Raises:
            ConfigError: The endpoint, API version or every credential is missing.
        """
        from finetune_kit.providers.azure import azure_client

        if async_:
            return azure_client(async_=True)
        return azure_client()

    def owns(self, client: object) -> bool:
        """True for ``openai.AzureOpenAI`` / ``AsyncAzureOpenAI``."""
        return isinstance(client, openai.AzureOpenAI | openai.AsyncAzureOpenAI)
