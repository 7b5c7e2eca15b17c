"""Shared helpers of the Together tests: a recording SDK client and strict response checks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pydantic
import together
from client_runner import Runner
from together.lib.types.fine_tuning import FinetuneResponse as CreatedFinetune
from together.types import (
    FileList,
    FileResponse,
    FinetuneModelLimits,
    FinetuneResponse,
    FineTuningCancelResponse,
    FineTuningListCheckpointsResponse,
    FineTuningListEventsResponse,
    FineTuningListMetricsResponse,
    FineTuningListResponse,
)
from together.types.chat import ChatCompletion
from together.types.fine_tuning_estimate_price_response import AvailableEstimate

from finetune_kit.testing import TogetherEmulator

MODEL = "openai/gpt-oss-20b"

_ID = "[^/]+"
RESPONSE_TYPES: list[tuple[str, str, tuple[type[pydantic.BaseModel], ...]]] = [
    ("GET", "/v1/files", (FileList,)),
    ("GET", f"/v1/files/{_ID}", (FileResponse,)),
    ("POST", f"/v1/files/{_ID}/preprocess", (FileResponse,)),
    ("GET", "/v1/fine-tunes", (FineTuningListResponse,)),
    ("POST", "/v1/fine-tunes", (FinetuneResponse, CreatedFinetune)),
    ("GET", "/v1/fine-tunes/models/limits", (FinetuneModelLimits,)),
    ("POST", "/v1/fine-tunes/estimate-price", (AvailableEstimate,)),
    ("GET", f"/v1/fine-tunes/{_ID}", (FinetuneResponse,)),
    ("POST", f"/v1/fine-tunes/{_ID}/cancel", (FineTuningCancelResponse,)),
    ("GET", f"/v1/fine-tunes/{_ID}/events", (FineTuningListEventsResponse,)),
    ("GET", f"/v1/fine-tunes/{_ID}/checkpoints", (FineTuningListCheckpointsResponse,)),
    ("GET", f"/v1/fine-tunes/{_ID}/metrics", (FineTuningListMetricsResponse,)),
    ("POST", "/v1/chat/completions", (ChatCompletion,)),
]


@dataclass
class Seen:
    """Every response the SDK received: method, path, status, body."""

    responses: list[tuple[str, str, int, bytes]] = field(default_factory=list)

    def hook(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        self.responses.append(
            (request.method, request.url.path, response.status_code, response.content)
        )

    async def ahook(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.responses.append(
            (request.method, request.url.path, response.status_code, response.content)
        )


def _names(model_type: type[pydantic.BaseModel]) -> set[str]:
    return {f.alias or n for n, f in model_type.model_fields.items()}


# The SDK reads a job through four types (create, retrieve, list, cancel) that each know a
# part of its fields: a job's key must be known to one of them.
_JOB_TYPES = (
    FinetuneResponse,
    CreatedFinetune,
    FineTuningListResponse.model_fields["data"].annotation.__args__[0],  # type: ignore[union-attr]
    FineTuningCancelResponse,
)
_JOB_FIELDS = set().union(*(_names(t) for t in _JOB_TYPES))


def _no_extra(model: pydantic.BaseModel, where: str) -> None:
    extra = set(model.model_extra or {})
    if isinstance(model, _JOB_TYPES):
        extra -= _JOB_FIELDS
    assert not extra, f"{where}: fields unknown to the SDK's types: {sorted(extra)}"
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, pydantic.BaseModel):
                _no_extra(item, f"{where}.{name}")


def check_response(method: str, path: str, body: bytes) -> list[str]:
    """Validate one 2xx body strictly against the SDK's type(s); the names checked."""
    checked: list[str] = []
    for want_method, pattern, types in RESPONSE_TYPES:
        if method == want_method and re.fullmatch(pattern, path):
            for model_type in types:
                parsed = model_type.model_validate_json(body, strict=True)
                _no_extra(parsed, model_type.__name__)
                checked.append(model_type.__name__)
            return checked
    raise AssertionError(f"no SDK type known for {method} {path}")


def check_all(seen: Seen) -> set[str]:
    """Validate every successful JSON response seen; the type names checked."""
    names: set[str] = set()
    for method, path, status, body in seen.responses:
        binary = path.startswith("/_presigned/") or path.endswith("/content")
        if status == 200 and not binary:
            names.update(check_response(method, path, body))
    return names


def recording_client(emu: TogetherEmulator, seen: Seen, **options: Any) -> together.Together:
    """A real ``together.Together`` on ``emu`` whose responses land in ``seen``."""
    http = httpx.Client(event_hooks={"response": [seen.hook]})
    return emu.client(http_client=http, **options)


def recording_async_client(
    emu: TogetherEmulator, seen: Seen, **options: Any
) -> together.AsyncTogether:
    """A real ``together.AsyncTogether`` on ``emu`` whose responses land in ``seen``."""
    http = httpx.AsyncClient(event_hooks={"response": [seen.ahook]})
    return emu.async_client(http_client=http, **options)


def count(emu: TogetherEmulator, method: str, path: str) -> int:
    """Requests of the emulator's log with this method and path pattern (``*``: one segment)."""
    regex = re.compile(re.escape(path).replace(r"\*", "[^/]+"))
    return sum(1 for r in emu.requests if r.method == method and regex.fullmatch(r.path))


class SdkRunner(Runner):
    """A `Runner` on an SDK emulator (Together, Fireworks) whose responses land in ``seen``."""

    def __init__(self, emu: Any, kind: str, seen: Seen | None = None) -> None:
        seen = seen or Seen()
        super().__init__(
            kind, lambda: recording_client(emu, seen), lambda: recording_async_client(emu, seen)
        )


def write_train_file(folder: Path) -> Path:
    """``train.jsonl`` in ``folder``: twelve valid chat examples that differ in their question."""
    path = folder / "train.jsonl"
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Answer as Shakespeare would."},
                {"role": "user", "content": f"Question {i}: what is overfitting?"},
                {"role": "assistant", "content": "A model that learns its lessons too well."},
            ]
        }
        for i in range(12)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
