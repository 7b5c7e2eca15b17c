"""Fireworks AI as a [`Provider`][finetune_kit.providers.base.Provider] adapter.

Over the official ``fireworks-ai`` SDK (``pip install 'finetune-kit[fireworks]'``), which reads
``FIREWORKS_API_KEY``, ``FIREWORKS_ACCOUNT_ID`` and ``FIREWORKS_BASE_URL``. Only calls into the
SDK are written here; the engine retries, polls and looks before it writes.

What differs from OpenAI and Together:

- **The client chooses the ids.** A dataset's id is derived from the file's content
  (``ftk-<sha256[:24]>-<size>``), a job's from its request (``ftk-<sha256 of the request[:24]>``,
  with ``-2``, ``-3``, ... once an earlier job on the same request failed or was cancelled).
  Before every write the engine looks (a dataset that holds this content, a job on this
  request that has not failed); the write itself uses the chosen id, and an ``ALREADY_EXISTS``
  answer (409) is taken as "it is there": the adapter reads the resource and goes on. Whether
  Fireworks answers a second create with the same id by 409 or by returning the resource is
  not documented where we could read it; both are handled, and the emulator does either.
- **Datasets are resources**, filled by ``:upload`` (up to 150 MB) or, above that, through a
  signed URL from ``:getUploadEndpoint`` and ``:validateUpload``. A dataset that was created but
  never filled (an upload cut short) is never reused: the next attempt fills it.
- **States** ``JOB_STATE_*`` map onto the product's; ``CANCELLING`` counts as ``cancelled``,
  ``EARLY_STOPPED`` as ``succeeded`` (a model was written). The raw one is kept.
- **No events endpoint**: events are derived from the job's state and progress as each poll sees
  them (stable ids), so a followed job still shows its steps. Metrics come from the job's
  metrics file (``metricsFileSignedUrl``; JSON lines or CSV, read as Fireworks writes them).
- **Resume** (``:resume``) continues a failed, cancelled or paused job; there is no pause, no
  checkpoint listing and no DPO here: those raise
  [`ProviderUnsupported`][finetune_kit.errors.ProviderUnsupported].
- No suffix, seed or metadata: ``suffix`` becomes the job's display name; a seed still picks
  the validation split and goes into the job's id, but Fireworks does not seed the training.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
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
    Run,
    UploadFile,
    UploadSpec,
    unsupported,
)

__all__ = ["DIRECT_UPLOAD_LIMIT", "FIREWORKS", "FireworksProvider", "remote_file", "remote_job"]

DIRECT_UPLOAD_LIMIT = 150 * 1024 * 1024
"""``:upload`` takes files up to 150 MB; larger ones go through a signed URL."""

_STATUSES = {
    "JOB_STATE_UNSPECIFIED": "queued",
    "JOB_STATE_CREATING": "validating_files",
    "JOB_STATE_CREATING_INPUT_DATASET": "validating_files",
    "JOB_STATE_VALIDATING": "validating_files",
    "JOB_STATE_PENDING": "queued",
    "JOB_STATE_IDLE": "queued",
    "JOB_STATE_RE_QUEUEING": "queued",
    "JOB_STATE_RUNNING": "running",
    "JOB_STATE_WRITING_RESULTS": "running",
    "JOB_STATE_PAUSED": "paused",
    "JOB_STATE_COMPLETED": "succeeded",
    "JOB_STATE_EARLY_STOPPED": "succeeded",
    "JOB_STATE_FAILED": "failed",
    "JOB_STATE_EXPIRED": "failed",
    "JOB_STATE_CANCELLING": "cancelled",
    "JOB_STATE_CANCELLED": "cancelled",
    "JOB_STATE_DELETING": "cancelled",
    "JOB_STATE_DELETING_CLEANING_UP": "cancelled",
}

FIREWORKS = ProviderFacts(
    name="fireworks",
    title="Fireworks AI",
    key_env=("FIREWORKS_API_KEY",),
    base_url_env="FIREWORKS_BASE_URL",
    methods=frozenset({"supervised"}),
    capabilities=frozenset({"resume", "metrics", "events", "chat", "chunked_upload"}),
    max_file_bytes=8 * 1024**3,
    min_examples=1,
    validation_profile="fireworks",
    idempotency="datasets and jobs get ids derived from their content and request; before every "
    "create the engine looks for them, and an 'already exists' answer is taken as found",
    statuses=_STATUSES,
    default_model="accounts/fireworks/models/gpt-oss-20b",
)
"""Fireworks AI's static facts (the 8 GiB file limit is unconfirmed: the SDK sets none)."""

_HYPERPARAMETERS = {
    "n_epochs": "epochs",
    "learning_rate": "learning_rate",
    "lora_rank": "lora_rank",
    "max_context_length": "max_context_length",
    "batch_size": "batch_size",
    "learning_rate_warmup_steps": "learning_rate_warmup_steps",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "early_stop": "early_stop",
    "output_model": "output_model",
    "warm_start_from": "warm_start_from",
}
_ID_KEY = "supervised_fine_tuning_job_id"
_PAGE = 200


def _short(name: str) -> str:
    """``accounts/a/datasets/x`` -> ``x``."""
    return name.rsplit("/", 1)[-1]


def dataset_id(spec: UploadSpec) -> str:
    """The dataset id of a file: its content hash and its size (``ftk-<sha256[:24]>-<size>``)."""
    return f"ftk-{spec.sha256[:24]}-{spec.size}"


def _size_of(dataset_name: str) -> int:
    tail = _short(dataset_name).rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def remote_file(obj: Any) -> RemoteFile:
    """A provider-neutral file from the SDK's ``Dataset`` (its size read from its id)."""
    name = str(field(obj, "name", default=""))
    state = str(field(obj, "state", default="STATE_UNSPECIFIED"))
    status_obj = field(obj, "status")
    code = str(field(status_obj, "code", default="OK")) if status_obj is not None else "OK"
    message = field(status_obj, "message") if status_obj is not None else None
    if code not in ("OK", "CODE_UNSPECIFIED"):
        status, details = "error", str(message or code)
    elif state == "READY":
        status, details = "processed", None
    else:
        status, details = "uploaded", None
    return RemoteFile(
        id=name,
        filename=str(field(obj, "display_name", "displayName", default=_short(name))),
        bytes=_size_of(name),
        status=status,
        purpose="fine-tune",
        details=details,
        raw=obj,
    )


def _money(cost: Any) -> float | None:
    if cost is None:
        return None
    units = field(cost, "units", default="0")
    nanos = field(cost, "nanos", default=0)
    try:
        return int(units) + int(nanos) / 1e9
    except (TypeError, ValueError):
        return None


def remote_job(obj: Any) -> RemoteJob:
    """A provider-neutral job from the SDK's ``SupervisedFineTuningJob``."""
    raw_status = str(field(obj, "state", default="JOB_STATE_UNSPECIFIED"))
    status = FIREWORKS.product_status(raw_status)
    status_obj = field(obj, "status")
    error = None
    if status == "failed":
        message = field(status_obj, "message") if status_obj is not None else None
        code = field(status_obj, "code") if status_obj is not None else None
        error = {
            "code": str(code or "failed"),
            "message": str(message or "the job failed"),
            "param": None,
        }
    hp = {
        product: field(obj, api)
        for product, api in _HYPERPARAMETERS.items()
        if api not in ("output_model", "warm_start_from", "early_stop")
    }
    done = status in ("succeeded", "failed", "cancelled")
    return RemoteJob(
        id=_short(str(field(obj, "name", default=""))),
        status=status,
        provider_status=raw_status,
        model=str(field(obj, "base_model", "warm_start_from", default="")),
        fine_tuned_model=field(obj, "output_model") if status == "succeeded" else None,
        training_file=field(obj, "dataset"),
        validation_file=field(obj, "evaluation_dataset") or None,
        created_at=epoch_seconds(field(obj, "create_time")),
        finished_at=epoch_seconds(field(obj, "completed_time", "update_time")) if done else None,
        trained_tokens=None,
        estimated_cost=_money(field(obj, "estimated_cost")),
        error=error,
        method={"type": "supervised"},
        hyperparameters={k: v for k, v in hp.items() if v is not None},
        suffix=field(obj, "display_name"),
        seed=None,
        metadata={},
        result_files=[],
        estimated_finish=None,
        raw=obj,
    )


def _events_of(obj: Any) -> list[RemoteEvent]:
    """What one read of a job says happened: its creation, its state and its progress."""
    job_id = _short(str(field(obj, "name", default="")))
    state = str(field(obj, "state", default="JOB_STATE_UNSPECIFIED"))
    created = epoch_seconds(field(obj, "create_time")) or 0
    updated = epoch_seconds(field(obj, "update_time")) or created
    progress = field(obj, "job_progress")
    percent = field(progress, "percent") if progress is not None else None
    epoch = field(progress, "epoch") if progress is not None else None

    def event(kind: str, at: int, message: str, level: str = "info", **data: Any) -> RemoteEvent:
        digest = hashlib.sha256(f"{job_id}|{kind}|{message}".encode()).hexdigest()[:20]
        return RemoteEvent(
            id=f"ev-{digest}", created_at=at, level=level, message=message, type=kind, data=data
        )

    out = [event("message", created, f"Fine-tuning job {job_id} created")]
    label = state.removeprefix("JOB_STATE_").lower().replace("_", " ")
    failed = FIREWORKS.product_status(state) == "failed"
    out.append(event("message", updated, f"Job {label}", "error" if failed else "info"))
    if percent is not None and state in ("JOB_STATE_RUNNING", "JOB_STATE_WRITING_RESULTS"):
        at_epoch = f" (epoch {int(epoch) + 1})" if epoch is not None else ""
        out.append(
            event(
                "metrics", updated, f"Training {int(percent)}% done{at_epoch}", percent=int(percent)
            )
        )
    out.sort(key=lambda e: e["created_at"], reverse=True)
    return out


def _metric_rows(data: bytes) -> list[dict[str, Any]]:
    """Rows of a metrics file: JSON lines, or CSV with a header."""
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    rows: list[dict[str, Any]]
    if text.startswith("{"):
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        rows = []
        for row in csv.DictReader(io.StringIO(text)):
            rows.append({k: _number(v) for k, v in row.items()})
    renamed = []
    for row in rows:
        out = {("train_loss" if k == "loss" else k): v for k, v in row.items()}
        if "step" in out:
            out["step"] = int(out["step"])
        renamed.append(out)
    return renamed


def _number(value: str | None) -> float | str | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _put_file(url: str, path: Path) -> None:
    """``PUT`` a file to a signed URL (it carries its own authorisation, not the API key)."""
    import httpx

    with path.open("rb") as fh:
        response = httpx.put(url, content=fh, timeout=httpx.Timeout(600.0, connect=30.0))
    response.raise_for_status()


def _download(url: str) -> bytes:
    import httpx

    response = httpx.get(url, timeout=httpx.Timeout(120.0, connect=30.0))
    response.raise_for_status()
    return response.content


def _request_key(request: Mapping[str, Any]) -> str:
    """A key derived from everything a job request asks for (its chosen id left out)."""
    relevant = {k: v for k, v in request.items() if k != _ID_KEY}
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _job_ids(base: str, n: int) -> str:
    return base if n <= 1 else f"{base}-{n}"


class FireworksProvider:
    """Fireworks AI's supervised fine-tuning API through the ``fireworks-ai`` SDK.

    Attributes:
        facts: What Fireworks AI is and can do.
    """

    facts: ProviderFacts = FIREWORKS

    def new_client(self, *, async_: bool) -> Any:
        """A ``fireworks.Fireworks`` (or ``AsyncFireworks``) from the environment.

        Raises:
            ConfigError: The SDK is not installed, or ``FIREWORKS_API_KEY`` or
                ``FIREWORKS_ACCOUNT_ID`` is not set.
        """
        fireworks = _sdk()
        hint = (
            "or pass a fireworks client; for the offline emulator run "
            "`finetune-kit emulator --provider fireworks` and set FIREWORKS_BASE_URL"
        )
        if not os.environ.get("FIREWORKS_ACCOUNT_ID"):
            raise ConfigError("no Fireworks account: set FIREWORKS_ACCOUNT_ID", hint=hint)
        try:
            return fireworks.AsyncFireworks() if async_ else fireworks.Fireworks()
        except fireworks.FireworksError as exc:
            raise ConfigError("no API key: set FIREWORKS_API_KEY", hint=hint) from exc

    def owns(self, client: object) -> bool:
        """True for ``fireworks.Fireworks`` / ``AsyncFireworks`` (False without the SDK)."""
        try:
            fireworks = _sdk()
        except ConfigError:
            return False
        return isinstance(client, fireworks.Fireworks | fireworks.AsyncFireworks)

    def describe_error(self, exc: BaseException) -> ErrorInfo | None:
        """What a ``fireworks`` exception means (the gRPC status, e.g. ``ALREADY_EXISTS``)."""
        return describe_sdk_error(_sdk(), exc, base="FireworksError", code_keys=("status", "code"))

    def _exists(self, exc: BaseException) -> bool:
        info = self.describe_error(exc)
        return info is not None and info.status_code == 409

    # -- files (datasets) ---------------------------------------------------------------------

    def list_files(self, purpose: str) -> Plan[list[RemoteFile]]:
        """Every dataset that holds a file (one never filled is left out: it is no file)."""
        items = yield from _list_all("datasets.list", "datasets")
        files = [remote_file(d) for d in items]
        return [f for f in files if f["status"] != "uploaded"]

    def upload_file(self, spec: UploadSpec, *, chunked: bool) -> Plan[RemoteFile]:
        """Create the dataset under its content id (or find it created), fill it, read it."""
        chosen = dataset_id(spec)
        try:
            yield Call(
                "datasets.create",
                {
                    "dataset_id": chosen,
                    "dataset": {"display_name": spec.filename, "user_uploaded": {}},
                },
                write=True,
            )
        except Exception as exc:
            if not self._exists(exc):
                raise
        current = remote_file((yield Call("datasets.get", {"dataset_id": chosen})))
        if current["status"] == "uploaded":  # created but not filled yet
            if chunked or spec.size > DIRECT_UPLOAD_LIMIT:
                endpoint = yield Call(
                    "datasets.get_upload_endpoint",
                    {"dataset_id": chosen, "filename_to_size": {spec.filename: str(spec.size)}},
                    write=True,
                )
                url = (endpoint.filename_to_signed_urls or {}).get(spec.filename)
                if not url:
                    raise ConfigError(
                        f"Fireworks gave no upload URL for {spec.filename}",
                        hint="retry later; if it persists, upload with firectl",
                    )
                yield Run(lambda: _put_file(url, spec.path))
                yield Call(
                    "datasets.validate_upload", {"dataset_id": chosen, "body": {}}, write=True
                )
            else:
                yield Call(
                    "datasets.upload",
                    {"dataset_id": chosen, "file": UploadFile(spec.path, spec.filename)},
                    write=True,
                )
            current = remote_file((yield Call("datasets.get", {"dataset_id": chosen})))
        return current

    def retrieve_file(self, file_id: str) -> Plan[RemoteFile]:
        """``datasets.get``."""
        return remote_file((yield Call("datasets.get", {"dataset_id": _short(file_id)})))

    def file_content(self, file_id: str) -> Plan[bytes]:
        """Fireworks serves no dataset content through this adapter."""
        data: bytes = yield from unsupported(self.facts.name, "file content")
        return data

    # -- jobs -----------------------------------------------------------------------------------

    def job_request(self, spec: JobSpec) -> dict[str, Any]:
        """``supervised_fine_tuning_jobs.create`` arguments with the job id chosen from them.

        Raises:
            ConfigError: A parameter Fireworks does not take, or out of range.
        """
        if spec.method != "supervised":
            raise ConfigError(
                f"Fireworks jobs here are supervised only, not {spec.method!r}",
                field="method",
                hint="use method='supervised', or Together AI for DPO",
            )
        given = {k: v for k, v in spec.hyperparameters.items() if v is not None}
        if "learning_rate_multiplier" in given:
            raise ConfigError(
                "Fireworks takes an absolute learning_rate, not learning_rate_multiplier",
                field="learning_rate_multiplier",
                hint="pass hyperparameters={'learning_rate': 1e-4}",
            )
        unknown = set(given) - set(_HYPERPARAMETERS)
        if unknown:
            raise ConfigError(
                f"unknown hyper-parameter(s) for Fireworks: {', '.join(sorted(unknown))}",
                hint=f"Fireworks takes {', '.join(sorted(_HYPERPARAMETERS))}",
            )
        for name in ("n_epochs", "lora_rank", "max_context_length", "batch_size"):
            value = given.get(name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)
        rate = given.get("learning_rate")
        if rate is not None and not (isinstance(rate, int | float) and rate > 0):
            raise ConfigError(f"learning_rate must be > 0, got {rate!r}", field="learning_rate")
        request: dict[str, Any] = {"dataset": spec.training_file}
        if "warm_start_from" in given:
            request["warm_start_from"] = given.pop("warm_start_from")
        else:
            request["base_model"] = spec.model
        request.update({_HYPERPARAMETERS[k]: v for k, v in given.items()})
        if spec.validation_file is not None:
            request["evaluation_dataset"] = spec.validation_file
        if spec.suffix is not None:
            request["display_name"] = spec.suffix
        # Fireworks takes no seed: it still tells two requests apart (and picks the split)
        request[_ID_KEY] = f"ftk-{_request_key({**request, '_seed': spec.seed})}"
        return request

    def find_jobs(self, request: Mapping[str, Any]) -> Plan[list[RemoteJob]]:
        """The jobs created for this request (its id, or the id with ``-2``, ``-3``, ...)."""
        base = str(request[_ID_KEY])
        items = yield from _list_all(
            "supervised_fine_tuning_jobs.list", "supervised_fine_tuning_jobs"
        )
        jobs = [remote_job(j) for j in items]
        return [j for j in jobs if j["id"] == base or j["id"].startswith(f"{base}-")]

    def create_job(self, request: Mapping[str, Any]) -> Plan[RemoteJob]:
        """Create the job under the first free id of its request; an existing one is read."""
        base = str(request[_ID_KEY])
        taken = {j["id"] for j in (yield from self.find_jobs(request))}
        n = 1
        while _job_ids(base, n) in taken:
            n += 1
        chosen = _job_ids(base, n)
        try:
            created = yield Call(
                "supervised_fine_tuning_jobs.create", {**request, _ID_KEY: chosen}, write=True
            )
        except Exception as exc:
            if not self._exists(exc):
                raise
            created = yield Call("supervised_fine_tuning_jobs.get", {_ID_KEY: chosen})
        return remote_job(created)

    def retrieve_job(self, job_id: str) -> Plan[RemoteJob]:
        """``supervised_fine_tuning_jobs.get``."""
        return remote_job((yield Call("supervised_fine_tuning_jobs.get", {_ID_KEY: job_id})))

    def list_jobs(self, limit: int) -> Plan[list[RemoteJob]]:
        """The most recent jobs, newest first, at most ``limit``."""
        items = yield from _list_all(
            "supervised_fine_tuning_jobs.list", "supervised_fine_tuning_jobs"
        )
        jobs = [remote_job(j) for j in items]
        jobs.sort(key=lambda j: j["created_at"] or 0, reverse=True)
        return jobs[:limit]

    def cancel_job(self, job_id: str) -> Plan[RemoteJob]:
        """``supervised_fine_tuning_jobs.cancel``, then the job as it is."""
        yield Call("supervised_fine_tuning_jobs.cancel", {_ID_KEY: job_id, "body": {}}, write=True)
        return (yield from self.retrieve_job(job_id))

    def pause_job(self, job_id: str) -> Plan[RemoteJob]:
        """Fireworks has no pause (it pauses jobs itself; ``resume`` continues them)."""
        job: RemoteJob = yield from unsupported(self.facts.name, "pause")
        return job

    def resume_job(self, job_id: str) -> Plan[RemoteJob]:
        """``supervised_fine_tuning_jobs.resume`` (failed, cancelled or paused jobs)."""
        yield Call("supervised_fine_tuning_jobs.resume", {_ID_KEY: job_id, "body": {}}, write=True)
        return (yield from self.retrieve_job(job_id))

    def events(self, job_id: str, cursor: str | None) -> Plan[EventPage]:
        """Events derived from the job as it is now (Fireworks has no events endpoint)."""
        job = yield Call("supervised_fine_tuning_jobs.get", {_ID_KEY: job_id})
        return EventPage(_events_of(job))

    def checkpoints(self, job_id: str) -> Plan[list[RemoteCheckpoint]]:
        """Fireworks lists no checkpoints of supervised jobs."""
        found: list[RemoteCheckpoint] = yield from unsupported(self.facts.name, "checkpoints")
        return found

    def metrics(self, job: RemoteJob) -> Plan[MetricsData]:
        """The job's metrics file (``metricsFileSignedUrl``), when it has one."""
        url = field(job["raw"], "metrics_file_signed_url")
        if not url:
            return MetricsData()
        data = yield Run(lambda: _download(str(url)))
        return MetricsData(rows=_metric_rows(bytes(data)))

    def chat(self, model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> Plan[str]:
        """``chat.completions.create``; the answer's text."""
        return (yield from chat_answer(model, messages, max_tokens))


def _list_all(method: str, key: str) -> Plan[list[Any]]:
    """Every item of a page-token list (``page_size`` 200, ``next_page_token``)."""
    items: list[Any] = []
    token: str | None = None
    while True:
        args: dict[str, Any] = {"page_size": _PAGE}
        if token:
            args["page_token"] = token
        page = yield Call(method, args)
        items.extend(getattr(page, key, None) or [])
        token = getattr(page, "next_page_token", None)
        if not token:
            return items


def _sdk() -> Any:
    return load_sdk("fireworks", package="fireworks-ai", extra="fireworks")
