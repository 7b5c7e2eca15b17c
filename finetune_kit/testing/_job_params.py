"""Checking the body of ``POST /fine_tuning/jobs`` the way the API does, into a JobSpec."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from finetune_kit.testing._wire import bad_request, require_str

__all__ = ["JobSpec", "parse_job_request"]

_KNOWN_KEYS = frozenset(
    {
        "model",
        "training_file",
        "validation_file",
        "hyperparameters",
        "method",
        "suffix",
        "seed",
        "metadata",
        "integrations",
    }
)
_HYPERPARAMETERS = {
    "supervised": ("n_epochs", "batch_size", "learning_rate_multiplier"),
    "dpo": ("n_epochs", "batch_size", "learning_rate_multiplier", "beta"),
}
_MAX_SUFFIX = 64
_MAX_METADATA_PAIRS = 16
_MAX_METADATA_KEY = 64
_MAX_METADATA_VALUE = 512


@dataclass(frozen=True)
class JobSpec:
    """A checked job request.

    Attributes:
        model: The model asked for (alias or snapshot or ``ft:`` model).
        training_file: Training file id.
        validation_file: Validation file id, if any.
        method: ``supervised`` or ``dpo``.
        hyperparameters: Every hyperparameter of the method, ``"auto"`` where not given.
        suffix: Model-name suffix, if any.
        seed: Seed, if given.
        metadata: Metadata, if given.
        integrations: Integrations as given.
    """

    model: str
    training_file: str
    validation_file: str | None
    method: str
    hyperparameters: dict[str, Any]
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, str] | None = None
    integrations: list[dict[str, Any]] = field(default_factory=list)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_hyperparameter(name: str, value: Any, param: str) -> None:
    if value == "auto":
        return
    ok = {
        "n_epochs": _is_int(value) and 1 <= value <= 50,
        "batch_size": _is_int(value) and 1 <= value <= 256,
        "learning_rate_multiplier": _is_number(value) and value > 0,
        "beta": _is_number(value) and 0 < value <= 2,
    }[name]
    if not ok:
        expected = {
            "n_epochs": "an integer between 1 and 50",
            "batch_size": "an integer between 1 and 256",
            "learning_rate_multiplier": "a number greater than 0",
            "beta": "a number greater than 0 and at most 2",
        }[name]
        raise bad_request(
            f"Invalid value for '{name}': expected 'auto' or {expected}, got {value!r}.",
            param=param,
            code="invalid_hyperparameters",
        )


def _hyperparameters(given: Any, method: str, prefix: str) -> dict[str, Any]:
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise bad_request(f"'{prefix}' must be an object.", param=prefix)
    allowed = _HYPERPARAMETERS[method]
    for name, value in given.items():
        if name not in allowed:
            message = f"Unknown hyperparameter {name!r} for the {method} method."
            raise bad_request(message, param=f"{prefix}.{name}")
        _check_hyperparameter(name, value, f"{prefix}.{name}")
    return {name: given.get(name, "auto") for name in allowed}


def _method(body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    method = body.get("method")
    top_level = body.get("hyperparameters")
    if method is None:
        return "supervised", _hyperparameters(top_level, "supervised", "hyperparameters")
    if top_level is not None:
        raise bad_request(
            "Pass hyperparameters inside 'method' only; the top-level 'hyperparameters' field"
            " is deprecated and cannot be combined with 'method'.",
            param="hyperparameters",
        )
    if not isinstance(method, dict):
        raise bad_request("'method' must be an object.", param="method")
    kind = method.get("type")
    if kind == "reinforcement":
        raise bad_request(
            "Reinforcement fine-tuning is not supported by the emulator.",
            param="method.type",
            code="unsupported_method",
        )
    if kind not in _HYPERPARAMETERS:
        raise bad_request(
            f"Invalid value for 'method.type': {kind!r}. Expected 'supervised' or 'dpo'.",
            param="method.type",
        )
    section = method.get(kind) or {}
    if not isinstance(section, dict):
        raise bad_request(f"'method.{kind}' must be an object.", param=f"method.{kind}")
    prefix = f"method.{kind}.hyperparameters"
    return kind, _hyperparameters(section.get("hyperparameters"), kind, prefix)


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("'metadata' must be an object of strings.", param="metadata")
    if len(value) > _MAX_METADATA_PAIRS:
        raise bad_request(
            f"Invalid 'metadata': at most {_MAX_METADATA_PAIRS} key-value pairs, got {len(value)}.",
            param="metadata",
        )
    for key, item in value.items():
        if len(key) > _MAX_METADATA_KEY:
            raise bad_request(
                f"Invalid 'metadata': key {key[:20]!r}... is longer than {_MAX_METADATA_KEY}"
                " characters.",
                param="metadata",
            )
        if not isinstance(item, str):
            message = f"Invalid 'metadata': value of {key!r} must be a string."
            raise bad_request(message, param="metadata")
        if len(item) > _MAX_METADATA_VALUE:
            raise bad_request(
                f"Invalid 'metadata': value of {key!r} is longer than {_MAX_METADATA_VALUE}"
                " characters.",
                param="metadata",
            )
    return dict(value)


def _integrations(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("'integrations' must be a list.", param="integrations")
    for index, item in enumerate(value):
        param = f"integrations[{index}]"
        if not isinstance(item, dict) or item.get("type") != "wandb":
            raise bad_request("Only 'wandb' integrations are supported.", param=f"{param}.type")
        wandb = item.get("wandb")
        if not isinstance(wandb, dict) or not isinstance(wandb.get("project"), str):
            raise bad_request("A wandb integration needs a 'project'.", param=f"{param}.wandb")
    return [dict(item) for item in value]


def parse_job_request(body: Mapping[str, Any]) -> JobSpec:
    """Check a job-creation body and normalise it.

    Raises:
        ApiError: 400 ``invalid_request_error`` naming the offending parameter.
    """
    for key in body:
        if key not in _KNOWN_KEYS:
            raise bad_request(f"Unrecognized request argument supplied: {key}", param=key)
    model = require_str(body, "model")
    training_file = require_str(body, "training_file")
    validation_file = body.get("validation_file") or None
    if validation_file is not None and not isinstance(validation_file, str):
        raise bad_request("'validation_file' must be a file id.", param="validation_file")
    suffix = body.get("suffix") or None
    if suffix is not None and (not isinstance(suffix, str) or len(suffix) > _MAX_SUFFIX):
        raise bad_request(
            f"Invalid 'suffix': must be a string of at most {_MAX_SUFFIX} characters.",
            param="suffix",
        )
    seed = body.get("seed")
    if seed is not None and not (_is_int(seed) and 0 <= seed <= 2**31 - 1):
        raise bad_request("Invalid 'seed': expected an integer in 0..2147483647.", param="seed")
    method, hyperparameters = _method(body)
    return JobSpec(
        model=model,
        training_file=training_file,
        validation_file=validation_file,
        method=method,
        hyperparameters=hyperparameters,
        suffix=suffix,
        seed=seed,
        metadata=_metadata(body.get("metadata")),
        integrations=_integrations(body.get("integrations")),
    )
