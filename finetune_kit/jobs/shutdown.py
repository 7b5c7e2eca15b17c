"""A model's live shutdown date, read from the API (``GET /v1/models/{id}``).

The bundled dates live in [`finetune_kit.lifecycle`][]; this reads the one the API reports, which
can be newer. It does network I/O, so it lives with the clients, not with the pure lifecycle data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import openai

from finetune_kit.catalog.prices import _parse_date
from finetune_kit.errors import ConfigError
from finetune_kit.jobs._core import translate
from finetune_kit.lifecycle import ModelLifecycle

__all__ = ["fetch_shutdown_date"]


def fetch_shutdown_date(openai_client: Any, model: str) -> dt.date | None:
    """Read a model's ``shutdown_date`` from ``GET /v1/models/{id}``.

    Aliases are looked up as their snapshot (the alias itself may carry no date); ``ft:``
    models are looked up as they are (they carry their base's date).

    Args:
        openai_client: An ``openai.OpenAI`` (or compatible) client.
        model: The model.

    Returns:
        The date, or ``None`` when the API gives none (null, absent, or the model is unknown
        to it: a 404).

    Raises:
        APIError: Any other API failure (network, authentication, ...), translated.
    """
    name = model.strip()
    if not name.startswith("ft:"):
        name = ModelLifecycle.load().resolve(name)
    try:
        obj = openai_client.models.retrieve(name)
    except openai.NotFoundError:
        return None
    except openai.OpenAIError as exc:
        raise translate(exc, action="reading the model") from exc
    value = getattr(obj, "shutdown_date", None)
    if value is None:
        extra = getattr(obj, "model_extra", None) or {}
        value = extra.get("shutdown_date")
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc).date()
    try:
        return _parse_date(str(value), "shutdown_date")
    except ConfigError:
        return None
