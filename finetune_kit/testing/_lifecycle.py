"""A job's life: ``validating_files -> queued -> running -> succeeded`` on the emulated clock.

Nothing runs in the background. ``advance`` replays, up to a given emulated time, every
milestone the job has not reached yet (file validation, start, each step, the end), appending
events and checkpoints as it goes; the routes call it before answering about a job. Pausing
freezes the job's progress; cancelling and failing end it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from finetune_kit.testing._content import FileAnalysis
from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._job_params import JobSpec
from finetune_kit.testing._plan import Plan, make_plan

__all__ = ["TERMINAL", "Checkpoint", "Event", "Failure", "StoredJob", "advance", "record"]

VALIDATING_SECONDS = 10.0
QUEUED_SECONDS = 20.0
STEP_SECONDS = 1.0
FINALIZING_SECONDS = 5.0
KEPT_CHECKPOINTS = 3
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})

SaveResult = Callable[[str, bytes], str]


@dataclass(frozen=True)
class Failure:
    """How a job fails: the ``error`` object and the stage it fails in.

    Attributes:
        code: ``error.code``.
        message: ``error.message``.
        param: ``error.param``.
        stage: ``validating_files`` (before training) or ``running`` (half-way through).
    """

    code: str
    message: str
    param: str | None = None
    stage: str = "running"

    def to_api(self) -> dict[str, Any]:
        """The job's ``error`` object."""
        return {"code": self.code, "message": self.message, "param": self.param}


@dataclass(frozen=True)
class Event:
    """A job event (``fine_tuning.job.event``)."""

    id: str
    created_at: float
    message: str
    level: str = "info"
    type: str = "message"
    data: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        """The event as the API returns it."""
        return {
            "id": self.id,
            "object": "fine_tuning.job.event",
            "created_at": int(self.created_at),
            "level": self.level,
            "message": self.message,
            "type": self.type,
            "data": self.data or {},
        }


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint taken at the end of an epoch."""

    id: str
    created_at: float
    job_id: str
    step: int
    model: str
    metrics: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        """The checkpoint as the API returns it."""
        return {
            "id": self.id,
            "object": "fine_tuning.job.checkpoint",
            "created_at": int(self.created_at),
            "fine_tuned_model_checkpoint": self.model,
            "fine_tuning_job_id": self.job_id,
            "metrics": self.metrics,
            "step_number": self.step,
        }


@dataclass
class StoredJob:
    """A fine-tuning job and everything it has produced so far."""

    id: str
    spec: JobSpec
    model: str
    base_model: str
    created_at: float
    seed: int
    organization: str
    model_token: str
    training: FileAnalysis
    validation: FileAnalysis | None
    billed_tokens: int  # per epoch, in the base model's tokens
    forced_failure: Failure | None = None
    status: str = "validating_files"
    plan: Plan | None = None
    cursor: int = 0
    progress_base: float = 0.0
    active_since: float | None = None
    events: list[Event] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    fine_tuned_model: str | None = None
    finished_at: float | None = None
    estimated_finish: float | None = None
    result_files: list[str] = field(default_factory=list)
    error: Failure | None = None

    def __post_init__(self) -> None:
        if self.active_since is None:
            self.active_since = self.created_at

    @property
    def model_name(self) -> str:
        """``ft:<base>:<org>:<suffix>:<id>``, as the model will be called."""
        suffix = self.spec.suffix or ""
        return f"ft:{self.base_model}:{self.organization}:{suffix}:{self.model_token}"

    def hyperparameters(self) -> dict[str, Any]:
        """Resolved once the files are validated, ``"auto"`` where not given before that."""
        return dict(self.plan.hyperparameters if self.plan else self.spec.hyperparameters)

    def to_api(self) -> dict[str, Any]:
        """The job as the API returns it."""
        hyperparameters = self.hyperparameters()
        method = self.spec.method
        top_level = {k: v for k, v in hyperparameters.items() if k != "beta"}
        succeeded = self.status == "succeeded"
        return {
            "id": self.id,
            "object": "fine_tuning.job",
            "created_at": int(self.created_at),
            "model": self.model,
            "organization_id": f"org-{self.organization}",
            "status": self.status,
            "training_file": self.spec.training_file,
            "validation_file": self.spec.validation_file,
            "hyperparameters": top_level,
            "method": {"type": method, method: {"hyperparameters": hyperparameters}},
            "result_files": list(self.result_files),
            "trained_tokens": self.plan.trained_tokens if succeeded and self.plan else None,
            "fine_tuned_model": self.fine_tuned_model,
            "finished_at": int(self.finished_at) if self.finished_at is not None else None,
            "estimated_finish": (
                int(self.estimated_finish) if self.estimated_finish is not None else None
            ),
            "error": self.error.to_api() if self.error else None,
            "seed": self.seed,
            "user_provided_suffix": self.spec.suffix,
            "integrations": self.spec.integrations,
            "metadata": self.spec.metadata,
        }

    # -- time bookkeeping -------------------------------------------------------------------

    def progress(self, now: float) -> float:
        """Emulated seconds of lifecycle the job has gone through (frozen while paused)."""
        if self.active_since is None:
            return self.progress_base
        return self.progress_base + max(0.0, now - self.active_since)

    def wall_time(self, offset: float) -> float:
        """The emulated time at which lifecycle offset ``offset`` is (or was) reached."""
        assert self.active_since is not None
        return self.active_since + (offset - self.progress_base)

    def milestone_offset(self, index: int) -> float:
        """Lifecycle offset of milestone ``index`` (validation, start, steps..., end)."""
        if index == 0:
            return VALIDATING_SECONDS
        start = VALIDATING_SECONDS + QUEUED_SECONDS
        if index == 1:
            return start
        assert self.plan is not None
        total = self.plan.total_steps
        if index <= total + 1:
            return start + (index - 1) * STEP_SECONDS
        return start + total * STEP_SECONDS + FINALIZING_SECONDS

    def finish_estimate(self) -> float:
        """When the job will succeed if nothing stops it."""
        assert self.plan is not None
        return self.wall_time(self.milestone_offset(self.plan.total_steps + 2))


def _validation_failure(job: StoredJob) -> Failure | None:
    method = job.spec.method
    wanted = "preference" if method == "dpo" else "chat"
    for analysis, which in ((job.training, "training"), (job.validation, "validation")):
        if analysis is None:
            continue
        problem = None
        if not analysis.format_ok or (which == "training" and analysis.error):
            problem = analysis.error
        elif analysis.kind != wanted:
            problem = (
                f"The {method} method needs {wanted} examples, but the file holds"
                f" {analysis.kind} examples."
            )
        if problem:
            return Failure(
                f"invalid_{which}_file",
                f"The job failed due to an invalid {which} file. {problem}",
                f"{which}_file",
            )
    return None


class _Runner:
    """Applies one job's milestones; holds what they need besides the job."""

    def __init__(self, job: StoredJob, ids: IdMaker, save_result: SaveResult) -> None:
        self.job = job
        self.ids = ids
        self.save_result = save_result

    def event(self, at: float, message: str, **kwargs: Any) -> None:
        self.job.events.append(Event(self.ids.make("ftevent-"), at, message, **kwargs))

    def fail(self, at: float, failure: Failure) -> None:
        job = self.job
        job.status, job.error, job.finished_at, job.estimated_finish = "failed", failure, at, None
        self.event(at, failure.message, level="error")

    def validate(self, at: float) -> None:
        job = self.job
        forced = job.forced_failure
        failure = _validation_failure(job)
        if failure is None and forced is not None and forced.stage == "validating_files":
            failure = forced
        if failure is not None:
            self.fail(at, failure)
            return
        job.plan = make_plan(
            method=job.spec.method,
            requested=job.spec.hyperparameters,
            examples=job.training.examples,
            tokens=job.billed_tokens,
            seed=job.seed,
            validation=job.validation is not None,
        )
        job.status = "queued"
        self.event(at, "Files validated, moving job to queued state")

    def start(self, at: float) -> None:
        self.job.status = "running"
        self.job.estimated_finish = self.job.finish_estimate()
        self.event(at, "Fine-tuning job started")

    def step(self, at: float, step: int) -> None:
        job = self.job
        assert job.plan is not None
        plan = job.plan
        metrics = plan.curve[step - 1]
        text = f"Step {step}/{plan.total_steps}: training loss={metrics.train_loss:.2f}"
        if metrics.valid_loss is not None:
            text += f", validation loss={metrics.valid_loss:.2f}"
        self.event(at, text, type="metrics", data=metrics.event_data(plan.total_steps))
        forced = job.forced_failure
        fail_step = max(1, plan.total_steps // 2)
        if forced is not None and forced.stage == "running" and step == fail_step:
            self.fail(at, forced)
            return
        if step % plan.steps_per_epoch == 0:
            self.checkpoint(at, step)

    def checkpoint(self, at: float, step: int) -> None:
        job = self.job
        assert job.plan is not None
        data = job.plan.curve[step - 1].event_data(job.plan.total_steps)
        data.pop("total_steps")
        if "valid_loss" in data:
            data["full_valid_loss"] = data["valid_loss"]
            data["full_valid_mean_token_accuracy"] = data["valid_mean_token_accuracy"]
        model = f"{job.model_name}:ckpt-step-{step}"
        job.checkpoints.append(Checkpoint(self.ids.make("ftckpt_"), at, job.id, step, model, data))
        del job.checkpoints[:-KEPT_CHECKPOINTS]
        self.event(at, f"Checkpoint created at step {step}")

    def succeed(self, at: float) -> None:
        job = self.job
        assert job.plan is not None
        job.result_files = [self.save_result("step_metrics.csv", job.plan.result_csv())]
        job.fine_tuned_model = job.model_name
        job.status, job.finished_at, job.estimated_finish = "succeeded", at, None
        self.event(at, "New fine-tuned model created")
        self.event(at, "The job has successfully completed")

    def apply(self, index: int, at: float) -> None:
        job = self.job
        if index == 0:
            self.validate(at)
        elif index == 1:
            self.start(at)
        elif job.plan is not None and index <= job.plan.total_steps + 1:
            self.step(at, index - 1)
        else:
            self.succeed(at)


def advance(job: StoredJob, now: float, ids: IdMaker, save_result: SaveResult) -> None:
    """Replay every milestone of ``job`` reached by emulated time ``now``.

    Args:
        job: The job (changed in place).
        now: Emulated time.
        ids: Id generator for events and checkpoints.
        save_result: Stores the result file (name, bytes) and returns its file id.
    """
    runner = _Runner(job, ids, save_result)
    while job.status not in TERMINAL and job.active_since is not None:
        offset = job.milestone_offset(job.cursor)
        if offset > job.progress(now):
            return
        runner.apply(job.cursor, job.wall_time(offset))
        job.cursor += 1


def record(job: StoredJob, ids: IdMaker, at: float, message: str, level: str = "info") -> None:
    """Append a message event (creation, cancel, pause, resume) to ``job``."""
    job.events.append(Event(ids.make("ftevent-"), at, message, level=level))
