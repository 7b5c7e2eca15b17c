"""Fine-tuning jobs: the plan-based engine, sync and async clients, metrics, archive."""

from __future__ import annotations

from finetune_kit.jobs.archive import (
    MANIFEST_NAME,
    ArchiveIssue,
    ArchiveReport,
    ProgressCallback,
    archive,
    verify_archive,
)
from finetune_kit.jobs.client import (
    AsyncJobClient,
    JobClient,
    RetryPolicy,
    set_testing,
)
from finetune_kit.jobs.metrics import (
    metrics_from_events,
    parse_result_file,
)
from finetune_kit.jobs.models import (
    Checkpoint,
    FileRef,
    Job,
    JobError,
    JobEvent,
)
from finetune_kit.jobs.shutdown import (
    fetch_shutdown_date,
)

__all__ = [
    "MANIFEST_NAME",
    "ArchiveIssue",
    "ArchiveReport",
    "AsyncJobClient",
    "Checkpoint",
    "FileRef",
    "Job",
    "JobClient",
    "JobError",
    "JobEvent",
    "ProgressCallback",
    "RetryPolicy",
    "archive",
    "fetch_shutdown_date",
    "metrics_from_events",
    "parse_result_file",
    "set_testing",
    "verify_archive",
]
