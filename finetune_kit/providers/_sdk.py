"""What the provider adapters share about their SDKs.

The ``openai``, ``together`` and ``fireworks-ai`` SDKs are generated from the same template:
each has an ``APIConnectionError`` (no answer), an ``APIStatusError`` (an HTTP error answer with
``status_code``, ``body`` and ``response``) under one base exception, objects whose fields read
as attributes or mapping keys, and an OpenAI-compatible ``chat.completions.create``. The
adapters describe only what differs (which SDK, which exception is the base, which keys of the
error body hold the code).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from finetune_kit.errors import ConfigError
from finetune_kit.providers.base import Call, ErrorInfo, Plan

__all__ = ["chat_answer", "describe_sdk_error", "epoch_seconds", "field", "load_sdk", "plain"]


def load_sdk(module: str, *, package: str, extra: str) -> Any:
    """Import an optional SDK, or say which extra installs it.

    Raises:
        ConfigError: The SDK is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"the {package} SDK is not installed",
            hint=f"pip install 'finetune-kit[{extra}]'",
        ) from exc


def field(obj: Any, *names: str, default: Any = None) -> Any:
    """The first of ``names`` that is set (not ``None``) on an SDK object or a mapping."""
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return default


def plain(obj: Any) -> Any:
    """An SDK object as plain JSON data (pydantic models dumped without their unset fields)."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if isinstance(obj, Mapping):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return str(obj)


def epoch_seconds(value: Any) -> int | None:
    """Unix seconds from a number, a ``datetime`` or an ISO 8601 text (naive means UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _error_parts(body: Any, fallback: str, code_keys: tuple[str, ...]) -> tuple[str | None, str]:
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            code = next((inner[k] for k in code_keys if inner.get(k)), None)
            message = inner.get("message") or fallback
            return (str(code) if code is not None else None), str(message)
        if isinstance(inner, str):
            return None, inner
    return None, fallback


def describe_sdk_error(
    sdk: Any, exc: BaseException, *, base: str, code_keys: tuple[str, ...]
) -> ErrorInfo | None:
    """What an exception of one of the generated SDKs means.

    Args:
        sdk: The SDK's module (``openai``, ``together``, ``fireworks``).
        exc: The exception.
        base: The name of the SDK's base exception (``OpenAIError``, ...).
        code_keys: The keys of the error body that may hold the code, in order.

    Returns:
        The description, or ``None`` for an exception that is not the SDK's.
    """
    if isinstance(exc, sdk.APIConnectionError):
        return ErrorInfo("connection", message=str(exc))
    if isinstance(exc, sdk.APIStatusError):
        code, message = _error_parts(exc.body, str(exc), code_keys)
        return ErrorInfo(
            "status",
            status_code=exc.status_code,
            code=code if code is not None else _attr_code(exc),
            message=message,
            request_id=exc.response.headers.get("x-request-id"),
        )
    if isinstance(exc, getattr(sdk, base)):
        return ErrorInfo("other", message=str(exc))
    return None


def _attr_code(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    return str(code) if code is not None else None


def chat_answer(model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> Plan[str]:
    """``chat.completions.create`` (OpenAI-compatible on every provider); the answer's text."""
    kwargs: dict[str, Any] = {"model": model, "messages": messages}
    if max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    completion = yield Call("chat.completions.create", kwargs)
    content = completion.choices[0].message.content if completion.choices else ""
    return str(content or "")
