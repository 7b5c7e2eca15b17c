"""Typed results of the job API: jobs, files, events and checkpoints.

[`Job`][finetune_kit.Job], [`FileRef`][finetune_kit.FileRef],
[`JobEvent`][finetune_kit.JobEvent] and [`Checkpoint`][finetune_kit.Checkpoint] are

They are small frozen dataclasses built from the ``openai`` SDK's objects (kept in ``raw``), so
services get stable, typed values and notebooks get readable tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from finetune_kit._html import key_values
from finetune_kit.providers._sdk import plain

if TYPE_CHECKING:
    from rich.console import RenderableType

    from finetune_kit.providers.base import RemoteFile, RemoteJob

__all__ = ["Checkpoint", "FileRef", "Job", "JobError", "JobEvent"]

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _when(ts: int | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class FileRef:
    """An uploaded file.

    Attributes:
        id: The file id (``file-...``).
        filename: The name it was uploaded under (it carries the content hash).
        bytes: Its size.
        status: ``uploaded``, ``processed`` or ``error``.
        purpose: ``fine-tune`` usually.
        sha256: The content hash computed before upload (``None`` when not uploaded by us).
        reused: True when an identical file already uploaded was reused instead.
    """

    id: str
    filename: str
    bytes: int
    status: str
    purpose: str
    sha256: str | None = None
    reused: bool = False

    @classmethod
    def from_api(cls, obj: Any, *, sha256: str | None = None, reused: bool = False) -> FileRef:
        """Build from the ``openai`` SDK's ``FileObject``."""
        return cls(
            id=_get(obj, "id"),
            filename=_get(obj, "filename", ""),
            bytes=int(_get(obj, "bytes", 0) or 0),
            status=_get(obj, "status", "processed") or "processed",
            purpose=_get(obj, "purpose", "fine-tune"),
            sha256=sha256,
            reused=reused,
        )

    @classmethod
    def from_remote(
        cls, obj: RemoteFile, *, sha256: str | None = None, reused: bool = False
    ) -> FileRef:
        """Build from an adapter's [`RemoteFile`][finetune_kit.providers.base.RemoteFile]."""
        return cls(
            id=obj["id"],
            filename=obj["filename"],
            bytes=obj["bytes"],
            status=obj["status"],
            purpose=obj["purpose"],
            sha256=sha256,
            reused=reused,
        )


@dataclass(frozen=True)
class JobError:
    """Why a job failed: OpenAI's error code, message and the parameter at fault."""

    code: str | None
    message: str
    param: str | None = None

    def __str__(self) -> str:
        where = f" (param {self.param})" if self.param else ""
        return f"{self.code or 'error'}: {self.message}{where}"


@dataclass(frozen=True)
class JobEvent:
    """One job event (``message`` or ``metrics``)."""

    id: str
    created_at: int
    level: str
    message: str
    type: str = "message"
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, obj: Any) -> JobEvent:
        """Build from the SDK's ``FineTuningJobEvent``."""
        data = plain(_get(obj, "data")) or {}
        return cls(
            id=_get(obj, "id"),
            created_at=int(_get(obj, "created_at", 0) or 0),
            level=_get(obj, "level", "info") or "info",
            message=_get(obj, "message", "") or "",
            type=_get(obj, "type", "message") or "message",
            data=data if isinstance(data, dict) else {},
        )

    def __str__(self) -> str:
        return f"{_when(self.created_at)} [{self.level}] {self.message}"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint model saved at the end of an epoch."""

    id: str
    step_number: int
    fine_tuned_model_checkpoint: str
    created_at: int
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, obj: Any) -> Checkpoint:
        """Build from the SDK's ``FineTuningJobCheckpoint``."""
        metrics = plain(_get(obj, "metrics")) or {}
        return cls(
            id=_get(obj, "id"),
            step_number=int(_get(obj, "step_number", 0) or 0),
            fine_tuned_model_checkpoint=_get(obj, "fine_tuned_model_checkpoint", ""),
            created_at=int(_get(obj, "created_at", 0) or 0),
            metrics=metrics if isinstance(metrics, dict) else {},
        )


@dataclass(frozen=True)
class Job:
    """A fine-tuning job.

    Attributes:
        id: The job id (``ftjob-...``).
        status: ``validating_files``, ``queued``, ``running``, ``paused``, ``succeeded``,
            ``failed`` or ``cancelled`` (unknown statuses are kept as they are).
        model: The base model.
        fine_tuned_model: The resulting model (``ft:...``) once succeeded.
        training_file: Training file id.
        validation_file: Validation file id, if any.
        created_at: Unix time of creation.
        finished_at: Unix time it ended, if it did.
        trained_tokens: Billable tokens (``None`` while running).
        error: Why it failed, if it did.
        method: The method object (type and hyper-parameters) as the API reports it.
        hyperparameters: The resolved hyper-parameters.
        suffix: The model-name suffix, if any.
        seed: The seed.
        metadata: The job's metadata (includes the idempotency key).
        result_files: Result file ids.
        estimated_finish: Unix time the API expects it to finish, if given.
        reused: True when an identical job already existed and was returned instead.
        provider: The provider that runs it (``openai``, ``azure``, ``together``, ...).
        provider_status: The provider's own status (``status`` is the product's mapping).
        estimated_cost: The provider's price for the job in USD, when it reports one.
        raw: The SDK object it was built from.
    """

    id: str
    status: str
    model: str
    fine_tuned_model: str | None = None
    training_file: str | None = None
    validation_file: str | None = None
    created_at: int | None = None
    finished_at: int | None = None
    trained_tokens: int | None = None
    error: JobError | None = None
    method: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    result_files: list[str] = field(default_factory=list)
    estimated_finish: int | None = None
    reused: bool = False
    provider: str = "openai"
    provider_status: str | None = None
    estimated_cost: float | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Any, *, reused: bool = False) -> Job:
        """Build from the ``openai`` SDK's ``FineTuningJob``."""
        from finetune_kit.providers.openai import remote_job

        return cls.from_remote(remote_job(obj), reused=reused)

    @classmethod
    def from_remote(cls, obj: RemoteJob, *, provider: str = "openai", reused: bool = False) -> Job:
        """Build from an adapter's [`RemoteJob`][finetune_kit.providers.base.RemoteJob]."""
        err = obj["error"]
        error = None
        if err is not None:
            error = JobError(err.get("code"), str(err.get("message") or ""), err.get("param"))
        return cls(
            id=obj["id"],
            status=obj["status"],
            model=obj["model"],
            fine_tuned_model=obj["fine_tuned_model"],
            training_file=obj["training_file"],
            validation_file=obj["validation_file"],
            created_at=obj["created_at"],
            finished_at=obj["finished_at"],
            trained_tokens=obj["trained_tokens"],
            error=error,
            method=obj["method"],
            hyperparameters=obj["hyperparameters"],
            suffix=obj["suffix"],
            seed=obj["seed"],
            metadata=obj["metadata"],
            result_files=obj["result_files"],
            estimated_finish=obj["estimated_finish"],
            reused=reused,
            provider=provider,
            provider_status=obj["provider_status"],
            estimated_cost=obj["estimated_cost"],
            raw=obj["raw"],
        )

    @property
    def is_terminal(self) -> bool:
        """True once the job succeeded, failed or was cancelled."""
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        """True when the job succeeded."""
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without ``raw``)."""
        return {
            "id": self.id,
            "status": self.status,
            "model": self.model,
            "fine_tuned_model": self.fine_tuned_model,
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "trained_tokens": self.trained_tokens,
            "error": None
            if self.error is None
            else {
                "code": self.error.code,
                "message": self.error.message,
                "param": self.error.param,
            },
            "method": self.method,
            "hyperparameters": self.hyperparameters,
            "suffix": self.suffix,
            "seed": self.seed,
            "metadata": self.metadata,
            "result_files": self.result_files,
            "reused": self.reused,
            "estimated_cost": self.estimated_cost,
            "provider": self.provider,
            "provider_status": self.provider_status,
        }

    def _pairs(self) -> list[tuple[str, object]]:
        return [
            ("id", self.id),
            ("status", self._status_text()),
            ("model", self.model),
            ("fine-tuned model", self.fine_tuned_model or "—"),
            ("training file", self.training_file or "—"),
            ("validation file", self.validation_file or "—"),
            ("created", _when(self.created_at)),
            ("finished", _when(self.finished_at)),
            ("trained tokens", f"{self.trained_tokens:,}" if self.trained_tokens else "—"),
            ("hyper-parameters", self.hyperparameters or "—"),
            ("error", str(self.error) if self.error else "—"),
        ]

    def _status_text(self) -> str:
        if self.provider_status and self.provider_status != self.status:
            return f"{self.status} ({self.provider}: {self.provider_status})"
        return self.status

    def __repr__(self) -> str:
        ft = f" -> {self.fine_tuned_model}" if self.fine_tuned_model else ""
        return f"<Job {self.id} {self.status} {self.model}{ft}>"

    def _repr_html_(self) -> str:
        return key_values(self._pairs(), caption=f"fine-tuning job {self.id}")

    def __rich__(self) -> RenderableType:
        from finetune_kit._render import key_value_table

        return key_value_table(self._pairs())
