"""Together AI as a [`Provider`][finetune_kit.providers.base.Provider] adapter.

Over the official ``together`` SDK (``pip install 'finetune-kit[together]'``), which reads
``TOGETHER_API_KEY`` and ``TOGETHER_BASE_URL``. Only calls into the SDK are written here; the
engine retries, polls and looks before it writes, exactly as for OpenAI.

What differs from OpenAI:

- **Uploads** go through the SDK's ``files.upload``: ``POST /v1/files`` answers with a redirect
  to a presigned URL, the SDK ``PUT``s the bytes there and then asks the API to
  ``/preprocess`` the file (multipart above 5 GB). The file's name is sent as it is, so the
  engine hands the SDK a path *named* ``<stem>-<sha256[:16]>.jsonl``. The SDK's own client-side
  check is switched off: finetune-kit validated the file with Together's profile already.
- **No metadata on jobs**, so no idempotency key: a job *is* its request. Before every create
  the engine lists the jobs and reuses one on the same training and validation file, model,
  method and parameters that has not failed or been cancelled. To make that comparison exact,
  the adapter spells every parameter out (the SDK's defaults: 1 epoch, 1 checkpoint,
  learning rate 1e-5, batch size ``max``, LoRA on) instead of leaving them to the server.
- **Statuses** ``pending``, ``queued``, ``running``, ``compressing``, ``uploading``,
  ``cancel_requested``, ``cancelled``, ``error``, ``completed`` map onto the product's;
  ``cancel_requested`` counts as ``cancelled`` (the job will not produce a model). The raw one
  is kept in ``provider_status``.
- **Events** have no ids: a stable id is derived from their time, type, step and message.
- No pause or resume: those raise [`ProviderUnsupported`][finetune_kit.ProviderUnsupported].
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from finetune_kit.errors import ConfigError
from finetune_kit.providers._sdk import (
    chat_answer,
    describe_sdk_error,
    epoch_seconds,
    field,
    load_sdk,
)
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
    unsupported,
)

__all__ = ["DEFAULTS", "TOGETHER", "TogetherProvider", "remote_job"]

_STATUSES = {
    "pending": "validating_files",
    "queued": "queued",
    "running": "running",
    "compressing": "running",
    "uploading": "running",
    "cancel_requested": "cancelled",
    "cancelled": "cancelled",
    "error": "failed",
    "completed": "succeeded",
}
_FILE_STATUS = {
    None: "processed",
    "COMPLETED": "processed",
    "PENDING": "uploaded",
    "QUEUED": "uploaded",
    "RUNNING": "uploaded",
    "FAILED": "error",
    "INVALID_FORMAT": "error",
}

TOGETHER = ProviderFacts(
    name="together",
    title="Together AI",
    key_env=("TOGETHER_API_KEY",),
    base_url_env="TOGETHER_BASE_URL",
    methods=frozenset({"supervised", "dpo"}),
    capabilities=frozenset({"checkpoints", "metrics", "events", "chat", "dpo", "file_content"}),
    max_file_bytes=int(50.1 * 1024**3),
    min_examples=1,
    validation_profile="together",
    idempotency="before every create, a job on the same files, model, method and parameters "
    "that has not failed or been cancelled is looked for and reused",
    statuses=_STATUSES,
    default_model="openai/gpt-oss-20b",
)
"""Together AI's static facts (file limit and minimum from the ``together`` SDK's checks)."""

DEFAULTS: Mapping[str, Any] = {
    "n_epochs": 1,
    "n_checkpoints": 1,
    "learning_rate": 1e-5,
    "batch_size": "max",
    "lora": True,
}
"""The parameters every request spells out (the ``together`` SDK's own defaults)."""

_ALLOWED = frozenset(
    {
        "n_epochs",
        "n_checkpoints",
        "learning_rate",
        "batch_size",
        "lora",
        "lora_r",
        "lora_alpha",
        "n_evals",
        "warmup_ratio",
        "beta",
        "train_on_inputs",
    }
)
_MAX_SUFFIX = 40
# what find_jobs compares, request name -> how to read it from a job
_COMPARED = ("n_epochs", "n_checkpoints", "learning_rate", "batch_size", "suffix", "random_seed")


def _method_of(obj: Any) -> tuple[str, float | None]:
    tm = field(obj, "training_method")
    name = str(field(tm, "method", default="sft")) if tm is not None else "sft"
    beta = field(tm, "dpo_beta") if tm is not None else None
    return ("dpo" if name == "dpo" else "supervised"), beta


def _lora_of(obj: Any) -> bool:
    tt = field(obj, "training_type")
    return tt is None or str(field(tt, "type", default="Lora")) == "Lora"


def remote_file(obj: Any) -> RemoteFile:
    """A provider-neutral file from the SDK's ``FileResponse``."""
    raw_status = field(obj, "processing_status")
    report = field(obj, "validation_report")
    details = field(report, "error") if report is not None else None
    return RemoteFile(
        id=str(field(obj, "id")),
        filename=str(field(obj, "filename", default="")),
        bytes=int(field(obj, "bytes", default=0)),
        status=_FILE_STATUS.get(raw_status, "uploaded"),
        purpose=str(field(obj, "purpose", default="fine-tune")),
        details=str(details)
        if details
        else (str(raw_status) if raw_status in ("FAILED",) else None),
        raw=obj,
    )


def remote_job(obj: Any) -> RemoteJob:
    """A provider-neutral job from the SDK's ``FinetuneResponse`` (any of its variants)."""
    raw_status = str(field(obj, "status", default="pending"))
    raw_status = getattr(raw_status, "value", raw_status)
    status = TOGETHER.product_status(raw_status)
    method, beta = _method_of(obj)
    epochs = field(obj, "n_epochs")
    hp: dict[str, Any] = {
        "n_epochs": epochs,
        "batch_size": field(obj, "batch_size"),
        "learning_rate": field(obj, "learning_rate"),
        "n_checkpoints": field(obj, "n_checkpoints"),
        "lora": _lora_of(obj),
    }
    if beta is not None:
        hp["beta"] = beta
    hp = {k: v for k, v in hp.items() if v is not None}
    tokens = field(obj, "token_count")
    trained = (
        int(tokens) * int(epochs or 1) if tokens is not None and status == "succeeded" else None
    )
    error = None
    if status == "failed":
        message = _last_error(obj) or "the job failed"
        error = {"code": "error", "message": message, "param": None}
    output = field(obj, "x_model_output_name", "output_name", "model_output_name")
    return RemoteJob(
        id=str(field(obj, "id")),
        status=status,
        provider_status=raw_status,
        model=str(field(obj, "model", default="")),
        fine_tuned_model=str(output) if output and status == "succeeded" else None,
        training_file=field(obj, "training_file"),
        validation_file=field(obj, "validation_file") or None,
        created_at=epoch_seconds(field(obj, "created_at")),
        finished_at=epoch_seconds(field(obj, "updated_at"))
        if status in ("succeeded", "failed", "cancelled")
        else None,
        trained_tokens=trained,
        estimated_cost=None,
        error=error,
        method={"type": method},
        hyperparameters=hp,
        suffix=field(obj, "suffix"),
        seed=field(obj, "random_seed"),
        metadata={},
        result_files=[],
        estimated_finish=None,
        raw=obj,
    )


def _last_error(obj: Any) -> str | None:
    for event in reversed(list(field(obj, "events", default=[]) or [])):
        if isinstance(event, str):
            continue
        if (
            str(field(event, "level", default="")) == "error"
            or str(field(event, "type")) == "job_error"
        ):
            return str(field(event, "message", default=""))
    return None


def remote_event(obj: Any) -> RemoteEvent:
    """A provider-neutral event from the SDK's ``FinetuneEvent`` (its id derived: it has none)."""
    created = str(field(obj, "created_at", default=""))
    kind = str(field(obj, "type", default="message"))
    step = field(obj, "step")
    message = str(field(obj, "message", default=""))
    digest = hashlib.sha256(f"{created}|{kind}|{step}|{message}".encode()).hexdigest()[:20]
    data = {
        k: v
        for k, v in (("step", step), ("total_steps", field(obj, "total_steps")))
        if v is not None
    }
    return RemoteEvent(
        id=f"ev-{digest}",
        created_at=epoch_seconds(created) or 0,
        level=str(field(obj, "level", default="info")),
        message=message,
        type=kind,
        data=data,
    )


class TogetherProvider:
    """Together AI's fine-tuning API through the ``together`` SDK.

    Attributes:
        facts: What Together AI is and can do.
    """

    facts: ProviderFacts = TOGETHER

    def new_client(self, *, async_: bool) -> Any:
        """A ``together.Together`` (or ``AsyncTogether``) from ``TOGETHER_API_KEY``.

        Raises:
            ConfigError: The SDK is not installed, or ``TOGETHER_API_KEY`` is not set.
        """
        together = _sdk()
        try:
            return together.AsyncTogether() if async_ else together.Together()
        except together.TogetherError as exc:
            raise ConfigError(
                "no API key: set TOGETHER_API_KEY",
                hint="or pass a together client; for the offline emulator run "
                "`finetune-kit emulator --provider together` and set TOGETHER_BASE_URL",
            ) from exc

    def owns(self, client: object) -> bool:
        """True for ``together.Together`` / ``AsyncTogether`` (False without the SDK)."""
        try:
            together = _sdk()
        except ConfigError:
            return False
        return isinstance(client, together.Together | together.AsyncTogether)

    def describe_error(self, exc: BaseException) -> ErrorInfo | None:
        """What a ``together`` exception means."""
        return describe_sdk_error(_sdk(), exc, base="TogetherError", code_keys=("code", "type"))

    # -- files ------------------------------------------------------------------------------

    def list_files(self, purpose: str) -> Plan[list[RemoteFile]]:
        """``files.list`` (one page holds them all), filtered by purpose."""
        listing = yield Call("files.list")
        files = [remote_file(f) for f in listing.data]
        return [f for f in files if f["purpose"] == purpose]

    def upload_file(self, spec: UploadSpec, *, chunked: bool) -> Plan[RemoteFile]:
        """``files.upload`` of a path named ``spec.filename`` (the SDK chooses multipart)."""
        created = yield Call(
            "files.upload",
            {
                "file": UploadFile(spec.path, spec.filename, as_path=True),
                "purpose": spec.purpose,
                "check": False,
            },
            write=True,
        )
        return remote_file(created)

    def retrieve_file(self, file_id: str) -> Plan[RemoteFile]:
        """``files.retrieve``."""
        return remote_file((yield Call("files.retrieve", {"id": file_id})))

    def file_content(self, file_id: str) -> Plan[bytes]:
        """``files.content``."""
        response = yield Call("files.content", {"id": file_id})
        data = response.read() if hasattr(response, "read") else response
        return bytes(data)

    # -- jobs -------------------------------------------------------------------------------

    def job_request(self, spec: JobSpec) -> dict[str, Any]:
        """``fine_tuning.create`` arguments, every parameter spelled out (for look-before-write).

        Raises:
            ConfigError: A parameter Together does not take, or out of range.
        """
        given = {k: v for k, v in spec.hyperparameters.items() if v is not None}
        if "learning_rate_multiplier" in given:
            raise ConfigError(
                "Together takes an absolute learning_rate, not learning_rate_multiplier",
                field="learning_rate_multiplier",
                hint="pass hyperparameters={'learning_rate': 1e-5} (the default)",
            )
        unknown = set(given) - _ALLOWED
        if unknown:
            raise ConfigError(
                f"unknown hyper-parameter(s) for Together: {', '.join(sorted(unknown))}",
                hint=f"Together takes {', '.join(sorted(_ALLOWED))}",
            )
        if "beta" in given and spec.method != "dpo":
            raise ConfigError("beta applies to the dpo method only", field="beta")
        for name in ("n_epochs", "n_checkpoints", "n_evals", "lora_r"):
            value = given.get(name)
            if value is not None and not (
                isinstance(value, int) and value >= (0 if name == "n_evals" else 1)
            ):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)
        batch = given.get("batch_size")
        if (
            batch is not None
            and batch not in ("max", "auto")
            and not (isinstance(batch, int) and batch > 0)
        ):
            raise ConfigError(f"batch_size must be 'max' or a positive integer, got {batch!r}")
        if given.get("batch_size") == "auto":
            given["batch_size"] = "max"
        rate = given.get("learning_rate")
        if rate is not None and not (isinstance(rate, int | float) and rate > 0):
            raise ConfigError(f"learning_rate must be > 0, got {rate!r}", field="learning_rate")
        if spec.suffix is not None and len(spec.suffix) > _MAX_SUFFIX:
            raise ConfigError(f"suffix is longer than {_MAX_SUFFIX} characters", field="suffix")
        request: dict[str, Any] = {
            "training_file": spec.training_file,
            "model": spec.model,
            **DEFAULTS,
            **{k: v for k, v in given.items() if k != "beta"},
            "training_method": "dpo" if spec.method == "dpo" else "sft",
        }
        if spec.method == "dpo" and "beta" in given:
            request["dpo_beta"] = given["beta"]
        if spec.method != "dpo":  # the SDK's default, spelled out (it warns otherwise)
            request.setdefault("train_on_inputs", "auto")
        if spec.validation_file is not None:
            request["validation_file"] = spec.validation_file
            request.setdefault("n_evals", 1)
        if spec.suffix is not None:
            request["suffix"] = spec.suffix
        if spec.seed is not None:
            request["random_seed"] = spec.seed
        return request

    def find_jobs(self, request: Mapping[str, Any]) -> Plan[list[RemoteJob]]:
        """The jobs on the same files, model, method and parameters (any status)."""
        listing = yield Call("fine_tuning.list")
        return [remote_job(j) for j in listing.data if _answers(request, j)]

    def create_job(self, request: Mapping[str, Any]) -> Plan[RemoteJob]:
        """``fine_tuning.create``."""
        return remote_job((yield Call("fine_tuning.create", request, write=True)))

    def retrieve_job(self, job_id: str) -> Plan[RemoteJob]:
        """``fine_tuning.retrieve``."""
        return remote_job((yield Call("fine_tuning.retrieve", {"id": job_id})))

    def list_jobs(self, limit: int) -> Plan[list[RemoteJob]]:
        """``fine_tuning.list``, newest first, at most ``limit``."""
        listing = yield Call("fine_tuning.list")
        jobs = [remote_job(j) for j in listing.data]
        jobs.sort(key=lambda j: j["created_at"] or 0, reverse=True)
        return jobs[:limit]

    def cancel_job(self, job_id: str) -> Plan[RemoteJob]:
        """``fine_tuning.cancel``."""
        return remote_job((yield Call("fine_tuning.cancel", {"id": job_id})))

    def pause_job(self, job_id: str) -> Plan[RemoteJob]:
        """Together cannot pause jobs."""
        job: RemoteJob = yield from unsupported(self.facts.name, "pause")
        return job

    def resume_job(self, job_id: str) -> Plan[RemoteJob]:
        """Together cannot resume jobs."""
        job: RemoteJob = yield from unsupported(self.facts.name, "resume")
        return job

    def events(self, job_id: str, cursor: str | None) -> Plan[EventPage]:
        """``fine_tuning.list_events`` (every event in one page), newest first."""
        listing = yield Call("fine_tuning.list_events", {"id": job_id})
        events = [remote_event(e) for e in reversed(listing.data)]  # the API lists oldest first
        events.sort(key=lambda e: e["created_at"], reverse=True)  # stable: ties keep that order
        return EventPage(events)

    def checkpoints(self, job_id: str) -> Plan[list[RemoteCheckpoint]]:
        """``fine_tuning.list_checkpoints``; a checkpoint's name is ``<job id>:<step>``."""
        listing = yield Call("fine_tuning.list_checkpoints", {"id": job_id})
        return [
            RemoteCheckpoint(
                id=f"{job_id}:{c.step}",
                step_number=int(c.step),
                fine_tuned_model_checkpoint=f"{job_id}:{c.step}",
                created_at=epoch_seconds(c.created_at) or 0,
                metrics={"checkpoint_type": c.checkpoint_type, "path": c.path},
            )
            for c in listing.data
        ]

    def metrics(self, job: RemoteJob) -> Plan[MetricsData]:
        """``fine_tuning.list_metrics`` rows (``step``, ``train_loss``, ``valid_loss``, ...)."""
        listing = yield Call("fine_tuning.list_metrics", {"id": job["id"]})
        return MetricsData(rows=[_metric_row(r) for r in (listing.metrics or [])])

    def chat(self, model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> Plan[str]:
        """``chat.completions.create``; the answer's text."""
        return (yield from chat_answer(model, messages, max_tokens))


_METRIC_NAMES = {"global_step": "step", "loss": "train_loss", "eval_loss": "valid_loss"}


def _metric_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {_METRIC_NAMES.get(k, k): v for k, v in row.items()}
    if "step" in out:
        out["step"] = int(out["step"])
    return out


def _answers(request: Mapping[str, Any], job: Any) -> bool:
    """Whether an existing job was made from this request."""
    if field(job, "training_file") != request["training_file"]:
        return False
    if (field(job, "validation_file") or None) != request.get("validation_file"):
        return False
    if field(job, "model") != request["model"]:
        return False
    method, beta = _method_of(job)
    if method != ("dpo" if request["training_method"] == "dpo" else "supervised"):
        return False
    if request.get("dpo_beta") is not None and beta != request["dpo_beta"]:
        return False
    if _lora_of(job) != bool(request.get("lora", True)):
        return False
    for name in _COMPARED:
        wanted = request.get(name)
        have = field(job, name)
        if name == "batch_size" and wanted == "max":
            continue  # the server reports the batch size it chose
        if wanted != have:
            return False
    return True


def _sdk() -> Any:
    return load_sdk("together", package="together", extra="together")
