"""Fireworks AI's fine-tuning API in small: state, deterministic job lifecycle and routes.

Resources are account-scoped (``/v1/accounts/{account}/...``) and their ids are chosen by the
client: ``POST .../datasets`` takes ``datasetId`` in the body, ``POST
.../supervisedFineTuningJobs`` takes ``supervisedFineTuningJobId`` in the query. What the real
API answers to a create with an id that exists is not documented where we could read it, so
the emulator can do either (``duplicate_ids``): ``conflict`` answers 409 ``ALREADY_EXISTS``
(the default, as Google-style APIs do), ``return`` answers 200 with the existing resource.

Datasets are filled either by ``:upload`` (multipart, up to 150 MB) or through
``:getUploadEndpoint`` (a signed URL per file, ``PUT`` to this same server without the key) and
then ``:validateUpload``; only then are they ``READY``. Jobs go ``JOB_STATE_CREATING`` ->
``VALIDATING`` -> ``PENDING`` -> ``RUNNING`` -> ``WRITING_RESULTS`` -> ``COMPLETED`` on the
emulated clock; ``:cancel`` passes through ``CANCELLING``; ``:resume`` continues a failed,
cancelled or paused job from the step it reached. Each job serves its metrics as JSON lines at
its ``metricsFileSignedUrl``.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from finetune_kit.testing._chat import word_chat
from finetune_kit.testing._clock import Clock
from finetune_kit.testing._content import analyse, model_tokens
from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._multipart import parse_form
from finetune_kit.testing._wire import Request, Response

__all__ = ["DIRECT_UPLOAD_LIMIT", "FireworksState", "FwError", "route"]

DIRECT_UPLOAD_LIMIT = 150 * 1024 * 1024
"""``:upload`` takes files up to 150 MB; larger ones go through a signed URL."""

CREATING_SECONDS = 2.0
VALIDATING_SECONDS = 3.0
PENDING_SECONDS = 10.0
STEP_SECONDS = 2.0
WRITING_SECONDS = 5.0
CANCEL_SECONDS = 3.0
_EXAMPLES_PER_STEP = 8
_GRPC = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_TERMINAL = ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


class FwError(Exception):
    """An error answered the way Fireworks' gateway does: ``{"error": {code, message, status}}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> Response:
        """This error as an HTTP response."""
        grpc = _GRPC.get(self.status, "UNKNOWN")
        body = {"error": {"code": self.status, "message": self.message, "status": grpc}}
        return Response.json(body, status=self.status)


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise FwError(400, f"{what} is required")
    if len(value) > 63 or not set(value) <= _ID_CHARS or value[0] == "-" or value[-1] == "-":
        raise FwError(400, f"{what} {value!r} must be 1-63 lower-case letters, digits and hyphens")
    return value


@dataclass
class FDataset:
    """A dataset: created empty (``UPLOADING``), filled, then ``READY``."""

    name: str
    display_name: str
    created_at: float
    token: str
    content: bytes | None = None
    filename: str = ""
    ready: bool = False
    error: str | None = None
    lines: int = 0
    tokens: int = 0
    answers: Mapping[str, str] = field(default_factory=dict)

    def fill(self, content: bytes, filename: str) -> None:
        """Store the uploaded bytes and check them (the dataset becomes READY or errs)."""
        analysis = analyse(content, min_examples=1)
        self.content = content
        self.filename = filename
        self.error = analysis.error
        self.lines = analysis.examples
        self.tokens = analysis.tokens
        self.answers = analysis.answers
        self.ready = True

    def to_api(self) -> dict[str, Any]:
        """``Dataset``."""
        status = {"code": "OK", "message": ""}
        if self.error is not None:
            status = {"code": "INVALID_ARGUMENT", "message": self.error}
        return {
            "name": self.name,
            "displayName": self.display_name,
            "createTime": _iso(self.created_at),
            "updateTime": _iso(self.created_at),
            "state": "READY" if self.ready else "UPLOADING",
            "status": status,
            "exampleCount": str(self.lines),
            "estimatedTokenCount": str(self.tokens),
            "format": "CHAT",
            "userUploaded": {},
        }


@dataclass
class FJob:
    """A supervised fine-tuning job on the emulated clock."""

    name: str
    body: dict[str, Any]
    created_at: float
    steps: int
    tokens: int
    token: str
    start: float = 0.0
    steps_before: int = 0
    resumed: bool = False
    fail_at_step: int | None = None
    cancel_at: float | None = None
    paused_at: float | None = None
    deleted: bool = False

    def __post_init__(self) -> None:
        self.start = self.created_at

    @property
    def epochs(self) -> int:
        return int(self.body.get("epochs") or 1)

    def marks(self) -> list[tuple[str, float]]:
        """Each state and the seconds after ``start`` it begins."""
        if self.resumed:
            pre = [("JOB_STATE_RE_QUEUEING", 0.0)]
            running = PENDING_SECONDS
        else:
            pre = [
                ("JOB_STATE_CREATING", 0.0),
                ("JOB_STATE_VALIDATING", CREATING_SECONDS),
                ("JOB_STATE_PENDING", CREATING_SECONDS + VALIDATING_SECONDS),
            ]
            running = CREATING_SECONDS + VALIDATING_SECONDS + PENDING_SECONDS
        writing = running + (self.steps - self.steps_before) * STEP_SECONDS
        return [
            *pre,
            ("JOB_STATE_RUNNING", running),
            ("JOB_STATE_WRITING_RESULTS", writing),
            ("JOB_STATE_COMPLETED", writing + WRITING_SECONDS),
        ]

    def _running_at(self) -> float:
        return dict(self.marks())["JOB_STATE_RUNNING"]

    def steps_done(self, now: float) -> int:
        """Training steps finished by ``now``."""
        until = now
        for stop in (self.cancel_at, self.paused_at):
            if stop is not None:
                until = min(until, stop)
        age = until - self.start - self._running_at()
        done = self.steps_before + max(0, int(age // STEP_SECONDS))
        if self.fail_at_step is not None:
            done = min(done, self.fail_at_step)
        return min(done, self.steps)

    def state(self, now: float) -> str:
        """The job's ``JOB_STATE_*`` at emulated time ``now``."""
        if self.cancel_at is not None:
            return (
                "JOB_STATE_CANCELLED"
                if now - self.cancel_at >= CANCEL_SECONDS
                else ("JOB_STATE_CANCELLING")
            )
        if self.paused_at is not None:
            return "JOB_STATE_PAUSED"
        if self.fail_at_step is not None and self.steps_done(now) >= self.fail_at_step:
            age = now - self.start - self._running_at()
            if age >= (self.fail_at_step - self.steps_before) * STEP_SECONDS:
                return "JOB_STATE_FAILED"
        current = "JOB_STATE_CREATING"
        for name, offset in self.marks():
            if now - self.start >= offset:
                current = name
        return current

    @property
    def output_model(self) -> str:
        account = self.name.split("/")[1]
        chosen = self.body.get("outputModel") or self.name.rsplit("/", 1)[-1]
        return f"accounts/{account}/models/{chosen}"

    def to_api(self, now: float, base_url: str) -> dict[str, Any]:
        """``SupervisedFineTuningJob``."""
        state = self.state(now)
        done = self.steps_done(now)
        per_epoch = max(1, self.steps // self.epochs)
        out: dict[str, Any] = {
            "name": self.name,
            "displayName": self.body.get("displayName") or self.name.rsplit("/", 1)[-1],
            "createTime": _iso(self.created_at),
            "updateTime": _iso(now),
            "createdBy": "emulator@example.com",
            "state": state,
            "status": {"code": "OK", "message": ""},
            "dataset": self.body["dataset"],
            "baseModel": self.body.get("baseModel"),
            "outputModel": self.output_model,
            "epochs": self.epochs,
            "learningRate": float(self.body.get("learningRate") or 1e-4),
            "loraRank": int(self.body.get("loraRank") or 8),
            "maxContextLength": int(self.body.get("maxContextLength") or 32768),
            "batchSize": int(self.body.get("batchSize") or 32768),
            "jobProgress": {
                "percent": min(100, done * 100 // self.steps),
                "epoch": min(self.epochs - 1, done // per_epoch),
            },
            "metricsFileSignedUrl": f"{base_url}/_signed/metrics/{self.name}?token={self.token}",
        }
        for key in ("evaluationDataset", "warmStartFrom"):
            if self.body.get(key):
                out[key] = self.body[key]
        if state == "JOB_STATE_FAILED":
            out["status"] = {"code": "INTERNAL", "message": "Training failed: worker lost."}
        if state in _TERMINAL:
            out["completedTime"] = _iso(now)
        return out

    def metrics(self, now: float) -> list[dict[str, float]]:
        """One row per finished step (``step``, ``train_loss``, ``epoch``)."""
        per_epoch = max(1, self.steps // self.epochs)
        rows = []
        for step in range(1, self.steps_done(now) + 1):
            loss = round(2.0 * math.exp(-3.0 * step / self.steps) + 0.1, 6)
            rows.append({"step": step, "train_loss": loss, "epoch": (step - 1) // per_epoch})
        return rows


class FireworksState:
    """Everything one Fireworks emulator holds, behind one lock.

    Args:
        clock: The emulated clock.
        seed: Seed of the id generator.
        duplicate_ids: What a create with an existing id answers: ``conflict`` (409
            ``ALREADY_EXISTS``) or ``return`` (200 with the existing resource).
        models: The base models it tunes.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        seed: int = 0,
        duplicate_ids: str = "conflict",
        models: frozenset[str] = frozenset(),
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.ids = IdMaker(seed)
        self.duplicate_ids = duplicate_ids
        self.models = models
        self.datasets: dict[str, FDataset] = {}
        self.jobs: dict[str, FJob] = {}
        self.pending_failures = 0
        self.base_url = ""

    # -- inspection (for tests) ---------------------------------------------------------------

    def list_datasets(self) -> list[dict[str, Any]]:
        """Every dataset (oldest first), as ``GET .../datasets`` shows them."""
        with self.lock:
            return [d.to_api() for d in self.datasets.values()]

    def list_jobs(self) -> list[dict[str, Any]]:
        """Every job not deleted (oldest first), as it is now."""
        with self.lock:
            now = self.clock.now()
            return [j.to_api(now, self.base_url) for j in self.jobs.values() if not j.deleted]

    def pause(self, job_name: str) -> None:
        """Pause a running job (Fireworks pauses jobs itself, e.g. on account suspension)."""
        with self.lock:
            job = self.job(job_name)
            job.paused_at = self.clock.now()

    # -- datasets ----------------------------------------------------------------------------

    def create_dataset(self, account: str, body: Mapping[str, Any]) -> dict[str, Any]:
        dataset_id = _check_id(body.get("datasetId"), "datasetId")
        spec = body.get("dataset")
        if not isinstance(spec, Mapping):
            raise FwError(400, "dataset is required")
        name = f"accounts/{account}/datasets/{dataset_id}"
        existing = self.datasets.get(name)
        if existing is not None:
            if self.duplicate_ids == "conflict":
                raise FwError(409, f"dataset {name} already exists")
            return existing.to_api()
        stored = FDataset(
            name=name,
            display_name=str(spec.get("displayName") or dataset_id),
            created_at=self.clock.now(),
            token=self.ids.token(24),
        )
        self.datasets[name] = stored
        return stored.to_api()

    def dataset(self, name: str) -> FDataset:
        found = self.datasets.get(name)
        if found is None:
            raise FwError(404, f"dataset {name} not found")
        return found

    def upload(self, name: str, request: Request) -> dict[str, Any]:
        stored = self.dataset(name)
        if stored.ready:
            raise FwError(412, f"dataset {name} already holds an upload")
        form = parse_form(request)
        upload = form.files.get("file")
        if upload is None:
            raise FwError(400, "file is required")
        if len(upload.content) > DIRECT_UPLOAD_LIMIT:
            raise FwError(400, "files over 150 MB go through :getUploadEndpoint")
        stored.fill(upload.content, upload.filename or "data.jsonl")
        return {
            "id": name,
            "object": "file",
            "bytes": len(upload.content),
            "created_at": int(stored.created_at),
            "filename": stored.filename,
            "purpose": "fine-tune",
        }

    def upload_endpoint(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        stored = self.dataset(name)
        sizes = body.get("filenameToSize")
        if not isinstance(sizes, Mapping) or len(sizes) != 1:
            raise FwError(400, "filenameToSize must name exactly one file")
        filename = next(iter(sizes))
        stored.filename = str(filename)
        url = f"{self.base_url}/_signed/datasets/{name}?token={stored.token}"
        return {"filenameToSignedUrls": {filename: url}}

    def put_signed(self, name: str, request: Request) -> Response:
        stored = self.datasets.get(name)
        if stored is None or request.query.get("token") != stored.token:
            raise FwError(403, "the signed URL is not valid")
        if stored.ready:
            raise FwError(403, "the signed URL was already used")
        stored.content = request.body
        return Response(200, b"", content_type="text/plain")

    def validate_upload(self, name: str) -> dict[str, Any]:
        stored = self.dataset(name)
        if not stored.ready:
            if stored.content is None:
                raise FwError(412, f"dataset {name} has no uploaded file yet")
            stored.fill(stored.content, stored.filename)
        return {}

    def delete_dataset(self, name: str) -> dict[str, Any]:
        self.dataset(name)
        del self.datasets[name]
        return {}

    # -- jobs -----------------------------------------------------------------------------------

    def create_job(self, account: str, request: Request) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise FwError(400, "the request body must be a JSON object")
        job_id = request.query.get("supervisedFineTuningJobId") or self.ids.token(12).lower()
        name = f"accounts/{account}/supervisedFineTuningJobs/{_check_id(job_id, 'job id')}"
        now = self.clock.now()
        existing = self.jobs.get(name)
        if existing is not None and not existing.deleted:
            if self.duplicate_ids == "conflict":
                raise FwError(409, f"supervisedFineTuningJob {name} already exists")
            return existing.to_api(now, self.base_url)
        dataset = self.dataset(str(body.get("dataset") or ""))
        if not dataset.ready or dataset.error is not None:
            raise FwError(400, f"dataset {dataset.name} is not ready: {dataset.error or 'upload'}")
        if body.get("evaluationDataset"):
            self.dataset(str(body["evaluationDataset"]))
        base = body.get("baseModel")
        if not base and not body.get("warmStartFrom"):
            raise FwError(400, "one of baseModel or warmStartFrom is required")
        if base and self.models and base not in self.models:
            raise FwError(404, f"model {base} is not available for fine-tuning")
        epochs = body.get("epochs") or 1
        if not isinstance(epochs, int) or not 1 <= epochs <= 20:
            raise FwError(400, "epochs must be between 1 and 20")
        steps = max(1, math.ceil(dataset.lines / _EXAMPLES_PER_STEP)) * epochs
        job = FJob(
            name=name,
            body=body,
            created_at=now,
            steps=steps,
            tokens=model_tokens(dataset.content or b"", str(base or ""), dataset.tokens) * epochs,
            token=self.ids.token(24),
        )
        if self.pending_failures:
            self.pending_failures -= 1
            job.fail_at_step = max(1, steps // 2)
        self.jobs[name] = job
        return job.to_api(now, self.base_url)

    def job(self, name: str) -> FJob:
        found = self.jobs.get(name)
        if found is None or found.deleted:
            raise FwError(404, f"supervisedFineTuningJob {name} not found")
        return found

    def cancel(self, name: str) -> dict[str, Any]:
        job = self.job(name)
        now = self.clock.now()
        if job.state(now) in _TERMINAL:
            raise FwError(412, f"job {name} has finished and cannot be cancelled")
        if job.cancel_at is None:
            job.cancel_at = now
        return job.to_api(now, self.base_url)

    def resume(self, name: str) -> dict[str, Any]:
        job = self.job(name)
        now = self.clock.now()
        state = job.state(now)
        if state not in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_PAUSED"):
            raise FwError(412, f"job {name} is {state}; only failed, cancelled or paused resume")
        job.steps_before = job.steps_done(now)
        job.start = now
        job.resumed = True
        job.fail_at_step = job.cancel_at = job.paused_at = None
        return job.to_api(now, self.base_url)

    def delete_job(self, name: str) -> dict[str, Any]:
        self.job(name).deleted = True
        return {}

    def metrics_file(self, name: str, token: str) -> Response:
        job = self.jobs.get(name)
        if job is None or token != job.token:
            raise FwError(403, "the signed URL is not valid")
        lines = "".join(json.dumps(r) + "\n" for r in job.metrics(self.clock.now()))
        return Response(200, lines.encode(), content_type="application/jsonl")

    def chat(self, body: Mapping[str, Any]) -> dict[str, Any]:
        model = str(body.get("model") or "")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise FwError(400, "messages is required")
        now = self.clock.now()
        job = next(
            (
                j
                for j in self.jobs.values()
                if j.output_model == model and j.state(now) == "JOB_STATE_COMPLETED"
            ),
            None,
        )
        if job is None and model not in self.models:
            raise FwError(404, f"model {model} not found")
        answers = self.datasets[job.body["dataset"]].answers if job is not None else None
        return word_chat(
            body,
            messages,
            answers=answers,
            now=now,
            completion_id=f"chatcmpl-{self.ids.token(16).lower()}",
        )


# -- routes ---------------------------------------------------------------------------------------


def _authorize(request: Request, api_key: str | None) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise FwError(401, "missing API key: set the Authorization: Bearer header")
    if api_key is not None and key.strip() != api_key:
        raise FwError(401, "invalid API key")


def _page(items: list[dict[str, Any]], request: Request, key: str) -> dict[str, Any]:
    try:
        size = int(request.query.get("pageSize") or 50)
        start = int(request.query.get("pageToken") or 0)
    except ValueError as exc:
        raise FwError(400, "pageSize and pageToken must be integers") from exc
    size = max(1, min(size, 200))
    chunk = items[start : start + size]
    out: dict[str, Any] = {key: chunk}
    if start + size < len(items):
        out["nextPageToken"] = str(start + size)
    return out


def route(state: FireworksState, request: Request, *, api_key: str | None = None) -> Response:
    """Answer one request like Fireworks' API (errors as JSON bodies; nothing raises)."""
    try:
        path = request.path
        if path.startswith("/_signed/"):
            return _signed(state, request, path.removeprefix("/_signed/"))
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != "v1":
            raise FwError(404, f"no route for {request.method} {path}")
        _authorize(request, api_key)
        with state.lock:
            return _v1(state, request, parts[1:])
    except FwError as exc:
        return exc.response()
    except Exception as exc:  # a bug in the emulator: answer like the API's 500s
        return FwError(500, f"internal error: {exc!r}").response()


def _signed(state: FireworksState, request: Request, rest: str) -> Response:
    kind, _, name = rest.partition("/")
    with state.lock:
        if kind == "datasets" and request.method == "PUT":
            return state.put_signed(name, request)
        if kind == "metrics" and request.method == "GET":
            return state.metrics_file(name, request.query.get("token", ""))
    raise FwError(404, f"no route for {request.method} {request.path}")


def _v1(state: FireworksState, request: Request, parts: list[str]) -> Response:
    method = request.method
    now = state.clock.now()
    if parts == ["chat", "completions"] and method == "POST":
        return Response.json(state.chat(request.json()))
    if len(parts) < 3 or parts[0] != "accounts":
        raise FwError(404, f"no route for {method} {request.path}")
    account, collection, rest = parts[1], parts[2], parts[3:]
    if collection == "datasets":
        if not rest:
            if method == "POST":
                return Response.json(state.create_dataset(account, request.json()))
            if method == "GET":
                return Response.json(_page(state.list_datasets(), request, "datasets"))
        elif len(rest) == 1:
            dataset_id, _, verb = rest[0].partition(":")
            name = f"accounts/{account}/datasets/{dataset_id}"
            if not verb and method == "GET":
                return Response.json(state.dataset(name).to_api())
            if not verb and method == "DELETE":
                return Response.json(state.delete_dataset(name))
            if verb == "upload" and method == "POST":
                return Response.json(state.upload(name, request))
            if verb == "getUploadEndpoint" and method == "POST":
                return Response.json(state.upload_endpoint(name, request.json()))
            if verb == "validateUpload" and method == "POST":
                return Response.json(state.validate_upload(name))
    if collection == "supervisedFineTuningJobs":
        if not rest:
            if method == "POST":
                return Response.json(state.create_job(account, request))
            if method == "GET":
                jobs = [
                    j.to_api(now, state.base_url)
                    for j in state.jobs.values()
                    if not j.deleted and j.name.split("/")[1] == account
                ]
                return Response.json(_page(jobs, request, "supervisedFineTuningJobs"))
        elif len(rest) == 1:
            job_id, _, verb = rest[0].partition(":")
            name = f"accounts/{account}/supervisedFineTuningJobs/{job_id}"
            if not verb and method == "GET":
                return Response.json(state.job(name).to_api(now, state.base_url))
            if not verb and method == "DELETE":
                return Response.json(state.delete_job(name))
            if verb == "cancel" and method == "POST":
                return Response.json(state.cancel(name))
            if verb == "resume" and method == "POST":
                return Response.json(state.resume(name))
    raise FwError(404, f"no route for {method} {request.path}")
