"""Fine-tuning jobs: creation, listing, cancel / pause / resume, and job-creation refusal."""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from finetune_kit.testing._clock import Clock
from finetune_kit.testing._content import FileAnalysis, model_tokens
from finetune_kit.testing._files import FileStore
from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._job_params import JobSpec, parse_job_request
from finetune_kit.testing._lifecycle import TERMINAL, Failure, StoredJob, advance, record
from finetune_kit.testing._models import ModelCatalog
from finetune_kit.testing._wire import ApiError, bad_request, not_found

__all__ = ["JobStore", "Refusal"]

_WIND_DOWN_MESSAGE = (
    "Fine-tuning job creation is no longer available for this organization: OpenAI's self-serve"
    " fine-tuning is winding down. Existing fine-tuned models keep working until their base"
    " model shuts down."
)


@dataclass(frozen=True)
class Refusal:
    """How ``POST /fine_tuning/jobs`` is refused (OpenAI's wind-down).

    Attributes:
        status: HTTP status of the refusal.
        message: ``error.message``.
        code: ``error.code``.
    """

    status: int = 403
    message: str = _WIND_DOWN_MESSAGE
    code: str = "fine_tuning_unavailable"

    def error(self) -> ApiError:
        """The refusal as an API error."""
        return ApiError(self.status, self.message, code=self.code)


class JobStore:
    """All fine-tuning jobs of one emulator. Callers hold the emulator's lock.

    Args:
        clock: The emulated clock.
        ids: The id generator.
        files: The file store (training files, result files).
        models: The model table.
        organization: Organization name used in ``ft:`` model names.
        results_base64: Store result files base64-encoded, as some API versions did.
    """

    def __init__(
        self,
        clock: Clock,
        ids: IdMaker,
        files: FileStore,
        models: ModelCatalog,
        organization: str,
        *,
        results_base64: bool = False,
    ) -> None:
        self._clock = clock
        self._ids = ids
        self._files = files
        self._models = models
        self._organization = organization
        self._results_base64 = results_base64
        self.jobs: dict[str, StoredJob] = {}
        self.pending_failures: deque[Failure] = deque()
        self.refusal: Refusal | None = None
        self.cutoff: date | None = None

    # -- helpers ------------------------------------------------------------------------------

    def _save_result(self, name: str, content: bytes) -> str:
        if self._results_base64:
            content = base64.b64encode(content)
        return self._files.add(name, "fine-tune-results", content).id

    def sync(self, job: StoredJob) -> StoredJob:
        """Bring ``job`` up to the clock's current time."""
        advance(job, self._clock.now(), self._ids, self._save_result)
        return job

    def _refused(self) -> ApiError | None:
        if self.refusal is not None:
            return self.refusal.error()
        if self.cutoff is not None:
            today = datetime.fromtimestamp(self._clock.now(), tz=timezone.utc).date()
            if today >= self.cutoff:
                return Refusal().error()
        return None

    def _training_input(self, file_id: str, param: str) -> FileAnalysis:
        stored = self._files.files.get(file_id)
        if stored is None:
            raise bad_request(f"invalid {param}: {file_id}", param=param, code="file_not_found")
        if stored.purpose != "fine-tune" or stored.analysis is None:
            raise bad_request(
                f"File {file_id} has purpose {stored.purpose!r}; fine-tuning needs 'fine-tune'.",
                param=param,
            )
        return stored.analysis

    def _resolve_model(self, spec: JobSpec) -> tuple[str, str]:
        now = self._clock.now()
        if spec.model.startswith("ft:"):
            parent = self.by_model(spec.model)
            if parent is None:
                raise bad_request(
                    f"Model {spec.model} is not available for fine-tuning or does not exist.",
                    param="model",
                    code="model_not_available",
                )
            self._models.trainable(parent.base_model, spec.method, now)
            return spec.model, parent.base_model
        snapshot = self._models.trainable(spec.model, spec.method, now)
        return snapshot, snapshot

    # -- operations ---------------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> StoredJob:
        """``POST /fine_tuning/jobs``.

        Raises:
            ApiError: The refusal when job creation is switched off; 400 for bad parameters.
        """
        refused = self._refused()
        if refused is not None:
            raise refused
        spec = parse_job_request(body)
        model, base = self._resolve_model(spec)
        training = self._training_input(spec.training_file, "training_file")
        validation = None
        if spec.validation_file is not None:
            validation = self._training_input(spec.validation_file, "validation_file")
        job = StoredJob(
            id=self._ids.make("ftjob-"),
            spec=spec,
            model=model,
            base_model=base,
            created_at=self._clock.now(),
            seed=spec.seed if spec.seed is not None else self._ids.seed(),
            organization=self._organization,
            model_token=self._ids.token(8),
            training=training,
            validation=validation,
            billed_tokens=model_tokens(
                self._files.files[spec.training_file].content, base, training.tokens
            ),
            forced_failure=self.pending_failures.popleft() if self.pending_failures else None,
        )
        record(job, self._ids, job.created_at, f"Created fine-tuning job: {job.id}")
        files = spec.training_file
        if spec.validation_file:
            files += f" and validation file: {spec.validation_file}"
        record(job, self._ids, job.created_at, f"Validating training file: {files}")
        self.jobs[job.id] = job
        return job

    def get(self, job_id: str) -> StoredJob:
        """A job by id, brought up to date.

        Raises:
            ApiError: 404 when there is no such job.
        """
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found(f"Could not find fine-tuning job: {job_id}", param="fine_tuning_job_id")
        return self.sync(job)

    def listed(self, metadata: Mapping[str, str] | None, *, null_metadata: bool) -> list[StoredJob]:
        """Jobs newest first, keeping those whose metadata holds every pair of ``metadata``."""
        found = []
        for job in reversed(list(self.jobs.values())):
            meta = job.spec.metadata
            if null_metadata and meta is not None:
                continue
            if metadata and (meta is None or any(meta.get(k) != v for k, v in metadata.items())):
                continue
            found.append(self.sync(job))
        return found

    def by_model(self, model: str) -> StoredJob | None:
        """The succeeded job that produced ``model`` (a fine-tuned model or a checkpoint)."""
        for job in self.jobs.values():
            self.sync(job)
            if job.fine_tuned_model == model:
                return job
            if any(c.model == model for c in job.checkpoints) and job.status == "succeeded":
                return job
        return None

    def cancel(self, job_id: str) -> StoredJob:
        """``POST …/cancel``: only jobs that have not ended.

        Raises:
            ApiError: 400 when the job already ended.
        """
        job = self.get(job_id)
        if job.status in TERMINAL:
            raise bad_request(f"Cannot cancel job {job_id}: it has already {job.status}.")
        now = self._clock.now()
        job.progress_base, job.active_since = job.progress(now), None
        job.status, job.finished_at, job.estimated_finish = "cancelled", now, None
        record(job, self._ids, now, "Fine-tuning job cancelled")
        return job

    def pause(self, job_id: str) -> StoredJob:
        """``POST …/pause``: only running jobs.

        Raises:
            ApiError: 400 when the job is not running.
        """
        job = self.get(job_id)
        if job.status != "running":
            raise bad_request(f"Cannot pause job {job_id}: it is {job.status}, not running.")
        now = self._clock.now()
        job.progress_base, job.active_since = job.progress(now), None
        job.status, job.estimated_finish = "paused", None
        record(job, self._ids, now, "Fine-tuning job paused")
        return job

    def resume(self, job_id: str) -> StoredJob:
        """``POST …/resume``: only paused jobs.

        Raises:
            ApiError: 400 when the job is not paused.
        """
        job = self.get(job_id)
        if job.status != "paused":
            raise bad_request(f"Cannot resume job {job_id}: it is {job.status}, not paused.")
        now = self._clock.now()
        job.active_since, job.status = now, "running"
        job.estimated_finish = job.finish_estimate()
        record(job, self._ids, now, "Fine-tuning job resumed")
        return job
