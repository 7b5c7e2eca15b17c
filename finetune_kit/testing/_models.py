"""The emulator's model table: base models, aliases, fine-tunability and shutdown dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from finetune_kit.testing._wire import ApiError, bad_request

__all__ = [
    "DEFAULT_SHUTDOWN_DATES",
    "ModelCatalog",
    "ModelInfo",
    "shut_down_error",
    "unknown_model_error",
]

#: Shutdown dates of base models (OpenAI deprecation notice of 2026-10-14). Fine-tunes inherit
#: the date of their base model.
DEFAULT_SHUTDOWN_DATES: Mapping[str, str | None] = {
    "gpt-4o-2024-08-06": "2027-01-14",
    "gpt-4o-mini-2024-07-18": "2027-01-14",
    "gpt-4.1-2025-04-14": "2027-01-14",
    "gpt-4.1-mini-2025-04-14": "2027-01-14",
}

# id -> (created, fine-tunable methods)
_BASE_MODELS: Mapping[str, tuple[int, frozenset[str]]] = {
    "gpt-4o-2024-08-06": (1722814719, frozenset({"supervised", "dpo"})),
    "gpt-4o-mini-2024-07-18": (1721172717, frozenset({"supervised"})),
    "gpt-4.1-2025-04-14": (1744316542, frozenset({"supervised", "dpo"})),
    "gpt-4.1-mini-2025-04-14": (1744317547, frozenset({"supervised", "dpo"})),
    "gpt-4.1-nano-2025-04-14": (1744321707, frozenset({"supervised", "dpo"})),
    "gpt-3.5-turbo-0125": (1706048358, frozenset({"supervised"})),
    "babbage-002": (1692634615, frozenset({"supervised"})),
    "davinci-002": (1692634301, frozenset({"supervised"})),
}

_ALIASES: Mapping[str, str] = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}

_DEFAULT_CREATED = 1735689600  # 2025-01-01, for base models only known from the date table


def _check_date(model: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"shutdown date of {model!r} must be YYYY-MM-DD, got {value!r}") from None
    return value


@dataclass(frozen=True)
class ModelInfo:
    """One model as ``/v1/models`` lists it.

    Attributes:
        id: The model id.
        created: Unix time of creation.
        owned_by: ``system`` for base models, the organization for fine-tunes.
        shutdown_date: ``YYYY-MM-DD`` or ``None``.
    """

    id: str
    created: int
    owned_by: str
    shutdown_date: str | None

    def to_api(self) -> dict[str, Any]:
        """The Model object as the API returns it."""
        return {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "shutdown_date": self.shutdown_date,
        }


class ModelCatalog:
    """Base models and their shutdown dates.

    Args:
        shutdown_dates: Overrides merged over
            [`DEFAULT_SHUTDOWN_DATES`][finetune_kit.testing.DEFAULT_SHUTDOWN_DATES]; a model
            not otherwise known is added as a base model.
        enforce: Refuse jobs and chat on a model once its shutdown date is reached (off by
            default, so that a test suite does not start failing on a calendar date).

    Raises:
        ValueError: When a date is not ``YYYY-MM-DD``.
    """

    def __init__(
        self, shutdown_dates: Mapping[str, str | None] | None = None, *, enforce: bool = False
    ) -> None:
        self.enforce = enforce
        merged = {**DEFAULT_SHUTDOWN_DATES, **(shutdown_dates or {})}
        self.shutdown_dates: dict[str, str | None] = {
            model: _check_date(model, value) for model, value in merged.items()
        }

    def base_ids(self) -> list[str]:
        """Every base model id, known models first."""
        extra = [m for m in self.shutdown_dates if m not in _BASE_MODELS]
        return [*_BASE_MODELS, *extra]

    def base(self, model: str) -> ModelInfo | None:
        """A base model (aliases resolve), or ``None``."""
        model = _ALIASES.get(model, model)
        if model not in _BASE_MODELS and model not in self.shutdown_dates:
            return None
        created = _BASE_MODELS[model][0] if model in _BASE_MODELS else _DEFAULT_CREATED
        return ModelInfo(model, created, "system", self.shutdown_dates.get(model))

    def shutdown_of(self, base_model: str) -> str | None:
        """The shutdown date of a base model (for fine-tunes: of their base)."""
        return self.shutdown_dates.get(_ALIASES.get(base_model, base_model))

    def is_shut_down(self, base_model: str, now: float) -> bool:
        """Whether the base model's shutdown date has been reached at emulated time ``now``."""
        shutdown = self.shutdown_of(base_model)
        if shutdown is None or not self.enforce:
            return False
        today = datetime.fromtimestamp(now, tz=timezone.utc).date()
        return today >= date.fromisoformat(shutdown)

    def trainable(self, model: str, method: str, now: float) -> str:
        """The snapshot a fine-tuning job on ``model`` trains (aliases resolve).

        Raises:
            ApiError: 400 when the model cannot be fine-tuned (with this method) or is shut down.
        """
        snapshot = _ALIASES.get(model, model)
        methods = _BASE_MODELS.get(snapshot, (0, frozenset[str]()))[1]
        if not methods:
            raise bad_request(
                f"Model {model} is not available for fine-tuning or does not exist.",
                param="model",
                code="model_not_available",
            )
        if method not in methods:
            raise bad_request(
                f"Model {model} does not support the {method!r} fine-tuning method.",
                param="method",
                code="model_not_available",
            )
        if self.is_shut_down(snapshot, now):
            raise shut_down_error(model)
        return snapshot


def shut_down_error(model: str) -> ApiError:
    """The 404 the API gives for a model past its shutdown date."""
    return ApiError(
        404,
        f"The model `{model}` has been deprecated, learn more here:"
        " https://platform.openai.com/docs/deprecations",
        code="model_not_found",
    )


def unknown_model_error(model: str) -> ApiError:
    """The 404 the API gives for an unknown model."""
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )
