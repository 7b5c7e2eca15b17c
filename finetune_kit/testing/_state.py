"""Everything one emulator holds, behind one lock."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date
from typing import Any

from finetune_kit.testing._clock import Clock
from finetune_kit.testing._files import FileStore
from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._jobs import JobStore
from finetune_kit.testing._models import ModelCatalog, ModelInfo

__all__ = ["EmulatorState"]


class EmulatorState:
    """The emulator's files, uploads, jobs and models.

    The HTTP server and these inspection methods take ``lock`` around every access, so tests
    may call them while requests are in flight. The returned objects are snapshots shaped like
    the API's JSON (plain dicts).

    Args:
        clock: The emulated clock.
        seed: Seed of the id generator (same seed, same requests -> same ids).
        organization: Organization name in ``ft:`` model names.
        shutdown_dates: Overrides of the model shutdown-date table.
        results_base64: Serve result files base64-encoded.

    Attributes:
        lock: Re-entrant lock guarding everything below.
        clock: The emulated clock.
        ids: The id generator.
        files: Files and uploads.
        jobs: Fine-tuning jobs.
        models: The base-model table.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        seed: int = 0,
        organization: str = "emulator",
        shutdown_dates: Mapping[str, str | None] | None = None,
        enforce_shutdowns: bool = False,
        results_base64: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.organization = organization
        self.ids = IdMaker(seed)
        self.models = ModelCatalog(shutdown_dates, enforce=enforce_shutdowns)
        self.files = FileStore(clock, self.ids)
        self.jobs = JobStore(
            clock, self.ids, self.files, self.models, organization, results_base64=results_base64
        )

    def model_table(self) -> list[ModelInfo]:
        """Base models, then the fine-tuned models of succeeded jobs (oldest first)."""
        with self.lock:
            table = [info for m in self.models.base_ids() if (info := self.models.base(m))]
            for job in self.jobs.jobs.values():
                self.jobs.sync(job)
                if job.fine_tuned_model and job.finished_at is not None:
                    table.append(
                        ModelInfo(
                            job.fine_tuned_model,
                            int(job.finished_at),
                            f"org-{self.organization}",
                            self.models.shutdown_of(job.base_model),
                        )
                    )
            return table

    # -- inspection (for tests) ------------------------------------------------------------

    def list_files(self, purpose: str | None = None) -> list[dict[str, Any]]:
        """Every file (oldest first), optionally of one purpose."""
        with self.lock:
            now = self.clock.now()
            return [f.to_api(now) for f in self.files.listed(purpose, "asc")]

    def file_content(self, file_id: str) -> bytes:
        """The bytes of a file.

        Raises:
            KeyError: When there is no such file.
        """
        with self.lock:
            return self.files.files[file_id].content

    def list_uploads(self) -> list[dict[str, Any]]:
        """Every Upload (oldest first)."""
        with self.lock:
            now = self.clock.now()
            return [u.to_api(now) for u in self.files.uploads.values()]

    def list_jobs(self) -> list[dict[str, Any]]:
        """Every fine-tuning job (oldest first), up to date with the clock."""
        with self.lock:
            return [self.jobs.sync(job).to_api() for job in self.jobs.jobs.values()]

    def list_events(self, job_id: str) -> list[dict[str, Any]]:
        """Every event of a job, oldest first.

        Raises:
            KeyError: When there is no such job.
        """
        with self.lock:
            job = self.jobs.sync(self.jobs.jobs[job_id])
            return [event.to_api() for event in job.events]

    def list_models(self) -> list[dict[str, Any]]:
        """What ``GET /v1/models`` lists now."""
        return [info.to_api() for info in self.model_table()]

    def set_job_creation_cutoff(self, cutoff: date | None) -> None:
        """Refuse job creation from this emulated date on (``None``: never)."""
        with self.lock:
            self.jobs.cutoff = cutoff
