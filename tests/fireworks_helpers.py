"""Shared helpers of the Fireworks tests: strict checks of every response against the SDK's types.

The recording clients, the request counter and ``Seen`` are the Together tests' (they work for
any SDK emulator); only the table of response types is Fireworks' own.
"""

from __future__ import annotations

import json
import re

import pydantic
from fireworks.types import (
    Dataset,
    DatasetGetUploadEndpointResponse,
    DatasetUploadResponse,
    SupervisedFineTuningJob,
)
from fireworks.types.chat.completion_create_response import CompletionCreateResponse
from together_helpers import Seen

MODEL = "accounts/fireworks/models/gpt-oss-20b"

_ACCOUNT = "/v1/accounts/[^/]+"
_ID = "[^/:]+"
# path pattern -> (type of the body, or of each item under the key for list pages)
RESPONSE_TYPES: list[tuple[str, str, type[pydantic.BaseModel], str | None]] = [
    ("GET", f"{_ACCOUNT}/datasets", Dataset, "datasets"),
    ("POST", f"{_ACCOUNT}/datasets", Dataset, None),
    ("GET", f"{_ACCOUNT}/datasets/{_ID}", Dataset, None),
    ("POST", f"{_ACCOUNT}/datasets/{_ID}:upload", DatasetUploadResponse, None),
    (
        "POST",
        f"{_ACCOUNT}/datasets/{_ID}:getUploadEndpoint",
        DatasetGetUploadEndpointResponse,
        None,
    ),
    (
        "GET",
        f"{_ACCOUNT}/supervisedFineTuningJobs",
        SupervisedFineTuningJob,
        "supervisedFineTuningJobs",
    ),
    ("POST", f"{_ACCOUNT}/supervisedFineTuningJobs", SupervisedFineTuningJob, None),
    ("GET", f"{_ACCOUNT}/supervisedFineTuningJobs/{_ID}", SupervisedFineTuningJob, None),
    ("POST", f"{_ACCOUNT}/supervisedFineTuningJobs/{_ID}:cancel", pydantic.BaseModel, None),
    ("POST", f"{_ACCOUNT}/supervisedFineTuningJobs/{_ID}:resume", SupervisedFineTuningJob, None),
    ("POST", "/v1/chat/completions", CompletionCreateResponse, None),
]
_EMPTY = ("validateUpload", "DELETE")


def _no_extra(model: pydantic.BaseModel, where: str) -> None:
    extra = set(model.model_extra or {})
    assert not extra, f"{where}: fields unknown to the SDK's types: {sorted(extra)}"
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, pydantic.BaseModel):
                _no_extra(item, f"{where}.{name}")


def check_response(method: str, path: str, body: bytes) -> str:
    """Validate one 2xx JSON body strictly against the SDK's type; the type's name."""
    for want_method, pattern, model_type, list_key in RESPONSE_TYPES:
        if method == want_method and re.fullmatch(pattern, path):
            if model_type is pydantic.BaseModel:  # the SDK discards this body
                return "(discarded)"
            if list_key is None:
                _no_extra(model_type.model_validate_json(body, strict=True), model_type.__name__)
                return model_type.__name__
            page = json.loads(body)
            assert set(page) <= {list_key, "nextPageToken"}, sorted(page)
            for item in page[list_key]:
                parsed = model_type.model_validate_json(json.dumps(item), strict=True)
                _no_extra(parsed, model_type.__name__)
            return f"page of {model_type.__name__}"
    raise AssertionError(f"no SDK type known for {method} {path}")


def check_all(seen: Seen) -> set[str]:
    """Validate every successful JSON response of the API seen; the type names checked."""
    names: set[str] = set()
    for method, path, status, body in seen.responses:
        if status != 200 or path.startswith("/_signed/"):
            continue
        if path.endswith(":validateUpload") or method == "DELETE":
            assert json.loads(body) == {}
            continue
        names.add(check_response(method, path, body))
    return names
