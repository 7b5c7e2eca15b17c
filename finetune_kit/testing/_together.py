"""Together AI's fine-tuning API in small: state, deterministic job lifecycle and routes.

Files go through the presigned dance the ``together`` SDK performs: ``POST /v1/files`` reserves
an id and answers ``302`` with a ``Location`` to ``PUT`` the bytes to (on this same server, no
Bearer key, a one-time token instead), then ``POST /v1/files/{id}/preprocess`` commits the file
and checks it. Only committed files are listed. Jobs go ``pending`` -> ``queued`` ->
``running`` -> ``compressing`` -> ``uploading`` -> ``completed`` on the emulated clock.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from finetune_kit.testing._chat import word_chat
from finetune_kit.testing._clock import Clock
from finetune_kit.testing._content import analyse, model_tokens
from finetune_kit.testing._ids import IdMaker
from finetune_kit.testing._multipart import parse_form
from finetune_kit.testing._wire import ApiError, Request, Response, bad_request, not_found

__all__ = ["TogetherState", "route"]

PENDING_SECONDS = 5.0
QUEUED_SECONDS = 10.0
STEP_SECONDS = 2.0
COMPRESSING_SECONDS = 5.0
UPLOADING_SECONDS = 5.0
CANCEL_SECONDS = 3.0
_PURPOSES = ("fine-tune", "calibration", "eval", "batch-api")
_USER = "emulator-user"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ModelLimits:
    """One tunable model of the emulator (read from ``finetune_kit/data/together.json``)."""

    name: str
    context_sft: int
    context_dpo: int
    full: bool
    sft_per_1m: float
    dpo_per_1m: float

    def to_api(self) -> dict[str, Any]:
        """``FinetuneModelLimits``."""
        full = {"max_batch_size": 32, "max_batch_size_dpo": 16, "min_batch_size": 8}
        return {
            "model_name": self.name,
            "default_gradient_accumulation_steps": 1,
            "lora_training": {
                "default_rank": 16,
                "max_batch_size": 64,
                "max_batch_size_dpo": 32,
                "max_rank": 64,
                "min_batch_size": 8,
                "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
            },
            "full_training": full if self.full else None,
            "max_learning_rate": 1.0,
            "min_learning_rate": 1e-8,
            "max_num_checkpoints": 10,
            "max_num_epochs": 20,
            "max_num_evals": 100,
            "max_seq_length_sft": self.context_sft,
            "max_seq_length_dpo": self.context_dpo,
            "min_max_seq_length": 1024,
            "merge_output_lora": False,
            "supports_full_training": self.full,
            "supports_reasoning": True,
            "supports_tools": True,
            "supports_vision": False,
        }


def load_models() -> dict[str, ModelLimits]:
    """The bundled Together model table."""
    text = resources.files("finetune_kit").joinpath("data/together.json").read_text("utf-8")
    models: dict[str, ModelLimits] = {}
    for name, spec in json.loads(text)["models"].items():
        price = spec["prices"][-1]
        models[name] = ModelLimits(
            name,
            int(spec["context_sft"]),
            int(spec["context_dpo"]),
            bool(spec["full"]),
            float(price["training_per_1m"]),
            float(price["dpo_training_per_1m"]),
        )
    return models


@dataclass
class TFile:
    """A file: reserved by ``POST /v1/files``, filled by ``PUT``, committed by preprocess."""

    id: str
    filename: str
    purpose: str
    file_type: str
    created_at: float
    token: str
    content: bytes | None = None
    committed: bool = False
    error: str | None = None
    lines: int = 0
    tokens: int = 0
    answers: Mapping[str, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """``FileResponse``."""
        report: dict[str, Any] = {
            "valid": self.error is None,
            "file_id": self.id,
            "nlines": self.lines,
            "dataset_format": "CONVERSATION",
        }
        if self.error is not None:
            report.update(error=self.error, error_type="INVALID_FORMAT")
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content or b""),
            "created_at": int(self.created_at),
            "filename": self.filename,
            "FileType": self.file_type,
            "purpose": self.purpose,
            "processing_status": "COMPLETED" if self.error is None else "INVALID_FORMAT",
            "validation_report": report,
        }


@dataclass
class TJob:
    """A fine-tuning job and what it was asked for."""

    id: str
    body: dict[str, Any]
    created_at: float
    steps: int
    tokens: int
    batch_size: int
    price: int
    fail_at_step: int | None = None
    cancel_requested_at: float | None = None

    @property
    def epochs(self) -> int:
        return int(self.body.get("n_epochs") or 1)

    def offsets(self) -> dict[str, float]:
        """Seconds after creation each stage starts."""
        running = PENDING_SECONDS + QUEUED_SECONDS
        compressing = running + self.steps * STEP_SECONDS
        uploading = compressing + COMPRESSING_SECONDS
        return {
            "queued": PENDING_SECONDS,
            "running": running,
            "compressing": compressing,
            "uploading": uploading,
            "completed": uploading + UPLOADING_SECONDS,
        }

    def status(self, now: float) -> str:
        """The status at emulated time ``now``."""
        if self.cancel_requested_at is not None:
            done = now - self.cancel_requested_at >= CANCEL_SECONDS
            return "cancelled" if done else "cancel_requested"
        age = now - self.created_at
        marks = self.offsets()
        if self.fail_at_step is not None:
            fail = marks["running"] + self.fail_at_step * STEP_SECONDS
            if age >= fail:
                return "error"
        current = "pending"
        for name, offset in marks.items():
            if age >= offset:
                current = name
        return current

    def steps_done(self, now: float) -> int:
        age = now - self.created_at - self.offsets()["running"]
        if age <= 0:
            return 0
        last = self.fail_at_step if self.fail_at_step is not None else self.steps
        done = min(last, int(age // STEP_SECONDS))
        if self.cancel_requested_at is not None:
            stop = self.cancel_requested_at - self.created_at - self.offsets()["running"]
            done = min(done, max(0, int(stop // STEP_SECONDS)))
        return done

    @property
    def output_name(self) -> str:
        base = str(self.body["model"]).split("/")[-1]
        suffix = self.body.get("suffix")
        tail = self.id.removeprefix("ft-")[:8]
        return f"{_USER}/{base}{'-' + suffix if suffix else ''}-{tail}"

    def events(self, now: float) -> list[dict[str, Any]]:
        """Every event up to ``now``, oldest first (``FinetuneEvent``)."""
        out: list[dict[str, Any]] = []
        marks = self.offsets()
        status = self.status(now)

        def add(offset: float, kind: str, message: str, level: str = "info", **extra: Any) -> None:
            at = self.created_at + offset
            if at <= now:
                out.append(
                    {
                        "object": "fine-tune-event",
                        "created_at": _iso(at),
                        "type": kind,
                        "message": message,
                        "level": level,
                        **extra,
                    }
                )

        add(0.0, "job_pending", "Fine-tune request created")
        add(marks["queued"], "training_data_download_complete", "Training data downloaded")
        add(marks["running"], "job_start", "Job started")
        add(marks["running"], "training_start", "Training started")
        per_epoch = max(1, self.steps // self.epochs)
        checkpoints = int(self.body.get("n_checkpoints") or 1)
        every = max(1, self.steps // checkpoints)
        done = self.steps_done(now)
        for step in range(1, done + 1):
            at = marks["running"] + step * STEP_SECONDS
            if step % per_epoch == 0 and step // per_epoch <= self.epochs:
                add(at, "epoch_complete", f"Epoch {step // per_epoch} completed", step=step)
            if step % every == 0 and step < self.steps:
                add(at, "checkpoint_save", f"Checkpoint saved at step {step}", step=step)
        if self.fail_at_step is not None and status == "error":
            at = marks["running"] + self.fail_at_step * STEP_SECONDS
            add(at, "job_error", "The job failed due to an internal error.", "error")
            return out
        if self.cancel_requested_at is not None:
            at = self.cancel_requested_at - self.created_at
            add(at, "cancel_requested", "Cancellation requested")
            if status == "cancelled":
                add(at + CANCEL_SECONDS, "job_stopped", "Job cancelled")
            return out
        add(marks["compressing"], "training_complete", "Training completed", step=self.steps)
        add(marks["compressing"], "model_compressing", "Compressing output model")
        add(marks["uploading"], "model_uploading", "Uploading output model")
        add(marks["completed"], "job_complete", f"Job finished: {self.output_name}")
        return out

    def to_api(self, now: float) -> dict[str, Any]:
        """``FinetuneResponse``."""
        status = self.status(now)
        body = self.body
        method = str(body.get("training_method", {}).get("method", "sft"))
        training_method: dict[str, Any] = {"method": "sft", "train_on_inputs": "auto"}
        if method == "dpo":
            training_method = {
                "method": "dpo",
                "dpo_beta": body["training_method"].get("dpo_beta"),
                "dpo_normalize_logratios_by_length": False,
                "dpo_reference_free": False,
            }
        tt = body.get("training_type") or {"type": "Full"}
        if tt.get("type") == "Lora":
            training_type: dict[str, Any] = {
                "type": "Lora",
                "lora_r": int(tt.get("lora_r") or 16),
                "lora_alpha": int(tt.get("lora_alpha") or 32),
                "lora_dropout": float(tt.get("lora_dropout") or 0.0),
                "lora_trainable_modules": str(tt.get("lora_trainable_modules") or "all-linear"),
            }
        else:
            training_type = {"type": "Full"}
        finished = status in ("completed", "cancelled", "error")
        marks = self.offsets()
        updated = self.created_at + (marks.get(status, 0.0) if status in marks else 0.0)
        if status == "error" and self.fail_at_step is not None:
            updated = self.created_at + marks["running"] + self.fail_at_step * STEP_SECONDS
        if self.cancel_requested_at is not None:
            updated = self.cancel_requested_at + (CANCEL_SECONDS if status == "cancelled" else 0)
        output = self.output_name
        return {
            "id": self.id,
            "status": status,
            "user_id": _USER,
            "owner_address": _USER,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(max(self.created_at, updated) if finished else now),
            "started_at": _iso(self.created_at + marks["running"])
            if now - self.created_at >= marks["running"]
            else None,
            "model": body["model"],
            "model_output_name": output,
            "adapter_output_name": f"{output}-adapter" if training_type["type"] == "Lora" else None,
            "training_file": body["training_file"],
            "validation_file": body.get("validation_file") or None,
            "n_epochs": self.epochs,
            "n_checkpoints": int(body.get("n_checkpoints") or 1),
            "n_evals": int(body.get("n_evals") or 0),
            "batch_size": self.batch_size,
            "learning_rate": float(body.get("learning_rate") or 1e-5),
            "warmup_ratio": float(body.get("warmup_ratio") or 0.0),
            "max_grad_norm": float(body.get("max_grad_norm") or 1.0),
            "weight_decay": float(body.get("weight_decay") or 0.0),
            "suffix": body.get("suffix"),
            "random_seed": body.get("random_seed"),
            "training_method": training_method,
            "training_type": training_type,
            "token_count": self.tokens,
            "total_price": self.price,
            "param_count": 20_000_000_000,
            "epochs_completed": min(self.epochs, self.steps_done(now) * self.epochs // self.steps),
            "steps_completed": self.steps_done(now),
            "total_steps": self.steps,
            "queue_depth": 0,
            "events": [],
        }


class TogetherState:
    """Everything one Together emulator holds, behind one lock.

    Args:
        clock: The emulated clock.
        seed: Seed of the id generator.
    """

    def __init__(self, *, clock: Clock, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.ids = IdMaker(seed)
        self.models = load_models()
        self.files: dict[str, TFile] = {}
        self.jobs: dict[str, TJob] = {}
        self.pending_failures = 0
        self.base_url = ""

    def _uuid(self, prefix: str) -> str:
        token = self.ids.token(32).lower()
        digest = hashlib.sha256(token.encode()).hexdigest()
        return (
            f"{prefix}{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        )

    # -- inspection (for tests) --------------------------------------------------------------

    def list_files(self) -> list[dict[str, Any]]:
        """Every committed file (oldest first), as ``GET /v1/files`` shows them."""
        with self.lock:
            return [f.to_api() for f in self.files.values() if f.committed]

    def list_jobs(self) -> list[dict[str, Any]]:
        """Every job (oldest first), as it is now."""
        with self.lock:
            now = self.clock.now()
            return [j.to_api(now) for j in self.jobs.values()]

    # -- files --------------------------------------------------------------------------------

    def reserve(self, request: Request) -> Response:
        form = parse_form(request)
        name = form.fields.get("file_name") or ""
        purpose = form.fields.get("purpose") or ""
        if not name:
            raise bad_request("Missing required parameter: 'file_name'.", param="file_name")
        if purpose not in _PURPOSES:
            raise bad_request(f"Invalid purpose {purpose!r}.", param="purpose")
        file_type = form.fields.get("file_type") or "jsonl"
        stored = TFile(
            id=self._uuid("file-"),
            filename=name,
            purpose=purpose,
            file_type=file_type,
            created_at=self.clock.now(),
            token=self.ids.token(24),
        )
        self.files[stored.id] = stored
        location = f"{self.base_url}/_presigned/{stored.id}?token={stored.token}"
        return Response(
            302,
            b"",
            content_type="text/plain",
            headers={"Location": location, "X-Together-File-Id": stored.id},
        )

    def put_content(self, request: Request) -> Response:
        stored = self.files.get(request.params["id"])
        if stored is None or request.query.get("token") != stored.token:
            raise ApiError(403, "The presigned URL is not valid.", type="invalid_request_error")
        if stored.committed:
            raise ApiError(403, "The presigned URL was already used.", type="invalid_request_error")
        stored.content = request.body
        return Response(200, b"", content_type="text/plain", headers={"ETag": '"emulated"'})

    def preprocess(self, file_id: str) -> dict[str, Any]:
        stored = self.files.get(file_id)
        if stored is None:
            raise not_found(f"File {file_id} not found.")
        if stored.content is None:
            raise bad_request(f"File {file_id} has no content: PUT it to its upload URL first.")
        if not stored.committed:
            analysis = analyse(stored.content, min_examples=1)
            stored.error = analysis.error
            stored.lines = analysis.examples
            stored.tokens = analysis.tokens
            stored.answers = analysis.answers
            stored.committed = True
        return stored.to_api()

    def file(self, file_id: str) -> TFile:
        stored = self.files.get(file_id)
        if stored is None or not stored.committed:
            raise not_found(f"File {file_id} not found.")
        return stored

    # -- jobs -----------------------------------------------------------------------------------

    def limits(self, model: str) -> ModelLimits:
        found = self.models.get(model)
        if found is None:
            raise ApiError(
                404,
                f"Model {model!r} is not available for fine-tuning.",
                type="invalid_request_error",
                code="model_not_available",
            )
        return found

    def _inputs(self, body: Mapping[str, Any]) -> tuple[TFile, TFile | None, ModelLimits]:
        training_id = body.get("training_file")
        if not isinstance(training_id, str) or not training_id:
            raise bad_request("Missing required parameter: 'training_file'.", param="training_file")
        training = self.file(training_id)
        if training.error is not None:
            raise bad_request(f"Training file {training_id} is invalid: {training.error}")
        validation = None
        if body.get("validation_file"):
            validation = self.file(str(body["validation_file"]))
        return training, validation, self.limits(str(body.get("model") or ""))

    def _price(self, body: Mapping[str, Any], tokens: int, limits: ModelLimits) -> float:
        method = str((body.get("training_method") or {}).get("method", "sft"))
        per_1m = limits.dpo_per_1m if method == "dpo" else limits.sft_per_1m
        return tokens * int(body.get("n_epochs") or 1) * per_1m / 1e6

    def _tokens(self, stored: TFile, body: Mapping[str, Any]) -> int:
        """The file's billed tokens per epoch in the job's model's tokens."""
        assert stored.content is not None  # committed files have content
        return model_tokens(stored.content, str(body.get("model") or ""), stored.tokens)

    def estimate(self, body: Mapping[str, Any]) -> dict[str, Any]:
        training, validation, limits = self._inputs(body)
        tokens = self._tokens(training, body)
        evals = self._tokens(validation, body) * int(body.get("n_evals") or 0) if validation else 0
        price = self._price(body, tokens + evals, limits)
        return {
            "estimation_available": True,
            "allowed_to_proceed": True,
            "estimated_total_price": round(price, 6),
            "estimated_train_token_count": float(tokens * int(body.get("n_epochs") or 1)),
            "estimated_eval_token_count": float(evals),
            "user_limit": 100.0,
        }

    def create(self, body: dict[str, Any]) -> TJob:
        training, _, limits = self._inputs(body)
        epochs = body.get("n_epochs") or 1
        if not isinstance(epochs, int) or not 1 <= epochs <= 20:
            raise bad_request("n_epochs must be between 1 and 20.", param="n_epochs")
        method = str((body.get("training_method") or {}).get("method", "sft"))
        lora = (body.get("training_type") or {}).get("type") == "Lora"
        if not lora and not limits.full:
            raise bad_request(f"Full fine-tuning is not available for {limits.name}.")
        maximum = 64 if lora else 32
        if method == "dpo":
            maximum //= 2
        requested = body.get("batch_size")
        batch = maximum if requested in (None, "max") else int(requested)
        steps = max(1, math.ceil(training.lines / max(1, batch // 8))) * epochs
        tokens = self._tokens(training, body)
        job = TJob(
            id=self._uuid("ft-"),
            body=body,
            created_at=self.clock.now(),
            steps=steps,
            tokens=tokens,
            batch_size=batch,
            price=round(self._price(body, tokens, limits) * 100),
        )
        if self.pending_failures:
            self.pending_failures -= 1
            job.fail_at_step = max(1, steps // 2)
        self.jobs[job.id] = job
        return job

    def job(self, job_id: str) -> TJob:
        found = self.jobs.get(job_id)
        if found is None:
            raise not_found(f"Fine-tune job {job_id} not found.")
        return found

    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        now = self.clock.now()
        if job.status(now) in ("completed", "cancelled", "error"):
            raise bad_request(f"Job {job_id} has already finished and cannot be cancelled.")
        if job.cancel_requested_at is None:
            job.cancel_requested_at = now
        return job.to_api(now)

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        job = self.job(job_id)
        now = self.clock.now()
        every = max(1, job.steps // int(job.body.get("n_checkpoints") or 1))
        done = job.steps_done(now)
        items = [
            {
                "checkpoint_type": f"Intermediate - step {step}",
                "created_at": _iso(job.created_at + job.offsets()["running"] + step * STEP_SECONDS),
                "path": f"s3://emulator/{job.id}/checkpoint-{step}",
                "step": step,
                "checkpoint": "adapter",
            }
            for step in range(every, min(done, job.steps - 1) + 1, every)
        ]
        if job.status(now) == "completed":
            items.append(
                {
                    "checkpoint_type": "Final",
                    "created_at": _iso(job.created_at + job.offsets()["compressing"]),
                    "path": f"s3://emulator/{job.id}/final",
                    "step": job.steps,
                    "checkpoint": "model",
                }
            )
        return items[::-1]

    def metrics(self, job_id: str) -> list[dict[str, float]]:
        job = self.job(job_id)
        rows: list[dict[str, float]] = []
        for step in range(1, job.steps_done(self.clock.now()) + 1):
            loss = round(2.0 * math.exp(-3.0 * step / job.steps) + 0.1, 6)
            row = {"global_step": float(step), "loss": loss, "learning_rate": 1e-5}
            if job.body.get("validation_file") and step == job.steps:
                row["eval_loss"] = round(loss * 1.1, 6)
            rows.append(row)
        return rows

    def chat(self, body: Mapping[str, Any]) -> dict[str, Any]:
        model = str(body.get("model") or "")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise bad_request("Missing required parameter: 'messages'.", param="messages")
        now = self.clock.now()
        job = next(
            (
                j
                for j in self.jobs.values()
                if j.output_name == model and j.status(now) == "completed"
            ),
            None,
        )
        if job is None and model not in self.models:
            raise ApiError(404, f"Unable to access model {model}.", code="model_not_available")
        answers = self.files[job.body["training_file"]].answers if job is not None else None
        return word_chat(
            body,
            messages,
            answers=answers,
            now=now,
            completion_id=self._uuid("chatcmpl-"),
            extra={"prompt": []},
        )


# -- routes ---------------------------------------------------------------------------------------


def _ok(data: Any) -> Response:
    return Response.json(data)


def _split(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def _authorize(request: Request, api_key: str | None) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "Missing API key: set the Authorization: Bearer header.")
    if api_key is not None and key.strip() != api_key:
        raise ApiError(401, "Invalid API key provided.", code="invalid_api_key")


def route(state: TogetherState, request: Request, *, api_key: str | None = None) -> Response:
    """Answer one request like Together's API (errors as JSON bodies; nothing raises)."""
    try:
        parts = _split(request.path)
        method = request.method
        if len(parts) == 2 and parts[0] == "_presigned" and method == "PUT":
            request.params = {"id": parts[1]}
            with state.lock:
                return state.put_content(request)
        if not parts or parts[0] != "v1":
            raise ApiError(404, f"Invalid URL ({method} {request.path})")
        _authorize(request, api_key)
        with state.lock:
            return _v1(state, request, parts[1:])
    except ApiError as exc:
        return exc.response()
    except Exception as exc:  # a bug in the emulator: answer like the API's 500s
        return ApiError(500, f"Internal server error: {exc!r}", type="server_error").response()


def _v1(state: TogetherState, request: Request, parts: list[str]) -> Response:
    method = request.method
    now = state.clock.now()
    match parts:
        case ["files"] if method == "POST":
            return state.reserve(request)
        case ["files"] if method == "GET":
            return _ok({"data": state.list_files()})
        case ["files", file_id] if method == "GET":
            return _ok(state.file(file_id).to_api())
        case ["files", file_id, "preprocess"] if method == "POST":
            return _ok(state.preprocess(file_id))
        case ["files", file_id, "content"] if method == "GET":
            content = state.file(file_id).content or b""
            return Response(200, content, content_type="application/octet-stream")
        case ["fine-tunes", "models", "limits"] if method == "GET":
            return _ok(state.limits(request.query.get("model_name", "")).to_api())
        case ["fine-tunes", "estimate-price"] if method == "POST":
            return _ok(state.estimate(request.json()))
        case ["fine-tunes"] if method == "POST":
            return _ok(state.create(request.json()).to_api(now))
        case ["fine-tunes"] if method == "GET":
            return _ok({"data": [j.to_api(now) for j in state.jobs.values()]})
        case ["fine-tunes", job_id] if method == "GET":
            return _ok(state.job(job_id).to_api(now))
        case ["fine-tunes", job_id, "cancel"] if method == "POST":
            return _ok(state.cancel(job_id))
        case ["fine-tunes", job_id, "events"] if method == "GET":
            return _ok({"data": state.job(job_id).events(now)})
        case ["fine-tunes", job_id, "checkpoints"] if method == "GET":
            return _ok({"data": state.checkpoints(job_id)})
        case ["fine-tunes", job_id, "metrics"] if method == "GET":
            return _ok({"metrics": state.metrics(job_id)})
        case ["chat", "completions"] if method == "POST":
            return _ok(state.chat(request.json()))
    raise ApiError(404, f"Invalid URL ({method} {request.path})")
