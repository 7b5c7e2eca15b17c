"""[`JobClient`][finetune_kit.JobClient] and [`AsyncJobClient`][finetune_kit.AsyncJobClient].

Both are thin drivers over the plans in ``_jobcore``: they perform the SDK calls and sleeps a
plan asks for and nothing else, so the sync and async clients behave identically. All network
I/O of finetune-kit happens here.

Examples:
    ```py
    from finetune_kit import JobClient

    jobs = JobClient()                      # reads OPENAI_API_KEY, OPENAI_BASE_URL, ...
    job = jobs.train("train.jsonl", model="gpt-4o-mini-2024-07-18", suffix="bard")
    print(job.fine_tuned_model)
    ```
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import datetime
import functools
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from finetune_kit.errors import (
    ConfigError,
    DataError,
    JobFailed,
    PersonalDataFound,
    ProviderUnsupported,
    ValidationFailed,
)
from finetune_kit.jobs import _core as core
from finetune_kit.jobs._core import RecordedWait, RetryPolicy, recorded_waits, set_testing
from finetune_kit.jobs.metrics import _METRIC_COLUMNS, metrics_from_events, parse_result_file
from finetune_kit.jobs.models import Checkpoint, FileRef, Job, JobEvent
from finetune_kit.lifecycle import warn_lifecycle
from finetune_kit.providers.base import JobSpec, Provider
from finetune_kit.providers.registry import get_provider, provider_for
from finetune_kit.validation.engine import PIIMode, Validator
from finetune_kit.validation.profiles import get_profile

if TYPE_CHECKING:
    import pandas as pd

    from finetune_kit.dataset import Dataset
    from finetune_kit.jobs.archive import ArchiveReport, ProgressCallback
    from finetune_kit.validation.engine import Method

__all__ = [
    "AsyncJobClient",
    "JobClient",
    "RecordedWait",
    "RetryPolicy",
    "recorded_waits",
    "set_testing",
]

T = TypeVar("T")
C = TypeVar("C")
DataLike = "str | os.PathLike[str] | Dataset"
EventCallback = Callable[[JobEvent], None]
PollCallback = Callable[[Job], None]


@contextlib.contextmanager
def _opened(kwargs: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Replace ``UploadFile`` markers by open file handles (or named paths) during a call."""
    with contextlib.ExitStack() as stack:
        out: dict[str, Any] = {}
        for k, v in kwargs.items():
            if isinstance(v, core.UploadFile) and v.as_path:
                out[k] = stack.enter_context(_named(v.path, v.filename))
            elif isinstance(v, core.UploadFile):
                out[k] = (v.filename, stack.enter_context(v.path.open("rb")), "application/jsonl")
            else:
                out[k] = v
        yield out


@contextlib.contextmanager
def _named(path: Path, filename: str) -> Iterator[Path]:
    """``path`` under the name ``filename``, for SDKs that send the file's own name.

    A link in a temporary directory (a copy where links are not allowed).
    """
    if path.name == filename:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="finetune-kit-") as tmp:
        target = Path(tmp) / filename
        try:
            target.symlink_to(path.resolve())
        except OSError:
            import shutil

            shutil.copyfile(path, target)
        yield target


def _attr(root: Any, dotted: str) -> Any:
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


class _Base(Generic[C]):
    """Everything both clients share: arguments to plans, temporary files, settings."""

    _async: bool = False

    def __init__(
        self,
        client: C | None = None,
        *,
        provider: str | Provider | None = None,
        poll_interval: float = 10.0,
        timeout: float | None = None,
        retry: core.RetryPolicy | None = None,
        chunked_above: int = core.FILES_API_LIMIT,
    ) -> None:
        if provider is None and client is not None:
            adapter = provider_for(client)
        else:
            adapter = get_provider(provider)
            if client is not None and not adapter.owns(client):
                raise ConfigError(
                    f"a {type(client).__name__} client is not a {adapter.facts.title} client",
                    hint="pass the provider's own SDK client, or leave provider= out",
                )
        if client is None:
            client = adapter.new_client(async_=self._async)
        self._provider: Provider = adapter
        self._client: C = client
        # finetune-kit retries itself (looking before every write), so the SDK's own retries
        # are switched off for its calls: one retry policy, honouring Retry-After, testable.
        self._calls: Any = cast(Any, client).with_options(max_retries=0)
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.retry = retry or core.RetryPolicy()
        self.chunked_above = chunked_above
        #: The day lifecycle warnings are judged on (``None``: today); set it in tests.
        self.today: datetime.date | None = None

    @property
    def provider(self) -> Provider:
        """The provider adapter this client drives (see ``provider.facts``)."""
        return self._provider

    @property
    def sdk(self) -> C:
        """The underlying SDK client (``openai.OpenAI``, ``together.Together``, ...)."""
        return self._client

    @property
    def openai(self) -> C:
        """The underlying ``openai`` client (OpenAI and Azure OpenAI only).

        Raises:
            ProviderUnsupported: The provider does not use the ``openai`` SDK.
        """
        if self._provider.facts.name not in ("openai", "azure"):
            raise ProviderUnsupported(
                self._provider.facts.name, "the openai SDK", hint="use `client.sdk` instead"
            )
        return self._client

    def _target(self, step: core.Call) -> Any:
        return _attr(self._calls, step.method)

    # -- plan builders shared by both clients ------------------------------------------------------

    def _read(self, attempt: Callable[[], core.Plan[T]], action: str) -> core.Plan[T]:
        return core.read_plan(attempt, self.retry, action=action, provider=self._provider)

    def _needs(self, capability: str, operation: str) -> None:
        if not self._provider.facts.has(capability):
            raise ProviderUnsupported(self._provider.facts.name, operation)

    @contextlib.contextmanager
    def _as_file(self, data: Any, name: str) -> Iterator[Path]:
        from finetune_kit.dataset import Dataset

        if isinstance(data, Dataset):
            with tempfile.TemporaryDirectory(prefix="finetune-kit-") as tmp:
                yield data.to_jsonl(Path(tmp) / f"{name}.jsonl")
        else:
            path = Path(os.fspath(data))
            if not path.is_file():
                raise DataError("file not found", file=path, hint="check the path")
            yield path

    def _upload_plan(
        self,
        path: Path,
        purpose: str,
        *,
        validate: bool,
        method: Method | None,
        wait: bool,
        min_examples: int | None = None,
        processing_timeout: float | None = None,
        pii: PIIMode = "warn",
    ) -> core.Plan[FileRef]:
        if validate or pii == "error":
            facts = self._provider.facts
            profile = get_profile(facts.validation_profile)
            if profile.bom == "required":
                # Azure's documented BOM rule is reported by `validate --provider azure` (and
                # `fix --provider azure` adds the mark); an upload is not refused for it
                profile = dataclasses.replace(profile, bom="optional")
            validator = Validator(
                min_examples=facts.min_examples if min_examples is None else min_examples,
                pii=pii,
                profile=profile,
            )
            report = yield core.Run(functools.partial(validator.validate, path, method=method))
            personal = [f for f in report.errors if f.code.startswith("pii_")]
            if personal:
                raise PersonalDataFound(
                    f"{len(personal)} piece(s) of personal data; first at line "
                    f"{personal[0].line}, {personal[0].field}: {personal[0].message}",
                    file=path,
                    line=personal[0].line,
                    field=personal[0].field,
                    hint="redact it first (`finetune-kit redact`, `Dataset.redact`)",
                    findings=personal,
                )
            if validate and not report.ok:
                raise ValidationFailed(report, file=path)
        sha, size = yield core.Run(functools.partial(core.hash_file, path))
        spec = core.UploadSpec(path=path, sha256=sha, size=size, purpose=purpose)
        return (
            yield from core.upload_plan(
                spec,
                self.retry,
                provider=self._provider,
                chunked_above=self.chunked_above,
                wait=wait,
                poll_interval=min(self.poll_interval, 2.0),
                processing_timeout=processing_timeout or core.PROCESSING_TIMEOUT,
            )
        )

    def _create_plan(
        self,
        training_file: str | FileRef,
        model: str,
        *,
        validation_file: str | FileRef | None,
        method: str,
        hyperparameters: Mapping[str, Any],
        suffix: str | None,
        seed: int | None,
        metadata: Mapping[str, str] | None,
        integrations: Iterable[Mapping[str, Any]] | None,
    ) -> core.Plan[Job]:
        if self._provider.facts.name == "openai":  # OpenAI's wind-down: a LifecycleWarning each
            warn_lifecycle(model, today=self.today)
        if method not in self._provider.facts.methods:
            raise ProviderUnsupported(self._provider.facts.name, f"the {method} method")
        spec = JobSpec(
            training_file=_file_id(training_file),
            model=model,
            validation_file=_file_id(validation_file) if validation_file is not None else None,
            method=method,
            hyperparameters=dict(hyperparameters),
            suffix=suffix,
            seed=seed,
            metadata=metadata,
            integrations=list(integrations) if integrations else None,
        )
        request = self._provider.job_request(spec)
        return core.create_plan(request, self.retry, provider=self._provider)

    def _wait_plan(
        self,
        job: str | Job,
        *,
        poll_interval: float | None,
        timeout: float | None,
        on_event: EventCallback | None,
        on_poll: PollCallback | None,
        raise_on_failure: bool,
    ) -> core.Plan[Job]:
        job_id = _job_id(job)
        final = yield from core.wait_plan(
            job_id,
            policy=self.retry,
            poll_interval=self.poll_interval if poll_interval is None else poll_interval,
            timeout=self.timeout if timeout is None else timeout,
            now=time.monotonic,
            on_event=on_event,
            on_poll=on_poll,
            state=core.WaitState(),
            provider=self._provider,
        )
        if raise_on_failure and final.status != "succeeded":
            detail = f": {final.error}" if final.error else ""
            raise JobFailed(
                f"job {final.id} {final.status}{detail}",
                job=final,
                code=final.error.code if final.error else None,
            )
        return final

    def _upload_data_plan(
        self,
        data: Any,
        purpose: str,
        *,
        validate: bool,
        method: Method | None,
        wait: bool,
        name: str,
        processing_timeout: float | None = None,
        pii: PIIMode = "warn",
    ) -> core.Plan[FileRef]:
        # a validation file may be small: the providers' minimum is for training files
        minimum = 1 if name == "validation" else None
        with self._as_file(data, name) as path:
            return (
                yield from self._upload_plan(
                    path,
                    purpose,
                    validate=validate,
                    method=method,
                    wait=wait,
                    min_examples=minimum,
                    processing_timeout=processing_timeout,
                    pii=pii,
                )
            )

    def _train_plan(
        self,
        data: Any,
        model: str,
        *,
        validation_data: Any,
        validation_split: float | None,
        method: Method,
        hyperparameters: Mapping[str, Any],
        suffix: str | None,
        seed: int | None,
        metadata: Mapping[str, str] | None,
        wait: bool,
        timeout: float | None,
        on_event: EventCallback | None,
        pii: PIIMode,
    ) -> core.Plan[Job]:
        if method not in self._provider.facts.methods:
            raise ProviderUnsupported(self._provider.facts.name, f"the {method} method")
        train_data, valid_data = _split(data, validation_data, validation_split, seed)
        training = yield from self._upload_data_plan(
            train_data,
            "fine-tune",
            validate=True,
            method=method,
            wait=True,
            name="train",
            processing_timeout=timeout,
            pii=pii,
        )
        validation = None
        if valid_data is not None:
            validation = yield from self._upload_data_plan(
                valid_data,
                "fine-tune",
                validate=True,
                method=method,
                wait=True,
                name="validation",
                processing_timeout=timeout,
                pii=pii,
            )
        job = yield from self._create_plan(
            training,
            model,
            validation_file=validation,
            method=method,
            hyperparameters=hyperparameters,
            suffix=suffix,
            seed=seed,
            metadata=metadata,
            integrations=None,
        )
        if not wait:
            return job
        final = yield from self._wait_plan(
            job,
            poll_interval=None,
            timeout=timeout,
            on_event=on_event,
            on_poll=None,
            raise_on_failure=True,
        )
        return dataclasses.replace(final, reused=job.reused)

    def _job_plan(self, operation: str, job: str | Job, action: str) -> core.Plan[Job]:
        job_id = _job_id(job)
        adapter = self._provider
        if operation in ("pause", "resume") and not adapter.facts.has(operation):
            raise ProviderUnsupported(adapter.facts.name, operation)
        attempt: Callable[[], core.Plan[Any]] = {
            "retrieve": lambda: adapter.retrieve_job(job_id),
            "cancel": lambda: adapter.cancel_job(job_id),
            "pause": lambda: adapter.pause_job(job_id),
            "resume": lambda: adapter.resume_job(job_id),
        }[operation]
        obj = yield from self._read(attempt, action)
        return Job.from_remote(obj, provider=adapter.facts.name)

    def _list_plan(self, limit: int) -> core.Plan[list[Job]]:
        adapter = self._provider
        items = yield from self._read(lambda: adapter.list_jobs(limit), "listing jobs")
        return [Job.from_remote(j, provider=adapter.facts.name) for j in items]

    def _events_plan(self, job: str | Job) -> core.Plan[list[JobEvent]]:
        if not self._provider.facts.has("events"):
            raise ProviderUnsupported(self._provider.facts.name, "events")
        return (yield from core.all_events_plan(_job_id(job), self.retry, self._provider))

    def _checkpoints_plan(self, job: str | Job) -> core.Plan[list[Checkpoint]]:
        adapter = self._provider
        if not adapter.facts.has("checkpoints"):
            raise ProviderUnsupported(adapter.facts.name, "checkpoints")
        job_id = _job_id(job)
        items = yield from self._read(lambda: adapter.checkpoints(job_id), "listing checkpoints")
        return sorted((Checkpoint.from_api(c) for c in items), key=lambda c: c.step_number)

    def _metrics_plan(self, job: str | Job) -> core.Plan[pd.DataFrame]:
        import pandas as pd

        adapter = self._provider
        if not adapter.facts.has("metrics"):
            raise ProviderUnsupported(adapter.facts.name, "metrics")
        job_id = _job_id(job)
        current = yield from self._read(lambda: adapter.retrieve_job(job_id), "checking the job")
        source = yield from self._read(lambda: adapter.metrics(current), "reading the metrics")
        if source.csv is not None:
            frame = parse_result_file(source.csv)
        elif source.rows:
            frame = pd.DataFrame(source.rows).rename(columns=_METRIC_COLUMNS)
            if "step" in frame:
                frame = frame.sort_values("step").reset_index(drop=True)
        else:
            events = yield from self._events_plan(current["id"])
            frame = metrics_from_events(events)
        frame.attrs["job_id"] = current["id"]
        frame.attrs["status"] = current["status"]
        return frame

    def _ask_plan(
        self,
        model: str,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        system: str | None,
        max_tokens: int | None,
    ) -> core.Plan[str]:
        if isinstance(prompt, str):
            messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
            if system:
                messages.insert(0, {"role": "system", "content": system})
        else:
            messages = [dict(m) for m in prompt]
        adapter = self._provider
        return (
            yield from self._read(
                lambda: adapter.chat(model, messages, max_tokens), "asking the model"
            )
        )


def _file_id(ref: str | FileRef) -> str:
    return ref.id if isinstance(ref, FileRef) else ref


def _job_id(job: str | Job) -> str:
    return job.id if isinstance(job, Job) else job


class JobClient(_Base[Any]):
    """Upload, create, watch and inspect fine-tuning jobs — never a duplicate upload or job.

    One engine for every provider: OpenAI, Azure OpenAI and Together AI (see
    [providers](../providers.md)).

    Args:
        client: An SDK client to share: ``openai.OpenAI``, ``openai.AzureOpenAI`` or
            ``together.Together`` (its provider is recognised); default: one built from the
            environment (``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``; ``AZURE_OPENAI_*``;
            ``TOGETHER_API_KEY`` / ``TOGETHER_BASE_URL``).
        provider: ``openai``, ``azure`` or ``together`` (or an adapter); default: the
            client's, else ``FINETUNE_KIT_PROVIDER``, else ``openai``.
        poll_interval: Seconds between polls while waiting for a job.
        timeout: Default longest wait for a job in seconds (``None``: no limit).
        retry: How writes and polls are retried.
        chunked_above: Files larger than this many bytes go through the Uploads API in parts.

    Raises:
        ConfigError: No client was given and no API key is set (the message names the
            variable), or the client is not the provider's.
    """

    _async = False

    def _run(self, plan: core.Plan[T]) -> T:
        """Perform the steps of a plan until it returns."""
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = plan.throw(error) if error is not None else plan.send(result)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            result, error = None, None
            try:
                if isinstance(step, core.Sleep):
                    time.sleep(core.sleep_for(step))
                elif isinstance(step, core.Run):
                    result = step.func()
                else:
                    with _opened(step.kwargs) as kwargs:
                        result = self._target(step)(**kwargs)
            except Exception as exc:
                error = exc

    def upload(
        self,
        data: str | os.PathLike[str] | Dataset,
        purpose: str = "fine-tune",
        *,
        validate: bool = True,
        method: Method | None = None,
        wait: bool = True,
        pii: PIIMode = "warn",
    ) -> FileRef:
        """Upload a training or validation file once.

        The file is validated first; an identical file already uploaded (same content hash
        and size) is reused; files above the Files API limit go through the Uploads API in
        parts; the call returns once the file is processed.

        Args:
            data: A JSONL path or a [`Dataset`][finetune_kit.Dataset].
            purpose: The file's purpose.
            validate: Refuse a file with validation errors (default).
            method: ``supervised`` or ``dpo``, for validation.
            wait: Wait until the API has processed the file.
            pii: ``"error"`` refuses a file with personal data in it
                ([`PersonalDataFound`][finetune_kit.PersonalDataFound]); ``"warn"`` (default)
                and ``"off"`` upload it.

        Returns:
            The uploaded (or reused) file.

        Raises:
            ValidationFailed: The file has errors (and ``validate`` is true).
            PersonalDataFound: Personal data found with ``pii="error"``.
            APIError: The API refused or could not process the file.
        """
        return self._run(
            self._upload_data_plan(
                data, purpose, validate=validate, method=method, wait=wait, name="data", pii=pii
            )
        )

    def create_job(
        self,
        training_file: str | FileRef,
        model: str,
        *,
        validation_file: str | FileRef | None = None,
        method: str = "supervised",
        n_epochs: int | str | None = None,
        batch_size: int | str | None = None,
        learning_rate_multiplier: float | str | None = None,
        beta: float | str | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
        integrations: Iterable[Mapping[str, Any]] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
    ) -> Job:
        """Create a fine-tuning job — idempotently.

        A key derived from the request (files, model, method, hyper-parameters, suffix, seed)
        is stored in the job's ``metadata``; before every attempt the client looks for a job
        with that key that has not failed or been cancelled, so a retried create (or a second
        call with the same arguments) never makes a second job.

        Args:
            training_file: File id or [`FileRef`][finetune_kit.FileRef].
            model: Base model (or an ``ft:`` model to continue training).
            validation_file: Optional validation file.
            method: ``supervised`` or ``dpo``.
            n_epochs: Epochs (``"auto"`` or 1..50; default auto).
            batch_size: Batch size (``"auto"`` or 1..256).
            learning_rate_multiplier: Learning-rate multiplier (``"auto"`` or > 0).
            beta: DPO beta (``"auto"`` or in (0, 2]).
            suffix: Up to 64 characters added to the fine-tuned model's name.
            seed: Seed for reproducibility.
            metadata: Up to 15 key/value pairs of your own.
            integrations: For example ``[{"type": "wandb", "wandb": {"project": "p"}}]``.
            hyperparameters: Provider-specific ones, e.g. Together's ``learning_rate``,
                ``lora``, ``n_checkpoints``.

        Returns:
            The job (``job.reused`` is true when an existing one was returned).
        """
        return self._run(
            self._create_plan(
                training_file,
                model,
                validation_file=validation_file,
                method=method,
                hyperparameters=_hyperparameters(
                    n_epochs, batch_size, learning_rate_multiplier, beta, hyperparameters
                ),
                suffix=suffix,
                seed=seed,
                metadata=metadata,
                integrations=integrations,
            )
        )

    def wait(
        self,
        job: str | Job,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
        on_poll: PollCallback | None = None,
        raise_on_failure: bool = True,
    ) -> Job:
        """Poll a job until it succeeds, fails or is cancelled.

        Each new event is passed to ``on_event`` exactly once, oldest first; transient errors
        are retried with backoff that honours ``Retry-After``.

        Args:
            job: Job id or [`Job`][finetune_kit.Job].
            poll_interval: Seconds between polls (default: the client's).
            timeout: Longest wait in seconds (default: the client's).
            on_event: Called with each new [`JobEvent`][finetune_kit.JobEvent].
            on_poll: Called with the job after every poll.
            raise_on_failure: Raise [`JobFailed`][finetune_kit.JobFailed] unless it succeeded.

        Returns:
            The job in its final state.

        Raises:
            JobFailed: It failed or was cancelled (carrying OpenAI's error code and message).
            JobTimeout: The timeout passed; the job was *not* cancelled.
        """
        return self._run(
            self._wait_plan(
                job,
                poll_interval=poll_interval,
                timeout=timeout,
                on_event=on_event,
                on_poll=on_poll,
                raise_on_failure=raise_on_failure,
            )
        )

    def train(
        self,
        data: str | os.PathLike[str] | Dataset,
        model: str,
        *,
        validation_data: str | os.PathLike[str] | Dataset | None = None,
        validation_split: float | None = None,
        method: Method = "supervised",
        n_epochs: int | str | None = None,
        batch_size: int | str | None = None,
        learning_rate_multiplier: float | str | None = None,
        beta: float | str | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
        pii: PIIMode = "warn",
        hyperparameters: Mapping[str, Any] | None = None,
    ) -> Job:
        """Validate, upload (training and validation data), create the job and wait for it.

        The one call a notebook needs. Running it twice with the same data and settings
        returns the same job instead of paying twice.

        Args:
            data: Training data: a JSONL path or a [`Dataset`][finetune_kit.Dataset].
            model: Base model.
            validation_data: Separate validation data.
            validation_split: Or: the share of ``data`` to hold out for validation.
            method: ``supervised`` or ``dpo``.
            n_epochs: Epochs (default auto).
            batch_size: Batch size (default auto).
            learning_rate_multiplier: Learning-rate multiplier (default auto).
            beta: DPO beta.
            suffix: Model-name suffix.
            seed: Seed (also used for the validation split).
            metadata: Your own metadata.
            wait: Wait until the job ends.
            timeout: Longest wait in seconds.
            on_event: Called with each new event while waiting.
            pii: ``"error"`` refuses data with personal data in it.
            hyperparameters: Provider-specific ones, e.g. Together's ``learning_rate``,
                ``lora``, ``n_checkpoints``.

        Returns:
            The job (final when ``wait``).
        """
        return self._run(
            self._train_plan(
                data,
                model,
                validation_data=validation_data,
                validation_split=validation_split,
                method=method,
                hyperparameters=_hyperparameters(
                    n_epochs, batch_size, learning_rate_multiplier, beta, hyperparameters
                ),
                suffix=suffix,
                seed=seed,
                metadata=metadata,
                wait=wait,
                timeout=timeout,
                on_event=on_event,
                pii=pii,
            )
        )

    def get(self, job: str | Job) -> Job:
        """The job as it is now."""
        return self._run(self._job_plan("retrieve", job, "checking the job"))

    def list(self, limit: int = 20) -> builtins.list[Job]:
        """The most recent jobs, newest first."""
        return self._run(self._list_plan(limit))

    def cancel(self, job: str | Job) -> Job:
        """Cancel a job that has not ended."""
        return self._run(self._job_plan("cancel", job, "cancelling the job"))

    def pause(self, job: str | Job) -> Job:
        """Pause a running job."""
        return self._run(self._job_plan("pause", job, "pausing the job"))

    def resume(self, job: str | Job) -> Job:
        """Resume a paused job."""
        return self._run(self._job_plan("resume", job, "resuming the job"))

    def events(self, job: str | Job) -> Iterator[JobEvent]:
        """Every event of the job (all pages), oldest first."""
        return iter(self._run(self._events_plan(job)))

    def checkpoints(self, job: str | Job) -> builtins.list[Checkpoint]:
        """The job's checkpoints (one per epoch; OpenAI keeps the last three), by step."""
        return self._run(self._checkpoints_plan(job))

    def metrics(self, job: str | Job) -> pd.DataFrame:
        """Training metrics per step: from the result file, or from metrics events while running.

        Plot them with [`metrics_plot`][finetune_kit.plots.metrics_plot].
        """
        return self._run(self._metrics_plan(job))

    def ask(
        self,
        model: str,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        system: str | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """Try a (fine-tuned) model: send a prompt or messages, get the answer's text.

        Args:
            model: The model, e.g. ``job.fine_tuned_model``.
            prompt: A user message, or a list of chat messages.
            system: A system prompt to put first (with a string prompt).
            max_tokens: Longest answer.

        Returns:
            The answer.
        """
        return self._run(self._ask_plan(model, prompt, system=system, max_tokens=max_tokens))

    def archive(
        self,
        out_dir: str | os.PathLike[str],
        *,
        since: datetime.date | None = None,
        progress: ProgressCallback | None = None,
    ) -> ArchiveReport:
        """Archive every job with its files, metrics, events and checkpoints (resumable).

        See [`archive`][finetune_kit.jobs.archive.archive]; run it again to resume or update.
        """
        from finetune_kit.jobs.archive import archive

        return archive(self, out_dir, since=since, progress=progress)


class AsyncJobClient(_Base[Any]):
    """The asyncio twin of [`JobClient`][finetune_kit.JobClient]: same methods, awaitable.

    Args:
        client: An ``openai.AsyncOpenAI``, ``AsyncAzureOpenAI`` or ``together.AsyncTogether``
            client; default: one built from the environment.
        provider: ``openai``, ``azure`` or ``together`` (or an adapter).
        poll_interval: Seconds between polls while waiting for a job.
        timeout: Default longest wait for a job in seconds.
        retry: How writes and polls are retried.
        chunked_above: Files larger than this go through the Uploads API in parts.
    """

    _async = True

    async def _run(self, plan: core.Plan[T]) -> T:
        """Perform the steps of a plan until it returns."""
        result: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = plan.throw(error) if error is not None else plan.send(result)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            result, error = None, None
            try:
                if isinstance(step, core.Sleep):
                    await asyncio.sleep(core.sleep_for(step))
                elif isinstance(step, core.Run):
                    result = await asyncio.to_thread(step.func)
                else:
                    with _opened(step.kwargs) as kwargs:
                        result = await self._target(step)(**kwargs)
            except Exception as exc:
                error = exc

    async def upload(
        self,
        data: str | os.PathLike[str] | Dataset,
        purpose: str = "fine-tune",
        *,
        validate: bool = True,
        method: Method | None = None,
        wait: bool = True,
        pii: PIIMode = "warn",
    ) -> FileRef:
        """Async [`JobClient.upload`][finetune_kit.JobClient.upload]."""
        return await self._run(
            self._upload_data_plan(
                data, purpose, validate=validate, method=method, wait=wait, name="data", pii=pii
            )
        )

    async def create_job(
        self,
        training_file: str | FileRef,
        model: str,
        *,
        validation_file: str | FileRef | None = None,
        method: str = "supervised",
        n_epochs: int | str | None = None,
        batch_size: int | str | None = None,
        learning_rate_multiplier: float | str | None = None,
        beta: float | str | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
        integrations: Iterable[Mapping[str, Any]] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
    ) -> Job:
        """Async [`JobClient.create_job`][finetune_kit.JobClient.create_job]."""
        return await self._run(
            self._create_plan(
                training_file,
                model,
                validation_file=validation_file,
                method=method,
                hyperparameters=_hyperparameters(
                    n_epochs, batch_size, learning_rate_multiplier, beta, hyperparameters
                ),
                suffix=suffix,
                seed=seed,
                metadata=metadata,
                integrations=integrations,
            )
        )

    async def wait(
        self,
        job: str | Job,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
        on_poll: PollCallback | None = None,
        raise_on_failure: bool = True,
    ) -> Job:
        """Async [`JobClient.wait`][finetune_kit.JobClient.wait]."""
        return await self._run(
            self._wait_plan(
                job,
                poll_interval=poll_interval,
                timeout=timeout,
                on_event=on_event,
                on_poll=on_poll,
                raise_on_failure=raise_on_failure,
            )
        )

    async def train(
        self,
        data: str | os.PathLike[str] | Dataset,
        model: str,
        *,
        validation_data: str | os.PathLike[str] | Dataset | None = None,
        validation_split: float | None = None,
        method: Method = "supervised",
        n_epochs: int | str | None = None,
        batch_size: int | str | None = None,
        learning_rate_multiplier: float | str | None = None,
        beta: float | str | None = None,
        suffix: str | None = None,
        seed: int | None = None,
        metadata: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
        pii: PIIMode = "warn",
        hyperparameters: Mapping[str, Any] | None = None,
    ) -> Job:
        """Async [`JobClient.train`][finetune_kit.JobClient.train]."""
        return await self._run(
            self._train_plan(
                data,
                model,
                validation_data=validation_data,
                validation_split=validation_split,
                method=method,
                hyperparameters=_hyperparameters(
                    n_epochs, batch_size, learning_rate_multiplier, beta, hyperparameters
                ),
                suffix=suffix,
                seed=seed,
                metadata=metadata,
                wait=wait,
                timeout=timeout,
                on_event=on_event,
                pii=pii,
            )
        )

    async def get(self, job: str | Job) -> Job:
        """Async [`JobClient.get`][finetune_kit.JobClient.get]."""
        return await self._run(self._job_plan("retrieve", job, "checking the job"))

    async def list(self, limit: int = 20) -> builtins.list[Job]:
        """Async [`JobClient.list`][finetune_kit.JobClient.list]."""
        return await self._run(self._list_plan(limit))

    async def cancel(self, job: str | Job) -> Job:
        """Async [`JobClient.cancel`][finetune_kit.JobClient.cancel]."""
        return await self._run(self._job_plan("cancel", job, "cancelling the job"))

    async def pause(self, job: str | Job) -> Job:
        """Async [`JobClient.pause`][finetune_kit.JobClient.pause]."""
        return await self._run(self._job_plan("pause", job, "pausing the job"))

    async def resume(self, job: str | Job) -> Job:
        """Async [`JobClient.resume`][finetune_kit.JobClient.resume]."""
        return await self._run(self._job_plan("resume", job, "resuming the job"))

    async def events(self, job: str | Job) -> AsyncIterator[JobEvent]:
        """Async [`JobClient.events`][finetune_kit.JobClient.events] (an async iterator)."""
        for event in await self._run(self._events_plan(job)):
            yield event

    async def checkpoints(self, job: str | Job) -> builtins.list[Checkpoint]:
        """Async [`JobClient.checkpoints`][finetune_kit.JobClient.checkpoints]."""
        return await self._run(self._checkpoints_plan(job))

    async def metrics(self, job: str | Job) -> pd.DataFrame:
        """Async [`JobClient.metrics`][finetune_kit.JobClient.metrics]."""
        return await self._run(self._metrics_plan(job))

    async def ask(
        self,
        model: str,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        system: str | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """Async [`JobClient.ask`][finetune_kit.JobClient.ask]."""
        return await self._run(self._ask_plan(model, prompt, system=system, max_tokens=max_tokens))


def _hyperparameters(
    n_epochs: int | str | None,
    batch_size: int | str | None,
    learning_rate_multiplier: float | str | None,
    beta: float | str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    named = {
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate_multiplier": learning_rate_multiplier,
        "beta": beta,
    }
    clash = sorted(
        k for k, v in (extra or {}).items() if named.get(k) is not None and v is not None
    )
    if clash:
        raise ConfigError(f"{', '.join(clash)} given twice (as an argument and in hyperparameters)")
    return {**named, **{k: v for k, v in (extra or {}).items() if v is not None}}


def _split(
    data: Any, validation_data: Any, validation_split: float | None, seed: int | None
) -> tuple[Any, Any]:
    """Training and validation data for ``train`` (splitting ``data`` when asked)."""
    if validation_split is None:
        return data, validation_data
    if validation_data is not None:
        raise ConfigError("give validation_data or validation_split, not both")
    from finetune_kit.dataset import Dataset

    dataset = data if isinstance(data, Dataset) else Dataset.from_jsonl(data)
    return dataset.split(validation_split, seed=seed or 0)
